"""colorzones v5 (src/iop/colorzones.c), "color zones": lightness, chroma and hue by L, C or h."""

from ..structs import Field as F
from ..structs import Struct, register
from ._curves import counts_field, nodes_field, types_field

# darktable's reset for "select by hue": two flat nodes per curve at x = 0.25 and 0.75, y = 0.5 (no change).
_FLAT = [[(0.25, 0.5), (0.75, 0.5)]] * 3

PARAMS = register(
    Struct(
        "colorzones",
        5,
        (
            F("channel", "enum", 2, choices={0: "lightness", 1: "chroma", 2: "hue"}, doc="select by"),
            nodes_field("curve", _FLAT, "curves of lightness, chroma and hue adjustment (y = 0.5: no change)"),
            counts_field("curve_num_nodes", _FLAT, "number of nodes used per curve"),
            types_field("curve_type", 3, 1, "interpolation per curve: 0 cubic, 1 Catmull-Rom, 2 monotonic"),
            F("strength", default=0.0, min=-200.0, max=200.0, unit="%", doc="mix: scales the curves' deviation"),
            F("mode", "enum", 0, choices={0: "smooth", 1: "strong"}, doc="process mode"),
            F("splines_version", "int", 1, min=0, max=1, doc="spline version (1 = periodic hue curves)"),
        ),
        doc="color zones",
    )
)
