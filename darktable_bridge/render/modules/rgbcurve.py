"""rgbcurve v1 (src/iop/rgbcurve.c): curves in the linear RGB working space.

Each used curve becomes darktable's 0x10000-entry table (``dt_draw_curve_calc_values``, the V1 sampler),
looked up by truncation below the last node and extrapolated above it with the power law fitted by
``dt_iop_estimate_exp``. "Linked" applies the first curve to R, G and B, or, with a preserve-colors norm, scales
RGB by curve(norm)/norm; "independent" applies one curve per channel.
"""

import numpy as np
import torch

from ...errors import RenderError
from .. import color
from ..base import Context, Params, RenderModule
from . import _curves as cv

_LINKED, _INDEPENDENT = 0, 1
_LUM_ROW = tuple(float(v) for v in np.asarray(color.REC2020_TO_XYZ_D50)[1])  # working-profile luminance


def _uncompensate_grey(v: torch.Tensor) -> torch.Tensor:
    """dt_ioppr_uncompensate_middle_grey: v = L/100 of a neutral → the working-space value."""
    lab = torch.stack([v * 100.0, torch.zeros_like(v), torch.zeros_like(v)], 1)[..., None]  # [N, 3, M, 1]
    return color.lab_to_rgb(lab)[:, 0, :, 0]


class RgbCurve(RenderModule):
    op = "rgbcurve"
    space = "rgb"
    static_fields = ("curve_num_nodes", "curve_type", "curve_autoscale", "preserve_colors")

    def check(self, values):
        if values["curve_autoscale"] not in (_LINKED, _INDEPENDENT):
            raise RenderError(f"rgbcurve: unknown mode {values['curve_autoscale']}")
        used = (0,) if values["curve_autoscale"] == _LINKED else (0, 1, 2)
        cv.check_nodes("rgbcurve", values["curve_nodes"], values["curve_num_nodes"], used, types=values["curve_type"])

    def _curve(self, p: Params, ch: int):
        x, y, n = cv.curve_nodes(p, "curve_nodes", "curve_num_nodes", ch)
        grey = (p["compensate_middle_grey"] != 0)[:, None]
        x = torch.where(grey, _uncompensate_grey(x), x)
        y = torch.where(grey, _uncompensate_grey(y), y)
        tab = cv.table(cv.sample_v1(x, y, n, p.static("curve_type")[ch]))
        xm = torch.gather(x, 1, (n - 1)[:, None])[:, 0]
        return tab, cv.estimate_exp(tab, xm)

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        if p.static("curve_autoscale") == _INDEPENDENT:
            out = []
            for ch in range(3):
                tab, coeffs = self._curve(p, ch)
                out.append(cv.apply_curve(tab, coeffs, x[:, ch]))
            return torch.stack(out, 1)
        tab, coeffs = self._curve(p, 0)
        norm = p.static("preserve_colors")
        if norm == cv.RGB_NORM_NONE:
            return cv.apply_curve(tab, coeffs, x)
        return cv.preserve_ratio(x, norm, _LUM_ROW, tab, coeffs)


MODULE = RgbCurve()
