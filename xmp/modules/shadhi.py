"""shadhi v5 (src/iop/shadhi.c), "shadows and highlights"."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "shadhi",
        5,
        (
            F("order", "enum", 0, choices={0: "order 0", 1: "order 1", 2: "order 2"}, doc="gaussian order"),
            F("radius", default=100.0, min=0.1, max=500.0, doc="spatial extent of the blur"),
            F("shadows", default=50.0, min=-100.0, max=100.0, doc="shadows"),
            F("whitepoint", default=0.0, min=-10.0, max=10.0, doc="white point adjustment"),
            F("highlights", default=-50.0, min=-100.0, max=100.0, doc="highlights"),
            F("reserved2", default=0.0, doc="unused"),
            F("compress", default=50.0, min=0.0, max=100.0, unit="%", doc="compress: protect mid-tones"),
            F("shadows_ccorrect", default=100.0, min=0.0, max=100.0, unit="%", doc="shadows colour adjustment"),
            F("highlights_ccorrect", default=50.0, min=0.0, max=100.0, unit="%", doc="highlights colour adjustment"),
            F("flags", "uint", 127, doc="unbound bits (UNBOUND_DEFAULT = 127)"),
            F("low_approximation", default=0.000001, doc="lowest value considered in the shadows"),
            F("shadhi_algo", "enum", 0, choices={0: "gaussian", 1: "bilateral filter"}, doc="soften with"),
        ),
        doc="shadows and highlights",
    )
)
