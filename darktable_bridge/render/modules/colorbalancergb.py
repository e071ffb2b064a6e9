"""colorbalancergb v5 (src/iop/colorbalancergb.c), "color balance rgb", darktable UCS saturation formula.

Per pixel: LMS 2006 → Filmlight Yrg/Ych; luminance masks of shadows/mid-tones/highlights; hue shift, chroma and
vibrance; 4-ways grading in grading RGB (offset, lift/gain, power); contrast around the grey fulcrum; then
saturation and brilliance in darktable UCS (HCB/HSB) with soft clipping against the working space's gamut,
whose boundary per hue is sampled once like commit_params does.
"""
import math
from functools import lru_cache

import numpy as np
import torch

from ..base import Context, Params, RenderError, RenderModule
from ..color import REC2020_TO_XYZ_D50, XYZ_D50_TO_REC2020

XYZ_D65_TO_LMS = np.array([[0.257085, 0.859943, -0.031061], [-0.394427, 1.175800, 0.106423],
                           [0.064856, -0.076250, 0.559067]])
LMS_TO_XYZ_D65 = np.array([[1.80794659, -1.29971660, 0.34785879], [0.61783960, 0.39595453, -0.04104687],
                           [-0.12546960, 0.20478038, 1.74274183]])
D50_TO_D65 = np.array([[9.89466254e-01, -4.00304626e-02, 4.40530317e-02], [-5.40518733e-03, 1.00666069e+00,
                       -1.75551955e-03], [-4.03920992e-04, 1.50768030e-02, 1.30210211e+00]])
D65_TO_D50 = np.array([[1.01085433e+00, 4.07086103e-02, -3.41445825e-02], [5.42814201e-03, 9.93581926e-01,
                       1.15592039e-03], [2.50722468e-04, -1.14918759e-02, 7.67964947e-01]])
GRADING_TO_LMS = np.array([[0.95, 0.38, 0.00], [0.05, 0.62, 0.03], [0.00, 0.00, 0.97]])
LMS_TO_GRADING = np.array([[1.0877193, -0.66666667, 0.02061856], [-0.0877193, 1.66666667, -0.05154639],
                           [0.0, 0.0, 1.03092784]])
D65_R, D65_G = 0.21902143, 0.54371398
ANGLE_SHIFT = -30.0  # degrees: darktable's DEG_TO_RAD in colorbalancergb.c adds it to the GUI hues
MASK_POWER = 0.4101205819200422
UCS_C, UCS_LP, UCS_MP = 15.932993652962535, 0.6523997524738018, 0.6007557017508491
HCB_POWER = 1.33654221029386
INPUT = XYZ_D65_TO_LMS @ D50_TO_D65 @ REC2020_TO_XYZ_D50
OUTPUT = XYZ_D50_TO_REC2020 @ D65_TO_D50


def _uv_star_prime(x, y):
    """xy → darktable UCS U*'V*' (works on numpy arrays and tensors)."""
    U = -0.783941002840055 * x + 0.277512987809202 * y + 0.153836578598858
    V = 0.745273540913283 * x - 0.205375866083878 * y - 0.165478376301988
    D = 0.318707282433486 * x + 2.16743692732158 * y + 0.291320554395942
    U, V = U / D, V / D
    us = 1.39656225667 * U / (abs(U) + 1.49217352929)
    vs = 1.4513954287 * V / (abs(V) + 1.52488637914)
    return -1.124983854323892 * us - 0.980483721769325 * vs, 1.86323315098672 * us + 1.971853092390862 * vs


@lru_cache(maxsize=1)
def gamut_lut() -> np.ndarray:
    """Maximum colourfulness M² per degree of dt UCS hue for the working space (commit_params' dt UCS branch)."""
    m = D50_TO_D65 @ REC2020_TO_XYZ_D50
    prim = []
    for c in range(3):
        X, Y, Z = m[:, c]
        prim.append((X / (X + Y + Z), Y / (X + Y + Z)))
    (xr, yr), (xg, yg), (xb, yb) = prim
    wx, wy = 0.31269999999999992, 0.32899999999999996
    hr, hg, hb = (math.atan2(y - wy, x - wx) for x, y in prim)

    def dh(a, b):
        d = a - b
        d += 2 * math.pi if d < -math.pi else 0.0
        d -= 2 * math.pi if d > math.pi else 0.0
        return d

    lut = np.zeros(360, dtype=np.float32)
    for i in range(50 * 360):
        angle = -math.pi + i / (50.0 * 360.0) * 2.0 * math.pi
        tan = math.tan(angle)
        t1, t2, t3 = dh(angle, hb) / dh(hr, hb), dh(angle, hr) / dh(hg, hr), dh(angle, hg) / dh(hb, hg)
        if 0 <= t1 <= 1:
            t = (wy - yb + tan * (xb - wx)) / (yr - yb + tan * (xb - xr))
            xt, yt = xb + t * (xr - xb), yb + t * (yr - yb)
        elif 0 <= t2 <= 1:
            t = (wy - yr + tan * (xr - wx)) / (yg - yr + tan * (xr - xg))
            xt, yt = xr + t * (xg - xr), yr + t * (yg - yr)
        elif 0 <= t3 <= 1:
            t = (wy - yg + tan * (xg - wx)) / (yb - yg + tan * (xg - xb))
            xt, yt = xg + t * (xb - xg), yg + t * (yb - yg)
        else:
            xt = yt = 0.0
        u, v = _uv_star_prime(xt, yt)
        H = math.degrees(math.atan2(v, u))
        if abs(H - round(H)) < 0.02:
            index = int(round(H) + 180)
            index += 360 if index < 0 else 0
            index -= 360 if index > 359 else 0
            lut[index] = u * u + v * v
    return lut


def _m(x, m):
    return torch.einsum("ij,njhw->nihw", torch.as_tensor(m, dtype=x.dtype, device=x.device), x)


def _lms_to_yrg(lms):
    Y = 0.68990272 * lms[:, 0:1] + 0.34832189 * lms[:, 1:2]
    a = lms.sum(1, keepdim=True)
    norm = torch.where(a == 0, torch.zeros_like(lms), lms / torch.where(a == 0, torch.ones_like(a), a))
    rgb = _m(norm, LMS_TO_GRADING)
    return Y, rgb[:, 0:1], rgb[:, 1:2]


def _yrg_to_lms(Y, r, g):
    lms = _m(torch.cat([r, g, 1.0 - r - g], 1), GRADING_TO_LMS)
    denom = 0.68990272 * lms[:, 0:1] + 0.34832189 * lms[:, 1:2]
    a = torch.where(denom == 0, torch.zeros_like(denom), Y / torch.where(denom == 0, torch.ones_like(denom), denom))
    return lms * a


def _soft_clip(x, soft, hard):
    norm = hard - soft
    return torch.where(x > soft, soft + (1.0 - torch.exp(-(x - soft) / norm)) * norm, x)


def _lookup_gamut(lut, h):
    pos = (360 - 1) * (h + math.pi) / (2.0 * math.pi)
    lo, hi = torch.floor(pos), torch.ceil(pos)
    i0 = torch.where(lo < 0, torch.full_like(lo, 359), torch.where(lo > 359, torch.zeros_like(lo), lo)).long()
    i1 = torch.where(hi < 0, torch.full_like(hi, 359), torch.where(hi > 359, torch.zeros_like(hi), hi)).long()
    y0, y1 = lut[i0], lut[i1]
    return torch.where(hi != lo, y0 + (pos - lo) * (y1 - y0) / torch.where(hi != lo, hi - lo, torch.ones_like(hi)), y0)


def _L_star(Y):
    Yh = Y ** 0.631651345306265
    return 2.098883786377 * Yh / (Yh + 1.12426773749357)


def _ych_to_grading(Y, c, h):
    """make_Ych + Ych_to_gradingRGB for per-image scalars [N] → [N, 3]."""
    r = c * torch.cos(h) + D65_R
    g = c * torch.sin(h) + D65_G
    lms = torch.stack([r, g, 1.0 - r - g], 1) @ torch.as_tensor(GRADING_TO_LMS.T, dtype=c.dtype)
    denom = 0.68990272 * lms[:, 0] + 0.34832189 * lms[:, 1]
    lms = lms * (Y / denom).view(-1, 1)
    return lms @ torch.as_tensor(LMS_TO_GRADING.T, dtype=c.dtype)


class ColorBalanceRGB(RenderModule):
    op = "colorbalancergb"
    space = "rgb"
    static_fields = ("saturation_formula",)

    def check(self, values):
        if values["saturation_formula"] != 1:
            raise RenderError("color balance rgb: the JzAzBz saturation formula (2021) is not rendered here")

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        col = lambda t: t.view(-1, 1, 1, 1)  # noqa: E731
        one = torch.ones_like(p["contrast"])
        norm = _ych_to_grading(one, 0.0 * one, 0.0 * one)
        deg = math.pi / 180.0

        def zone(name):  # darktable shifts the GUI hue by ANGLE_SHIFT before using it
            return _ych_to_grading(one, p[f"{name}_C"], (p[f"{name}_H"] + ANGLE_SHIFT) * deg) - norm

        glob = zone("global") + norm * p["global_Y"].view(-1, 1)
        shadows = 1.0 + zone("shadows") + p["shadows_Y"].view(-1, 1)
        highlights = 1.0 + zone("highlights") + p["highlights_Y"].view(-1, 1)
        midtones = 1.0 / (1.0 + zone("midtones"))
        midtones_Y = col(1.0 / (1.0 + p["midtones_Y"]))
        wf = col(torch.pow(2.0 * one, p["white_fulcrum"]))
        sw = 2.0 + p["shadows_weight"] * 2.0
        hw = 2.0 + p["highlights_weight"] * 2.0
        mw = col(sw ** 2 * hw ** 2 / (sw ** 2 + hw ** 2))
        sw, hw = col(sw), col(hw)
        fulcrum = col(p["mask_grey_fulcrum"] ** MASK_POWER)
        contrast = col(1.0 + p["contrast"])
        grey = col(p["grey_fulcrum"])
        vib = col(p["vibrance"])
        angle = col(p["hue_angle"] * deg)

        lms = _m(x.clamp(min=0.0), INPUT)
        Y, r, g = _lms_to_yrg(lms)
        rr, gg = r - D65_R, g - D65_G
        c = torch.sqrt(rr * rr + gg * gg)
        nz = c != 0
        safe_c = torch.where(nz, c, torch.ones_like(c))
        cos_h = torch.where(nz, rr / safe_c, torch.ones_like(c))
        sin_h = torch.where(nz, gg / safe_c, torch.zeros_like(c))
        Y = Y.clamp(min=0.0)
        xm = Y ** MASK_POWER
        off = xm - fulcrum
        offn = off / fulcrum
        alpha = 1.0 / (1.0 + torch.exp(offn * sw))
        beta = 1.0 / (1.0 + torch.exp(-offn * hw))
        gamma = torch.exp(-off * off * mw / 4.0) * (1 - alpha) ** 2 * (1 - beta) ** 2 * 8.0
        ops = (alpha, gamma, beta)

        def zones(name):
            return sum(o * col(p[f"{name}_{z}"]) for o, z in zip(ops, ("shadows", "midtones", "highlights")))

        cos_r = torch.cos(angle) * cos_h - torch.sin(angle) * sin_h
        sin_r = torch.sin(angle) * cos_h + torch.cos(angle) * sin_h
        cos_h, sin_h = cos_r, sin_r
        boost = col(p["chroma_global"]) + zones("chroma")
        c = c * torch.clamp(1.0 + boost + vib * (1.0 - c ** vib.abs()), min=0.0)
        r0, g0 = c * cos_h + D65_R, c * sin_h + D65_G
        max_c = c
        max_c = torch.where(r0 < 0, torch.minimum(-D65_R / cos_h, max_c), max_c)
        max_c = torch.where(g0 < 0, torch.minimum(-D65_G / sin_h, max_c), max_c)
        max_c = torch.where(r0 + g0 > 1, torch.minimum((1 - D65_R - D65_G) / (cos_h + sin_h), max_c), max_c)
        c = max_c
        rgb = _m(_yrg_to_lms(Y, c * cos_h + D65_R, c * sin_h + D65_G), LMS_TO_GRADING)
        rgb = rgb + glob.view(-1, 3, 1, 1)
        rgb = rgb * ((1 - beta) * ((1 - alpha) + alpha * shadows.view(-1, 3, 1, 1)) + beta * highlights.view(-1, 3, 1, 1))
        rgb = torch.sign(rgb) * torch.where(rgb == 0, torch.zeros_like(rgb),
                                            (rgb.abs() / wf) ** midtones.view(-1, 3, 1, 1)) * wf
        rgb = torch.where(rgb == 0, torch.zeros_like(rgb), rgb)
        Y, r, g = _lms_to_yrg(_m(rgb, GRADING_TO_LMS))
        Y = (Y / wf).clamp(min=0.0) ** midtones_Y * wf
        Y = grey * (Y / grey) ** contrast
        xyz = _m(_yrg_to_lms(Y, r, g), LMS_TO_XYZ_D65)

        L_white = _L_star(wf)
        s = xyz.sum(1, keepdim=True)
        xx, yy, YY = xyz[:, 0:1] / s, xyz[:, 1:2] / s, xyz[:, 1:2]
        u, v = _uv_star_prime(xx, yy)
        L = _L_star(YY.clamp(0.0, 13237757000.0))
        M2 = u * u + v * v
        J = L / L_white
        C = UCS_C * L ** UCS_LP * M2 ** UCS_MP / L_white
        H = torch.atan2(v, u)
        B = J * (C ** HCB_POWER + 1.0)
        radius = torch.sqrt(C * C + B * B)
        pos = radius > 0
        rs = torch.where(pos, radius, torch.ones_like(radius))
        sin_T = torch.where(pos, C / rs, torch.zeros_like(C))
        cos_T = torch.where(pos, B / rs, torch.zeros_like(B))
        P = C
        W = sin_T * C + cos_T * B
        a = torch.clamp(1.0 + col(p["saturation_global"]) + zones("saturation"), min=0.0)
        b = torch.clamp(1.0 + col(p["brilliance_global"]) + zones("brilliance"), min=0.0)
        Pn0 = P != 0
        max_a = torch.sqrt(P * P + W * W) / torch.where(Pn0, P, torch.ones_like(P))
        a = torch.where(Pn0, _soft_clip(a, 0.5 * max_a, max_a), a)
        Pp = (a - 1.0) * P
        Wp = torch.sqrt((P * P * (1.0 - a * a) + W * W).clamp(min=0.0)) * b
        C = torch.clamp(cos_T * Pp + sin_T * Wp, min=0.0)
        B = torch.clamp(-sin_T * Pp + cos_T * Wp, min=0.0)
        J = B / (C ** HCB_POWER + 1.0)
        lut = torch.as_tensor(gamut_lut(), dtype=x.dtype, device=x.device)
        max_m2 = _lookup_gamut(lut, torch.nan_to_num(H))  # black pixels are NaN here, and end as 0 below
        max_chroma = UCS_C * (J * L_white) ** UCS_LP * max_m2 ** UCS_MP / L_white
        Bb = J * (max_chroma ** HCB_POWER + 1.0)
        Sb = torch.where(Bb > 0, max_chroma / torch.where(Bb > 0, Bb, torch.ones_like(Bb)), torch.zeros_like(Bb))
        S = torch.where(B > 0, C / torch.where(B > 0, B, torch.ones_like(B)), torch.zeros_like(B))
        S = _soft_clip(S, 0.8 * Sb, Sb)
        C = S * B
        J = B / (C ** HCB_POWER + 1.0)
        Ls = (J * L_white).clamp(0.0, 2.098883)
        M = torch.where(Ls != 0, (C * L_white / (UCS_C * torch.where(Ls != 0, Ls, torch.ones_like(Ls)) ** UCS_LP))
                        .clamp(min=0.0) ** 0.8322850678616855, torch.zeros_like(Ls))
        up, vp = M * torch.cos(H), M * torch.sin(H)
        us = -5.037522385190711 * up - 2.504856328185843 * vp
        vs = 4.760029407436461 * up + 2.874012963239247 * vp
        U = -1.49217352929 * us / (us.abs() - 1.39656225667)
        V = -1.52488637914 * vs / (vs.abs() - 1.4513954287)
        xd = 0.167171472114775 * U + 0.141299802443708 * V - 0.00801531300850582
        yd = -0.150959086409163 * U - 0.155185060382272 * V - 0.00843312433578007
        dd = 0.940254742367256 * U + 1.0 * V - 0.0256325967652889
        xx, yy = xd / dd, yd / dd
        YY = (1.12426773749357 * Ls / (2.098883786377 - Ls)) ** 1.5831518565279648
        xyz = torch.cat([YY * xx / yy, YY, YY * (1.0 - xx - yy) / yy], 1)
        out = _m(xyz, OUTPUT)
        return torch.where(torch.isnan(out), torch.zeros_like(out), out).clamp(min=0.0)  # fmaxf(NaN, 0) = 0


MODULE = ColorBalanceRGB()
