from ..vocabulary import RGB, Module, field_param

MODULE = Module(
    "velvia",
    "velvia",
    "boost the saturation of less saturated colours",
    RGB,
    (field_param("velvia", "strength", "velvia ▸ strength"), field_param("velvia", "bias", "velvia ▸ mid-tones bias")),
    neutral={"strength": 0.0},
)
