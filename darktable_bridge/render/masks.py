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


def drawn_mask(shapes, geometry: torch.Tensor, ctx: Context, h: int, w: int) -> torch.Tensor:
    raise RenderError("drawn masks are not rendered yet")
