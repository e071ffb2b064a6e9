from ..vocabulary import RGB, Module, field_param

MODULE = Module(
    "sigmoid",
    "sigmoid",
    "tone mapper: scene-referred contrast and skew (edited in place, never twice)",
    RGB,
    (
        field_param("sigmoid", "middle_grey_contrast", "sigmoid ▸ contrast", 0.5, 3.0),
        field_param("sigmoid", "contrast_skewness", "sigmoid ▸ skew", -1.0, 1.0),
        field_param("sigmoid", "display_white_target", "sigmoid ▸ target white", 50.0, 400.0),
        field_param("sigmoid", "display_black_target", "sigmoid ▸ target black", 0.0, 5.0),
        field_param("sigmoid", "color_processing", "sigmoid ▸ color processing"),
        field_param("sigmoid", "hue_preservation", "sigmoid ▸ preserve hue"),
    ),
    stack=False,
    neutral=None,
)
