from ..vocabulary import LAB, Module, field_param

MODULE = Module(
    "bilat",
    "local contrast",
    "local contrast (local laplacian): detail > 0 adds clarity, < 0 softens",
    LAB,
    (
        field_param("bilat", "detail", "local contrast ▸ detail (shown as 100·(1+detail) %)", -1.0, 2.0),
        field_param("bilat", "sigma_r", "local contrast ▸ highlights", 0.0, 1.0),
        field_param("bilat", "sigma_s", "local contrast ▸ shadows", 0.0, 1.0),
        field_param("bilat", "midtone", "local contrast ▸ midtone range", 0.01, 1.0),
    ),
    base={"mode": 1},
    neutral={"detail": 0.0, "sigma_r": 1.0, "sigma_s": 1.0},
)  # identity remapping curve, no clarity
