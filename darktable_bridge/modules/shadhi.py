from ..vocabulary import LAB, Module, field_param


def _p(name, gui, lo=None, hi=None):
    return field_param("shadhi", name, f"shadows and highlights ▸ {gui}", lo, hi)


MODULE = Module(
    "shadhi",
    "shadows and highlights",
    "brighten shadows and darken highlights with a blurred mask",
    LAB,
    (
        _p("shadows", "shadows"),
        _p("highlights", "highlights"),
        _p("whitepoint", "white point adjustment"),
        _p("radius", "radius", 1.0, 200.0),
        _p("compress", "compress"),
        _p("shadows_ccorrect", "shadows color adjustment"),
        _p("highlights_ccorrect", "highlights color adjustment"),
    ),
    neutral={"shadows": 0.0, "highlights": 0.0},
)
