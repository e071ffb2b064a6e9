"""exposure v6 (src/iop/exposure.c): linear gain in EV and black level, in the RGB working space."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "exposure",
        6,
        (
            F("mode", "enum", 0, choices={0: "manual", 1: "automatic (deflicker, raw only)"}, doc="exposure mode"),
            F("black", default=0.0, min=-1.0, max=1.0, doc="black level correction (subtracted before the gain)"),
            F("exposure", default=0.0, min=-18.0, max=18.0, unit="EV", doc="exposure gain in stops"),
            F("deflicker_percentile", default=50.0, min=0.0, max=100.0, unit="%", doc="deflicker percentile"),
            F("deflicker_target_level", default=-4.0, min=-18.0, max=18.0, unit="EV", doc="deflicker target level"),
            F("compensate_exposure_bias", "gboolean", 0, doc="subtract the camera's exposure bias"),
        ),
        doc="exposure",
    )
)
