"""rgbcurve v1 (src/iop/rgbcurve.c), "rgb curve": curves on R, G, B in the RGB working space."""

from ..structs import Field as F
from ..structs import Struct, register
from ._curves import RGB_NORMS, counts_field, nodes_field, types_field

# darktable leaves the nodes zero until the GUI resets them; an identity curve is the neutral start.
_IDENTITY = [[(0.0, 0.0), (1.0, 1.0)]] * 3

PARAMS = register(
    Struct(
        "rgbcurve",
        1,
        (
            nodes_field("curve_nodes", _IDENTITY, "curve nodes (x, y in [0, 1]) for R (or linked RGB), G, B"),
            counts_field("curve_num_nodes", _IDENTITY, "number of nodes used per curve"),
            types_field("curve_type", 3, 2, "interpolation per curve: 0 cubic, 1 Catmull-Rom, 2 monotonic"),
            F(
                "curve_autoscale",
                "enum",
                0,
                choices={0: "RGB, linked channels", 1: "RGB, independent channels"},
                doc="mode",
            ),
            F("compensate_middle_grey", "gboolean", 0, doc="compensate middle grey"),
            F("preserve_colors", "enum", 1, choices=RGB_NORMS, doc="preserve colors (norm of the linked curve)"),
        ),
        doc="rgb curve",
    )
)
