from ..vocabulary import RGB, Module, field_param


def _p(name, gui, lo=None, hi=None):
    return field_param("graduatednd", name, f"graduated density ▸ {gui}", lo, hi)


MODULE = Module(
    "graduatednd",
    "graduated density",
    "graduated ND filter: darkens above the line (rotation 0) by density EV, optionally tinted",
    RGB,
    (
        _p("density", "density", -4.0, 4.0),
        _p("hardness", "hardness"),
        _p("rotation", "rotation"),
        _p("offset", "offset"),
        _p("hue", "hue"),
        _p("saturation", "saturation"),
    ),
    neutral={"density": 0.0},
)
