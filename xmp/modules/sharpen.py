"""sharpen v1 (src/iop/sharpen.c): unsharp mask on Lab lightness."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "sharpen",
        1,
        (
            F("radius", default=2.0, min=0.0, max=99.0, unit="px", doc="radius of the blur"),
            F("amount", default=0.5, min=0.0, max=2.0, doc="amount"),
            F("threshold", default=0.5, min=0.0, max=100.0, doc="threshold on the L difference"),
        ),
        doc="sharpen",
    )
)
