from ..vocabulary import LAB, Module, field_param

MODULE = Module(
    "monochrome",
    "monochrome",
    "black and white through a virtual colour filter centred on (a, b) of the given size",
    LAB,
    (
        field_param("monochrome", "a", "monochrome ▸ filter position (a)", -64.0, 64.0),
        field_param("monochrome", "b", "monochrome ▸ filter position (b)", -64.0, 64.0),
        field_param("monochrome", "size", "monochrome ▸ filter size", 0.5, 3.0),
        field_param("monochrome", "highlights", "monochrome ▸ highlights"),
    ),
    neutral=None,
)
