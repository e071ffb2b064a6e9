"""Masks as darktable computes them: parametric (blendif) ranges and drawn shapes (src/develop/masks/)."""
from __future__ import annotations

import math

import torch

from xmp import blend as B

from .base import Context, Params, RenderError

_C_SCALE = 1.0 / (128.0 * math.sqrt(2.0))


def _trapezoid(value: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """darktable's blendif factor for one channel; ``t`` [N, 4] = (x0, x1, x2, x3), open ends at 0 and 1."""
    x0, x1, x2, x3 = (t[:, i].view(-1, 1, 1, 1) for i in range(4))
    up = 1.0 / torch.clamp(x1 - x0, min=0.001)
    down = 1.0 / torch.clamp(x3 - x2, min=0.001)
    open_low = (x0 <= 0) & (x1 <= 0)
    open_high = (x2 >= 1) & (x3 >= 1)
    rising = torch.where(value <= x0, torch.zeros_like(value), (value - x0) * up)
    falling = torch.where(value >= x3, torch.zeros_like(value), 1.0 - (value - x2) * down)
    f = torch.where(value < x1, torch.where(open_low, torch.ones_like(value), rising),
                    torch.where(value <= x2, torch.ones_like(value),
                                torch.where(open_high, torch.ones_like(value), falling)))
    return f


def parametric_mask(lab: torch.Tensor, p: Params, channels: tuple[int, ...], cst: int) -> torch.Tensor:
    """Product of the active input channels' factors, for the Lab blend space."""
    if cst != B.CS_LAB:
        raise RenderError("parametric masks are rendered in the Lab blend space only")
    params = p["blendif_parameters"]
    mask = torch.ones_like(lab[:, :1])
    for ch in channels:
        if ch == B.LAB_CHANNELS["L"]:
            v = lab[:, :1] / 100.0
        elif ch == B.LAB_CHANNELS["a"]:
            v = lab[:, 1:2] / 256.0
            params_ch = params[:, ch] - 0.5
            mask = mask * _trapezoid(v, params_ch)
            continue
        elif ch == B.LAB_CHANNELS["b"]:
            v = lab[:, 2:3] / 256.0
            mask = mask * _trapezoid(v, params[:, ch] - 0.5)
            continue
        elif ch == B.LAB_CHANNELS["C"]:
            v = torch.sqrt(lab[:, 1:2] ** 2 + lab[:, 2:3] ** 2 + 1e-12) * _C_SCALE
        elif ch == B.LAB_CHANNELS["h"]:
            h = torch.atan2(lab[:, 2:3], lab[:, 1:2]) / (2.0 * math.pi)
            v = torch.where(h > 0, h, 1.0 + h)
        else:
            raise RenderError(f"parametric channel {ch} is not rendered here")
        mask = mask * _trapezoid(v, params[:, ch])
    return mask


GRID = 4  # darktable's coarse mask grid at 100 % (CLAMP((10·scale + 2)/3, 1, 4))
_SIZES = {16: 7, 32: 7, 1: 4}   # floats per point: gradient, ellipse, circle


def _grid_coords(h: int, w: int, like: torch.Tensor):
    gh, gw = (h + GRID - 1) // GRID + 1, (w + GRID - 1) // GRID + 1
    xs = torch.arange(gw, dtype=like.dtype, device=like.device).view(1, 1, gw) * GRID
    ys = torch.arange(gh, dtype=like.dtype, device=like.device).view(1, gh, 1) * GRID
    return xs, ys


def _fill(grid: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """darktable's fill: bilinear weights (GRID−ii)(GRID−jj)/GRID² between the four surrounding grid points."""
    dev = grid.device
    j = torch.arange(h, device=dev)
    i = torch.arange(w, device=dev)
    mj, jj = j // GRID, (j % GRID).to(grid.dtype).view(1, h, 1) / GRID
    mi, ii = i // GRID, (i % GRID).to(grid.dtype).view(1, 1, w) / GRID
    rows0 = grid.index_select(1, mj)
    rows1 = grid.index_select(1, mj + 1)
    p00, p01 = rows0.index_select(2, mi), rows0.index_select(2, mi + 1)
    p10, p11 = rows1.index_select(2, mi), rows1.index_select(2, mi + 1)
    return (p00 * (1 - ii) * (1 - jj) + p01 * ii * (1 - jj) + p10 * (1 - ii) * jj + p11 * ii * jj)


def _gradient(g: torch.Tensor, h: int, w: int) -> torch.Tensor:
    col = lambda t: t.view(-1, 1, 1)  # noqa: E731
    xs, ys = _grid_coords(h, w, g)
    hwscale = 1.0 / math.sqrt(w * w + h * h)
    v = -g[:, 2] / 180.0 * math.pi
    sinv, cosv = col(torch.sin(v)), col(torch.cos(v))
    ax, ay = col(g[:, 0]), col(g[:, 1])
    xoff = cosv * ax * w + sinv * ay * h
    yoff = sinv * ax * w - cosv * ay * h
    comp = col(torch.clamp(g[:, 3], min=0.001))
    curvature, linear = col(g[:, 5]), col(g[:, 6]) == 1
    x0 = (cosv * xs + sinv * ys - xoff) * hwscale
    y0 = (sinv * xs - cosv * ys - yoff) * hwscale
    distance = y0 - curvature * x0 * x0
    # the LUT holds the profile at whole-pixel distances; darktable truncates towards zero and interpolates
    pos = distance / hwscale
    bin0 = torch.trunc(pos)
    f = pos - bin0

    def profile(n):
        d = n * hwscale
        value = torch.where(linear, 0.5 + 0.5 * d / comp, 0.5 + 0.5 * torch.erf(d / comp))
        return value.clamp(0.0, 1.0)

    value = profile(bin0 + 1) * f + profile(bin0) * (1 - f)
    value = torch.where(distance <= -4.0 * comp, torch.zeros_like(value), value)
    return torch.where(distance >= 4.0 * comp, torch.ones_like(value), value)


def _ellipse(g: torch.Tensor, h: int, w: int) -> torch.Tensor:
    col = lambda t: t.view(-1, 1, 1)  # noqa: E731
    xs, ys = _grid_coords(h, w, g)
    m = min(w, h)
    proportional = col(g[:, 6]) == 1
    border = col(g[:, 5])
    a, b = col(g[:, 2]) * m, col(g[:, 3]) * m
    ta = torch.where(proportional, col(g[:, 2]) * (1 + border), col(g[:, 2]) + border) * m
    tb = torch.where(proportional, col(g[:, 3]) * (1 + border), col(g[:, 3]) + border) * m
    alpha = col(g[:, 4]) / 180.0 * math.pi
    x = xs - col(g[:, 0]) * w
    y = ys - col(g[:, 1]) * h
    l2 = x * x + y * y
    length = torch.sqrt(l2)
    safe = torch.where(length > 0, length, torch.ones_like(length))
    xn = torch.where(length > 0, x / safe, torch.zeros_like(x))
    yn = torch.where(length > 0, y / safe, torch.ones_like(y))
    xr = xn * torch.cos(alpha) + yn * torch.sin(alpha)
    yr = -xn * torch.sin(alpha) + yn * torch.cos(alpha)
    cos2, sin2 = xr * xr, yr * yr
    r2 = a * a * b * b / (a * a * sin2 + b * b * cos2)
    t2 = ta * ta * tb * tb / (ta * ta * sin2 + tb * tb * cos2)
    f = ((t2 - l2) / (t2 - r2)).clamp(0.0, 1.0)
    return f * f


def _circle(g: torch.Tensor, h: int, w: int) -> torch.Tensor:
    col = lambda t: t.view(-1, 1, 1)  # noqa: E731
    xs, ys = _grid_coords(h, w, g)
    m = min(w, h)
    r = col(g[:, 2]) * m
    total = (col(g[:, 2]) + col(g[:, 3])) * m
    l2 = (xs - col(g[:, 0]) * w) ** 2 + (ys - col(g[:, 1]) * h) ** 2
    f = ((total * total - l2) / (total * total - r * r)).clamp(0.0, 1.0)
    return f * f


_SHAPES = {16: _gradient, 32: _ellipse, 1: _circle}


def drawn_mask(shapes, geometry: torch.Tensor, ctx: Context, h: int, w: int) -> torch.Tensor:
    """The module's group of drawn shapes as darktable renders it at 1:1 (union of members with opacity)."""
    out = None
    pos = 0
    for mask_type, state in shapes:
        if mask_type not in _SHAPES:
            raise RenderError(f"drawn shape type {mask_type} is not rendered here")
        size = _SIZES[mask_type]
        g = geometry[:, pos:pos + size]
        opacity = geometry[:, pos + size].view(-1, 1, 1)
        pos += size + 1
        m = opacity * _fill(_SHAPES[mask_type](g, h, w), h, w)
        out = m if out is None else torch.maximum(out, m)
    return out.unsqueeze(1)
