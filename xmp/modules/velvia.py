"""velvia v2 (src/iop/velvia.c): saturation boost weighted towards less saturated pixels."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "velvia",
        2,
        (
            F("strength", default=25.0, min=0.0, max=100.0, unit="%", doc="strength"),
            F("bias", default=1.0, min=0.0, max=1.0, doc="mid-tones bias"),
        ),
        doc="velvia",
    )
)
