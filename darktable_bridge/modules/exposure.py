from ..vocabulary import RGB, Module, field_param

MODULE = Module(
    "exposure",
    "exposure",
    "brighten or darken the whole image in stops (linear gain)",
    RGB,
    (
        field_param("exposure", "exposure", "exposure ▸ exposure", -4.0, 4.0),
        field_param("exposure", "black", "exposure ▸ black level correction", -0.1, 0.1),
    ),
    neutral={"exposure": 0.0, "black": 0.0},
)
