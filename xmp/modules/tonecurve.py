"""tonecurve v5 (src/iop/tonecurve.c), "tone curve": curves on L, a, b (or RGB/XYZ linked)."""

from ..structs import Field as F
from ..structs import Struct, register
from ._curves import RGB_NORMS, counts_field, nodes_field, types_field

# The defaults darktable's init() writes: identity L curve, a and b curves through the neutral 0.5.
_DEFAULT = [[(0.0, 0.0), (1.0, 1.0)], [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)], [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]]

PARAMS = register(
    Struct(
        "tonecurve",
        5,
        (
            nodes_field("tonecurve", _DEFAULT, "curve nodes for L (x = L/100), a and b (x = (v+128)/256)"),
            counts_field("tonecurve_nodes", _DEFAULT, "number of nodes used per curve"),
            types_field("tonecurve_type", 3, 2, "interpolation per curve: 0 cubic, 1 Catmull-Rom, 2 monotonic"),
            F(
                "tonecurve_autoscale_ab",
                "enum",
                3,
                choices={
                    0: "Lab, independent channels",
                    1: "Lab, linked channels",
                    2: "XYZ, linked channels",
                    3: "RGB, linked channels",
                },
                doc="color space",
            ),
            F("tonecurve_preset", "int", 0, doc="legacy preset index"),
            F("tonecurve_unbound_ab", "int", 1, min=0, max=1, doc="extrapolate a and b beyond the curve range"),
            F("preserve_colors", "enum", 3, choices=RGB_NORMS, doc="preserve colors (RGB linked mode)"),
        ),
        doc="tone curve",
    )
)
