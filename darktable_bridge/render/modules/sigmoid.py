"""sigmoid v1 (src/iop/sigmoid.c): a generalised log-logistic tone curve, per channel (with hue preservation)
or on the RGB average with hyperbolic chroma compression."""
import torch

from ..base import Context, Params, RenderModule

GREY = 0.1845


def curve(x, magnitude, paper_exp, fog, film_power, paper_power):
    film = (fog + x.clamp(min=0.0)) ** film_power
    out = magnitude * (film / (paper_exp + film)) ** paper_power
    return torch.where(torch.isnan(out), magnitude.expand_as(out), out)


def _pow(a, b):
    """float32 power rounded from double, like a correctly rounded powf: darktable's slopes are float32 finite
    differences (step 1e-6), so the last bit of every power shows in the result."""
    return (a.double() ** b.double()).float()


def _curve32(x, magnitude, paper_exp, fog, film_power, paper_power):
    film = _pow(fog + x.clamp(min=0.0), film_power)
    return magnitude * _pow(film / (paper_exp + film), paper_power)


def derived(p: Params):
    """commit_params: curve constants so that f(0) = black, f(grey) = grey, f(∞) = white, slope set by contrast."""
    one = torch.ones_like(p["middle_grey_contrast"])
    delta = torch.tensor(1e-6, dtype=torch.float32)
    grey = torch.tensor(GREY, dtype=torch.float32)

    def slope(magnitude, paper_exp, fog, film_power, paper_power):
        hi = _curve32((grey + delta) * one, magnitude, paper_exp, fog, film_power, paper_power)
        lo = _curve32((grey - delta) * one, magnitude, paper_exp, fog, film_power, paper_power)
        return (hi - lo) / 2.0 / delta

    ref_power = p["middle_grey_contrast"]
    ref_exp = _pow(grey * one, ref_power) * (1.0 / grey - 1.0)
    ref_slope = slope(one, ref_exp, 0.0 * one, ref_power, one)
    paper_power = _pow(5.0 * one, -p["contrast_skewness"])
    white = 0.01 * p["display_white_target"]
    tmp_exp = _pow(grey * one, one) * (_pow(white / grey, 1.0 / paper_power) - 1.0)
    film_power = ref_slope / slope(white, tmp_exp, 0.0 * one, one, paper_power)
    black = 0.01 * p["display_black_target"]
    white_grey = _pow(white / grey, 1.0 / paper_power) - 1.0
    white_black = _pow(black / white, -1.0 / paper_power) - 1.0
    fog = grey * _pow(white_grey, 1.0 / film_power) / (
        _pow(white_black, 1.0 / film_power) - _pow(white_grey, 1.0 / film_power))
    paper_exp = _pow(fog + grey, film_power) * white_grey
    col = lambda t: t.view(-1, 1, 1, 1)  # noqa: E731
    return col(white), col(black), col(paper_exp), col(fog), col(film_power), col(paper_power)


def desaturate_negatives(x):
    mean = (x.sum(1, keepdim=True) / 3.0).clamp(min=0.0)
    low = x.min(1, keepdim=True).values
    factor = torch.where(low < 0, -mean / torch.where(low < 0, low - mean, -torch.ones_like(low)),
                         torch.ones_like(low))
    return mean + factor * (x - mean)


def preserve_hue(x, per, hue):
    """Move the middle channel back towards the input's hue, keeping the channel sum (energy)."""
    xs, order = torch.sort(x, dim=1)  # ascending: min, mid, max
    ps = per.gather(1, order)
    x0, x1, x2 = xs[:, 0:1], xs[:, 1:2], xs[:, 2:3]
    p0, p1, p2 = ps[:, 0:1], ps[:, 1:2], ps[:, 2:3]
    flat = ((p2 - p0) < 1e-9) | ((p1 - p0) < 1e-9)
    span = torch.where(flat, torch.ones_like(x2), x2 - x0)
    full = p0 + (p2 - p0) * (x1 - x0) / span
    naive_mid = (1.0 - hue) * p1 + hue * full
    energy = p0 + p1 + p2
    naive_energy = p0 + naive_mid + p2
    blend = 2.0 * x0 / torch.where(flat, torch.ones_like(x0), x0 + x1)
    midscale = (x1 - x0) / span
    target = blend * energy + (1.0 - blend) * naive_energy
    low_mid = ((1.0 - hue) * p1 + hue * (midscale * p2 + (1.0 - midscale) * (target - p2))) / (
        1.0 + hue * (1.0 - midscale))
    high_mid = ((1.0 - hue) * p1 + hue * (p0 * (1.0 - midscale) + midscale * (target - p0))) / (1.0 + hue * midscale)
    below = naive_mid <= p1
    o0 = torch.where(below, target - p2 - low_mid, p0)
    o1 = torch.where(below, low_mid, high_mid)
    o2 = torch.where(below, p2, target - p0 - high_mid)
    ordered = torch.where(flat, ps, torch.cat([o0, o1, o2], 1))
    return torch.zeros_like(per).scatter(1, order, ordered)


class Sigmoid(RenderModule):
    op = "sigmoid"
    space = "rgb"
    static_fields = ("color_processing",)

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        white, black, paper_exp, fog, film_power, paper_power = derived(p)
        pos = desaturate_negatives(x)
        if p.static("color_processing") == 0:
            per = curve(pos, white, paper_exp, fog, film_power, paper_power)
            hue = (0.01 * p["hue_preservation"]).clamp(0.0, 1.0).view(-1, 1, 1, 1)
            return torch.where(hue >= 0.001, preserve_hue(pos, per, hue), per)
        luma = pos.sum(1, keepdim=True) / 3.0
        mapped = curve(luma, white, paper_exp, fog, film_power, paper_power)
        pre = torch.where(luma > 1e-9, mapped / torch.where(luma > 1e-9, luma, torch.ones_like(luma)) * pos,
                          mapped.expand_as(pos))
        eps = 1e-6
        lo = pre.min(1, keepdim=True).values
        hi = pre.max(1, keepdim=True).values
        to_white = (white - mapped) / (hi - mapped + eps)
        to_black = (black - mapped) / (lo - mapped - eps)
        border = torch.minimum(to_white, to_black)
        chroma = (mapped - lo) / (mapped + eps)
        adjust = 1.0 / (chroma * border + eps)
        hyper = 2.0 * chroma / (1.0 - chroma * chroma + eps) * adjust
        factor = hyper / (1.0 + torch.sqrt(hyper * hyper + 1.0)) * border
        return mapped + factor * (pre - mapped)


MODULE = Sigmoid()
