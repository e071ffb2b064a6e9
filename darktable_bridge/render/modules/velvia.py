"""velvia v2 (src/iop/velvia.c): saturation boost weighted towards less saturated pixels, clamped to [0, 1]."""

import torch

from ..base import Context, Params, RenderModule


class Velvia(RenderModule):
    op = "velvia"
    space = "rgb"

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        strength = (p["strength"] / 100.0).view(-1, 1, 1, 1)
        bias = p["bias"].view(-1, 1, 1, 1)
        pmax = x.max(dim=1, keepdim=True).values
        pmin = x.min(dim=1, keepdim=True).values
        lum = (pmax + pmin) / 2.0
        sat = torch.where(
            lum <= 0.5,
            (pmax - pmin) / (1e-5 + pmax + pmin),
            (pmax - pmin) / (1e-5 + torch.clamp(2.0 - pmax - pmin, min=0.0)),
        )
        inv_bias = 1.0 - bias
        weight = (((1.0 - 1.5 * sat) + (1.0 + (lum - 0.5).abs() * 2.0) * inv_bias) / (1.0 + inv_bias)).clamp(0, 1)
        s = strength * weight
        others = 0.5 * (x.roll(-1, 1) + x.roll(-2, 1))  # R: (G + B), G: (B + R), B: (R + G), in darktable's order
        out = (x + s * (x - others)).clamp(0.0, 1.0)
        return torch.where(strength > 0, out, x)  # strength 0: darktable copies the input (no clamp)


MODULE = Velvia()
