"""Colour conversions of darktable's pipe for non-raw input, as small pure tensor functions.

Working space: linear Rec2020 with D50-adapted primaries (darktable's default ``type_work``). Lab is CIE Lab
relative to D50, as ``dt_XYZ_to_Lab``. The sRGB transfer is the piecewise IEC 61966-2-1 curve.

Two details make the pipe agree with darktable to ~1e-6 instead of ~1e-4: darktable builds its sRGB and Rec2020
profiles from xy primaries and its own D65 white (xy 0.312700492, 0.329000939), Bradford-adapted to D50; and its
Lab conversions take the cube root with an approximation (the float's bit pattern divided by 3 plus a magic
constant, then one Halley step) whose error is visible after a few hand-offs between Lab and RGB modules.
"""

from __future__ import annotations

import numpy as np
import torch

D50 = (0.9642, 1.0, 0.8249)
_D65_XY = (0.312700492, 0.329000939)  # darktable's D65 (colorspaces.c)
_D65 = np.array([_D65_XY[0] / _D65_XY[1], 1.0, (1.0 - _D65_XY[0] - _D65_XY[1]) / _D65_XY[1]])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _adapt(src_white: np.ndarray, dst_white: np.ndarray) -> np.ndarray:
    s, d = _BRADFORD @ src_white, _BRADFORD @ dst_white
    return np.linalg.inv(_BRADFORD) @ np.diag(d / s) @ _BRADFORD


def _rgb_to_xyz(xy_r, xy_g, xy_b, white) -> np.ndarray:
    cols = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in (xy_r, xy_g, xy_b)]).T
    return cols * np.linalg.solve(cols, white)


REC2020_TO_XYZ_D65 = _rgb_to_xyz((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), _D65)
SRGB_TO_XYZ_D65 = _rgb_to_xyz((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), _D65)
_D65_TO_D50 = _adapt(_D65, np.array(D50))
REC2020_TO_XYZ_D50 = _D65_TO_D50 @ REC2020_TO_XYZ_D65
XYZ_D50_TO_REC2020 = np.linalg.inv(REC2020_TO_XYZ_D50)
SRGB_TO_REC2020 = np.linalg.inv(REC2020_TO_XYZ_D65) @ SRGB_TO_XYZ_D65
REC2020_TO_SRGB = np.linalg.inv(SRGB_TO_REC2020)


def matmul3(img: torch.Tensor, m) -> torch.Tensor:
    """Apply a 3×3 matrix (an array, or the name of one of this module's) to the channel axis of [N, 3, H, W]."""
    if isinstance(m, str):
        m = ROWS[m]
    if torch.compiler.is_compiling():  # colour conversions: plane by plane, so a stage becomes one pixel loop
        return torch.stack(plane_matmul(m if isinstance(m, tuple) else as_rows(m), [img[:, c] for c in range(3)]), 1)
    m = torch.as_tensor(m if isinstance(m, tuple) else np.asarray(m), dtype=img.dtype, device=img.device)
    return torch.einsum("ij,njhw->nihw", m, img)


def planes(img: torch.Tensor) -> list[torch.Tensor]:
    """The three channel planes of [N, 3, H, W], each [N, 1, H, W]."""
    return [img[:, c : c + 1] for c in range(3)]


def plane_matmul(m, p: list[torch.Tensor]) -> list[torch.Tensor]:
    """A 3×3 matrix on three channel planes: ``m`` constant rows (nested tuples/lists) or per image [N, 3, 3].

    Written as sums of products so that under torch.compile a chain of such steps stays one pixel loop (a
    matmul there becomes an external BLAS call with K = 3, a broadcast sum a pass over memory of its own)."""
    if isinstance(m, torch.Tensor):
        m = [[m[:, i, j].view(-1, 1, 1, 1) for j in range(3)] for i in range(3)]
    return [r[0] * p[0] + r[1] * p[1] + r[2] * p[2] for r in m]


def fpow(a: torch.Tensor, b) -> torch.Tensor:
    """``a ** b`` for per-pixel work, where ``a ≥ 0`` or ``b`` is not a whole number.

    Eager (and in ONNX export): ``torch.pow``. Under torch.compile: ``exp2(b · log2 a)``, which costs half of
    inductor's vectorised pow on the CPU and differs from it by a few float32 ulps (relative ~1e-6); zero bases
    keep pow's values (0, 1 or inf by the sign of ``b``)."""
    if not torch.compiler.is_compiling():
        return torch.pow(a, b)
    out = torch.exp2(b * torch.log2(a))
    if isinstance(b, (int, float)):
        at_zero = 1.0 if b == 0 else (0.0 if b > 0 else float("inf"))
        return torch.where(a == 0, torch.full_like(a, at_zero), out)
    at_zero = torch.where(b == 0, 1.0, torch.where(b > 0, 0.0, float("inf")))
    return torch.where(a == 0, at_zero.to(a.dtype), out)


def srgb_decode(v: torch.Tensor) -> torch.Tensor:
    return torch.where(v <= 0.04045, v / 12.92, fpow((v.clamp(min=0.04045) + 0.055) / 1.055, 2.4))


def srgb_encode(v: torch.Tensor) -> torch.Tensor:
    """Linear → sRGB transfer; above 1 the power segment is extended, below 0 the linear one."""
    return torch.where(v <= 0.0031308, v * 12.92, 1.055 * fpow(v.clamp(min=0.0031308), 1 / 2.4) - 0.055)


_MANTISSA = 8388608.0  # 2**23
_CBRT_MAGIC = 709921077.0


def _float_bits(x: torch.Tensor) -> torch.Tensor:
    """IEEE single bit pattern of positive normal floats, as exact float64 integers (no bitcast: ONNX has none)."""
    xd = x.double()
    e = torch.floor(torch.log2(xd))
    e = torch.where(torch.exp2(e) > xd, e - 1, e)  # log2 may round across a power of two
    e = torch.where(torch.exp2(e + 1) <= xd, e + 1, e)
    return (e + 127.0) * _MANTISSA + (xd / torch.exp2(e) - 1.0) * _MANTISSA


def _from_bits(bits: torch.Tensor) -> torch.Tensor:
    e = torch.floor(bits / _MANTISSA)
    return (torch.exp2(e - 127.0) * (1.0 + (bits - e * _MANTISSA) / _MANTISSA)).float()


def dt_cbrt(x: torch.Tensor) -> torch.Tensor:
    """darktable's approximate cube root of positive float32 values (its Lab conversions use it)."""
    x = x.float()
    if torch.onnx.is_in_onnx_export():  # same numbers without a bit cast, at ~10× the cost
        a = _from_bits(torch.round(_float_bits(x).float() / 3.0).double() + _CBRT_MAGIC)
    else:
        bits = x.view(torch.int32).float() / 3.0
        a = (torch.round(bits).to(torch.int32) + int(_CBRT_MAGIC)).view(torch.float32)
    a3 = a * a * a
    return a * ((a3 + x) + x) / ((a3 + a3) + x)


def _lab_f(t: torch.Tensor) -> torch.Tensor:
    eps, kappa = 216.0 / 24389.0, 24389.0 / 27.0
    return torch.where(t > eps, dt_cbrt(t.clamp(min=eps)).to(t.dtype), (kappa * t + 16.0) / 116.0)


def _lab_f_inv(f: torch.Tensor) -> torch.Tensor:
    eps, kappa = 0.20689655172413796, 24389.0 / 27.0
    return torch.where(f > eps, f**3, (116.0 * f - 16.0) / kappa)


def xyz_to_lab(xyz: torch.Tensor) -> torch.Tensor:
    d50 = torch.tensor(D50, dtype=xyz.dtype, device=xyz.device).view(1, 3, 1, 1)
    f = _lab_f(xyz / d50)
    return torch.stack([116.0 * f[:, 1] - 16.0, 500.0 * (f[:, 0] - f[:, 1]), 200.0 * (f[:, 1] - f[:, 2])], 1)


def lab_to_xyz(lab: torch.Tensor) -> torch.Tensor:
    d50 = torch.tensor(D50, dtype=lab.dtype, device=lab.device).view(1, 3, 1, 1)
    fy = (lab[:, 0] + 16.0) / 116.0
    f = torch.stack([fy + lab[:, 1] / 500.0, fy, fy - lab[:, 2] / 200.0], 1)
    return d50 * _lab_f_inv(f)


SRGB_TO_XYZ_D50 = _D65_TO_D50 @ SRGB_TO_XYZ_D65


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    return xyz_to_lab(matmul3(rgb, "REC2020_TO_XYZ_D50"))


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    return matmul3(lab_to_xyz(lab), "XYZ_D50_TO_REC2020")


# the matrices as nested tuples of Python floats (exactly the float64 values), for code that torch.compile traces:
# numpy arrays would be traced as tensor data there
def as_rows(m) -> tuple:
    """A 3×3 matrix as nested tuples of Python floats (exactly its float64 values)."""
    return tuple(tuple(float(v) for v in row) for row in np.asarray(m, dtype=np.float64))


ROWS = {
    name: as_rows(globals()[name])
    for name in (
        "REC2020_TO_XYZ_D65",
        "SRGB_TO_XYZ_D65",
        "REC2020_TO_XYZ_D50",
        "XYZ_D50_TO_REC2020",
        "SRGB_TO_REC2020",
        "REC2020_TO_SRGB",
        "SRGB_TO_XYZ_D50",
    )
}
