"""channelmixerrgb v3 (src/iop/channelmixerrgb.c), "color calibration": chromatic adaptation of an illuminant to
D50, the 3×3 mix, gamut compression in u'v'Y, colourfulness/brightness in the adaptation space, clipping."""
import torch

from ..base import Context, Params, RenderError, RenderModule
from ..color import REC2020_TO_XYZ_D50, XYZ_D50_TO_REC2020

NORM_MIN = 1.52587890625e-05
INV_SQRT3 = 0.5773502691896258
XYZ_TO_CAT16 = [[0.401288, 0.650173, -0.051461], [-0.250268, 1.204414, 0.045854], [-0.002079, 0.048952, 0.953127]]
CAT16_TO_XYZ = [[1.862068, -1.011255, 0.149187], [0.38752, 0.621447, -0.008974], [-0.015841, -0.034123, 1.049964]]
CAT16_D50 = (0.994535, 1.000997, 0.833036)
D50_UV = (0.20915914598542354, 0.488075320769787)
FIXED_XY = {0: (0.34567, 0.35850), 1: (0.44757, 0.40745), 3: (1.0 / 3.0, 1.0 / 3.0)}
ADAPTATIONS = {1: "CAT16", 3: "XYZ", 4: "none"}


def _mat(x, m):
    m = torch.as_tensor(m, dtype=x.dtype, device=x.device)
    return torch.einsum("ij,njhw->nihw", m, x)


def _bmat(x, m):
    """Per-image 3×3 matrices m [N, 3, 3]."""
    return torch.einsum("nij,njhw->nihw", m, x)


def daylight_or_planck_xy(t):
    """darktable's illuminant D: CIE daylight locus from 4000 K, the Planckian locus below."""
    xd = torch.where(t <= 7000.0, ((-4.6070e9 / t + 2.9678e6) / t + 0.09911e3) / t + 0.244063,
                     ((-2.0064e9 / t + 1.9018e6) / t + 0.24748e3) / t + 0.237040)
    yd = (-3.0 * xd + 2.87) * xd - 0.275
    xb, yb = _planck(t)
    daylight = t >= 4000.0
    return torch.where(daylight, xd, xb), torch.where(daylight, yd, yb)


class ChannelMixerRGB(RenderModule):
    op = "channelmixerrgb"
    space = "rgb"
    static_fields = ("illuminant", "adaptation", "clip", "version", "normalize_R", "normalize_G", "normalize_B",
                     "normalize_sat", "normalize_light", "normalize_grey")

    def check(self, values):
        if values["illuminant"] not in (0, 1, 2, 3, 6, 7):
            raise RenderError("color calibration: fluorescent, LED, detected and camera illuminants are not "
                              "rendered here")
        if values["adaptation"] not in ADAPTATIONS:
            raise RenderError("color calibration: Bradford adaptations are not rendered here (CAT16, XYZ, none are)")
        if any(v != 0 for v in values["grey"][:3]):
            raise RenderError("color calibration: the grey (monochrome) tab is not rendered here")
        if values["version"] != 2:
            raise RenderError("color calibration: only the v3 (2021) saturation algorithm is rendered here")

    def _illuminant_lms(self, p: Params):
        kind = p.static("illuminant")
        t = p["temperature"]
        if kind == 2:
            x, y = daylight_or_planck_xy(t)
        elif kind == 6:
            x, y = _planck(t)
        elif kind == 7:
            x, y = p["x"], p["y"]
        else:
            fx, fy = FIXED_XY[kind]
            x, y = torch.full_like(t, fx), torch.full_like(t, fy)
        xyz = torch.stack([x / y, torch.ones_like(x), (1.0 - x - y) / y], 1)
        if p.static("adaptation") == 1:
            xyz = torch.einsum("ij,nj->ni", torch.tensor(XYZ_TO_CAT16, dtype=t.dtype, device=t.device), xyz)
        return xyz

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        kind = p.static("adaptation")
        clip = bool(p.static("clip"))
        col = lambda t: t.view(-1, 1, 1, 1)  # noqa: E731
        rows = [p["red"][:, :3], p["green"][:, :3], p["blue"][:, :3]]
        norms = [p.static(f"normalize_{c}") for c in "RGB"]
        mix = torch.stack([r / r.sum(1, keepdim=True) if n else r for r, n in zip(rows, norms)], 1)
        sat_in, light_in = p["saturation"][:, :3], p["lightness"][:, :3]
        norm_sat = sat_in.mean(1, keepdim=True) if p.static("normalize_sat") else torch.zeros_like(sat_in[:, :1])
        norm_light = light_in.mean(1, keepdim=True) if p.static("normalize_light") else torch.zeros_like(
            light_in[:, :1])
        saturation = -sat_in + norm_sat
        lightness = light_in - norm_light
        gamut = torch.where(p["gamut"] == 0, p["gamut"], 1.0 / torch.where(p["gamut"] == 0, torch.ones_like(
            p["gamut"]), p["gamut"]))

        v = x.clamp(min=0.0) if clip else x
        if kind == 4:
            xyz = _mat(_bmat(v, mix), REC2020_TO_XYZ_D50)
        else:
            xyz = _mat(v, REC2020_TO_XYZ_D50)
            Y = xyz[:, 1:2]
            valid = Y > NORM_MIN
            lms = _mat(xyz, XYZ_TO_CAT16) if kind == 1 else xyz
            lms = torch.where(valid, lms / (Y + NORM_MIN), lms / NORM_MIN)
            white = torch.tensor(CAT16_D50 if kind == 1 else (0.9642, 1.0, 0.8249), dtype=x.dtype, device=x.device)
            lms = lms * white.view(1, 3, 1, 1) / self._illuminant_lms(p).view(-1, 3, 1, 1)
            lms = torch.where(valid, lms * (Y + NORM_MIN), lms * NORM_MIN)
            lms = _bmat(lms, mix)
            xyz = _mat(lms, CAT16_TO_XYZ) if kind == 1 else lms
        xyz = _gamut_mapping(xyz, col(gamut), clip)
        lms = _mat(xyz, XYZ_TO_CAT16) if kind == 1 else (_mat(xyz, XYZ_D50_TO_REC2020) if kind == 4 else xyz)
        if clip:
            lms = lms.clamp(min=0.0)
        lms = _luma_chroma(lms, saturation.view(-1, 3, 1, 1), lightness.view(-1, 3, 1, 1))
        if clip:
            lms = lms.clamp(min=0.0)
        if kind == 4:
            rgb = lms
        else:
            xyz = _mat(lms, CAT16_TO_XYZ) if kind == 1 else lms
            if clip:
                xyz = xyz.clamp(min=0.0)
            rgb = _mat(xyz, XYZ_D50_TO_REC2020)
        return rgb.clamp(min=0.0) if clip else rgb


def _planck(t):
    """The Planckian locus (illuminant 'black body')."""
    xb_low = ((-0.2661239e9 / t - 0.2343589e6) / t + 0.8776956e3) / t + 0.179910
    xb_high = ((-3.0258469e9 / t + 2.1070379e6) / t + 0.2226347e3) / t + 0.240390
    xb = torch.where(t <= 4000.0, xb_low, xb_high)
    yb = torch.where(t <= 2222.0, ((-1.1063814 * xb - 1.34811020) * xb + 2.18555832) * xb - 0.20219683,
                     torch.where(t <= 4000.0, ((-0.9549476 * xb - 1.37418593) * xb + 2.09137015) * xb - 0.16748867,
                                 ((3.0817580 * xb - 5.87338670) * xb + 3.75112997) * xb - 0.37001483))
    return xb, yb


def _gamut_mapping(xyz, compression, clip):
    s = xyz.sum(1, keepdim=True)
    Y = xyz[:, 1:2]
    ok = (s > 0) & (Y > 0)
    s_safe = torch.where(ok, s, torch.ones_like(s))
    x, y = xyz[:, 0:1] / s_safe, xyz[:, 1:2] / s_safe
    den = -2.0 * x + 12.0 * y + 3.0
    u, v = 4.0 * x / den, 9.0 * y / den
    du, dv = D50_UV[0] - u, D50_UV[1] - v
    delta = Y * (du * du + dv * dv)
    corr = torch.where(compression == 0, torch.zeros_like(delta), torch.pow(delta.clamp(min=0.0), compression))
    tu, tv = corr * du + u, corr * dv + v
    u = torch.where(u > D50_UV[0], torch.clamp(tu, min=D50_UV[0]), torch.clamp(tu, max=D50_UV[0]))
    v = torch.where(v > D50_UV[1], torch.clamp(tv, min=D50_UV[1]), torch.clamp(tv, max=D50_UV[1]))
    den = 6.0 * u - 16.0 * v + 12.0
    x, y = 9.0 * u / den, 4.0 * v / den
    if clip:
        x, y = x.clamp(min=0.0), y.clamp(min=0.0)
    y = y.clamp(min=NORM_MIN)
    scale = x + y
    over = scale >= 1.0
    x = torch.where(over, x / scale, x)
    y = torch.where(over, y / scale, y)
    out = torch.cat([Y * x / y, Y, Y * (1.0 - x - y) / y], 1)
    return torch.where(ok, out, torch.zeros_like(out))


def _luma_chroma(v, saturation, lightness):
    norm = torch.sqrt((v * v).sum(1, keepdim=True)).clamp(min=NORM_MIN)
    avg = (v.sum(1, keepdim=True) / 3.0).clamp(min=NORM_MIN)
    mix = (v * lightness).sum(1, keepdim=True)
    norm3 = norm * INV_SQRT3
    ratios = v / norm3
    coeff = (ratios * saturation).sum(1, keepdim=True) / 3.0
    min_ratio = torch.where(ratios < 0, ratios, torch.zeros_like(ratios))
    ratios = torch.maximum((1.0 - ratios) * coeff + ratios, min_ratio)
    new_norm = torch.sqrt((ratios * ratios).sum(1, keepdim=True)).clamp(min=NORM_MIN)
    scale = norm3 / (new_norm * INV_SQRT3) * torch.clamp(1.0 + mix / avg, min=0.0)
    out = ratios * scale
    return torch.where((norm > 0) & (avg > 0), out, v)


MODULE = ChannelMixerRGB()
