"""Masks as darktable computes them: parametric (blendif) ranges and drawn shapes (src/develop/masks/)."""

from __future__ import annotations

import math
import struct

import torch

from xmp import blend as B

from ..errors import RenderError
from .base import Context, Params

_C_SCALE = 1.0 / (128.0 * math.sqrt(2.0))


def _trapezoid(value: torch.Tensor, t: torch.Tensor, raw: torch.Tensor | None = None) -> torch.Tensor:
    """darktable's blendif factor for one channel; ``t`` [N, 4] = (x0, x1, x2, x3), open ends at 0 and 1.

    ``raw``: the stored parameters when ``t`` is shifted (Lab a/b): darktable tests the open ends on them.
    """
    x0, x1, x2, x3 = (t[:, i].view(-1, 1, 1, 1) for i in range(4))
    r = t if raw is None else raw
    r0, r1, r2, r3 = (r[:, i].view(-1, 1, 1, 1) for i in range(4))
    up = 1.0 / torch.clamp(x1 - x0, min=0.001)
    down = 1.0 / torch.clamp(x3 - x2, min=0.001)
    open_low = (r0 <= 0) & (r1 <= 0)
    open_high = (r2 >= 1) & (r3 >= 1)
    rising = torch.where(value <= x0, torch.zeros_like(value), (value - x0) * up)
    falling = torch.where(value >= x3, torch.zeros_like(value), 1.0 - (value - x2) * down)
    f = torch.where(
        value < x1,
        torch.where(open_low, torch.ones_like(value), rising),
        torch.where(value <= x2, torch.ones_like(value), torch.where(open_high, torch.ones_like(value), falling)),
    )
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
        elif ch in (B.LAB_CHANNELS["a"], B.LAB_CHANNELS["b"]):
            v = lab[:, 1:2] / 256.0 if ch == B.LAB_CHANNELS["a"] else lab[:, 2:3] / 256.0
            mask = mask * _trapezoid(v, params[:, ch] - 0.5, params[:, ch])
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


# Drawn shapes (gradient.c, ellipse.c, circle.c, group.c), rendered as the darktable 4.2.1 binary does it: the
# shape is evaluated on a coarse grid of points and bilinearly interpolated in between. darktable is built with
# -O3 -ffast-math, which changes some float expressions (reciprocals, reassociation); the float32 expressions below
# follow the operation order of the shipped x86-64 build, because the gradient's LUT lookup is discontinuous at
# whole-pixel distances on its negative side and a one-ulp difference there is visible on steep gradients.

_SIZES = {16: 7, 32: 7, 1: 4}  # floats per point: gradient, ellipse, circle
_F32 = torch.float32


def _f32(x) -> float:
    """A Python float holding the float32 rounding of ``x`` (exact in float32 graphs)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _grid_step(scale: float) -> int:
    return int(min(max(_f32(_f32(_f32(10.0 * _f32(scale)) + 2.0) / 3.0), 1.0), 4.0))


def _grid_coords(h: int, w: int, scale: float, like: torch.Tensor):
    """Grid point positions in input-image pixels, [1, 1, gw] and [1, gh, 1]; also the grid step."""
    grid = _grid_step(scale)
    iscale = _f32(1.0 / _f32(scale))
    gh, gw = (h + grid - 1) // grid + 1, (w + grid - 1) // grid + 1
    xs = (torch.arange(gw, device=like.device) * grid).to(like.dtype).view(1, 1, gw) * iscale
    ys = (torch.arange(gh, device=like.device) * grid).to(like.dtype).view(1, gh, 1) * iscale
    return xs, ys, grid


def _fill(points: torch.Tensor, h: int, w: int, grid: int) -> torch.Tensor:
    """Bilinear fill between grid points with integer weights, then one multiply by 1/grid²."""
    dev, dt = points.device, points.dtype
    j = torch.arange(h, device=dev)
    i = torch.arange(w, device=dev)
    mj, mi = j // grid, i // grid
    jj = (j % grid).to(dt).view(1, h, 1)
    ii = (i % grid).to(dt).view(1, 1, w)
    rows0 = points.index_select(1, mj)
    rows1 = points.index_select(1, mj + 1)
    top = rows0.index_select(2, mi + 1) * ii + rows0.index_select(2, mi) * (grid - ii)
    bottom = rows1.index_select(2, mi + 1) * ii + rows1.index_select(2, mi) * (grid - ii)
    return (bottom * jj + top * (grid - jj)) * _f32(1.0 / (grid * grid))


def _angle(rotation: torch.Tensor, factor: float):
    """sin, cos of float(double(rotation·factor)·π), as sincosf of that float (rounded from double)."""
    v = ((rotation * _f32(factor)).double() * math.pi).to(rotation.dtype).double()
    return torch.sin(v).to(rotation.dtype), torch.cos(v).to(rotation.dtype)


def _col(t: torch.Tensor) -> torch.Tensor:
    return t.view(-1, 1, 1)


def _gradient(g: torch.Tensor, xs, ys, wd: float, ht: float) -> torch.Tensor:
    diag = _f32(math.sqrt(_f32(_f32(wd * wd) + _f32(ht * ht))))  # the build uses sqrt for 1/(1/sqrt)
    hwscale = _f32(1.0 / diag)
    sinv, cosv = _angle(g[:, 2], -1.0 / 180.0)
    aw, ah = g[:, 0] * wd, g[:, 1] * ht
    xoff = _col(cosv * aw + sinv * ah)
    yoff = _col(sinv * aw - cosv * ah)
    sinv, cosv = _col(sinv), _col(cosv)
    comp = torch.clamp(g[:, 3], min=_f32(0.001))
    curvature = _col(g[:, 5])
    linear = _col(g[:, 6]) == 1
    x0 = ((cosv * xs - xoff) + sinv * ys) * hwscale
    y0 = ((sinv * xs - yoff) - cosv * ys) * hwscale
    distance = y0 - (x0 * x0) * curvature
    pos = distance * diag
    # darktable's lookup truncates pos and pos+1 towards zero: on the negative side it extrapolates
    bin0 = pos.to(torch.int32).to(pos.dtype)
    bin1 = (pos + 1.0).to(torch.int32).to(pos.dtype)
    frac = pos - bin0
    rest = (1.0 - pos) + bin0
    k_sig = _col(hwscale / comp)
    k_lin = _col(hwscale * (1.0 / comp))

    def lut(n):
        value = torch.where(linear, n * k_lin, torch.erf(n * k_sig))
        return ((value + 1.0) * 0.5).clamp(0.0, 1.0)

    value = lut(bin1) * frac + lut(bin0) * rest
    c4 = _col(comp * 4.0)
    value = torch.where(distance >= c4, torch.ones_like(value), value)
    return torch.where(distance <= -c4, torch.zeros_like(value), value)


def _ellipse(g: torch.Tensor, xs, ys, wd: float, ht: float) -> torch.Tensor:
    m = min(wd, ht)
    flags = g[:, 6]
    proportional = _col(flags - 2.0 * torch.floor(flags * 0.5)) >= 0.5  # flags & 1
    r0, r1, border = _col(g[:, 2]), _col(g[:, 3]), _col(g[:, 5])
    a, b = r0 * m, r1 * m
    ta = torch.where(proportional, r0 * (border + 1.0), r0 + border) * m
    tb = torch.where(proportional, r1 * (border + 1.0), r1 + border) * m
    a2, b2, ta2, tb2 = a * a, b * b, ta * ta, tb * tb
    sina, cosa = _angle(g[:, 4], 1.0 / 180.0)
    sina, cosa = _col(sina), _col(cosa)
    x = xs - _col(g[:, 0] * wd)
    y = ys - _col(g[:, 1] * ht)
    l2 = y * y + x * x
    at_centre = l2 == 0
    length = torch.sqrt(torch.where(at_centre, torch.ones_like(l2), l2))
    xn = torch.where(at_centre, torch.zeros_like(x), x / length)
    yn = torch.where(at_centre, torch.ones_like(y), y / length)
    xr = cosa * xn + sina * yn
    yr = cosa * yn - sina * xn
    cos2, sin2 = xr * xr, yr * yr
    total2 = (ta2 * tb2) / (tb2 * cos2 + ta2 * sin2)
    radius2 = (a2 * b2) / (b2 * cos2 + a2 * sin2)
    f = ((total2 - l2) / (total2 - radius2)).clamp(0.0, 1.0)
    return f * f


def _circle(g: torch.Tensor, xs, ys, wd: float, ht: float) -> torch.Tensor:
    m = min(wd, ht)
    r, border = _col(g[:, 2]), _col(g[:, 3])
    total = (r + border) * m
    total2 = total * total
    rm = r * m
    inv_border2 = 1.0 / (total2 - rm * rm)
    dx = xs - _col(g[:, 0] * wd)
    dy = ys - _col(g[:, 1] * ht)
    f = (((total2 - dx * dx) - dy * dy) * inv_border2).clamp(0.0, 1.0)
    return f * f


_SHAPES = {16: _gradient, 32: _ellipse, 1: _circle}


def _combine(dest, new, op, state: int):
    """group.c: how a member joins the masks before it (state bits of xmp.masks)."""
    from xmp import masks as M

    mask = op * ((1.0 - new) if state & M.STATE_INVERSE else new)
    if dest is None:
        dest = torch.zeros_like(mask)  # darktable's buffer is uninitialised; only a non-first state reads it
        if not state & (M.STATE_UNION | M.STATE_INTERSECTION | M.STATE_DIFFERENCE | M.STATE_EXCLUSION):
            return mask
    if state & M.STATE_UNION:
        return torch.maximum(dest, mask)
    if state & M.STATE_INTERSECTION:
        return torch.minimum(dest.clamp(min=0.0), mask.clamp(min=0.0))
    both = (dest > 0) & (mask > 0)
    if state & M.STATE_DIFFERENCE:
        return dest * (1.0 - mask * both.to(mask.dtype))
    if state & M.STATE_EXCLUSION:
        return torch.where(both, torch.maximum((1.0 - dest) * mask, dest * (1.0 - mask)), torch.maximum(dest, mask))
    return mask


def drawn_mask(shapes, geometry: torch.Tensor, ctx: Context, h: int, w: int) -> torch.Tensor:
    """The module's group of drawn shapes as dt_masks_group_render_roi renders it, [N, 1, h, w]."""
    wd, ht = _f32(ctx.width), _f32(ctx.height)  # pipe->iwidth/iheight: shapes are relative to the input
    geometry = geometry.to(_F32)
    xs, ys, grid = _grid_coords(h, w, ctx.scale, geometry)
    out = None
    pos = 0
    for mask_type, state in shapes:
        if mask_type not in _SHAPES:
            raise RenderError(f"drawn shape type {mask_type} is not rendered here")
        size = _SIZES[mask_type]
        g = geometry[:, pos : pos + size]
        opacity = _col(geometry[:, pos + size])
        pos += size + 1
        shape = _fill(_SHAPES[mask_type](g, xs, ys, wd, ht), h, w, grid)
        out = _combine(out, shape, opacity, int(state))
    if out is None:
        return torch.ones((geometry.shape[0], 1, h, w), dtype=geometry.dtype, device=geometry.device)
    return out.unsqueeze(1)
