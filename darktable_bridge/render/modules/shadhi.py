"""shadhi v5 (src/iop/shadhi.c), "shadows and highlights", gaussian algorithm.

L is blurred with darktable's recursive (Deriche) gaussian (σ = radius px at 1:1, `order` as set; clamped to the
Lab box only when the UNBOUND_GAUSSIAN flag is off), inverted and desaturated. On scaled Lab (L/100, a/128, b/128)
the highlights and then the shadows are overlaid in chunks of at most 1 of their squared strength (2·value/100)²,
each chunk a soft-light style blend weighted by the blurred brightness (`compress` protects the mid-tones) with a
chroma correction. The UNBOUND_* flag bits decide which clamps apply. The bilateral algorithm is refused.
"""

import torch

from ...errors import RenderError
from ..base import Context, Params, RenderModule
from ._gaussian import blur

UNBOUND_SHADOWS_L, UNBOUND_SHADOWS_A, UNBOUND_SHADOWS_B = 1, 2, 4
UNBOUND_HIGHLIGHTS_L, UNBOUND_HIGHLIGHTS_A, UNBOUND_HIGHLIGHTS_B = 8, 16, 32
UNBOUND_GAUSSIAN = 64
MAX_CHUNKS = 4  # strength² ≤ (2·1)² = 4


def _sign(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x < 0, -torch.ones_like(x), torch.ones_like(x))


def _bit(flags: torch.Tensor, bit: int) -> torch.Tensor:
    return torch.remainder(torch.floor(flags / bit), 2.0) >= 1.0


def _overlay(ta, tb0, strength2, xform, direction, ccorrect, unbound_mask, flags, low, bits):
    """Repeated soft-light overlay of one tone range; ccorrect weighs the dark side's chroma factor."""
    l_bit, a_bit, b_bit = bits
    lmin, lmax, halfmax, doublemax = 0.0, 1.0, 0.5, 2.0
    ta0, ta1, ta2 = ta
    for step in range(MAX_CHUNKS):
        remaining = strength2 - float(step)
        active = remaining > 0.0
        # darktable reads la with the highlights' L bit in both loops
        la = torch.where(_bit(flags, UNBOUND_HIGHLIGHTS_L), ta0, ta0.clamp(lmin, lmax))
        lb = (tb0 - halfmax) * direction * _sign(lmax - la) + halfmax
        lb = torch.where(unbound_mask, lb, lb.clamp(lmin, lmax))
        lref = _sign(la) * torch.where(la.abs() > low, 1.0 / la.abs(), 1.0 / low)
        href = _sign(1.0 - la) * torch.where((1.0 - la).abs() > low, 1.0 / (1.0 - la).abs(), 1.0 / low)
        optrans = remaining.clamp(max=1.0) * xform
        blended = torch.where(
            la > halfmax, lmax - (lmax - doublemax * (la - halfmax)) * (lmax - lb), doublemax * la * lb
        )
        n0 = la * (1.0 - optrans) + blended * optrans
        n0 = torch.where(_bit(flags, l_bit), n0, n0.clamp(lmin, lmax))
        chroma = n0 * lref * ccorrect + (1.0 - n0) * href * (1.0 - ccorrect)
        n1 = ta1 * (1.0 - optrans) + ta1 * chroma * optrans
        n1 = torch.where(_bit(flags, a_bit), n1, n1.clamp(-1.0, 1.0))
        n2 = ta2 * (1.0 - optrans) + ta2 * chroma * optrans
        n2 = torch.where(_bit(flags, b_bit), n2, n2.clamp(-1.0, 1.0))
        ta0 = torch.where(active, n0, ta0)
        ta1 = torch.where(active, n1, ta1)
        ta2 = torch.where(active, n2, ta2)
    return ta0, ta1, ta2


class Shadhi(RenderModule):
    op = "shadhi"
    space = "lab"
    static_fields = ("shadhi_algo",)

    def check(self, values):
        if values["shadhi_algo"] != 0:
            raise RenderError("shadhi: the bilateral filter algorithm is not rendered here (gaussian only)")

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        col = lambda t: t.view(-1, 1, 1, 1)
        flags = col(p["flags"])
        unbound_mask = _bit(flags, UNBOUND_GAUSSIAN)
        sigma = torch.clamp(p["radius"], min=0.1) * ctx.scale

        # the blur clamps the input of each pass to the Lab box only with bounded masks
        inf = torch.full_like(flags, float("inf"))
        lo = torch.where(unbound_mask, -inf, torch.zeros_like(flags))
        hi = torch.where(unbound_mask, inf, torch.full_like(flags, 100.0))
        blurred = blur(x[:, :1], sigma, p["order"], lo, hi)

        shadows = col(2.0 * torch.clamp(p["shadows"] / 100.0, -1.0, 1.0))
        highlights = col(2.0 * torch.clamp(p["highlights"] / 100.0, -1.0, 1.0))
        whitepoint = col(torch.clamp(1.0 - p["whitepoint"] / 100.0, min=0.01))
        compress = col(torch.clamp(p["compress"] / 100.0, 0.0, 0.99))
        sh_cc = col(torch.clamp(p["shadows_ccorrect"] / 100.0, 0.0, 1.0) - 0.5) * _sign(shadows) + 0.5
        hi_cc = col(torch.clamp(p["highlights_ccorrect"] / 100.0, 0.0, 1.0) - 0.5) * _sign(-highlights) + 0.5
        low = col(p["low_approximation"])

        ta0 = x[:, :1] / 100.0
        ta1 = x[:, 1:2] / 128.0
        ta2 = x[:, 2:3] / 128.0
        tb0 = (100.0 - blurred) / 100.0
        ta0 = torch.where(ta0 > 0.0, ta0 / whitepoint, ta0)
        tb0 = torch.where(tb0 > 0.0, tb0 / whitepoint, tb0)

        hi_xform = torch.clamp(1.0 - tb0 / (1.0 - compress), 0.0, 1.0)
        ta = _overlay(
            (ta0, ta1, ta2),
            tb0,
            highlights * highlights,
            hi_xform,
            _sign(-highlights),
            1.0 - hi_cc,
            unbound_mask,
            flags,
            low,
            (UNBOUND_HIGHLIGHTS_L, UNBOUND_HIGHLIGHTS_A, UNBOUND_HIGHLIGHTS_B),
        )
        sh_xform = torch.clamp(tb0 / (1.0 - compress) - compress / (1.0 - compress), 0.0, 1.0)
        ta = _overlay(
            ta,
            tb0,
            shadows * shadows,
            sh_xform,
            _sign(shadows),
            sh_cc,
            unbound_mask,
            flags,
            low,
            (UNBOUND_SHADOWS_L, UNBOUND_SHADOWS_A, UNBOUND_SHADOWS_B),
        )
        return torch.cat([ta[0] * 100.0, ta[1] * 128.0, ta[2] * 128.0], 1)


MODULE = Shadhi()
