"""monochrome v2 (src/iop/monochrome.c): black and white through a colour filter in Lab."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "monochrome",
        2,
        (
            F("a", default=0.0, min=-128.0, max=128.0, doc="filter colour a (Lab)"),
            F("b", default=0.0, min=-128.0, max=128.0, doc="filter colour b (Lab)"),
            F("size", default=2.0, min=0.1, max=4.0, doc="filter size"),
            F("highlights", default=0.0, min=0.0, max=1.0, doc="highlights preservation"),
        ),
        doc="monochrome",
    )
)
