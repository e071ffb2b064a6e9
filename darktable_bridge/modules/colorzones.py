from ..vocabulary import LAB, Module, Param, field_param
from ._curves import set_curves

_FLAT = [[[0.25, 0.5], [0.75, 0.5]]] * 3


def _curves(out: dict, curves: list) -> None:
    set_curves(out, "curve", "curve_num_nodes", curves, _FLAT)


MODULE = Module(
    "colorzones",
    "color zones",
    "change lightness, chroma and hue of colours selected by hue (or lightness/chroma); y = 0.5: no change",
    LAB,
    (
        field_param("colorzones", "channel", "color zones ▸ select by"),
        Param(
            "curve",
            0.0,
            1.0,
            "color zones ▸ lightness / chroma / hue curves",
            "curves over the selection axis: lightness, chroma, hue adjustment ([x, y], y = 0.5 no change)",
            kind="curves",
            apply=_curves,
        ),
        field_param("colorzones", "strength", "color zones ▸ mix", -100.0, 100.0),
    ),
    neutral={"strength": 0.0, "curve": _FLAT},
)
