"""color calibration: white balance by temperature (and tint) through CAT16, plus colourfulness."""

import numpy as np

from ..vocabulary import RGB, Module, Param, field_param

# tint: a shift of the illuminant off the daylight/Planckian locus, in CIE 1960 uv (Duv); +1 = +0.02 Duv,
# a greener illuminant, which the adaptation turns into a more magenta image.
TINT_DUV = 0.02


def _where(t):
    """``where`` of the array library ``t`` belongs to: torch for tensors (training renders slot values as tensors),
    numpy for numbers and arrays, so the one formula serves the sidecar and the differentiable renderer."""
    if type(t).__module__.partition(".")[0] == "torch":
        import torch

        return torch.where
    return np.where


def daylight_xy(t):
    """darktable's illuminant D chromaticity (falls back to the Planckian locus below 4000 K)."""
    where = _where(t)
    x_lo = ((-0.2661239e9 / t - 0.2343589e6) / t + 0.8776956e3) / t + 0.179910
    x_hi = where(
        t <= 7000.0,
        ((-4.6070e9 / t + 2.9678e6) / t + 0.09911e3) / t + 0.244063,
        ((-2.0064e9 / t + 1.9018e6) / t + 0.24748e3) / t + 0.237040,
    )
    y_lo = where(
        t <= 2222.0,
        ((-1.1063814 * x_lo - 1.34811020) * x_lo + 2.18555832) * x_lo - 0.20219683,
        ((-0.9549476 * x_lo - 1.37418593) * x_lo + 2.09137015) * x_lo - 0.16748867,
    )
    return where(t < 4000.0, x_lo, x_hi), where(t < 4000.0, y_lo, (-3.0 * x_hi + 2.87) * x_hi - 0.275)


def _uv(x, y):
    d = -2 * x + 12 * y + 3
    return 4 * x / d, 6 * y / d


def _xy(u, v):
    d = 2 * u - 8 * v + 4
    return 3 * u / d, 2 * v / d


def tinted_xy(t, tint):
    """The custom illuminant for a temperature and tint: the point on the locus moved off it by ``tint`` ×
    TINT_DUV along the locus' normal (the greener side positive). Numbers, arrays or tensors."""
    where = _where(t)
    u0, v0 = _uv(*daylight_xy(t))
    u1, v1 = _uv(*daylight_xy(t * 1.01))
    du, dv = u1 - u0, v1 - v0
    norm = (du * du + dv * dv) ** 0.5
    flip = where(du < 0, -1.0, 1.0)  # the normal (−dv, du) turned to have nv ≥ 0
    shift = flip * tint * TINT_DUV / norm
    return _xy(u0 - dv * shift, v0 + du * shift)


def adaptation_gains(kelvin: float, tint: float = 0.0) -> np.ndarray:
    """What a white balance of ``kelvin`` and ``tint`` does to linear sRGB, taken as von Kries: per-channel gains
    (green 1) that turn the white of that illuminant into the white of D50 (5003 K, the neutral setting), as the
    module adapts the illuminant it is set to away."""
    from darktable_bridge.images import SRGB_TO_XYZ_D65

    def white(x: float, y: float) -> np.ndarray:
        return np.linalg.solve(SRGB_TO_XYZ_D65, np.array([x / y, 1.0, (1.0 - x - y) / y]))

    gains = white(*daylight_xy(5003.0)) / white(*tinted_xy(float(kelvin), float(tint)))
    return gains / gains[1]


def _temperature(out: dict, value: float) -> None:
    out["temperature"] = float(value)
    if out.get("illuminant") == 7:  # a tint was set first: recompute the custom point
        out["x"], out["y"] = (float(c) for c in tinted_xy(float(value), out["_tint"]))


def _tint(out: dict, value: float) -> None:
    out["_tint"] = float(value)
    if value:
        out["illuminant"] = 7
        out["x"], out["y"] = (float(c) for c in tinted_xy(out.get("temperature", 5003.0), float(value)))


MODULE = Module(
    "channelmixerrgb",
    "color calibration",
    "white balance (CAT16 adaptation to a daylight illuminant of the given temperature) and colourfulness",
    RGB,
    (
        field_param(
            "channelmixerrgb",
            "temperature",
            "color calibration ▸ CAT ▸ temperature",
            2000.0,
            15000.0,
            apply=_temperature,
            doc="illuminant temperature; above 5003 K (D50) warms the image, below cools it",
        ),
        Param(
            "tint",
            -1.0,
            1.0,
            "color calibration ▸ CAT ▸ illuminant hue (custom)",
            "tint: + towards magenta, − towards green (moves the illuminant off the daylight locus)",
            apply=_tint,
        ),
        field_param(
            "channelmixerrgb",
            "saturation",
            "color calibration ▸ colorfulness ▸ R, G, B",
            -1.0,
            1.0,
            doc="colourfulness of the red, green and blue input channels (first three; fourth unused)",
        ),
    ),
    base={"illuminant": 2, "adaptation": 1},
    neutral={"temperature": 5003.0},
)
