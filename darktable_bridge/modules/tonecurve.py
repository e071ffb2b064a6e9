from ..vocabulary import LAB, Module, Param, field_param
from ._curves import set_curves

_DEFAULT = [[[0.0, 0.0], [1.0, 1.0]], [[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]], [[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]]


def _curve(out: dict, curve: list) -> None:
    set_curves(out, "tonecurve", "tonecurve_nodes", [curve], _DEFAULT)


MODULE = Module(
    "tonecurve",
    "tone curve",
    "lightness curve (x, y = L/100; RGB-linked by default)",
    LAB,
    (
        Param(
            "tonecurve",
            0.0,
            1.0,
            "tone curve ▸ L curve",
            "the L curve as [x, y] nodes in [0, 1]",
            kind="curve",
            apply=_curve,
        ),
        field_param("tonecurve", "tonecurve_autoscale_ab", "tone curve ▸ color space"),
        field_param("tonecurve", "preserve_colors", "tone curve ▸ preserve colors"),
    ),
    neutral={"tonecurve": [[0.0, 0.0], [1.0, 1.0]]},
)
