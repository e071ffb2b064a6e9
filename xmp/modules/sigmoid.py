"""sigmoid v1 (src/iop/sigmoid.c): scene-referred to display tone mapper."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "sigmoid",
        1,
        (
            F("middle_grey_contrast", default=1.5, min=0.1, max=10.0, doc="contrast"),
            F("contrast_skewness", default=0.0, min=-1.0, max=1.0, doc="skew"),
            F("display_white_target", default=100.0, min=20.0, max=1600.0, unit="%", doc="target white"),
            F("display_black_target", default=0.0152, min=0.0, max=15.0, unit="%", doc="target black"),
            F("color_processing", "enum", 0, choices={0: "per channel", 1: "RGB ratio"}, doc="color processing"),
            F("hue_preservation", default=100.0, min=0.0, max=100.0, unit="%", doc="preserve hue"),
        ),
        doc="sigmoid",
    )
)
