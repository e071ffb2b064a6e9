from ..vocabulary import RGB, Module, field_param


def _p(name, gui, lo=None, hi=None):
    return field_param("filmicrgb", name, f"filmic rgb ▸ {gui}", lo, hi)


MODULE = Module(
    "filmicrgb",
    "filmic rgb",
    "tone mapper: dynamic range and contrast (edited in place, never twice)",
    RGB,
    (
        _p("white_point_source", "scene ▸ white relative exposure", 1.0, 10.0),
        _p("black_point_source", "scene ▸ black relative exposure", -14.0, -2.0),
        _p("grey_point_source", "scene ▸ middle gray luminance", 1.0, 50.0),
        _p("contrast", "look ▸ contrast", 0.5, 3.0),
        _p("latitude", "look ▸ latitude", 0.01, 50.0),
        _p("balance", "look ▸ shadows ↔ highlights balance"),
        _p("saturation", "look ▸ extreme luminance saturation", -50.0, 50.0),
    ),
    stack=False,
    neutral=None,
)
