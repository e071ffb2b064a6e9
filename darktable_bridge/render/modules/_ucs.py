"""Colour-space helpers shared by scene-referred modules (darktable 4.2.1 src/common/colorspaces_inline_conversions.h,
src/common/chromatic_adaptation.h): CIE 2006 LMS, Filmlight Yrg / Ych and grading RGB, darktable UCS 22 (JCH, HCB,
HSB), JzAzBz, plus the per-hue gamut tables colour balance rgb builds from the working profile.

Pixel helpers take and return tuples of [N, H, W] (or any broadcastable) tensors, one per channel. The gamut tables
are built once in float32 numpy, replaying darktable's own sampling so the smoothing and binning match.
"""

from __future__ import annotations

import numpy as np
import torch

from ..color import REC2020_TO_XYZ_D50, as_rows, fpow, plane_matmul

# chromatic adaptation D50 <-> D65 through CAT16, as darktable hard-codes it
XYZ_D50_TO_D65_CAT16 = np.array(
    [
        [9.89466254e-01, -4.00304626e-02, 4.40530317e-02],
        [-5.40518733e-03, 1.00666069e00, -1.75551955e-03],
        [-4.03920992e-04, 1.50768030e-02, 1.30210211e00],
    ]
)
XYZ_D65_TO_D50_CAT16 = np.array(
    [
        [1.01085433e00, 4.07086103e-02, -3.41445825e-02],
        [5.42814201e-03, 9.93581926e-01, 1.15592039e-03],
        [2.50722468e-04, -1.14918759e-02, 7.67964947e-01],
    ]
)
# Kirk's CIE 2006 LMS approximation and the Filmlight grading RGB
XYZ_D65_TO_LMS = np.array(
    [[0.257085, 0.859943, -0.031061], [-0.394427, 1.175800, 0.106423], [0.064856, -0.076250, 0.559067]]
)
LMS_TO_XYZ_D65 = np.array(
    [
        [1.80794659, -1.29971660, 0.34785879],
        [0.61783960, 0.39595453, -0.04104687],
        [-0.12546960, 0.20478038, 1.74274183],
    ]
)
GRADING_TO_LMS = np.array([[0.95, 0.38, 0.00], [0.05, 0.62, 0.03], [0.00, 0.00, 0.97]])
LMS_TO_GRADING = np.array(
    [[1.0877193, -0.66666667, 0.02061856], [-0.0877193, 1.66666667, -0.05154639], [0.0, 0.0, 1.03092784]]
)
Y_FROM_LMS = (0.68990272, 0.34832189)
D65_RG = (0.21902143, 0.54371398)  # Yrg chromaticity of the achromatic axis
_RG_REST = float(np.float32(1.0) - np.float32(D65_RG[0]) - np.float32(D65_RG[1]))  # folded in float, as in C

_F = np.float32


def _cmul(a, b) -> np.ndarray:
    """3×3 product summed in float in darktable's order (dt_colormatrix_mul): the last bits reach the output
    through cancellations, so numpy's BLAS (other order, FMA) would not do."""
    a, b = np.asarray(a, _F), np.asarray(b, _F)
    out = np.zeros((3, 3), _F)
    for k in range(3):
        for i in range(3):
            acc = _F(0)
            for j in range(3):
                acc = _F(acc + _F(a[k, j] * b[j, i]))
            out[k, i] = acc
    return out


def _inv_f32(m) -> np.ndarray:
    """Cofactor inverse in float, as darktable's mat3SSEinv builds a profile's matrix_out."""
    A = np.asarray(m, _F)
    a = lambda y, x: A[y - 1, x - 1]
    det = _F(
        _F(a(1, 1) * _F(_F(a(3, 3) * a(2, 2)) - _F(a(3, 2) * a(2, 3))))
        - _F(a(2, 1) * _F(_F(a(3, 3) * a(1, 2)) - _F(a(3, 2) * a(1, 3))))
        + _F(a(3, 1) * _F(_F(a(2, 3) * a(1, 2)) - _F(a(2, 2) * a(1, 3))))
    )
    inv = _F(1) / det
    cof = lambda p, q, r, s: _F(_F(a(*p) * a(*q)) - _F(a(*r) * a(*s)))
    return np.array(
        [
            [
                inv * cof((3, 3), (2, 2), (3, 2), (2, 3)),
                -inv * cof((3, 3), (1, 2), (3, 2), (1, 3)),
                inv * cof((2, 3), (1, 2), (2, 2), (1, 3)),
            ],
            [
                -inv * cof((3, 3), (2, 1), (3, 1), (2, 3)),
                inv * cof((3, 3), (1, 1), (3, 1), (1, 3)),
                -inv * cof((2, 3), (1, 1), (2, 1), (1, 3)),
            ],
            [
                inv * cof((3, 2), (2, 1), (3, 1), (2, 2)),
                -inv * cof((3, 2), (1, 1), (3, 1), (1, 2)),
                inv * cof((2, 2), (1, 1), (2, 1), (1, 2)),
            ],
        ],
        _F,
    )


# darktable's pipeline matrices: the working profile's matrix_in / matrix_out and their products with the CATs
WORK_IN = np.asarray(REC2020_TO_XYZ_D50, _F)
WORK_OUT = _inv_f32(WORK_IN)
WORK_TO_XYZ_D65 = _cmul(XYZ_D50_TO_D65_CAT16, WORK_IN)
WORK_TO_LMS = _cmul(XYZ_D65_TO_LMS, WORK_TO_XYZ_D65)
XYZ_D65_TO_WORK = _cmul(WORK_OUT, XYZ_D65_TO_D50_CAT16)

PI_F = float(_F(np.pi))


# the matrices as nested tuples of Python floats: pixel code reads them without touching numpy (which
# torch.compile would otherwise trace as tensor data)
ROWS = {
    name: as_rows(globals()[name])
    for name in (
        "XYZ_D65_TO_LMS",
        "LMS_TO_XYZ_D65",
        "GRADING_TO_LMS",
        "LMS_TO_GRADING",
        "WORK_TO_LMS",
        "XYZ_D65_TO_WORK",
    )
}


def mat(m, v):
    """3×3 constant matrix (nested tuples, or a name in ``ROWS``) on a tuple of 3 channel tensors."""
    return tuple(plane_matmul(ROWS[m] if isinstance(m, str) else m, v))


def fmax0(x):
    """C fmaxf(x, 0): NaN gives 0."""
    return torch.where(x > 0, x, torch.zeros_like(x))


FLT_MIN = 1.1754943508222875e-38


def flush(x):
    """Flush-to-zero of a float32 result below the normal range, as darktable runs with FTZ on."""
    return torch.where(torch.abs(x) < FLT_MIN, torch.zeros_like(x), x)


def safe_div(a, b, fallback=0.0):
    """a / b where b != 0, fallback elsewhere (without NaN leaking through the unused branch's gradient)."""
    nz = b != 0
    return torch.where(nz, a / torch.where(nz, b, torch.ones_like(b)), torch.full_like(a, fallback))


# --- Filmlight Yrg / Ych ---------------------------------------------------------------------------------------


def lms_to_yrg(lms):
    L, M, S = lms
    Y = Y_FROM_LMS[0] * L + Y_FROM_LMS[1] * M
    a = L + M + S
    inv = flush(safe_div(torch.ones_like(a), a))  # darktable: reciprocal, flushed to zero (FTZ) when tiny
    norm = tuple(c * inv for c in lms)
    r, g, _ = mat("LMS_TO_GRADING", norm)
    return Y, r, g


def yrg_to_lms(Y, r, g):
    b = 1.0 - r - g
    lms = mat("GRADING_TO_LMS", (r, g, b))
    denom = Y_FROM_LMS[0] * lms[0] + Y_FROM_LMS[1] * lms[1]
    a = safe_div(Y, denom)
    return tuple(c * a for c in lms)


def yrg_to_ych(Y, r, g):
    """(Y, c, cos h, sin h) with the hue kept as its cosine and sine, like darktable."""
    r = r - D65_RG[0]
    g = g - D65_RG[1]
    c = torch.sqrt(r * r + g * g)
    nz = c != 0
    cs = torch.where(nz, c, torch.ones_like(c))
    return Y, c, torch.where(nz, r / cs, torch.ones_like(c)), torch.where(nz, g / cs, torch.zeros_like(c))


def ych_to_yrg(Y, c, cos_h, sin_h):
    return Y, c * cos_h + D65_RG[0], c * sin_h + D65_RG[1]


def ych_to_grading(Y, c, cos_h, sin_h):
    return mat("LMS_TO_GRADING", yrg_to_lms(*ych_to_yrg(Y, c, cos_h, sin_h)))


def gamut_check_yrg(c, cos_h, sin_h):
    """Largest chroma at this hue that keeps r, g, b of Yrg non-negative (darktable's gamut_check_Yrg)."""
    r = c * cos_h + D65_RG[0]
    g = c * sin_h + D65_RG[1]
    one = torch.ones_like(c)
    out = c
    out = torch.where(r < 0, torch.minimum(-D65_RG[0] / torch.where(r < 0, cos_h, one), out), out)
    out = torch.where(g < 0, torch.minimum(-D65_RG[1] / torch.where(g < 0, sin_h, one), out), out)
    over = (r + g) > 1.0
    s = cos_h + sin_h
    out = torch.where(over, torch.minimum(_RG_REST / torch.where(over, s, one), out), out)
    return out


# --- darktable UCS 22 ------------------------------------------------------------------------------------------

UCS_L_WHITE_EXP, UCS_L_MAX, UCS_L_HALF = 0.631651345306265, 2.098883786377, 1.12426773749357
UCS_L_STAR_UPPER = 2.098883
UCS_Y_UPPER = 13237757000.0
UCS_C_GAIN, UCS_C_L_EXP, UCS_C_M_EXP = 15.932993652962535, 0.6523997524738018, 0.6007557017508491
UCS_B_EXP = 1.33654221029386


def y_to_ucs_l(Y):
    y_hat = fpow(Y, UCS_L_WHITE_EXP)
    return UCS_L_MAX * y_hat / (y_hat + UCS_L_HALF)


def ucs_l_to_y(L):
    return fpow(UCS_L_HALF * L / (UCS_L_MAX - L), 1.5831518565279648)


def y_to_ucs_l_scalar(Y: float) -> float:
    y_hat = float(_F(Y) ** _F(UCS_L_WHITE_EXP))
    return float(_F(UCS_L_MAX) * _F(y_hat) / (_F(y_hat) + _F(UCS_L_HALF)))


_UV_X = (-0.783941002840055, 0.745273540913283, 0.318707282433486)
_UV_Y = (0.277512987809202, -0.205375866083878, 2.16743692732158)
_UV_O = (0.153836578598858, -0.165478376301988, 0.291320554395942)
_UV_FACT = (1.39656225667, 1.4513954287)
_UV_HALF = (1.49217352929, 1.52488637914)
_UV_ROT = ((-1.124983854323892, -0.980483721769325), (1.86323315098672, 1.971853092390862))
_UV_ROT_INV = ((-5.037522385190711, -2.504856328185843), (4.760029407436461, 2.874012963239247))
_XY_U = (0.167171472114775, -0.150959086409163, 0.940254742367256)
_XY_V = (0.141299802443708, -0.155185060382272, 1.0)
_XY_O = (-0.00801531300850582, -0.00843312433578007, -0.0256325967652889)


def xy_to_ucs_uv(x, y, lib=torch):
    """CIE xy (D65) → darktable UCS U*′, V*′ (works on torch tensors or float32 numpy arrays)."""
    d = [_UV_X[c] * x + _UV_Y[c] * y + _UV_O[c] for c in range(3)]
    if lib is np:
        d = [v.astype(_F) if hasattr(v, "astype") else v for v in d]
    u, v = d[0] / d[2], d[1] / d[2]
    us = _UV_FACT[0] * u / (lib.abs(u) + _UV_HALF[0])
    vs = _UV_FACT[1] * v / (lib.abs(v) + _UV_HALF[1])
    return (_UV_ROT[0][0] * us + _UV_ROT[0][1] * vs, _UV_ROT[1][0] * us + _UV_ROT[1][1] * vs)


# Powers inside the UCS step are taken as exp2(k · log2 v) so that one log2 of a value serves all of its powers
# (C and C^B_EXP, the chroma of the gamut border and its power, ...): 18 transcendentals per pixel instead of 24.
# Each differs from powf by a few float32 ulps.
LOG2_C_GAIN = float(np.log2(UCS_C_GAIN))
UCS_M_FROM_C_EXP = 0.8322850678616855  # 1 / (2 · UCS_C_M_EXP): M from M² = (C-derived value)^(1 / C_M_EXP)


def ucs_log2_chroma(L, M2, L_white):
    """log2 of the chroma C = gain · L^C_L_EXP · (M²)^C_M_EXP / L_white of lightness L* and colourfulness² M²."""
    return LOG2_C_GAIN + UCS_C_L_EXP * torch.log2(L) + UCS_C_M_EXP * torch.log2(M2) - torch.log2(L_white)


def xyY_to_ucs_jch(x, y, Y, L_white):
    """→ J, C, log2 C, H, cos H, sin H (the cosine and sine straight from U*′, V*′, as atan2 then cos/sin)."""
    Up, Vp = xy_to_ucs_uv(x, y)
    L = y_to_ucs_l(Y.clamp(0.0, UCS_Y_UPPER))
    M2 = Up * Up + Vp * Vp
    log2_C = ucs_log2_chroma(L, M2, L_white)
    M = torch.sqrt(M2)
    chromatic = M > 0
    Ms = torch.where(chromatic, M, torch.ones_like(M))
    cos_H = torch.where(chromatic, Up / Ms, torch.ones_like(M))
    sin_H = torch.where(chromatic, Vp / Ms, torch.zeros_like(M))
    return L / L_white, torch.exp2(log2_C), log2_C, torch.atan2(Vp, Up), cos_H, sin_H


def ucs_brightness(J, log2_C):
    """Brightness B of HCB / HSB: J · (C^B_EXP + 1)."""
    return J * (torch.exp2(UCS_B_EXP * log2_C) + 1.0)


def ucs_lightness(B, log2_C):
    """J back from HCB / HSB brightness."""
    return B / (torch.exp2(UCS_B_EXP * log2_C) + 1.0)


def ucs_jch_to_xyY(J, log2_C, cos_H, sin_H, L_white):
    L = (J * L_white).clamp(0.0, UCS_L_STAR_UPPER)
    nz = L != 0
    Ls = torch.where(nz, L, torch.ones_like(L))
    log2_M = UCS_M_FROM_C_EXP * (log2_C + torch.log2(L_white) - LOG2_C_GAIN - UCS_C_L_EXP * torch.log2(Ls))
    M = torch.where(nz, torch.exp2(log2_M), torch.zeros_like(L))
    Up, Vp = M * cos_H, M * sin_H
    us = _UV_ROT_INV[0][0] * Up + _UV_ROT_INV[0][1] * Vp
    vs = _UV_ROT_INV[1][0] * Up + _UV_ROT_INV[1][1] * Vp
    u = -_UV_HALF[0] * us / (torch.abs(us) - _UV_FACT[0])
    v = -_UV_HALF[1] * vs / (torch.abs(vs) - _UV_FACT[1])
    d = [_XY_U[c] * u + _XY_V[c] * v + _XY_O[c] for c in range(3)]
    return d[0] / d[2], d[1] / d[2], ucs_l_to_y(L)


def xyz_to_xyY(X, Y, Z):
    inv = flush(1.0 / (X + Y + Z))
    return X * inv, Y * inv, Y


def xyY_to_xyz(x, y, Y):
    return Y * x / y, Y, Y * (1.0 - x - y) / y


# --- JzAzBz ------------------------------------------------------------------------------------------------------

JZ_B, JZ_G = 1.15, 0.66
JZ_C1, JZ_C2, JZ_C3 = 0.8359375, 18.8515625, 18.6875
JZ_N, JZ_P = 0.159301758, 134.034375
JZ_D, JZ_D0 = -0.56, 1.6295499532821566e-11
# differences of float constants as darktable evaluates them (in float), which matters in the a/b cancellations
JZ_B1 = float(_F(JZ_B) - _F(1.0))
JZ_G1 = float(_F(JZ_G) - _F(1.0))
JZ_1D = float(_F(1.0) + _F(JZ_D))
JZ_M = ((0.41478972, 0.579999, 0.0146480), (-0.2015100, 1.120649, 0.0531008), (-0.0166008, 0.264800, 0.6684799))
JZ_A = ((0.5, 0.5, 0.0), (3.524000, -4.066708, 0.542708), (0.199076, 1.096799, -1.295875))
JZ_MI = (
    (1.9242264357876067, -1.0047923125953657, 0.0376514040306180),
    (0.3503167620949991, 0.7264811939316552, -0.0653844229480850),
    (-0.0909828109828475, -0.3127282905230739, 1.5227665613052603),
)
JZ_AI = (
    (1.0, 0.1386050432715393, 0.0580473161561189),
    (1.0, -0.1386050432715393, -0.0580473161561189),
    (1.0, -0.0960192420263190, -0.8118918960560390),
)


def _powf(x, y):
    return np.power(np.asarray(x, _F).astype(np.float64), float(_F(y))).astype(_F)


def xyz_to_jzazbz(X, Y, Z, lib=torch):
    xp = JZ_B * X - JZ_B1 * Z
    yp = JZ_G * Y - JZ_G1 * X
    lms = []
    for row in JZ_M:
        v = row[0] * xp + row[1] * yp + row[2] * Z
        if lib is np:  # powf as libm rounds it: evaluate in double, round once to float
            v = _powf(np.maximum(v / _F(10000.0), _F(0)), JZ_N)
            v = _powf((_F(JZ_C1) + _F(JZ_C2) * v) / (_F(1) + _F(JZ_C3) * v), JZ_P)
        else:
            v = fpow(fmax0(v / 10000.0), JZ_N)
            v = fpow((JZ_C1 + JZ_C2 * v) / (1.0 + JZ_C3 * v), JZ_P)
        lms.append(v)
    i, a, b = mat(JZ_A, lms)
    j = (JZ_1D * i) / (1.0 + JZ_D * i) - JZ_D0
    j = np.maximum(j, _F(0)) if lib is np else fmax0(j)
    return j, a, b


def jzazbz_to_xyz(J, a, b):
    iz = J + JZ_D0
    iz = fmax0(iz / (JZ_1D - JZ_D * iz))
    lms = []
    for row in JZ_AI:
        v = row[0] * iz + row[1] * a + row[2] * b
        v = fpow(fmax0(v), 1.0 / JZ_P)
        v = 10000.0 * fpow(fmax0((JZ_C1 - v) / (JZ_C3 * v - JZ_C2)), 1.0 / JZ_N)
        lms.append(v)
    xp, yp, zp = mat(JZ_MI, lms)
    X = (xp + JZ_B1 * zp) / JZ_B
    Y = (yp + JZ_G1 * X) / JZ_G
    return X, Y, zp


# --- gamut tables (colorbalancergb commit_params) ----------------------------------------------------------------

LUT_ELEM = 360
_LUTS: dict[int, np.ndarray] = {}


def _delta_h(a, b):
    d = (a - b).astype(_F)
    d = np.where(d < -_F(np.pi), d + _F(2) * _F(np.pi), d).astype(_F)
    return np.where(d > _F(np.pi), d - _F(2) * _F(np.pi), d).astype(_F)


def _ucs_gamut_lut() -> np.ndarray:
    """M² of the working gamut's boundary per dt UCS hue degree, marched along the primaries' triangle in xy."""
    pi = _F(np.pi)
    prim = WORK_TO_XYZ_D65.T.astype(_F)  # rows: XYZ D65 of pure R, G, B
    s = prim.sum(1)
    xy = np.stack([prim[:, 0] / s, prim[:, 1] / s], 1).astype(_F)
    w = np.array([0.31269999999999992, 0.32899999999999996], _F)
    hr, hg, hb = (np.arctan2(xy[k, 1] - w[1], xy[k, 0] - w[0]).astype(_F) for k in range(3))
    i = np.arange(50 * 360).astype(_F)
    angle = (-pi + i / _F(50 * 360) * _F(2) * pi).astype(_F)
    tan_a = np.tan(angle).astype(_F)
    t1 = _delta_h(angle, hb) / _delta_h(hr, hb)
    t2 = _delta_h(angle, hr) / _delta_h(hg, hr)
    t3 = _delta_h(angle, hg) / _delta_h(hb, hg)
    c1 = (t1 >= 0) & (t1 <= 1)
    c2 = ~c1 & (t2 >= 0) & (t2 <= 1)
    c3 = ~c1 & ~c2 & (t3 >= 0) & (t3 <= 1)
    x = np.zeros_like(angle)
    y = np.zeros_like(angle)
    for cond, a, b in ((c1, xy[2], xy[0]), (c2, xy[0], xy[1]), (c3, xy[1], xy[2])):
        t = ((w[1] - a[1] + tan_a * (a[0] - w[0])) / (b[1] - a[1] + tan_a * (a[0] - b[0]))).astype(_F)
        x = np.where(cond, a[0] + t * (b[0] - a[0]), x).astype(_F)
        y = np.where(cond, a[1] + t * (b[1] - a[1]), y).astype(_F)
    U, V = xy_to_ucs_uv(x, y, lib=np)
    U, V = U.astype(_F), V.astype(_F)
    H = (np.arctan2(V, U) * _F(180) / pi).astype(_F)
    H_round = np.sign(H) * np.floor(np.abs(H) + _F(0.5))  # roundf: half away from zero
    hit = np.abs(H - H_round) < _F(0.02)
    idx = (H_round + 180).astype(np.int64) % 360
    lut = np.zeros(LUT_ELEM, _F)
    m2 = (U * U + V * V).astype(_F)
    for k in np.nonzero(hit)[0]:  # sequential: the last sample of a bin wins
        lut[idx[k]] = m2[k]
    return lut


def _jzazbz_gamut_lut() -> np.ndarray:
    """Max Cz/Jz per hue degree over a 92³ grid of the working RGB cube, then a circular 5-tap box average."""
    steps = 92
    v = (np.arange(steps, dtype=_F) / _F(steps - 1)).astype(_F)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    r, g, b = r.ravel(), g.ravel(), b.ravel()
    m = WORK_TO_XYZ_D65
    X = (m[0, 0] * r + m[0, 1] * g + m[0, 2] * b).astype(_F)
    Y = (m[1, 0] * r + m[1, 1] * g + m[1, 2] * b).astype(_F)
    Z = (m[2, 0] * r + m[2, 1] * g + m[2, 2] * b).astype(_F)
    j, az, bz = (t.astype(_F) for t in xyz_to_jzazbz(X, Y, Z, lib=np))
    c = np.sqrt(bz * bz + az * az).astype(_F)
    h = np.arctan2(bz, az).astype(_F)
    sat = np.where(j > 0, c / np.where(j > 0, j, _F(1)), _F(0)).astype(_F)
    idx = np.floor(_F(LUT_ELEM - 1) * (h + _F(np.pi)) / (_F(2) * _F(np.pi)) + _F(0.5)).astype(np.int64)
    raw = np.zeros(LUT_ELEM, _F)
    np.maximum.at(raw, idx, sat)
    return ((np.roll(raw, 2) + np.roll(raw, 1) + raw + np.roll(raw, -1) + np.roll(raw, -2)) / _F(5)).astype(_F)


def gamut_lut(formula: int) -> np.ndarray:
    if formula not in _LUTS:
        _LUTS[formula] = _ucs_gamut_lut() if formula == 1 else _jzazbz_gamut_lut()
    return _LUTS[formula]


def lookup_gamut(lut: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Linear interpolation in a 360-entry table spanning [−π, π] end to end, wrapping at the ends."""
    h = torch.where(h == h, h, torch.zeros_like(h))  # NaN hues only occur on pixels that end at 0
    x = (LUT_ELEM - 1) * (h + PI_F) / (2.0 * PI_F)
    lo = torch.floor(x)
    hi = torch.ceil(x)
    frac = x - lo
    i_lo = torch.where(
        lo < 0, torch.full_like(lo, LUT_ELEM - 1), torch.where(lo > LUT_ELEM - 1, torch.zeros_like(lo), lo)
    )
    i_hi = torch.where(
        hi < 0, torch.full_like(hi, LUT_ELEM - 1), torch.where(hi > LUT_ELEM - 1, torch.zeros_like(hi), hi)
    )
    i_lo = i_lo.clamp(0, LUT_ELEM - 1).long()
    i_hi = i_hi.clamp(0, LUT_ELEM - 1).long()
    y_lo = lut[i_lo]
    y_hi = lut[i_hi]
    return y_lo + frac * (y_hi - y_lo)
