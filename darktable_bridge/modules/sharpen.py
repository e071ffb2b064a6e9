from ..vocabulary import LAB, Module, field_param

MODULE = Module(
    "sharpen",
    "sharpen",
    "unsharp mask on lightness",
    LAB,
    (
        field_param("sharpen", "radius", "sharpen ▸ radius", 0.5, 8.0),
        field_param("sharpen", "amount", "sharpen ▸ amount"),
        field_param("sharpen", "threshold", "sharpen ▸ threshold", 0.0, 10.0),
    ),
    neutral={"amount": 0.0},
)
