"""tonecurve v5 (src/iop/tonecurve.c): L (and a, b) curves in Lab, or the L curve carried into XYZ / RGB.

Tables come from darktable's V1 curve sampler (``dt_draw_curve_calc_values``), scaled to L (×100) and a/b
(×256 − 128). Modes: 0 Lab independent (a, b through their own curves, extrapolated on both sides when
``tonecurve_unbound_ab``), 1 Lab linked (a, b scaled by L_out/L_in), 2 XYZ linked (the L curve turned into a
Y → Y table applied to X, Y, Z), 3 RGB linked (a G → G table in linear ProPhoto RGB, per channel or through a
preserve-colors norm). Values above the last node follow darktable's fitted power law.
"""

import torch

from ...errors import RenderError
from .. import color
from ..base import Context, Params, RenderModule
from . import _curves as cv

_INDEPENDENT, _LINKED, _XYZ, _RGB = 0, 1, 2, 3
_LUM_ROW = cv.PROPHOTO_TO_XYZ[1]


def _lab(xyz3: torch.Tensor) -> torch.Tensor:
    return color.xyz_to_lab(xyz3)


def _prophoto_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    return color.xyz_to_lab(color.matmul3(rgb, cv.PROPHOTO_TO_XYZ))


def _lab_to_prophoto(lab: torch.Tensor) -> torch.Tensor:
    return color.matmul3(color.lab_to_xyz(lab), cv.XYZ_TO_PROPHOTO)


def _grey_ramp(n: int, like: torch.Tensor) -> torch.Tensor:
    """k / 0x10000 on all three channels, [n, 3, 0x10000, 1]."""
    k = torch.arange(cv.LUT, device=like.device, dtype=like.dtype) * (1.0 / cv.LUT)
    return k.view(1, 1, -1, 1).expand(n, 3, cv.LUT, 1)


def _remap_l(lab: torch.Tensor, tab_l: torch.Tensor) -> torch.Tensor:
    """Replace L by the L table at (int)(L/100 · 0x10000), keeping a and b."""
    l_new = cv.lookup(tab_l, lab[:, 0, :, 0] / 100.0)
    return torch.stack([l_new, lab[:, 1, :, 0], lab[:, 2, :, 0]], 1)[..., None]


class ToneCurve(RenderModule):
    op = "tonecurve"
    space = "lab"
    static_fields = ("tonecurve_nodes", "tonecurve_type", "tonecurve_autoscale_ab", "preserve_colors")

    def check(self, values):
        mode = values["tonecurve_autoscale_ab"]
        if mode not in (_INDEPENDENT, _LINKED, _XYZ, _RGB):
            raise RenderError(f"tonecurve: unknown color space mode {mode}")
        used = (0, 1, 2) if mode == _INDEPENDENT else (0,)
        cv.check_nodes(
            "tonecurve", values["tonecurve"], values["tonecurve_nodes"], used, types=values["tonecurve_type"]
        )

    def _samples(self, p: Params, ch: int):
        x, y, n = cv.curve_nodes(p, "tonecurve", "tonecurve_nodes", ch)
        return x, n, cv.sample_v1(x, y, n, p.static("tonecurve_type")[ch])

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        mode = p.static("tonecurve_autoscale_ab")
        nb = x.shape[0]
        xl, nl, sl = self._samples(p, 0)
        tab_l = cv.table(sl) * 100.0
        if mode == _XYZ:  # Y_in → Y_out through the L curve
            lab = _lab(_grey_ramp(nb, x))
            tab_l = color.lab_to_xyz(_remap_l(lab, tab_l))[:, 1, :, 0]
        elif mode == _RGB:  # G_in → G_out of linear ProPhoto greys
            lab = _prophoto_to_lab(_grey_ramp(nb, x))
            tab_l = _lab_to_prophoto(_remap_l(lab, tab_l))[:, 1, :, 0]
        xm = torch.gather(xl, 1, (nl - 1)[:, None])[:, 0]
        coeffs_l = cv.estimate_exp(tab_l, xm)

        L, a, b = x[:, 0], x[:, 1], x[:, 2]
        if mode == _XYZ:
            xyz = cv.apply_curve(tab_l, coeffs_l, color.lab_to_xyz(x))
            return color.xyz_to_lab(xyz)
        if mode == _RGB:
            rgb = _lab_to_prophoto(x)
            norm = p.static("preserve_colors")
            if norm == cv.RGB_NORM_NONE:
                rgb = cv.apply_curve(tab_l, coeffs_l, rgb)
            else:
                rgb = cv.preserve_ratio(rgb, norm, _LUM_ROW, tab_l, coeffs_l)
            return _prophoto_to_lab(rgb)

        l_in = L / 100.0
        l_out = cv.apply_curve(tab_l, coeffs_l, l_in)
        if mode == _LINKED:
            low = tab_l[:, int(0.01 * cv.LUT)].view(-1, 1, 1)
            bright = l_in > 0.01
            safe_l = torch.where(bright, L, torch.ones_like(L))
            a_out = torch.where(bright, a * l_out / safe_l, a * low)
            b_out = torch.where(bright, b * l_out / safe_l, b * low)
            return torch.stack([l_out, a_out, b_out], 1)

        unbound = (p["tonecurve_unbound_ab"] != 0).view(-1, 1, 1)
        out = [l_out]
        for ch, v in ((1, a), (2, b)):
            xc, nc, sc = self._samples(p, ch)
            tab = cv.table(sc) * 256.0 - 128.0
            right = cv.estimate_exp(tab, torch.gather(xc, 1, (nc - 1)[:, None])[:, 0])
            left = self._left_exp(tab, xc[:, 0])
            v_in = (v + 128.0) / 256.0
            plain = cv.lookup(tab, v_in)
            xm_r = (1.0 / right[0]).view(-1, 1, 1)
            xm_l = (1.0 - 1.0 / left[0]).view(-1, 1, 1)
            ext = torch.where(
                v_in > xm_r, cv.eval_exp(right, v_in), torch.where(v_in < xm_l, cv.eval_exp(left, 1.0 - v_in), plain)
            )
            out.append(torch.where(unbound, ext, plain))
        return torch.stack(out, 1)

    @staticmethod
    def _left_exp(tab: torch.Tensor, x_first: torch.Tensor):
        """The left-hand fit, on the mirrored axis 1 − x (as darktable's x_al / y_al)."""
        xm = 1.0 - x_first
        xs = [xm * 0.7, xm * 0.8, xm * 0.9, xm * 1.0]
        ys = [cv.lookup(tab, (1.0 - v)[:, None])[:, 0] for v in xs]
        return cv.fit_exp(xs, ys)


MODULE = ToneCurve()
