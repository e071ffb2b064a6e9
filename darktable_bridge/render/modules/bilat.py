"""bilat v3 (src/iop/bilat.c), "local contrast", local laplacian mode (src/common/locallaplacian.c).

L/100 is padded by edge replication with 2^(levels−1) pixels on every side (levels = min(30, ⌊log2 min(W, H)⌋)),
remapped by a tone curve around six brightness samples γ_k = (k + ½)/6, and each remapped image is turned into a
gaussian pyramid. The output pyramid starts from the coarsest gaussian level of the (unremapped) padded input; each
finer level adds the Laplacian coefficients of the two γ samples bracketing the input's own gaussian level,
linearly interpolated. a and b pass through.

darktable's SSE2 curve loop never reaches its vector branch (its alignment mask is wrong), so every pixel goes
through the scalar curve with an exact expf, which is what is reproduced. The bilateral-grid mode is refused.
"""

import torch
import torch.nn.functional as F

from ...errors import RenderError
from ..base import Context, Params, RenderModule
from ._pyramid import expand, reduce

NUM_GAMMA = 6
MAX_LEVELS = 30


def _curve(x: torch.Tensor, g: torch.Tensor, sigma, shadows, highlights, clarity) -> torch.Tensor:
    """The remapping curve around brightness g (all arguments broadcast)."""
    c = x - g
    lin_up = g + sigma + shadows * (c - sigma)
    lin_dn = g - sigma + highlights * (c + sigma)
    t_up = torch.clamp(c / (2.0 * sigma), 0.0, 1.0)
    mid_up = g + sigma * 2.0 * (1.0 - t_up) * t_up + t_up * t_up * (sigma + sigma * shadows)
    t_dn = torch.clamp(-c / (2.0 * sigma), 0.0, 1.0)
    mid_dn = g - sigma * 2.0 * (1.0 - t_dn) * t_dn + t_dn * t_dn * (-sigma - sigma * highlights)
    val = torch.where(
        c > 2.0 * sigma, lin_up, torch.where(c < -2.0 * sigma, lin_dn, torch.where(c > 0.0, mid_up, mid_dn))
    )
    return val + clarity * c * torch.exp(-c * c / (2.0 * sigma * sigma / 3.0))


def local_laplacian(l01: torch.Tensor, sigma, shadows, highlights, clarity) -> torch.Tensor:
    """l01: [N, 1, H, W] brightness in [0, 1]; params [N]. Returns the filtered brightness [N, 1, H, W]."""
    ht, wd = int(l01.shape[2]), int(l01.shape[3])  # plain ints also while tracing: one graph per size
    num_levels = min(MAX_LEVELS, min(wd, ht).bit_length() - 1)
    last = num_levels - 1
    if last < 1:
        raise RenderError("bilat: image too small for the local laplacian filter")
    supp = 1 << last
    col = lambda t: t.view(-1, 1, 1, 1)
    sigma, shadows, highlights, clarity = col(sigma), col(shadows), col(highlights), col(clarity)

    padded = [F.pad(l01, (supp, supp, supp, supp), mode="replicate")]
    for _ in range(last):
        padded.append(reduce(padded[-1]))

    gammas = (torch.arange(NUM_GAMMA, dtype=l01.dtype, device=l01.device) + 0.5) / float(NUM_GAMMA)
    remapped = [_curve(padded[0], gammas.view(1, -1, 1, 1), sigma, shadows, highlights, clarity)]
    for _ in range(last):
        remapped.append(reduce(remapped[-1]))

    k = torch.arange(NUM_GAMMA, device=l01.device).view(1, -1, 1, 1)
    out = padded[last]
    for lev in range(last - 1, -1, -1):
        h, w = int(padded[lev].shape[2]), int(padded[lev].shape[3])
        v = padded[lev]
        # index of the first sample above v, among γ_1..γ_4, as darktable's linear search finds it
        hi = 1 + (v >= gammas[1 : NUM_GAMMA - 1].view(1, -1, 1, 1)).to(torch.int64).sum(1, keepdim=True)
        lo = hi - 1
        g_lo = (lo.to(v.dtype) + 0.5) / float(NUM_GAMMA)
        g_hi = (hi.to(v.dtype) + 0.5) / float(NUM_GAMMA)
        a = torch.clamp((v - g_lo) / (g_hi - g_lo), 0.0, 1.0)
        weight = torch.where(k == lo, 1.0 - a, torch.zeros_like(a)) + torch.where(k == hi, a, torch.zeros_like(a))
        lap = remapped[lev] - expand(remapped[lev + 1], h, w)
        out = expand(out, h, w) + (weight * lap).sum(1, keepdim=True)
    return out[:, :, supp : supp + ht, supp : supp + wd]


class Bilat(RenderModule):
    op = "bilat"
    space = "lab"
    static_fields = ("mode",)

    def check(self, values):
        if values["mode"] != 1:
            raise RenderError("bilat: the bilateral grid mode is not rendered here (local laplacian only)")

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        l01 = x[:, :1] * 0.01
        out = local_laplacian(l01, p["midtone"], p["sigma_s"], p["sigma_r"], p["detail"])
        return torch.cat([100.0 * out, x[:, 1:]], 1)


MODULE = Bilat()
