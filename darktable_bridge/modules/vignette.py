from ..vocabulary import RGB, Module, field_param


def _p(name, gui, lo=None, hi=None):
    return field_param("vignette", name, f"vignetting ▸ {gui}", lo, hi)


MODULE = Module(
    "vignette",
    "vignetting",
    "darken (or brighten) and desaturate the frame's border",
    RGB,
    (
        _p("brightness", "brightness"),
        _p("saturation", "saturation"),
        _p("scale", "radius"),
        _p("falloff_scale", "fall-off strength"),
        _p("center", "center"),
        _p("whratio", "width/height ratio"),
        _p("shape", "shape", 0.5, 3.0),
        _p("autoratio", "automatic ratio"),
    ),
    neutral={"brightness": 0.0, "saturation": 0.0},
)
