"""sigmoid v1 (src/iop/sigmoid.c): a generalised log-logistic tone curve, per channel (optionally with hue and
channel-sum preservation) or on the RGB average with hyperbolic chroma compression towards the display gamut.

The curve constants (commit_params) are derived from float32 finite differences around middle grey, so their
last bits matter: they are reproduced operation by operation as darktable 4.2.1's release build computes them
(-O3 -ffast-math: powf with a constant base becomes expf(x·ln base) with a float constant, x/0.1845 becomes
x·(1/0.1845)f, and the slope ratio drops the common /2/δ).
"""

import torch

from ..base import Context, Params, RenderModule, graph_barrier
from ..color import fpow

# float32 constants as folded into darktable's binary
_LN_GREY = -1.6901057958602905  # ln(0.1845f)
_LN_GREY_HI = -1.6901004314422607  # ln(0.1845f + 1e-6f)
_LN_GREY_LO = -1.6901112794876099  # ln(0.1845f - 1e-6f)
_LN_5 = -1.6094379425048828  # -ln 5 (paper power = 5^-skew)
_INV_GREY_M1 = 4.4200544357299805  # 1/0.1845 - 1
_INV_GREY = 5.4200544357299805  # 1/0.1845
_GREY = 0.1845
_GREY_HI = 0.18450099229812622
_GREY_LO = 0.18449899554252625


def _powf(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """powf, correctly rounded: evaluated in double and rounded once."""
    return (a.double() ** b.double()).float()


def _expf(a: torch.Tensor) -> torch.Tensor:
    return torch.exp(a.double()).float()


def _nan_to(v: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    return torch.where(torch.isnan(v), fallback, v)


def derived(p: Params):
    """commit_params → (white, black, paper_exposure, film_fog, film_power, paper_power), each [N] float32."""
    f = lambda v: torch.tensor(v, dtype=torch.float32)
    contrast = p["middle_grey_contrast"].float()
    one = torch.ones_like(contrast)
    # reference log-logistic (no skew, unit white) slope at grey, as a difference of two samples
    ref_exp = _expf(contrast * f(_LN_GREY)) * f(_INV_GREY_M1)
    hi = _expf(contrast * f(_LN_GREY_HI))
    hi = _nan_to(hi / (ref_exp + hi), one)
    lo = _expf(contrast * f(_LN_GREY_LO))
    lo = _nan_to(lo / (ref_exp + lo), one)
    ref_diff = hi - lo
    paper_power = _expf(p["contrast_skewness"].float() * f(_LN_5))
    white = f(0.01) * p["display_white_target"].float()
    inv_pp = 1.0 / paper_power
    white_grey = _powf(white * f(_INV_GREY), inv_pp) - 1.0
    tmp_exp = f(_GREY) * white_grey
    thi = _nan_to(white * _powf(f(_GREY_HI) / (tmp_exp + f(_GREY_HI)), paper_power), white)
    tlo = _nan_to(white * _powf(f(_GREY_LO) / (tmp_exp + f(_GREY_LO)), paper_power), white)
    film_power = ref_diff / (thi - tlo)
    black = f(0.01) * p["display_black_target"].float()
    white_black = _powf(black / white, -inv_pp) - 1.0
    inv_fp = 1.0 / film_power
    wg_root = _powf(white_grey, inv_fp)
    fog = (f(_GREY) * wg_root) / (_powf(white_black, inv_fp) - wg_root)
    paper_exp = _powf(f(_GREY) + fog, film_power) * white_grey
    return white, black, paper_exp, fog, film_power, paper_power


def curve(x, magnitude, paper_exp, fog, film_power, paper_power, unit_paper_power: bool = False):
    """unit_paper_power: every image's paper power is exactly 1 (no skew), so its power is left out (powf of 1
    returns its base unchanged: the same values)."""
    film = fpow(fog + x.clamp(min=0.0), film_power)
    ratio = film / (paper_exp + film)
    out = magnitude * (ratio if unit_paper_power else fpow(ratio, paper_power))
    return torch.where(torch.isnan(out), magnitude.expand_as(out), out)


def desaturate_negatives(x):
    """Pull a pixel with a negative channel towards its (non-negative) mean until that channel is 0."""
    mean = (x.sum(1, keepdim=True) / 3.0).clamp(min=0.0)
    low = x.min(1, keepdim=True).values
    neg = low < 0
    factor = torch.where(neg, -mean / torch.where(neg, low - mean, -torch.ones_like(low)), torch.ones_like(low))
    return mean + factor * (x - mean)


def _channel_order(x):
    """(min, mid, max) channel indices [N,1,H,W] each, with darktable's tie-breaking."""
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]

    def idx(v):
        return torch.full_like(r, float(v))

    rg = r >= g
    # r >= g branch
    c1 = g > b  # r >= g > b
    c2 = b > r  # b > r >= g
    c3 = b > g  # r >= b > g
    mx_a = torch.where(c1, idx(0), torch.where(c2, idx(2), idx(0)))
    md_a = torch.where(c1, idx(1), torch.where(c2, idx(0), torch.where(c3, idx(2), idx(1))))
    mn_a = torch.where(c1, idx(2), torch.where(c2, idx(1), torch.where(c3, idx(1), idx(2))))
    # g > r branch
    c5 = r >= b  # g > r >= b
    c6 = b > g  # b > g > r
    mx_b = torch.where(c5, idx(1), torch.where(c6, idx(2), idx(1)))
    md_b = torch.where(c5, idx(0), torch.where(c6, idx(1), idx(2)))
    mn_b = torch.where(c5, idx(2), idx(0))
    pick = lambda a, b_: torch.where(rg, a, b_).long()
    return pick(mn_a, mn_b), pick(md_a, md_b), pick(mx_a, mx_b)


def _gather(v, idx):
    return v.gather(1, idx)


def _select(v, idx):
    """The same values as ``_gather``, as selections (inductor vectorizes these; gathers are indirect loads)."""
    return torch.where(idx == 0, v[:, 0:1], torch.where(idx == 1, v[:, 1:2], v[:, 2:3]))


def preserve_hue(x, per, hue):
    """Move the middle channel back towards the input's hue while keeping the channel sum (energy)."""
    i_min, i_mid, i_max = _channel_order(x)
    pick = _select if torch.compiler.is_compiling() else _gather
    x0, x1, x2 = pick(x, i_min), pick(x, i_mid), pick(x, i_max)
    p0, p1, p2 = pick(per, i_min), pick(per, i_mid), pick(per, i_max)
    flat = ((p2 - p0) < 1e-9) | ((p1 - p0) < 1e-9)
    ones = torch.ones_like(x0)
    span = torch.where(flat, ones, x2 - x0)
    midscale = (x1 - x0) / span
    full = p0 + (p2 - p0) * midscale
    naive_mid = (1.0 - hue) * p1 + hue * full
    energy = p0 + p1 + p2
    naive_energy = p0 + naive_mid + p2
    blend = 2.0 * x0 / torch.where(flat, ones, x0 + x1)
    target = blend * energy + (1.0 - blend) * naive_energy
    low_mid = ((1.0 - hue) * p1 + hue * (midscale * p2 + (1.0 - midscale) * (target - p2))) / (
        1.0 + hue * (1.0 - midscale)
    )
    high_mid = ((1.0 - hue) * p1 + hue * (p0 * (1.0 - midscale) + midscale * (target - p0))) / (1.0 + hue * midscale)
    below = naive_mid <= p1
    o_min = torch.where(flat, p0, torch.where(below, target - p2 - low_mid, p0))
    o_mid = torch.where(flat, p1, torch.where(below, low_mid, high_mid))
    o_max = torch.where(flat, p2, torch.where(below, p2, target - p0 - high_mid))
    # scatter back: channel c takes the value of whichever role it plays
    chans = torch.arange(3, device=x.device).view(1, 3, 1, 1)
    return torch.where(chans == i_min, o_min, torch.where(chans == i_mid, o_mid, o_max))


class Sigmoid(RenderModule):
    op = "sigmoid"
    space = "rgb"
    static_fields = ("color_processing",)

    def hints(self, p: Params, ctx: Context) -> dict | None:
        """Whether no image of the batch skews the contrast: the paper power is then exactly 1 (exp of 0) and a
        compiled graph skips that power (two transcendentals per channel and pixel)."""
        return {"unit_paper_power": bool((p["contrast_skewness"] == 0).all())}

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        col = lambda t: t.to(x.dtype).view(-1, 1, 1, 1)
        white, black, paper_exp, fog, film_power, paper_power = (col(t) for t in derived(p))
        unit = p.hint("unit_paper_power", False)
        hue = col((0.01 * p["hue_preservation"]).clamp(0.0, 1.0))
        graph_barrier()
        pos = desaturate_negatives(x)
        if p.static("color_processing") == 0:
            per = curve(pos, white, paper_exp, fog, film_power, paper_power, unit)
            graph_barrier()  # the hue step reads the curve per channel: store it once
            return torch.where(hue >= 0.001, preserve_hue(pos, per, hue), per)
        luma = pos.sum(1, keepdim=True) / 3.0
        mapped = curve(luma, white, paper_exp, fog, film_power, paper_power, unit)
        lit = luma > 1e-9
        pre = torch.where(lit, mapped / torch.where(lit, luma, torch.ones_like(luma)) * pos, mapped.expand_as(pos))
        eps = 1e-6
        lo = pre.min(1, keepdim=True).values
        hi = pre.max(1, keepdim=True).values
        # distance to the display gamut border (white or black target) relative to the pixel's chroma
        border = torch.minimum((white - mapped) / (hi - mapped + eps), (black - mapped) / (lo - mapped - eps))
        chroma = (mapped - lo) / (mapped + eps)
        adjust = 1.0 / (chroma * border + eps)
        hyper = 2.0 * chroma / (1.0 - chroma * chroma + eps) * adjust
        factor = hyper / (1.0 + torch.sqrt(hyper * hyper + 1.0)) * border
        return mapped + factor * (pre - mapped)


MODULE = Sigmoid()
