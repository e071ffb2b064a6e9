"""bilat v3 (src/iop/bilat.c), "local contrast": local laplacian (default) or bilateral grid, on L."""

from ..structs import Field as F
from ..structs import Struct, register

PARAMS = register(
    Struct(
        "bilat",
        3,
        (
            F("mode", "enum", 1, choices={0: "bilateral grid", 1: "local laplacian filter"}, doc="mode"),
            F("sigma_r", default=0.5, min=0.0, max=100.0, doc="highlights (local laplacian) / range (bilateral)"),
            F("sigma_s", default=0.5, min=0.0, max=100.0, doc="shadows (local laplacian) / spatial extent (bilateral)"),
            F("detail", default=0.25, min=-1.0, max=4.0, doc="detail: GUI shows 100·(1 + detail) %"),
            F("midtone", default=0.5, min=0.001, max=1.0, doc="midtone range"),
        ),
        doc="local contrast",
    )
)
