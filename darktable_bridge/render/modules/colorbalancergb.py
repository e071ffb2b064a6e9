"""colorbalancergb v5 (src/iop/colorbalancergb.c), "color balance rgb": chroma/vibrance in Filmlight Ych, 4-ways
grading (offset / lift-gain / power) in grading RGB, luminance power and contrast in Yrg, then perceptual
saturation and brilliance in darktable UCS 22 (formula 1) or JzAzBz (formula 0), each with its gamut soft-clip."""

import math

import torch

from ...errors import RenderError
from ..base import Context, Params, RenderModule, graph_barrier
from ..color import fpow
from . import _ucs as U

MASK_EXP = 0.4101205819200422  # puts middle grey at 50 % in the luminance masks
ANGLE_SHIFT = -30.0  # GUI hue 0° is Filmlight red at 330°


def _grading_of(C, H_deg):
    """Grading RGB [N, 3] of the colour (Y=1, C, H) minus that of white: the colour shift of one wheel."""
    h = ((H_deg + ANGLE_SHIFT).double() * math.pi / 180.0).to(C.dtype)  # darktable: double maths, float angle
    one = torch.ones_like(C)
    rgb = U.ych_to_grading(one, C, torch.cos(h), torch.sin(h))
    white = U.ych_to_grading(one, torch.zeros_like(C), one, torch.zeros_like(C))
    return torch.stack([a - b for a, b in zip(rgb, white)], 1), torch.stack(white, 1)


def _soft_clip(x, soft, hard):
    norm = hard - soft
    return torch.where(x > soft, soft + (1.0 - torch.exp(-(x - soft) / norm)) * norm, x)


class ColorBalanceRGB(RenderModule):
    op = "colorbalancergb"
    space = "rgb"
    static_fields = ("saturation_formula",)

    def __init__(self):
        self._luts = {}

    def check(self, values):
        if values["saturation_formula"] not in (0, 1):
            raise RenderError("color balance rgb: unknown saturation formula")

    def hints(self, p: Params, ctx: Context) -> dict | None:
        """Which parts of the module the batch leaves neutral, so that a compiled graph skips them: the 4 ways
        (every wheel's chroma and luminance 0: offsets 0, gains 1, powers 1; Yrg then comes straight from Ych, not
        through grading RGB and back), the luminance masks (also no per-zone chroma, saturation or brilliance),
        vibrance (its term is then 0) and contrast (a power of 1). Eager runs compute everything; the skipped
        arithmetic is exact or within float rounding of it."""

        def used(*names):
            return any(bool((p[n] != 0).any()) for n in names)

        four_ways = used(*(f"{w}_{k}" for w in ("global", "shadows", "midtones", "highlights") for k in ("C", "Y")))
        zones = used(
            *(f"{g}_{z}" for g in ("chroma", "saturation", "brilliance") for z in ("shadows", "midtones", "highlights"))
        )
        # build the gamut table now, eagerly: built while torch.compile traces (a compiled stage run before any
        # eager render), its numpy code would split the pixel graph in two
        self._lut(int(p.static("saturation_formula")), p["vibrance"])
        return {
            "four_ways": four_ways,
            "masks": four_ways or zones,
            "vibrance": used("vibrance"),
            "contrast": used("contrast"),
        }

    def _lut(self, formula, ref):
        key = (formula, ref.device, ref.dtype)
        if key not in self._luts:
            self._luts[key] = torch.as_tensor(U.gamut_lut(formula), dtype=ref.dtype, device=ref.device)
        return self._luts[key]

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        formula = int(p.static("saturation_formula"))
        col = lambda t: t.view(-1, 1, 1)  # per-image scalar against [N, H, W]

        # commit_params
        d_global, white = _grading_of(p["global_C"], p["global_H"])
        d_global = d_global + white * p["global_Y"].unsqueeze(1)
        d_shadows, _ = _grading_of(p["shadows_C"], p["shadows_H"])
        d_shadows = 1.0 + d_shadows + p["shadows_Y"].unsqueeze(1)
        d_high, _ = _grading_of(p["highlights_C"], p["highlights_H"])
        d_high = 1.0 + d_high + p["highlights_Y"].unsqueeze(1)
        d_mid, _ = _grading_of(p["midtones_C"], p["midtones_H"])
        d_mid = 1.0 / (1.0 + d_mid)
        mid_Y = col(1.0 / (1.0 + p["midtones_Y"]))
        w_shadows = 2.0 + 2.0 * p["shadows_weight"]
        w_high = 2.0 + 2.0 * p["highlights_weight"]
        w_mid = col(w_shadows**2 * w_high**2 / (w_shadows**2 + w_high**2))
        w_shadows, w_high = col(w_shadows), col(w_high)
        white_fulcrum = col(torch.exp2(p["white_fulcrum"]))
        mask_fulcrum = col(torch.pow(p["mask_grey_fulcrum"], MASK_EXP))
        contrast = col(1.0 + p["contrast"])
        grey = col(p["grey_fulcrum"])
        vib = col(p["vibrance"])
        hue = (math.pi * p["hue_angle"].double() / 180.0).to(x.dtype)
        cos_r, sin_r = col(torch.cos(hue)), col(torch.sin(hue))
        graph_barrier()

        def zones(prefix):
            return tuple(col(p[f"{prefix}_{z}"]) for z in ("shadows", "midtones", "highlights"))

        # pixels: clip, to LMS 2006 (D65) and Ych
        rgb = U.fmax0(x)
        lms = U.mat("WORK_TO_LMS", (rgb[:, 0], rgb[:, 1], rgb[:, 2]))
        Y, c, cos_h, sin_h = U.yrg_to_ych(*U.lms_to_yrg(lms))
        Y = U.fmax0(Y)

        four_ways, use_masks = p.hint("four_ways", True), p.hint("masks", True)
        # luminance masks: alpha shadows, gamma mid-tones, beta highlights
        if use_masks:
            off = fpow(Y, MASK_EXP) - mask_fulcrum
            off_n = off / mask_fulcrum
            alpha = 1.0 / (1.0 + torch.exp(off_n * w_shadows))
            beta = 1.0 / (1.0 + torch.exp(-off_n * w_high))
            gamma = torch.exp(-(off * off) * w_mid / 4.0) * (1.0 - alpha) ** 2 * (1.0 - beta) ** 2 * 8.0
            masks = (alpha, gamma, beta)

        def weigh(values):
            if not use_masks:  # every zone value is 0
                return 0.0
            return masks[0] * values[0] + masks[1] * values[1] + masks[2] * values[2]

        # hue rotation then linear chroma with vibrance, clipped to Yrg's gamut
        cos_h, sin_h = cos_r * cos_h - sin_r * sin_h, sin_r * cos_h + cos_r * sin_h
        boost = col(p["chroma_global"]) + weigh(zones("chroma"))
        if p.hint("vibrance", True):
            c = c * U.fmax0(1.0 + boost + vib * (1.0 - fpow(c, torch.abs(vib))))
        else:
            c = c * U.fmax0(1.0 + boost)
        c = U.gamut_check_yrg(c, cos_h, sin_h)

        # 4 ways in grading RGB
        if four_ways:
            g = U.ych_to_grading(Y, c, cos_h, sin_h)
            out = []
            for k in range(3):
                v = g[k] + col(d_global[:, k])
                v = v * ((1.0 - beta) * ((1.0 - alpha) + alpha * col(d_shadows[:, k])) + beta * col(d_high[:, k]))
                sign = torch.where(v < 0, -torch.ones_like(v), torch.ones_like(v))
                v = sign * fpow(torch.abs(v) / white_fulcrum, col(d_mid[:, k])) * white_fulcrum
                out.append(v)
            Y, r, gg = U.lms_to_yrg(U.mat("GRADING_TO_LMS", out))
            Y = fpow(U.fmax0(Y / white_fulcrum), mid_Y) * white_fulcrum
        else:  # (hint) the way to grading RGB and back is the identity up to rounding: Yrg straight from Ych
            Y, r, gg = U.ych_to_yrg(Y, c, cos_h, sin_h)
        if p.hint("contrast", True):
            Y = grey * fpow(Y / grey, contrast)
        X, Y, Z = U.mat("LMS_TO_XYZ_D65", U.yrg_to_lms(Y, r, gg))

        sat, bril = weigh(zones("saturation")), weigh(zones("brilliance"))
        lut = self._lut(formula, x)
        if formula == 1:
            a = (1.0 + col(p["saturation_global"])) + sat
            b = (1.0 + col(p["brilliance_global"])) + bril
            X, Y, Z = self._ucs(X, Y, Z, a, b, lut, white_fulcrum)
        else:
            b = (1.0 + col(p["brilliance_global"])) + bril
            X, Y, Z = self._jzazbz(X, Y, Z, col(p["saturation_global"]) + sat, b, lut)

        res = U.mat("XYZ_D65_TO_WORK", (X, Y, Z))
        return torch.stack([U.fmax0(v) for v in res], 1)

    @staticmethod
    def _ucs(X, Y, Z, a, b, lut, white_fulcrum):
        L_white = U.y_to_ucs_l(white_fulcrum)
        J, C, lg_C, H, cos_H, sin_H = U.xyY_to_ucs_jch(*U.xyz_to_xyY(X, Y, Z), L_white)
        B = U.ucs_brightness(J, lg_C)

        # rotate (C, B) so that saturation moves along the chroma axis at constant radius: (P, W) = (C, radius)
        # (darktable's W = sin_t·C + cos_t·B is the radius to an ulp); hypotf in double: libm's is exact to the last
        # bit, a float sqrt(a² + b²) is not, and compiled renders of extreme settings drifted far from eager with it
        C64, B64 = C.double(), B.double()
        c2 = C64 * C64
        r2 = c2 + B64 * B64
        radius = torch.sqrt(r2).to(C.dtype)
        pos = radius > 0
        rs = torch.where(pos, radius, torch.ones_like(radius))
        sin_t = torch.where(pos, C / rs, torch.zeros_like(C))
        cos_t = torch.where(pos, B / rs, torch.zeros_like(B))
        P, W = C, radius
        a = U.fmax0(a)
        b = U.fmax0(b)
        max_a = torch.sqrt(c2 + r2).to(C.dtype) / P
        a = _soft_clip(a, 0.5 * max_a, max_a)
        P2 = (a - 1.0) * P
        W2 = torch.sqrt(P * P * (1.0 - a * a) + W * W) * b
        C = U.fmax0(cos_t * P2 + sin_t * W2)
        B = U.fmax0(-sin_t * P2 + cos_t * W2)
        J = U.ucs_lightness(B, torch.log2(C))

        # soft-clip saturation at constant brightness against the working gamut at this hue
        lg_max_c = U.ucs_log2_chroma(J * L_white, U.lookup_gamut(lut, H), L_white)
        S_max = U.safe_div(torch.exp2(lg_max_c), U.fmax0(U.ucs_brightness(J, lg_max_c)))
        S = U.safe_div(C, U.fmax0(B))
        S = _soft_clip(S, 0.8 * S_max, S_max)
        lg_C = torch.log2(S * B)
        J = U.ucs_lightness(B, lg_C)
        return U.xyY_to_xyz(*U.ucs_jch_to_xyY(J, lg_C, cos_H, sin_H, L_white))

    @staticmethod
    def _jzazbz(X, Y, Z, sat, bril, lut):
        """sat: the saturation boost; bril: 1 + the brilliance boost."""
        J, a, b = U.xyz_to_jzazbz(X, Y, Z)
        C = torch.sqrt(a * a + b * b)
        h = torch.atan2(b, a)

        # rotate (J, C) onto the saturation direction, push along its normal, scale along it
        T = torch.atan2(C, J)
        sin_t, cos_t = torch.sin(T), torch.cos(T)
        S0 = J * cos_t + C * sin_t
        S1 = S0 * torch.minimum(torch.maximum(T * sat, -T), math.pi / 2 - T)
        S0 = U.fmax0(S0 * bril)
        J = U.fmax0(S0 * cos_t - S1 * sin_t)
        C = U.fmax0(S0 * sin_t + S1 * cos_t)

        # gamut mapping: average with the point at the soft-clipped saturation
        max_sat = U.lookup_gamut(lut, h)
        pos = J > 0
        ratio = C / torch.where(pos, J, torch.ones_like(J))
        s = torch.where(pos, _soft_clip(ratio, 0.8 * max_sat, max_sat), max_sat)
        C_at = J * s
        J_at = torch.where(s > 0, C / torch.where(s > 0, s, torch.ones_like(s)), J)
        J = (J + J_at) / 2.0
        C = (C + C_at) / 2.0

        # clip chroma so no L'M'S' goes negative at this hue and lightness
        cos_h, sin_h = torch.cos(h), torch.sin(h)
        iz = J + U.JZ_D0
        iz = U.fmax0(iz / (U.JZ_1D - U.JZ_D * iz))
        max_C = C
        az, bz = C * cos_h, C * sin_h
        for row in U.JZ_AI:
            k = row[1] * cos_h + row[2] * sin_h
            neg = iz + row[1] * az + row[2] * bz < 0
            lim = -iz / torch.where(neg, k, torch.ones_like(k))
            max_C = torch.where(neg, torch.minimum(lim, max_C), max_C)
        return U.jzazbz_to_xyz(J, max_C * cos_h, max_C * sin_h)


MODULE = ColorBalanceRGB()
