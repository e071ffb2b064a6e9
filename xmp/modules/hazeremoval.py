"""hazeremoval v1 (src/iop/hazeremoval.c), "haze removal": dark-channel dehazing."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "hazeremoval",
        1,
        (
            F("strength", default=0.2, min=-1.0, max=1.0, doc="strength (negative adds haze)"),
            F("distance", default=0.2, min=0.0, max=1.0, doc="distance up to which haze is removed"),
        ),
        doc="haze removal",
    )
)
