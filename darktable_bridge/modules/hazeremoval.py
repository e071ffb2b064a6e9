from ..vocabulary import RGB, Module, field_param

MODULE = Module(
    "hazeremoval",
    "haze removal",
    "remove (or add, when negative) atmospheric haze",
    RGB,
    (
        field_param("hazeremoval", "strength", "haze removal ▸ strength"),
        field_param("hazeremoval", "distance", "haze removal ▸ distance"),
    ),
    neutral={"strength": 0.0},
)
