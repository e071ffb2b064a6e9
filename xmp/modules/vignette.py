"""vignette v4 (src/iop/vignette.c)."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "vignette",
        4,
        (
            F("scale", default=80.0, min=0.0, max=200.0, unit="%", doc="inner radius, % of the largest dimension"),
            F("falloff_scale", default=50.0, min=0.0, max=200.0, unit="%", doc="fall-off strength"),
            F("brightness", default=-0.5, min=-1.0, max=1.0, doc="brightness change at the border"),
            F("saturation", default=-0.5, min=-1.0, max=1.0, doc="saturation change at the border"),
            F("center", shape=(2,), default=[0.0, 0.0], min=-1.0, max=1.0, doc="centre (x, y) in [-1, 1]"),
            F("autoratio", "gboolean", 0, doc="automatic ratio"),
            F("whratio", default=1.0, min=0.0, max=2.0, doc="width/height ratio"),
            F("shape", default=1.0, min=0.0, max=5.0, doc="shape (1 = circle/ellipse)"),
            F("dithering", "enum", 0, choices={0: "off", 1: "8-bit output", 2: "16-bit output"}, doc="dithering"),
            F("unbound", "gboolean", 1, doc="do not clip values"),
        ),
        doc="vignetting",
    )
)
