"""channelmixerrgb v3 (src/iop/channelmixerrgb.c), "color calibration".

Per pixel (darktable's CPU ``loop_switch``): optional clip at 0 → XYZ → the adaptation space (CAT16 / Bradford
LMS, XYZ, or the working RGB for "none") → white balance from the illuminant to D50, done on Y-normalised
values → the 3×3 MIX → XYZ → gamut compression in u'v'Y towards D50 → back to the adaptation space →
colourfulness / brightness (``luma_chroma``) → either the grey mix or back to the working RGB, with the clips at
every stage when ``clip`` is set.

The illuminant is resolved as ``illuminant_to_xy`` (src/common/illuminants.h) does for a non-raw image:
daylight falls back to the Planckian locus outside 4000–25000 K, the Planckian locus to the custom x, y outside
1667–25000 K; "as shot in camera" finds no raw coefficients and keeps the custom x, y with CAT16 forced; the
auto-detection modes only run in the GUI, so darktable-cli renders them with the stored x, y.
"""

import torch

from ...errors import RenderError
from ..base import Context, Params, RenderModule, graph_barrier
from ..color import ROWS, fpow, plane_matmul, planes

REC2020_TO_XYZ_D50 = ROWS["REC2020_TO_XYZ_D50"]  # nested tuples: constants for torch.compile as well
XYZ_D50_TO_REC2020 = ROWS["XYZ_D50_TO_REC2020"]
NORM_MIN = 1.52587890625e-05  # 2^-16, darktable's floor for norms and Y
INV_SQRT3 = 0.5773502691896258

XYZ_TO_CAT16 = [[0.401288, 0.650173, -0.051461], [-0.250268, 1.204414, 0.045854], [-0.002079, 0.048952, 0.953127]]
CAT16_TO_XYZ = [[1.862068, -1.011255, 0.149187], [0.38752, 0.621447, -0.008974], [-0.015841, -0.034123, 1.049964]]
XYZ_TO_BRADFORD = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
BRADFORD_TO_XYZ = [[0.9870, -0.1471, 0.1600], [0.4323, 0.5184, 0.0493], [-0.0085, 0.0400, 0.9685]]

# D50 white of each adaptation space, as darktable hard-codes it
D50_CAT16 = (0.994535, 1.000997, 0.833036)
D50_BRADFORD = (0.996078, 1.020646, 0.818155)
D50_XYZ = (0.9642119944211994, 1.0, 0.8251882845188288)
D50_UV = (0.20915914598542354, 0.488075320769787)

LINEAR_BRADFORD, CAT16, FULL_BRADFORD, XYZ, BYPASS = 0, 1, 2, 3, 4

FIXED_XY = {0: (0.34567, 0.35850), 1: (0.44757, 0.40745), 3: (1.0 / 3.0, 1.0 / 3.0)}
FLUORESCENT = [
    (0.31310, 0.33727),
    (0.37208, 0.37529),
    (0.40910, 0.39430),
    (0.44018, 0.40329),
    (0.31379, 0.34531),
    (0.37790, 0.38835),
    (0.31292, 0.32933),
    (0.34588, 0.35875),
    (0.37417, 0.37281),
    (0.34609, 0.35986),
    (0.38052, 0.37713),
    (0.43695, 0.40441),
]
LED = [
    (0.4560, 0.4078),
    (0.4357, 0.4012),
    (0.3756, 0.3723),
    (0.3422, 0.3502),
    (0.3118, 0.3236),
    (0.4474, 0.4066),
    (0.4557, 0.4211),
    (0.4560, 0.4548),
    (0.3781, 0.3775),
]
CUSTOM_LIKE = (7, 8, 9, 10)  # custom, the two GUI-only detections, camera (no raw coefficients on a JPEG)


def _col(t):
    """A per-image value [N] as [N, 1, 1, 1], to broadcast over a plane."""
    return t.reshape(-1, 1, 1, 1)


def daylight_xy(t):
    """CIE daylight locus; x = 0 outside 4000–25000 K marks 'not found' as in darktable."""
    x = torch.where(
        t <= 7000.0,
        ((-4.6070e9 / t + 2.9678e6) / t + 0.09911e3) / t + 0.244063,
        ((-2.0064e9 / t + 1.9018e6) / t + 0.24748e3) / t + 0.237040,
    )
    x = torch.where((t >= 4000.0) & (t <= 25000.0), x, torch.zeros_like(x))
    return x, (-3.0 * x + 2.87) * x - 0.275


def planck_xy(t):
    """Planckian locus (Kim et al. cubic splines); x = y = 0 outside 1667–25000 K."""
    x_lo = ((-0.2661239e9 / t - 0.2343589e6) / t + 0.8776956e3) / t + 0.179910
    x_hi = ((-3.0258469e9 / t + 2.1070379e6) / t + 0.2226347e3) / t + 0.240390
    x = torch.where(t <= 4000.0, x_lo, x_hi)
    y = torch.where(
        t <= 2222.0,
        ((-1.1063814 * x - 1.34811020) * x + 2.18555832) * x - 0.20219683,
        torch.where(
            t <= 4000.0,
            ((-0.9549476 * x - 1.37418593) * x + 2.09137015) * x - 0.16748867,
            ((3.0817580 * x - 5.87338670) * x + 3.75112997) * x - 0.37001483,
        ),
    )
    valid = (t >= 1667.0) & (t <= 25000.0)
    return torch.where(valid, x, torch.zeros_like(x)), torch.where(valid, y, torch.zeros_like(y))


def illuminant_xy(kind: int, p: Params):
    """The illuminant chromaticity [N] × 2, with darktable's fall-through order D → Planck → custom."""
    t = p["temperature"]
    cx, cy = p["x"], p["y"]
    if kind in FIXED_XY:
        fx, fy = FIXED_XY[kind]
        return torch.full_like(t, fx), torch.full_like(t, fy)
    if kind in (4, 5):
        table = torch.tensor(FLUORESCENT if kind == 4 else LED, dtype=t.dtype, device=t.device)
        idx = p["illum_fluo" if kind == 4 else "illum_led"].round().long().clamp(0, table.shape[0] - 1)
        xy = table.index_select(0, idx)
        return xy[:, 0], xy[:, 1]
    if kind in CUSTOM_LIKE:
        return cx, cy
    x, y = cx, cy
    bx, by = planck_xy(t)
    found = (bx != 0) & (by != 0)
    x, y = torch.where(found, bx, x), torch.where(found, by, y)
    if kind == 2:
        dx, dy = daylight_xy(t)
        found = (dx != 0) & (dy != 0)
        x, y = torch.where(found, dx, x), torch.where(found, dy, y)
    return x, y


# The pixel maths works on lists of three channel planes ([N, 1, H, W] each): under torch.compile the whole
# chain then stays one loop over the pixels (as 3×3 matmuls and channel concatenations it took nine passes).


def _to_lms(xyz, adaptation):
    if adaptation == CAT16:
        return plane_matmul(XYZ_TO_CAT16, xyz)
    if adaptation in (LINEAR_BRADFORD, FULL_BRADFORD):
        return plane_matmul(XYZ_TO_BRADFORD, xyz)
    return xyz


def _from_lms(lms, adaptation):
    if adaptation == CAT16:
        return plane_matmul(CAT16_TO_XYZ, lms)
    if adaptation in (LINEAR_BRADFORD, FULL_BRADFORD):
        return plane_matmul(BRADFORD_TO_XYZ, lms)
    return lms


def gamut_mapping(xyz, compression, clip: bool):
    """Pull the chromaticity towards D50 in u'v' by (Y·Δuv²)^compression, never past D50 (planes in, planes out)."""
    X, Y, Z = xyz
    s = X + Y + Z
    ok = (s > 0) & (Y > 0)
    s_safe = torch.where(ok, s, torch.ones_like(s))
    x, y = X / s_safe, Y / s_safe
    den = -2.0 * x + 12.0 * y + 3.0
    u, v = 4.0 * x / den, 9.0 * y / den
    du, dv = D50_UV[0] - u, D50_UV[1] - v
    delta = (Y * (du * du + dv * dv)).clamp(min=0.0)
    corr = torch.where(compression == 0, torch.zeros_like(delta), fpow(delta, compression))
    tu, tv = corr * du + u, corr * dv + v
    u = torch.where(u > D50_UV[0], torch.clamp(tu, min=D50_UV[0]), torch.clamp(tu, max=D50_UV[0]))
    v = torch.where(v > D50_UV[1], torch.clamp(tv, min=D50_UV[1]), torch.clamp(tv, max=D50_UV[1]))
    den = 6.0 * u - 16.0 * v + 12.0
    x, y = 9.0 * u / den, 4.0 * v / den
    if clip:
        x, y = x.clamp(min=0.0), y.clamp(min=0.0)
    y = y.clamp(min=NORM_MIN)
    scale = x + y
    over = scale >= 1.0  # x + y ≥ 1 would make Z negative
    x = torch.where(over, x / scale, x)
    y = torch.where(over, y / scale, y)
    zero = torch.zeros_like(Y)
    return [torch.where(ok, c, zero) for c in (Y * x / y, Y, Y * (1.0 - x - y) / y)]


def _norm(v):
    return torch.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).clamp(min=NORM_MIN)


def luma_chroma(v, saturation, lightness, version: int):
    """Colourfulness moves the per-pixel ratios towards/away from grey; lightness scales the pixel.

    ``v`` three planes; ``saturation`` and ``lightness`` three per-image values [N, 1, 1, 1] each."""
    norm = _norm(v)
    avg = ((v[0] + v[1] + v[2]) / 3.0).clamp(min=NORM_MIN)
    mix = v[0] * lightness[0] + v[1] * lightness[1] + v[2] * lightness[2]
    if version == 2:
        norm = norm * INV_SQRT3  # grey → ratios (1, 1, 1)
    ratios = [c / norm for c in v]
    if version == 0:
        terms = [(1.0 - r) ** 2 * s for r, s in zip(ratios, saturation)]
    else:
        terms = [r * s for r, s in zip(ratios, saturation)]
    coeff = terms[0] + terms[1] + terms[2]
    if version != 0:
        coeff = coeff / 3.0
    # negative (out of gamut) ratios may stay negative, others are floored at 0
    ratios = [torch.maximum((1.0 - r) * coeff + r, r.clamp(max=0.0)) for r in ratios]
    if version == 2:
        norm = norm / (_norm(ratios) * INV_SQRT3)
    norm = norm * torch.clamp(1.0 + mix / avg, min=0.0)
    bad = torch.isnan(norm)
    return [torch.where(bad, c, r * norm) for c, r in zip(v, ratios)]


class ChannelMixerRGB(RenderModule):
    op = "channelmixerrgb"
    space = "rgb"
    static_fields = (
        "illuminant",
        "adaptation",
        "clip",
        "version",
        "normalize_R",
        "normalize_G",
        "normalize_B",
        "normalize_sat",
        "normalize_light",
        "normalize_grey",
    )

    def check(self, values):
        if values["illuminant"] not in range(11):
            raise RenderError(f"color calibration: unknown illuminant {values['illuminant']}")
        if values["adaptation"] not in range(5):
            raise RenderError(f"color calibration: unknown adaptation {values['adaptation']}")
        if values["version"] not in (0, 1, 2):
            raise RenderError(f"color calibration: unknown saturation version {values['version']}")
        if values["illuminant"] == 4 and not 0 <= values["illum_fluo"] < len(FLUORESCENT):
            raise RenderError("color calibration: fluorescent illuminant out of range")
        if values["illuminant"] == 5 and not 0 <= values["illum_led"] < len(LED):
            raise RenderError("color calibration: LED illuminant out of range")

    # -- commit_params -------------------------------------------------------------------------------------
    def _coefficients(self, p: Params):
        rows = []
        for name, flag in (("red", "normalize_R"), ("green", "normalize_G"), ("blue", "normalize_B")):
            r = p[name][:, :3]
            rows.append(r / r.sum(1, keepdim=True) if p.static(flag) else r)
        mix = torch.stack(rows, 1)

        sat, light, grey = p["saturation"][:, :3], p["lightness"][:, :3], p["grey"][:, :3]
        zero = torch.zeros_like(sat[:, :1])
        norm_sat = sat.mean(1, keepdim=True) if p.static("normalize_sat") else zero
        norm_light = light.mean(1, keepdim=True) if p.static("normalize_light") else zero
        saturation = -sat + norm_sat
        if p.static("version") == 0:  # v1 swapped the R and B colourfulness coefficients
            saturation = saturation.flip(1)
        lightness = light - norm_light
        gsum = grey.sum(1, keepdim=True)
        if p.static("normalize_grey"):
            grey = grey / torch.where(gsum == 0, torch.ones_like(gsum), gsum)
        apply_grey = (grey != 0).any(1)

        g = p["gamut"]
        gamut = torch.where(g == 0, g, 1.0 / torch.where(g == 0, torch.ones_like(g), g))
        return mix, saturation, lightness, grey, apply_grey, gamut

    def hints(self, p: Params, ctx: Context) -> dict | None:
        """Whether the batch uses the colourfulness/brightness tab and the grey tab; a compiled graph leaves out
        what it does not (with both at 0, ``luma_chroma`` gives the pixel back to within float rounding)."""
        _, saturation, lightness, _, apply_grey, _ = self._coefficients(p)
        return {"luma_chroma": bool((saturation != 0).any() or (lightness != 0).any()), "grey": bool(apply_grey.any())}

    def _adaptation(self, p: Params) -> int:
        return CAT16 if p.static("illuminant") == 10 else p.static("adaptation")

    # -- process ---------------------------------------------------------------------------------------------
    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        kind = self._adaptation(p)
        clip = bool(p.static("clip"))
        version = p.static("version")
        mix, saturation, lightness, grey, apply_grey, gamut = self._coefficients(p)
        pos = (lambda v: [c.clamp(min=0.0) for c in v]) if clip else (lambda v: v)

        if kind != BYPASS:
            ix, iy = illuminant_xy(p.static("illuminant"), p)
            illum = torch.stack([ix / iy, torch.ones_like(ix), (1.0 - ix - iy) / iy], 1)
            illum = (
                torch.einsum(
                    "ij,nj->ni",
                    torch.as_tensor(XYZ_TO_CAT16 if kind == CAT16 else XYZ_TO_BRADFORD, dtype=x.dtype, device=x.device),
                    illum,
                )
                if kind != XYZ
                else illum
            )
            if kind == FULL_BRADFORD:
                pb = _col(torch.pow(0.818155 / illum[:, 2], 0.0834))
            white = {CAT16: D50_CAT16, XYZ: D50_XYZ}.get(kind, D50_BRADFORD)
        graph_barrier()

        v = pos(planes(x))
        if kind == BYPASS:
            xyz = plane_matmul(REC2020_TO_XYZ_D50, plane_matmul(mix, v))
        else:
            xyz = plane_matmul(REC2020_TO_XYZ_D50, v)
            Y = xyz[1]
            # white balance on Y-normalised values (darktable's down- and upscale by Y, floored at 2^-16)
            scale = torch.where(Y > NORM_MIN, Y + NORM_MIN, torch.full_like(Y, NORM_MIN))
            lms = [c / scale for c in _to_lms(xyz, kind)]
            if kind in (CAT16, XYZ):
                lms = [c * d / _col(illum[:, i]) for i, (c, d) in enumerate(zip(lms, white))]
            else:
                lms = [c / _col(illum[:, i]) for i, c in enumerate(lms)]
                if kind == FULL_BRADFORD:  # non-linear blue response
                    b = lms[2]
                    lms[2] = torch.where(b > 0, fpow(b.clamp(min=1e-30), pb), b)
                lms = [c * d for c, d in zip(lms, white)]
            xyz = _from_lms(plane_matmul(mix, [c * scale for c in lms]), kind)

        xyz = gamut_mapping(xyz, _col(gamut), clip)
        work = plane_matmul(XYZ_D50_TO_REC2020, xyz) if kind == BYPASS else _to_lms(xyz, kind)
        if p.hint("luma_chroma", True):
            work = pos(
                luma_chroma(
                    pos(work),
                    [_col(saturation[:, i]) for i in range(3)],
                    [_col(lightness[:, i]) for i in range(3)],
                    version,
                )
            )
        else:
            work = pos(work)

        xyz = plane_matmul(REC2020_TO_XYZ_D50, work) if kind == BYPASS else _from_lms(work, kind)
        out = torch.cat(pos(plane_matmul(XYZ_D50_TO_REC2020, pos(xyz))), 1)
        if not p.hint("grey", True):
            return out
        # the grey tab writes its monochrome mix of the adaptation-space values straight out
        g = [_col(grey[:, i]) for i in range(3)]
        mono = (work[0] * g[0] + work[1] * g[1] + work[2] * g[2]).clamp(min=0.0).expand_as(out)
        return torch.where(_col(apply_grey), mono, out)


MODULE = ChannelMixerRGB()
