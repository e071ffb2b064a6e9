"""monochrome v2 (src/iop/monochrome.c): black and white through a virtual colour filter, in Lab.

The filter response 100·exp(−clamp(|ab − ab₀|² / (2·(128·size)²), 0, 1)) (darktable's bit-trick dt_fast_expf) is
smoothed with darktable's bilateral grid (src/common/bilateral.c: σ_s = 20 px at 1:1, σ_r = 250, base layer) —
always, whatever the highlights setting — and then scales L; the highlights option blends back towards the
original L under a lightness envelope. Output a = b = 0.

The grid is splatted separably (tent weights along x, then y, via segment sums of cumulative sums; the range
axis needs only 5 planes), blurred with darktable's [1 4 6 4 1]/16 kernels in x and y and its derivative kernel
along the range axis, and sliced back trilinearly at each pixel's own filter value.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..base import Context, Params, RenderModule

_F = np.float32

_SIGMA_S = 20.0  # px at scale 1
_SIGMA_R = 250.0
_L_RANGE = 100.0
_MAX_RES_S, _MAX_RES_R = 3000, 50


def _roundf(v: float) -> int:
    return int(math.floor(v + 0.5))  # v ≥ 0 here: half away from zero


def grid_geometry(width: int, height: int):
    """dt_bilateral_grid_size in float32: (sigma_s, sigma_r, size_x, size_y, size_z)."""
    s = _F(max(_SIGMA_S, 0.5))
    gx = _F(min(max(_roundf(float(_F(width) / s)), 4), _MAX_RES_S))
    gy = _F(min(max(_roundf(float(_F(height) / s)), 4), _MAX_RES_S))
    gz = _F(min(max(_roundf(float(_F(_L_RANGE) / _F(_SIGMA_R))), 4), _MAX_RES_R))
    sigma_s = max(_F(height) / gy, _F(width) / gx)
    sigma_r = _F(_L_RANGE) / gz
    size_x = int(math.ceil(float(_F(width) / sigma_s))) + 1
    size_y = int(math.ceil(float(_F(height) / sigma_s))) + 1
    size_z = int(math.ceil(float(_F(_L_RANGE) / sigma_r))) + 1
    return sigma_s, sigma_r, size_x, size_y, size_z


def _axis(n: int, sigma_s, size: int):
    """Grid cell and fraction of each pixel index along one axis (float32, as image_to_grid)."""
    pos = np.arange(n, dtype=np.float32) / sigma_s
    pos = np.clip(pos, _F(0), _F(size - 1)).astype(np.float32)
    cell = np.minimum(pos.astype(np.int64), size - 2)
    frac = (pos - cell.astype(np.float32)).astype(np.float32)
    # first pixel of each cell 0..size-1 (cells never reached start at n)
    bounds = np.searchsorted(cell, np.arange(size), side="left")
    return cell, frac, bounds


def _splat_axis(v: torch.Tensor, frac: torch.Tensor, bounds: torch.Tensor, dim: int) -> torch.Tensor:
    """Tent-weight splat of v along dim onto `len(bounds)` cells, as differences of cumulative sums."""
    shape = [1] * v.dim()
    shape[dim] = -1
    frac = frac.view(shape)
    pad = [0, 0] * (v.dim() - 1 - dim) + [1, 0]  # one leading zero along dim
    lo = F.pad(torch.cumsum(v * (1.0 - frac), dim), pad)
    hi = F.pad(torch.cumsum(v * frac, dim), pad)
    start, end = bounds[:-1], bounds[1:]  # cells 0..size-2 hold pixels
    own = lo.index_select(dim, end) - lo.index_select(dim, start)
    nxt = hi.index_select(dim, end) - hi.index_select(dim, start)
    tail = [0, 0] * (v.dim() - 1 - dim)
    # cell k gets its own pixels' (1 − f) and cell k−1's pixels' f
    return F.pad(own, tail + [0, 1]) + F.pad(nxt, tail + [1, 0])


def _shift_sum(g: torch.Tensor, dim: int, w: tuple[float, float, float], odd: bool) -> torch.Tensor:
    """w0·g + w1·(g₊₁ ± g₋₁) + w2·(g₊₂ ± g₋₂) along dim with zero outside (odd: derivative, '+' − '−')."""
    n = g.shape[dim]
    pad = [0, 0] * (g.dim() - 1 - dim) + [2, 2]
    p = F.pad(g, pad)

    def at(k):  # g_{i+k}
        return p.narrow(dim, 2 + k, n)

    sign = -1.0 if odd else 1.0
    out = w[1] * (at(1) + sign * at(-1)) + w[2] * (at(2) + sign * at(-2))
    return out + w[0] * g if w[0] else out


def bilateral_base(img: torch.Tensor) -> torch.Tensor:
    """darktable's bilateral grid (sigma_s 20, sigma_r 250, detail −1) of a [N,1,H,W] map with values in 0..100."""
    _, _, h, w = img.shape
    sigma_s, sigma_r, size_x, size_y, size_z = grid_geometry(w, h)
    dev, dt = img.device, img.dtype
    xc, xf, xb = _axis(w, sigma_s, size_x)
    yc, yf, yb = _axis(h, sigma_s, size_y)
    xf_t, yf_t = torch.from_numpy(xf).to(dev, dt), torch.from_numpy(yf).to(dev, dt)
    # range axis: planes 0..size_z-1, two non-zero tent weights per pixel
    z = (img / float(sigma_r)).clamp(0.0, float(size_z - 1))
    zc = torch.clamp(torch.floor(z), max=float(size_z - 2))
    zf = z - zc
    planes = torch.arange(size_z, device=dev, dtype=dt).view(1, -1, 1, 1)
    wz = torch.where(planes == zc, 1.0 - zf, torch.zeros_like(zf)) + torch.where(
        planes == zc + 1.0, zf, torch.zeros_like(zf)
    )
    norm_w = float(_F(100.0) / (sigma_s * sigma_s))
    grid = _splat_axis(wz * norm_w, xf_t, torch.from_numpy(xb).to(dev), 3)  # [N, Z, H, Sx]
    grid = _splat_axis(grid, yf_t, torch.from_numpy(yb).to(dev), 2)  # [N, Z, Sy, Sx]
    grid = _shift_sum(grid, 3, (6 / 16, 4 / 16, 1 / 16), False)
    grid = _shift_sum(grid, 2, (6 / 16, 4 / 16, 1 / 16), False)
    grid = _shift_sum(grid, 1, (0.0, 4 / 16, 2 / 16), True)
    # trilinear slice at each pixel's own value
    yi = torch.from_numpy(yc).to(dev)
    rows = grid.index_select(2, yi) * (1.0 - yf_t.view(1, 1, -1, 1)) + grid.index_select(2, yi + 1) * yf_t.view(
        1, 1, -1, 1
    )  # [N, Z, H, Sx]
    xi = torch.from_numpy(xc).to(dev)
    cols = rows.index_select(3, xi) * (1.0 - xf_t) + rows.index_select(3, xi + 1) * xf_t  # [N, Z, H, W]
    norm = float(_F(1.0) * sigma_r * _F(0.04))
    return torch.clamp(img + norm * (wz * cols).sum(1, keepdim=True), min=0.0)


def fast_expf(x: torch.Tensor) -> torch.Tensor:
    """darktable's dt_fast_expf: the float32 value of i1 + x·(i2 − i1) read back as the bits of a float."""
    # float32 multiply-add, then the C int conversion (truncation; floor once clamped at 0)
    k = torch.floor((x.float() * 11401300.0 + 1065353216.0).double().clamp(min=0.0))
    e = torch.floor(k / 8388608.0)
    mant = k - e * 8388608.0
    return (torch.exp2(e - 127.0) * (1.0 + mant / 8388608.0)).to(x.dtype)


def envelope(L: torch.Tensor) -> torch.Tensor:
    x = (L / 100.0).clamp(0.0, 1.0)
    beta = 0.6
    low = 1.0 - (x / beta - 1.0).abs() ** 2
    t1 = (1.0 - x) / (1.0 - beta)
    high = 3.0 * t1 * t1 - 2.0 * t1 * t1 * t1
    return torch.where(x < beta, low, high)


class Monochrome(RenderModule):
    op = "monochrome"
    space = "lab"

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        col = lambda t: t.to(x.dtype).view(-1, 1, 1, 1)
        L, a, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
        size = p["size"].double()
        sigma2 = col(((size * 128.0) * (size * 128.0)).float())
        dist = (a - col(p["a"])) ** 2 + (b - col(p["b"])) ** 2
        filt = 100.0 * fast_expf(-(dist / (2.0 * sigma2)).clamp(0.0, 1.0))
        smooth = bilateral_base(filt)
        env = envelope(L)
        t = env + (1.0 - env) * (1.0 - col(p["highlights"]))
        out_L = (1.0 - t) * L + t * smooth * (1.0 / 100.0) * L
        return torch.cat([out_L, torch.zeros_like(a), torch.zeros_like(b)], 1)


MODULE = Monochrome()
