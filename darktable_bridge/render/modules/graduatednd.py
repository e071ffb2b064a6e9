"""graduatednd v1 (src/iop/graduatednd.c): a graduated ND filter, optionally tinted.

The density 2^(d·t) is computed as darktable does, with a 4th-order Taylor series of e^(ln2·x/8) raised to the
8th power, so renders match to the last bit rather than to the exact exponential.
"""

import math

import torch

from ..base import Context, Params, RenderModule


def _hue2rgb(m1, m2, hue):
    return torch.where(
        hue < 1.0,
        m1 + (m2 - m1) * hue,
        torch.where(hue < 3.0, m2, torch.where(hue < 4.0, m1 + (m2 - m1) * (4.0 - hue), m1)),
    )


def hsl_to_rgb(h, s, lightness=0.5):
    m2 = torch.where(torch.full_like(h, lightness) < 0.5, lightness * (1.0 + s), lightness + s - lightness * s)
    m1 = 2.0 * lightness - m2
    h6 = h * 6.0
    rgb = torch.stack(
        [
            _hue2rgb(m1, m2, torch.where(h6 < 4.0, h6 + 2.0, h6 - 4.0)),
            _hue2rgb(m1, m2, h6),
            _hue2rgb(m1, m2, torch.where(h6 > 2.0, h6 - 2.0, h6 + 4.0)),
        ],
        1,
    )
    grey = torch.full_like(rgb, lightness)
    return torch.where((s == 0).unsqueeze(1), grey, rgb)


def _density(dens, length):
    t = math.log(2.0) * dens * (0.5 + length).clamp(0.0, 1.0) / 8.0
    d1 = t * t * 0.5
    d2 = d1 * t * 0.333333333
    d3 = d2 * t * 0.25
    d = 1 + t + d1 + d2 + d3
    d = d * d
    d = d * d
    return d * d


class GraduatedND(RenderModule):
    op = "graduatednd"
    space = "rgb"

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        n, _, h, w = x.shape
        col = lambda t: t.view(-1, 1, 1, 1)
        hw, hh = w / 2.0, h / 2.0
        v = -p["rotation"] / 180.0 * math.pi
        sinv, cosv = col(torch.sin(v)), col(torch.cos(v))
        radie = math.sqrt(hh * hh + hw * hw) / hh
        offset = col(p["offset"] / 100.0 * 2.0)
        hardness = col(1.0 / radie / (1.0 - (0.5 + (p["hardness"] / 100.0) * 0.9 / 2.0)) * 0.5)
        xs = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, 1, w)
        ys = torch.arange(h, dtype=x.dtype, device=x.device).view(1, 1, h, 1)
        length = (sinv * (-1.0 + xs / hw) - cosv * (-1.0 + ys / hh) - 1.0 + offset) * hardness
        dens = col(p["density"])
        color = hsl_to_rgb(p["hue"], p["saturation"]).view(-1, 3, 1, 1)
        color = torch.where(dens < 0, 1.0 - color, color)
        color1 = 1.0 - color
        darken = (x / (color + color1 * _density(dens, length))).clamp(min=0.0)
        lighten = (x * (color + color1 * _density(-dens, -length))).clamp(min=0.0)
        return torch.where(dens > 0, darken, lighten)


MODULE = GraduatedND()
