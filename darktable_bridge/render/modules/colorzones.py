"""colorzones v5 (src/iop/colorzones.c): lightness, chroma and hue changes chosen by L, C or h.

The three curves (y = 0.5: no change) are first spread by the mix, y + (y − 0.5)·strength/100, then sampled
into 0x10000-entry tables: splines V2 (src/common/splines.cpp; periodic over the hue circle when selecting by
hue) or, for old params, the V1 sampler with a wrapped node added on each side. Tables are read with linear
interpolation. "smooth" mode (process_v3) fades the L and h changes out towards grey when selecting by hue;
"strong" (process_v1) applies them in LCh directly.
"""

import numpy as np
import torch

from ...errors import RenderError
from ..base import Context, Params, RenderModule
from . import _curves as cv

_BY_L, _BY_C, _BY_H = 0, 1, 2
_SMOOTH, _STRONG = 0, 1
_TWO_PI = float(np.float32(2.0) * np.float32(np.pi))


def _v1_nodes(x, y, n, by_hue: bool):
    """V1 splines: one node before (x[n-2] − 1) and one after (x[1] + 1), wrapped for hue, flat otherwise."""

    def at(t, k):
        return torch.gather(t, 1, k[:, None])[:, 0]

    y_first = at(y, n - 2) if by_hue else y[:, 0]
    y_last = y[:, 1] if by_hue else at(y, n - 1)
    m = x.shape[-1]
    idx = torch.arange(m + 2, device=x.device)[None, :]
    shifted_x = torch.cat([at(x, n - 2)[:, None] - 1.0, x, torch.zeros_like(x[:, :1])], -1)
    shifted_y = torch.cat([y_first[:, None], y, torch.zeros_like(y[:, :1])], -1)
    tail = idx == (n + 1)[:, None]
    return (
        torch.where(tail, (x[:, 1] + 1.0)[:, None], shifted_x),
        torch.where(tail, y_last[:, None], shifted_y),
        n + 2,
    )


class ColorZones(RenderModule):
    op = "colorzones"
    space = "lab"
    static_fields = ("channel", "curve_num_nodes", "curve_type", "mode", "splines_version")

    def check(self, values):
        if values["channel"] not in (_BY_L, _BY_C, _BY_H):
            raise RenderError(f"colorzones: unknown 'select by' {values['channel']}")
        if values["mode"] not in (_SMOOTH, _STRONG):
            raise RenderError(f"colorzones: unknown process mode {values['mode']}")
        if values["splines_version"] not in (0, 1):
            raise RenderError(f"colorzones: unknown splines version {values['splines_version']}")
        if values["mode"] == _STRONG and values["channel"] == _BY_H:
            # every exact grey gets its hue from float noise of darktable's input conversion (atan2 of ±1e-7),
            # and strong mode applies the curves there at full weight: not reproducible pixel for pixel
            raise RenderError(
                "colorzones: 'strong' mode selecting by hue is not rendered here (use --engine darktable)"
            )
        v1 = values["splines_version"] == 0
        cv.check_nodes(
            "colorzones",
            values["curve"],
            values["curve_num_nodes"],
            (0, 1, 2),
            maxnodes=18 if v1 else 20,
            periodic=values["channel"] == _BY_H and not v1,
            types=values["curve_type"],
        )

    def _tables(self, p: Params) -> list[torch.Tensor]:
        by_hue = p.static("channel") == _BY_H
        strength = (p["strength"] / 100.0)[:, None]
        out = []
        for ch in range(3):
            x, y, n = cv.curve_nodes(p, "curve", "curve_num_nodes", ch)
            y = y + (y - 0.5) * strength
            kind = p.static("curve_type")[ch]
            if p.static("splines_version") == 0:
                samples = cv.sample_v1(*_v1_nodes(x, y, n, by_hue), kind)
            else:
                samples = cv.sample_v2(x, y, n, kind, periodic=by_hue)
            out.append(cv.table(samples))
        return out

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        lut_l, lut_c, lut_h = self._tables(p)
        channel = p.static("channel")
        L, a, b = x[:, 0], x[:, 1], x[:, 2]
        if p.static("mode") == _STRONG:
            ang = torch.atan2(b, a)
            h = torch.where(ang > 0, ang / _TWO_PI, 1.0 - ang.abs() / _TWO_PI)
            C = torch.sqrt(a * a + b * b)
            if channel == _BY_L:
                select = L * 0.01
            elif channel == _BY_C:
                select = C * float(np.float32(1.0) / (np.float32(128.0) * np.sqrt(np.float32(2.0))))
            else:
                select = h
            select = select.clamp(0.0, 1.0)
            L_out = L * torch.pow(2.0, 4.0 * (cv.lookup_linear(lut_l, select) - 0.5))
            C_out = C * 2.0 * cv.lookup_linear(lut_c, select)
            h_out = h + cv.lookup_linear(lut_h, select) - 0.5
            return torch.stack([L_out, torch.cos(_TWO_PI * h_out) * C_out, torch.sin(_TWO_PI * h_out) * C_out], 1)

        h = torch.fmod(torch.atan2(b, a) + _TWO_PI, _TWO_PI) / _TWO_PI
        C = torch.sqrt(b * b + a * a)
        if channel == _BY_L:
            select, blend = torch.clamp(L / 100.0, max=1.0), torch.zeros_like(L)
        elif channel == _BY_C:
            select, blend = torch.clamp(C / 128.0, max=1.0), torch.zeros_like(L)
        else:
            select, blend = h, (1.0 - C / 128.0) ** 2
        Lm = (blend * 0.5 + (1.0 - blend) * cv.lookup_linear(lut_l, select)) - 0.5
        hm = (blend * 0.5 + (1.0 - blend) * cv.lookup_linear(lut_h, select)) - 0.5
        Cm = 2.0 * cv.lookup_linear(lut_c, select)
        L_out = L * torch.pow(2.0, 4.0 * Lm)
        turn = _TWO_PI * (h + hm)
        return torch.stack([L_out, torch.cos(turn) * Cm * C, torch.sin(turn) * Cm * C], 1)


MODULE = ColorZones()
