"""sharpen v1 (src/iop/sharpen.c): unsharp mask on L with a truncated, normalised gaussian; the `rad` outermost
rows and columns stay unsharpened.

At a 1:1 export darktable's `radius·scale/iscale` comes out as 2.5·radius (measured against darktable-cli):
half-width ceil(2.5·radius) ≤ 12 px and σ = radius px.
"""
import torch
import torch.nn.functional as F

from ..base import Context, Params, RenderModule

MAXR = 12


class Sharpen(RenderModule):
    op = "sharpen"
    space = "lab"

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        n, _, h, w = x.shape
        radius = p["radius"]
        rad = torch.clamp(torch.ceil(2.5 * radius), max=MAXR)  # [N]
        sigma2 = radius ** 2
        taps = torch.arange(-MAXR, MAXR + 1, dtype=x.dtype, device=x.device).view(1, -1)
        kernel = torch.exp(-taps * taps / (2.0 * sigma2.view(-1, 1).clamp(min=1e-12)))
        kernel = torch.where(taps.abs() <= rad.view(-1, 1), kernel, torch.zeros_like(kernel))
        kernel = kernel / kernel.sum(1, keepdim=True)
        blur = _separable(x[:, :1], kernel, h, w)
        diff = x[:, :1] - blur
        detail = torch.sign(diff) * torch.clamp(diff.abs() - p["threshold"].view(-1, 1, 1, 1), min=0.0)
        sharp = x[:, :1] + detail * p["amount"].view(-1, 1, 1, 1)
        r = rad.view(-1, 1, 1, 1)
        ys = torch.arange(h, dtype=x.dtype, device=x.device).view(1, 1, h, 1)
        xs = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, 1, w)
        inside = (ys >= r) & (ys < h - r) & (xs >= r) & (xs < w - r) & (r > 0)
        return torch.cat([torch.where(inside, sharp, x[:, :1]), x[:, 1:]], 1)


def _separable(img: torch.Tensor, kernel: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Per-image separable filter as a sum of shifted copies (ONNX has no per-sample convolution weights)."""
    k = kernel.view(kernel.shape[0], -1, 1, 1, 1)
    padded = F.pad(img, (0, 0, MAXR, MAXR))
    vertical = sum(k[:, t] * padded[:, :, t:t + h, :] for t in range(2 * MAXR + 1))
    padded = F.pad(vertical, (MAXR, MAXR, 0, 0))
    return sum(k[:, t] * padded[:, :, :, t:t + w] for t in range(2 * MAXR + 1))


MODULE = Sharpen()
