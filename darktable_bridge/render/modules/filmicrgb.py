"""filmicrgb v6 (src/iop/filmicrgb.c), "filmic rgb": log shaper + S-curve tone mapper with chroma handling.

commit_params builds the curve per image: nodes (black, toe, grey, shoulder, white) in log space from the scene
exposures, the contrast, latitude and balance (three spline versions), a linear middle part and a toe/shoulder
that are 3rd/4th order polynomials (solved in double, like darktable's gauss_solve) or rationals. Per pixel:
a norm (per ``preserve_color``) or each channel goes through the log shaper, the spline (clamped to the display
range) and the display power; colour science v6 (``version`` 3) then maps the result in Kirk/Filmlight Ych:
hue of the input, luminance clipped to the display range, chroma set by the saturation rule, clipped to the
Yrg gamut and to the output profile's gamut (sRGB for an export), back to the working space. Colour sciences
v3–v5 (``version`` 0–2) are also reproduced. Highlight reconstruction (off by default) is refused.
"""

from __future__ import annotations

import numpy as np
import torch

from ...errors import RenderError
from ..base import Context, Params, RenderModule
from ..color import REC2020_TO_XYZ_D50, SRGB_TO_REC2020
from ._ucs import (
    LMS_TO_XYZ_D65,
    XYZ_D50_TO_D65_CAT16,
    XYZ_D65_TO_D50_CAT16,
    XYZ_D65_TO_LMS,
    fmax0,
    gamut_check_yrg,
    lms_to_yrg,
    yrg_to_lms,
)

_F = np.float32
NORM_MIN = 1.52587890625e-05
SAFETY_MARGIN = 0.01
INVERSE_SQRT_3 = 0.5773502691896258
FLT_MAX = float(np.finfo(np.float32).max)
Y_1931_TO_2006 = 1.05785528
D65_RG = (0.21902143, 0.54371398)
POLY4, POLY3, RATIONAL = 0, 1, 2


def _f32(m) -> np.ndarray:
    return np.asarray(m, dtype=np.float64).astype(_F)


def _yrg_matrices(rgb_to_xyz_d50: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """prepare_RGB_Yrg_matrices: RGB (D50) → CIE 2006 LMS (D65) and back, float products like darktable's."""
    m_in = _f32(rgb_to_xyz_d50)
    m_out = _f32(np.linalg.inv(np.asarray(rgb_to_xyz_d50, dtype=np.float64)))
    to_lms = (_f32(XYZ_D65_TO_LMS) @ (_f32(XYZ_D50_TO_D65_CAT16) @ m_in).astype(_F)).astype(_F)
    from_lms = (m_out @ (_f32(XYZ_D65_TO_D50_CAT16) @ _f32(LMS_TO_XYZ_D65)).astype(_F)).astype(_F)
    return to_lms, from_lms


WORK_TO_LMS, LMS_TO_WORK = _yrg_matrices(REC2020_TO_XYZ_D50)
SRGB_TO_XYZ_D50 = np.asarray(REC2020_TO_XYZ_D50) @ np.asarray(SRGB_TO_REC2020)
EXPORT_TO_LMS, LMS_TO_EXPORT = _yrg_matrices(SRGB_TO_XYZ_D50)
WORK_Y = _f32(REC2020_TO_XYZ_D50)[1]  # luminance row of the working profile


# --- per-image curve (commit_params / dt_iop_filmic_rgb_compute_spline) ------------------------------------------


def _solve(rows: list[list[torch.Tensor]], rhs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Small dense systems [N] per entry, Gaussian elimination with partial pivoting (float64)."""
    k = len(rows)
    a = [list(r) for r in rows]
    b = list(rhs)
    for col in range(k):
        best = a[col][col].abs()
        piv = torch.full_like(best, col, dtype=torch.long)
        for r in range(col + 1, k):
            better = a[r][col].abs() > best
            best = torch.where(better, a[r][col].abs(), best)
            piv = torch.where(better, torch.full_like(piv, r), piv)
        # swap row col with the pivot row
        new_col_row = [a[col][j] for j in range(k)]
        new_col_b = b[col]
        for r in range(col + 1, k):
            sel = piv == r
            new_col_row = [torch.where(sel, a[r][j], new_col_row[j]) for j in range(k)]
            new_col_b = torch.where(sel, b[r], new_col_b)
            a[r] = [torch.where(sel, a[col][j], a[r][j]) for j in range(k)]
            b[r] = torch.where(sel, b[col], b[r])
        a[col], b[col] = new_col_row, new_col_b
        for r in range(col + 1, k):
            f = a[r][col] / a[col][col]
            a[r] = [a[r][j] - f * a[col][j] for j in range(k)]
            b[r] = b[r] - f * b[col]
    x = [None] * k
    for r in reversed(range(k)):
        acc = b[r]
        for j in range(r + 1, k):
            acc = acc - a[r][j] * x[j]
        x[r] = acc / a[r][r]
    return x


def _rational(p0x, p0y, p1x, p1y, g):
    """Rational toe/shoulder through two nodes with slope g at the latitude end (float)."""
    x = p0x - p1x
    y = p0y - p1y
    b = g / (2.0 * y) + (torch.sqrt((x * g / y + 1.0) ** 2 - 4.0) - 1.0) / (2.0 * x)
    c = y / g * (b * x * x + x) / (b * x * x + x - y / g)
    return c * g, b, c


def spline(p: Params) -> dict:
    """The curve of every image: nodes, latitude bounds and the three segments' coefficients, [N] tensors."""
    version = p.static("spline_version")
    power = p["output_power"]
    one = torch.ones_like(power)
    if p.static("custom_grey"):
        grey = torch.minimum(torch.maximum(p["grey_point_target"], p["black_point_target"]), p["white_point_target"])
        grey_display = torch.pow(grey / 100.0, 1.0 / power)
        grey_source = p["grey_point_source"] / 100.0
    else:
        grey_display = torch.pow(0.1845 * one, 1.0 / power)
        grey_source = 0.1845 * one
    white_source, black_source = p["white_point_source"], p["black_point_source"]
    dynamic_range = white_source - black_source
    grey_log = black_source.abs() / dynamic_range
    black_log, white_log = 0.0 * one, one
    black_t = torch.minimum(torch.maximum(p["black_point_target"], 0.0 * one), p["grey_point_target"]) / 100.0
    white_t = torch.maximum(p["white_point_target"], p["grey_point_target"]) / 100.0
    if version == 0:
        black_display, white_display = black_t, white_t
    else:
        black_display, white_display = torch.pow(black_t, 1.0 / power), torch.pow(white_t, 1.0 / power)
    balance = p["balance"].clamp(-50.0, 50.0) / 100.0
    if version < 2:
        latitude = p["latitude"].clamp(0.0, 100.0) / 100.0 * dynamic_range
        contrast = p["contrast"].clamp(1.00001, 6.0)
        toe_log = grey_log - latitude / dynamic_range * (black_source / dynamic_range).abs()
        shoulder_log = grey_log + latitude / dynamic_range * (white_source / dynamic_range).abs()
        intercept = grey_display - contrast * grey_log
        toe_display = toe_log * contrast + intercept
        shoulder_display = shoulder_log * contrast + intercept
        norm = torch.sqrt(contrast * contrast + 1.0)
        coeff = -((2.0 * latitude) / dynamic_range) * balance
        toe_display = toe_display + coeff * contrast / norm
        shoulder_display = shoulder_display + coeff * contrast / norm
        toe_log = toe_log + coeff / norm
        shoulder_log = shoulder_log + coeff / norm
    else:
        latitude = p["latitude"].clamp(0.0, 100.0) / 100.0
        slope = p["contrast"] * dynamic_range / 8.0
        min_contrast = torch.maximum(one, (white_display - grey_display) / (white_log - grey_log))
        min_contrast = torch.maximum(min_contrast, (grey_display - black_display) / (grey_log - black_log))
        min_contrast = min_contrast + SAFETY_MARGIN
        contrast = slope / (power * torch.pow(grey_display, power - 1.0))
        contrast = torch.where(
            contrast > 100.0, 100.0 * one, torch.where(contrast < min_contrast, min_contrast, contrast)
        )
        intercept = grey_display - contrast * grey_log
        span = white_display - black_display
        xmin = (black_display + SAFETY_MARGIN * span - intercept) / contrast
        xmax = (white_display - SAFETY_MARGIN * span - intercept) / contrast
        toe_log = (1.0 - latitude) * grey_log + latitude * xmin
        shoulder_log = (1.0 - latitude) * grey_log + latitude * xmax
        shift = torch.where(
            balance > 0.0, 2.0 * balance * (shoulder_log - grey_log), 2.0 * balance * (grey_log - toe_log)
        )
        toe_log = torch.maximum(toe_log - shift, xmin)
        shoulder_log = torch.minimum(shoulder_log - shift, xmax)
        toe_display = toe_log * contrast + intercept
        shoulder_display = shoulder_log * contrast + intercept

    zero = 0.0 * one
    m = {k: [zero, zero, zero] for k in ("M1", "M2", "M3", "M4", "M5")}
    m["M2"][2] = contrast
    m["M1"][2] = toe_display - contrast * toe_log
    dbl = lambda t: t.double()
    d0, d1 = torch.zeros_like(power, dtype=torch.float64), torch.ones_like(power, dtype=torch.float64)
    tl, sl = dbl(toe_log), dbl(shoulder_log)
    g = dbl(contrast)
    shadows, highlights = p.static("shadows"), p.static("highlights")
    if shadows == POLY4:
        sol = _solve(
            [
                [d0, d0, d0, d0, d1],
                [d0, d0, d0, d1, d0],
                [tl**4, tl**3, tl**2, tl, d1],
                [4.0 * tl**3, 3.0 * tl**2, 2.0 * tl, d1, d0],
                [12.0 * tl**2, 6.0 * tl, 2.0 * d1, d0, d0],
            ],
            [dbl(black_display), d0, dbl(toe_display), g, d0],
        )
        m["M5"][0], m["M4"][0], m["M3"][0], m["M2"][0], m["M1"][0] = (s.float() for s in sol)
    elif shadows == POLY3:
        sol = _solve(
            [[d0, d0, d0, d1], [tl**3, tl**2, tl, d1], [3.0 * tl**2, 2.0 * tl, d1, d0], [6.0 * tl, 2.0 * d1, d0, d0]],
            [dbl(black_display), dbl(toe_display), g, d0],
        )
        m["M4"][0], m["M3"][0], m["M2"][0], m["M1"][0] = (s.float() for s in sol)
    else:
        m["M1"][0], m["M2"][0], m["M3"][0] = _rational(toe_log, toe_display, black_log, black_display, contrast)
        m["M4"][0] = toe_display
    if highlights == POLY3:
        sol = _solve(
            [[d1, d1, d1, d1], [sl**3, sl**2, sl, d1], [3.0 * sl**2, 2.0 * sl, d1, d0], [6.0 * sl, 2.0 * d1, d0, d0]],
            [dbl(white_display), dbl(shoulder_display), g, d0],
        )
        m["M4"][1], m["M3"][1], m["M2"][1], m["M1"][1] = (s.float() for s in sol)
    elif highlights == POLY4:
        sol = _solve(
            [
                [d1, d1, d1, d1, d1],
                [4.0 * d1, 3.0 * d1, 2.0 * d1, d1, d0],
                [sl**4, sl**3, sl**2, sl, d1],
                [4.0 * sl**3, 3.0 * sl**2, 2.0 * sl, d1, d0],
                [12.0 * sl**2, 6.0 * sl, 2.0 * d1, d0, d0],
            ],
            [dbl(white_display), d0, dbl(shoulder_display), g, d0],
        )
        m["M5"][1], m["M4"][1], m["M3"][1], m["M2"][1], m["M1"][1] = (s.float() for s in sol)
    else:
        m["M1"][1], m["M2"][1], m["M3"][1] = _rational(
            white_log, white_display, shoulder_log, shoulder_display, contrast
        )
        m["M4"][1] = shoulder_display
    out = {k: v for k, v in m.items()}
    out.update(
        latitude_min=toe_log,
        latitude_max=shoulder_log,
        y0=black_display,
        y4=white_display,
        grey_source=grey_source,
        black_source=black_source,
        dynamic_range=dynamic_range,
        power=power,
    )
    return out


def _segment(x, kind, m, i, lat_min, lat_max, toe: bool):
    c = lambda k: m[k][i]
    if kind == POLY4:
        return c("M1") + x * (c("M2") + x * (c("M3") + x * (c("M4") + x * c("M5"))))
    if kind == POLY3:
        return c("M1") + x * (c("M2") + x * (c("M3") + x * c("M4")))
    xi = lat_min - x if toe else x - lat_max
    rat = xi * (xi * c("M2") + 1.0)
    frac = c("M1") * rat / (rat + c("M3"))
    return c("M4") - frac if toe else c("M4") + frac


def apply_spline(x, s, shadows, highlights):
    """filmic_spline. Polynomial segments are evaluated in double: when the toe or the shoulder is very short,
    their coefficients reach 1e5 and darktable's float Horner scheme returns the curve plus rounding noise of up
    to a few 1e-2 that no re-implementation can replay (it changes with the last bit of the input); the exact
    value of its (float) polynomial is the closest estimate of it."""
    lat_min, lat_max = s["latitude_min"], s["latitude_max"]
    x64 = x.double()
    m64 = {k: [t.double() for t in v] for k, v in s.items() if k in ("M1", "M2", "M3", "M4", "M5")}
    toe = _segment(
        x64 if shadows != RATIONAL else x, shadows, m64 if shadows != RATIONAL else s, 0, lat_min, lat_max, True
    ).to(x.dtype)
    shoulder = _segment(
        x64 if highlights != RATIONAL else x,
        highlights,
        m64 if highlights != RATIONAL else s,
        1,
        lat_min,
        lat_max,
        False,
    ).to(x.dtype)
    middle = s["M1"][2] + x * s["M2"][2]
    return torch.where(x < lat_min, toe, torch.where(x > lat_max, shoulder, middle))


# --- pixel helpers --------------------------------------------------------------------------------------------


def _mat(m, v):
    return tuple(float(m[i][0]) * v[0] + float(m[i][1]) * v[1] + float(m[i][2]) * v[2] for i in range(3))


def _to_ych(rgb, m):
    Y, r, g = lms_to_yrg(_mat(m, rgb))
    r = r - D65_RG[0]
    g = g - D65_RG[1]
    c = torch.sqrt(g * g + r * r)
    nz = c != 0
    cs = torch.where(nz, c, torch.ones_like(c))
    return Y, c, torch.where(nz, r / cs, torch.ones_like(c)), torch.where(nz, g / cs, torch.zeros_like(c))


def _from_ych(Y, c, cos_h, sin_h, m):
    lms = yrg_to_lms(Y, c * cos_h + D65_RG[0], c * sin_h + D65_RG[1])
    return _mat(m, lms)


def _norm(rgb, variant):
    r, g, b = rgb
    if variant == 1:
        return torch.maximum(torch.maximum(r, g), b)
    if variant == 3:
        a = [v.abs() for v in rgb]
        sq = [v * v for v in a]
        num = sq[0] * a[0] + sq[1] * a[1] + sq[2] * a[2]
        return num / torch.clamp(sq[0] + sq[1] + sq[2], min=1e-12)
    if variant == 4:
        return torch.sqrt(r * r + g * g + b * b)
    if variant == 5:
        return torch.sqrt(r * r + g * g + b * b) * INVERSE_SQRT_3
    return float(WORK_Y[0]) * r + float(WORK_Y[1]) * g + float(WORK_Y[2]) * b


def _clamp01(x):
    """fminf(fmaxf(x, 0), 1): NaN gives 0."""
    return torch.where(x > 0, torch.where(x < 1.0, x, torch.ones_like(x)), torch.zeros_like(x))


def _log_v1(x, s):
    t = (torch.log2(x / s["grey_source"]) - s["black_source"]) / s["dynamic_range"]
    return torch.clamp(torch.clamp(t, max=1.0), min=NORM_MIN)


def _log_v2(x, s):
    return _clamp01((torch.log2(x / s["grey_source"]) - s["black_source"]) / s["dynamic_range"])


def _desat_v1(x, sigma_toe, sigma_shoulder, saturation):
    key_toe = torch.exp(-0.5 * x * x / sigma_toe)
    key_shoulder = torch.exp(-0.5 * (1.0 - x) * (1.0 - x) / sigma_shoulder)
    return 1.0 - _clamp01((key_toe + key_shoulder) / saturation)


def _desat_v2(x, sigma_toe, sigma_shoulder, saturation):
    sat2 = 0.5 / torch.sqrt(saturation)
    key_toe = torch.exp(-x * x / sigma_toe * sat2)
    key_shoulder = torch.exp(-(1.0 - x) * (1.0 - x) / sigma_shoulder * sat2)
    return saturation - (key_toe + key_shoulder) * saturation


# --- colour science v6 gamut mapping (src/common/gamut_mapping.h) -----------------------------------------------


def _den_y(row, cos_h, sin_h):
    return (
        float(row[0]) * (0.979381443298969 * cos_h + 0.391752577319588 * sin_h)
        + float(row[1]) * (0.0206185567010309 * cos_h + 0.608247422680412 * sin_h)
        - float(row[2]) * (cos_h + sin_h)
    )


def _clip_white_raw(row, white, Y, cos_h, sin_h):
    den_y = _den_y(row, cos_h, sin_h)
    den_t = white * (0.68285981628866 * cos_h + 0.482137060515464 * sin_h)
    ok = den_y != 0
    safe = torch.where(ok, den_y, torch.ones_like(den_y))
    asym = den_t / safe
    ok = ok & ~(Y <= asym)
    den = Y * den_y - den_t
    num = -0.427506877216495 * (
        Y * (float(row[0]) + 0.856492345150334 * float(row[1]) + 0.554995960637719 * float(row[2]))
        - 0.988237752433297 * white
    )
    return torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)), torch.full_like(den, FLT_MAX))


def _clip_white(row, white, Y, cos_h, sin_h):
    eps = 1e-3
    max_y = Y_1931_TO_2006 * white
    delta = torch.clamp(max_y - Y, min=0.0)
    near = delta / (eps * max_y) * _clip_white_raw(row, white, (1.0 - eps) * max_y, cos_h, sin_h)
    far = _clip_white_raw(row, white, Y, cos_h, sin_h)
    out = torch.where(delta < eps, near, far)
    return torch.where(out >= 0, out, torch.full_like(out, FLT_MAX))


def _clip_black(row, cos_h, sin_h):
    den = _den_y(row, cos_h, sin_h)
    ok = den != 0
    num = -0.427506877216495 * (float(row[0]) + 0.856492345150334 * float(row[1]) + 0.554995960637719 * float(row[2]))
    out = torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)), torch.full_like(den, FLT_MAX))
    return torch.where(out >= 0, out, torch.full_like(out, FLT_MAX))


def _max_chroma(m_out, white, Y, cos_h, sin_h):
    lim = None
    for row in m_out:
        for v in (_clip_white(row, white, Y, cos_h, sin_h), _clip_black(row, cos_h, sin_h)):
            lim = v if lim is None else torch.minimum(lim, v)
    return lim


def _desaturate_v4(orig, final_Y, final_c, saturation):
    chroma_orig = orig[1] * orig[0]
    chroma_final = final_c * final_Y
    delta = saturation * (chroma_orig - chroma_final)
    brightens = final_Y > orig[0]
    resat = chroma_orig < chroma_final
    desat = chroma_orig > chroma_final
    user = ((saturation > 0) & desat) | (saturation < 0)
    chroma = torch.where(
        brightens & resat, (chroma_orig + chroma_final) / 2.0, torch.where(user, chroma_final + delta, chroma_final)
    )
    return fmax0(chroma / final_Y)


def gamut_mapping(orig, final, black, white, saturation):
    """Ych of the input and of the tone-mapped pixel → working RGB, mapped into the export gamut."""
    _, _, cos_h, sin_h = orig
    lo, hi = Y_1931_TO_2006 * black, Y_1931_TO_2006 * white
    Y = torch.minimum(torch.maximum(final[0], lo), hi)
    c = _desaturate_v4(orig, Y, final[1], saturation)
    c = gamut_check_yrg(c, cos_h, sin_h)
    # gamut_check_RGB against the export profile: mix in white light for negatives, then clip chroma
    rgb = _from_ych(Y, c, cos_h, sin_h, LMS_TO_EXPORT)
    offset = torch.clamp(-torch.minimum(torch.minimum(rgb[0], rgb[1]), rgb[2]), min=0.0)
    bright_Y = _to_ych(tuple(v + offset for v in rgb), EXPORT_TO_LMS)[0]
    Y = torch.minimum(torch.maximum((Y + bright_Y) / 2.0, lo), hi)
    c = torch.minimum(c, _max_chroma(LMS_TO_EXPORT, white, Y, cos_h, sin_h))
    rgb = _from_ych(Y, c, cos_h, sin_h, LMS_TO_EXPORT)
    rgb = tuple(torch.minimum(torch.maximum(v, torch.zeros_like(v)), white) for v in rgb)
    return _mat(LMS_TO_WORK, _mat(EXPORT_TO_LMS, rgb))


class FilmicRGB(RenderModule):
    op = "filmicrgb"
    space = "rgb"
    static_fields = (
        "version",
        "preserve_color",
        "shadows",
        "highlights",
        "spline_version",
        "auto_hardness",
        "custom_grey",
        "compensate_icc_black",
        "enable_highlight_reconstruction",
    )

    def check(self, values):
        if values["enable_highlight_reconstruction"]:
            raise RenderError("filmicrgb: highlight reconstruction is not rendered here")
        if values["version"] not in (0, 1, 2, 3):
            raise RenderError(f"filmicrgb: unknown color science {values['version']}")
        if values["spline_version"] not in (0, 1, 2):
            raise RenderError(f"filmicrgb: unknown spline version {values['spline_version']}")
        for k in ("shadows", "highlights"):
            if values[k] not in (0, 1, 2):
                raise RenderError(f"filmicrgb: unknown curve type {values[k]} for {k}")

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        s = {
            k: ([t.view(-1, 1, 1) for t in v] if isinstance(v, list) else v.view(-1, 1, 1))
            for k, v in spline(p).items()
        }
        version, variant = p.static("version"), p.static("preserve_color")
        shadows, highlights = p.static("shadows"), p.static("highlights")
        power = s["power"]
        rgb = (x[:, 0], x[:, 1], x[:, 2])
        curve = lambda v: apply_spline(v, s, shadows, highlights)
        if version == 3:
            black, white = torch.pow(s["y0"], power), torch.pow(s["y4"], power)
            saturation = (p["saturation"] / 100.0).view(-1, 1, 1)
            orig = _to_ych(rgb, WORK_TO_LMS)
            if variant == 0:
                out = tuple(
                    torch.pow(torch.minimum(torch.maximum(curve(_log_v2(v, s)), torch.zeros_like(v)), white), power)
                    for v in rgb
                )
                final = _to_ych(out, WORK_TO_LMS)
                final = (final[0], torch.minimum(orig[1], final[1]), final[2], final[3])
            else:
                norm_min = s["grey_source"] * torch.exp2(s["black_source"])
                norm_max = s["grey_source"] * torch.exp2(s["dynamic_range"] + s["black_source"])
                n = _norm(rgb, variant)
                n = torch.where(n >= norm_min, torch.where(n <= norm_max, n, norm_max), norm_min)
                ratios = tuple(v / n for v in rgb)
                mapped = torch.pow(torch.minimum(torch.maximum(curve(_log_v2(n, s)), black), white), power)
                final = _to_ych(tuple(r * mapped for r in ratios), WORK_TO_LMS)
            out = gamut_mapping(orig, final, black, white, saturation)
            return torch.stack(out, 1)
        # colour sciences v3 (0), v4 (1), v5 (2)
        saturation = (2.0 * p["saturation"] / 100.0 + 1.0).view(-1, 1, 1)
        sigma_toe = torch.pow(s["latitude_min"] / 3.0, 2.0)
        sigma_shoulder = torch.pow((1.0 - s["latitude_max"]) / 3.0, 2.0)
        desat = _desat_v1 if version == 0 else _desat_v2
        log = _log_v1 if version == 0 else _log_v2
        if variant == 0:
            temp = tuple(log(torch.clamp(v, min=NORM_MIN), s) for v in rgb)
            lum = _norm(temp, 2)
            d = desat(lum, sigma_toe, sigma_shoulder, saturation)
            out = tuple(torch.pow(_clamp01(curve(lum + d * (t - lum))), power) for t in temp)
            return torch.stack(out, 1)
        n = torch.clamp(_norm(rgb, variant), min=NORM_MIN)
        ratios = [v / n for v in rgb]
        low = torch.minimum(torch.minimum(ratios[0], ratios[1]), ratios[2])
        ratios = [torch.where(low < 0, r - low, r) for r in ratios]
        n = log(n, s)
        d = desat(n, sigma_toe, sigma_shoulder, saturation)
        if version == 0:
            ratios = [r * n for r in ratios]
            lum = _norm(ratios, 2)
            ratios = [(lum + d * (r - lum)) / n for r in ratios]
            n = torch.pow(_clamp01(curve(n)), power)
            return torch.stack([r * n for r in ratios], 1)
        n = torch.pow(_clamp01(curve(n)), power)
        ratios = [fmax0(r + (1.0 - r) * (1.0 - d)) for r in ratios]
        if version == 2:
            n = n / torch.clamp(_norm(ratios, variant), min=NORM_MIN)
        out = [r * n for r in ratios]
        top = torch.maximum(torch.maximum(out[0], out[1]), out[2])
        clipped = [_clamp01(fmax0(r + (1.0 - top)) * n) for r in ratios]
        return torch.stack([torch.where(top > 1.0, c, o) for c, o in zip(clipped, out)], 1)


MODULE = FilmicRGB()
