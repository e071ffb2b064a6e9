"""vignette v4 (src/iop/vignette.c): brightness and saturation fall-off around a centre, linear weight.

With dithering off (the default), darktable 4.2.1 uses the weight linearly (the cosine smoothing is only applied
on the dithered path), which is what is reproduced; dithered renders add noise (seeded per row but carried
across rows per thread, so not reproducible) and are refused. A fixed ratio of exactly 0 or 2 gives darktable an
infinite scale, NaN distances and thus an untouched image, which is reproduced explicitly.
"""

import torch

from ...errors import RenderError
from ..base import Context, Params, RenderModule, graph_barrier
from ..color import fpow


class Vignette(RenderModule):
    op = "vignette"
    space = "rgb"
    static_fields = ("autoratio", "dithering", "unbound")

    def check(self, values):
        if values["dithering"] != 0:
            raise RenderError("vignette: dithering adds random noise; not rendered here")

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        n, _, h, w = x.shape
        col = lambda t: t.view(-1, 1, 1)
        cx = col(w * 0.5 + p["center"][:, 0] * w / 2.0)
        cy = col(h * 0.5 + p["center"][:, 1] * h / 2.0)
        wh = p["whratio"]
        if p.static("autoratio"):
            xscale = torch.full_like(wh, 2.0 / w)
            yscale = torch.full_like(wh, 2.0 / h)
            degenerate = torch.zeros_like(wh, dtype=torch.bool)
        else:
            basis = 2.0 / max(h, w)
            narrow = wh <= 1.0  # 0..1: w/h as is; 1..2: read as h/w + 1
            # whratio 0 or 2 makes darktable's scale infinite: every distance turns NaN and nothing is changed
            degenerate = (wh <= 0.0) | (wh >= 2.0)
            safe = torch.where(degenerate, torch.ones_like(wh), wh)
            xscale = torch.where(narrow, basis / safe, torch.full_like(wh, basis))
            yscale = torch.where(narrow, torch.full_like(wh, basis), basis / (2.0 - safe))
        xscale, yscale = col(xscale), col(yscale)
        shape = col(p["shape"].clamp(min=0.001))
        dscale = col(p["scale"] / 100.0)
        fscale = col(torch.clamp(p["falloff_scale"], min=100.0 / min(w, h)) / 100.0)
        graph_barrier()
        i = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, w)
        j = torch.arange(h, dtype=x.dtype, device=x.device).view(1, h, 1)
        px = (i * xscale - cx * xscale).abs()
        py = (j * yscale - cy * yscale).abs()
        # the inner powers depend on the column or the row only: a row and a column of values, not a plane
        px, py = fpow(px, 2.0 / shape), fpow(py, 2.0 / shape)
        graph_barrier()
        cplen = fpow(px + py, shape / 2.0)
        weight = torch.where(cplen >= dscale, ((cplen - dscale) / fscale).clamp(0.0, 1.0), torch.zeros_like(cplen))
        weight = torch.where(col(degenerate), torch.zeros_like(weight), weight).unsqueeze(1)
        graph_barrier()  # one weight per pixel, stored once: the channel loops below would each recompute it
        b = p["brightness"].view(-1, 1, 1, 1)
        darker = x * (1.0 + weight * b)
        lighter = x + weight * b
        y = torch.where(b < 0, darker, lighter)
        if not p.static("unbound"):
            y = y.clamp(0.0, 1.0)
        mean = y.mean(dim=1, keepdim=True)
        y = y - (mean - y) * weight * p["saturation"].view(-1, 1, 1, 1)
        if not p.static("unbound"):
            y = y.clamp(0.0, 1.0)
        return torch.where(weight > 0, y, x)


MODULE = Vignette()
