from ..vocabulary import RGB, Module, Param, field_param
from ._curves import set_curves

_DEFAULT = [[[0.0, 0.0], [1.0, 1.0]]] * 3


def _curves(out: dict, curves: list) -> None:
    set_curves(out, "curve_nodes", "curve_num_nodes", curves, _DEFAULT)


MODULE = Module(
    "rgbcurve",
    "rgb curve",
    "tone curve in the linear RGB working space (linked or per channel)",
    RGB,
    (
        Param(
            "curve_nodes",
            0.0,
            1.0,
            "rgb curve ▸ curve nodes",
            "curves as [x, y] nodes in [0, 1]: the first is RGB (linked) or R; then G, B",
            kind="curves",
            apply=_curves,
        ),
        field_param("rgbcurve", "curve_autoscale", "rgb curve ▸ mode"),
        field_param("rgbcurve", "preserve_colors", "rgb curve ▸ preserve colors"),
    ),
    neutral={"curve_nodes": [[[0.0, 0.0], [1.0, 1.0]]]},
)
