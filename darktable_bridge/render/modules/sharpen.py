"""sharpen v1 (src/iop/sharpen.c): unsharp mask on Lab L with a truncated, normalised gaussian.

commit_params stores 2.5·radius (float); at a 1:1 export (roi scale = iscale = 1) the kernel half-width is
rad = min(12, ceil(2.5·radius)) px and σ² = (1/2.5²)·(2.5·radius)² (computed in double, stored as float), so
σ = radius px but the kernel is cut at 12 px for radius > 4.8. The `rad` outermost rows and columns keep the
input; an image smaller than 2·rad + 1 in either direction, or rad = 0, passes through. Detail
d = L − blur is shrunk by the threshold: L + amount·sign(d)·max(|d| − threshold, 0).
"""

import torch
import torch.nn.functional as F

from ..base import Context, Params, RenderModule

MAXR = 12


def kernel(radius: torch.Tensor, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image normalised taps [N, 2·MAXR+1] (zero beyond rad) and rad [N]."""
    r25 = 2.5 * radius.float()  # float, as stored in the pipe data
    rad = torch.clamp(torch.ceil(r25), max=float(MAXR))
    sigma2 = (0.16 * r25.double() * r25.double()).float()
    taps = torch.arange(-MAXR, MAXR + 1, dtype=torch.float32, device=radius.device).view(1, -1)
    w = torch.exp(-(taps * taps) / (2.0 * sigma2.view(-1, 1)).clamp(min=1e-30))
    w = torch.where(taps.abs() <= rad.view(-1, 1), w, torch.zeros_like(w))
    return (w / w.sum(1, keepdim=True)).to(dtype), rad.to(dtype)


class Sharpen(RenderModule):
    op = "sharpen"
    space = "lab"

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        n, _, h, w = x.shape
        k, rad = kernel(p["radius"], x.dtype)
        L = x[:, :1]
        blur = _separable(L, k, h, w)
        diff = L - blur
        detail = torch.sign(diff) * torch.clamp(diff.abs() - p["threshold"].to(x.dtype).view(-1, 1, 1, 1), min=0.0)
        sharp = L + detail * p["amount"].to(x.dtype).view(-1, 1, 1, 1)
        r = rad.view(-1, 1, 1, 1)
        ys = torch.arange(h, dtype=x.dtype, device=x.device).view(1, 1, h, 1)
        xs = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, 1, w)
        # interior only; an empty interior (image < 2·rad+1) or rad = 0 leaves the image as is
        inside = (ys >= r) & (ys < h - r) & (xs >= r) & (xs < w - r) & (r > 0)
        return torch.cat([torch.where(inside, sharp, L), x[:, 1:]], 1)


def _separable(img: torch.Tensor, k: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Vertical then horizontal pass as sums of shifted copies (per-image taps; ONNX has no per-sample conv)."""
    taps = k.view(k.shape[0], -1, 1, 1, 1)
    padded = F.pad(img, (0, 0, MAXR, MAXR))
    vertical = sum(taps[:, t] * padded[:, :, t : t + h, :] for t in range(2 * MAXR + 1))
    padded = F.pad(vertical, (MAXR, MAXR, 0, 0))
    return sum(taps[:, t] * padded[:, :, :, t : t + w] for t in range(2 * MAXR + 1))


MODULE = Sharpen()
