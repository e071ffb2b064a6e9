"""graduatednd v1 (src/iop/graduatednd.c), "graduated density": a neutral/coloured ND filter."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "graduatednd",
        1,
        (
            F("density", default=1.0, min=-8.0, max=8.0, unit="EV", doc="density of the filter"),
            F("hardness", default=0.0, min=0.0, max=100.0, unit="%", doc="hardness of the transition"),
            F("rotation", default=0.0, min=-180.0, max=180.0, unit="°", doc="rotation"),
            F("offset", default=50.0, min=0.0, max=100.0, unit="%", doc="offset of the transition line"),
            F("hue", default=0.0, min=0.0, max=1.0, doc="hue of the filter"),
            F("saturation", default=0.0, min=0.0, max=1.0, doc="saturation of the filter"),
        ),
        doc="graduated density",
    )
)
