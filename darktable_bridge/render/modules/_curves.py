"""darktable's curve tables in torch, shared by rgbcurve, tonecurve and colorzones.

Sources: src/common/curve_tools.c (the "V1" sampler ``CurveDataSample`` with its cubic / Catmull-Rom / monotone
Hermite splines), src/common/splines.cpp (the "V2" samplers, plain and periodic) and src/gui/draw.h
(``dt_draw_curve_calc_values(_V2)``: 0x10000 samples of 16 bits, read back as ``sample / 0x10000``).

A batch of curves is ``x, y`` [B, M] with a node count ``n`` [B] (int64); slots past ``n`` are ignored: they
are overwritten with finite, increasing dummies so that no division in an unused branch makes inf/NaN (which
would poison gradients through ``torch.where``). Everything is plain torch (comparisons, gathers, unrolled
loops over the nodes), batched and differentiable w.r.t. the node coordinates; integer rounding of the 16-bit
samples passes gradients straight through.
"""

from __future__ import annotations

import numpy as np
import torch

LUT = 0x10000
CUBIC_SPLINE, CATMULL_ROM, MONOTONE_HERMITE = 0, 1, 2
SPLINE_TYPES = (CUBIC_SPLINE, CATMULL_ROM, MONOTONE_HERMITE)

_STEP = float(np.float32(1.0 / (LUT - 1)))  # float res = 1.0 / (samplingRes - 1)
_FLT_MIN2 = float(2.0 * np.finfo(np.float32).tiny)
_FLT_EPS = float(np.finfo(np.float32).eps)

# linear ProPhoto RGB (D50), tonecurve's "RGB linked" space (its Y row is also the luminance norm there)
PROPHOTO_TO_XYZ = (
    (0.7976749, 0.1351917, 0.0313534),
    (0.2880402, 0.7118741, 0.0000857),
    (0.0000000, 0.0000000, 0.8252100),
)
XYZ_TO_PROPHOTO = (
    (1.3459433, -0.2556075, -0.0511118),
    (-0.5445989, 1.5081673, 0.0205351),
    (0.0000000, 0.0000000, 1.2118128),
)

RGB_NORM_NONE, RGB_NORM_LUMINANCE, RGB_NORM_MAX, RGB_NORM_AVERAGE = 0, 1, 2, 3
RGB_NORM_SUM, RGB_NORM_NORM, RGB_NORM_POWER = 4, 5, 6


# ----------------------------------------------------------------------------------------------- small helpers


def trunc(v: torch.Tensor) -> torch.Tensor:
    """C's float → int conversion (towards zero), as floor/ceil (ONNX has no Trunc)."""
    return torch.where(v < 0, torch.ceil(v), torch.floor(v))


def round_away(v: torch.Tensor) -> torch.Tensor:
    """std::round: halves away from zero (torch.round rounds halves to even)."""
    return torch.where(v < 0, -torch.floor(0.5 - v), torch.floor(v + 0.5))


def straight_through(v: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """The value of q with the gradient of v (quantisation must not stop gradients to the nodes)."""
    return v + (q - v).detach()


def _take(a: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    return torch.gather(a, -1, idx)


def _col(a: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """a [B, M] at one index per row idx [B] → [B]."""
    return torch.gather(a, 1, idx[:, None])[:, 0]


def _nonzero(d: torch.Tensor) -> torch.Tensor:
    return torch.where(d == 0, torch.ones_like(d), d)


def _pad(x: torch.Tensor, y: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unused slots: x continues past the last node in unit steps, y repeats the last node."""
    m = x.shape[-1]
    idx = torch.arange(m, device=x.device)
    last = (n - 1)[:, None]
    valid = idx[None, :] <= last
    xl, yl = _take(x, last), _take(y, last)
    return (torch.where(valid, x, xl + (idx[None, :] - last).to(x.dtype)), torch.where(valid, y, yl))


def _grid(device, dtype=torch.float32) -> torch.Tensor:
    """The sample abscissae i·res, as float products like darktable's ``i * res``."""
    return torch.arange(LUT, device=device, dtype=dtype)[None, :] * _STEP


def _segment_index(x: torch.Tensor, n: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Index of the segment [x_i, x_i+1] holding t: the number of nodes 1..n-1 at or below t, capped at n-2."""
    cnt = torch.zeros(x.shape[0], t.shape[-1], device=x.device, dtype=t.dtype)
    for j in range(1, x.shape[-1]):
        cnt = cnt + (x[:, j : j + 1] <= t).to(t.dtype)
    return torch.minimum(cnt, (n - 2)[:, None].to(t.dtype)).long()


def _solve(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Gaussian elimination without pivoting (darktable solves its spline systems that way), unrolled.

    a [B, M, M], b [B, M]; unused rows must be identity rows."""
    m = a.shape[-1]
    rows = torch.arange(m, device=a.device)
    for k in range(m - 1):
        f = a[:, :, k] / a[:, k : k + 1, k]
        f = torch.where(rows[None, :] > k, f, torch.zeros_like(f))
        a = a - f[:, :, None] * a[:, k : k + 1, :]
        b = b - f * b[:, k : k + 1]
    sol: list[torch.Tensor] = []
    for k in reversed(range(m)):
        s = b[:, k]
        if sol:
            tail = torch.stack(sol[::-1], -1)  # x_{k+1} .. x_{m-1}
            s = s - (a[:, k, k + 1 :] * tail).sum(-1)
        sol.append(s / a[:, k, k])
    return torch.stack(sol[::-1], -1)


def _band(diag: torch.Tensor, sub: torch.Tensor, sup: torch.Tensor) -> torch.Tensor:
    """[B, M, M] with diag on the diagonal, sub[i] at (i, i-1), sup[i] at (i, i+1) (no diag_embed in ONNX)."""
    m = diag.shape[-1]
    eye = torch.eye(m, device=diag.device, dtype=diag.dtype)
    below = torch.diag(torch.ones(m - 1, device=diag.device, dtype=diag.dtype), -1)
    return diag[:, :, None] * eye + sub[:, :, None] * below + sup[:, :, None] * below.transpose(0, 1)


def _onehot(idx: torch.Tensor, m: int, dtype) -> torch.Tensor:
    """idx [B, M] → [B, M, M] with a 1 at (i, idx_i)."""
    return (idx[:, :, None] == torch.arange(m, device=idx.device)[None, None, :]).to(dtype)


# ------------------------------------------------------------------------------------------- tangent models


def _slopes(x, y):
    return (y[:, 1:] - y[:, :-1]) / (x[:, 1:] - x[:, :-1])  # [B, M-1]


def _catmull_rom(x, y, n):
    """Tangents of curve_tools.c catmull_rom_set (also splines.cpp's non-periodic Catmull-Rom)."""
    m = x.shape[-1]
    d = _slopes(x, y)
    central = (y[:, 2:] - y[:, :-2]) / (x[:, 2:] - x[:, :-2])
    tang = torch.cat([d[:, :1], central, torch.zeros_like(d[:, :1])], -1)
    idx = torch.arange(m, device=x.device)[None, :]
    return torch.where(idx == (n - 1)[:, None], _col(d, n - 2)[:, None], tang)


def _limit_tangents(m: list, delta: list, active: list, eps: float) -> list:
    """The sequential Fritsch-Carlson limiter shared by both monotone Hermite variants (in place on a list)."""
    for i, (di, act) in enumerate(zip(delta, active)):
        small = di.abs() < eps
        ds = torch.where(small, torch.ones_like(di), di)
        alpha, beta = m[i] / ds, m[i + 1] / ds
        tau = alpha * alpha + beta * beta
        big = tau > 9.0
        root = torch.sqrt(torch.where(big, tau, torch.ones_like(tau)))
        mi = torch.where(small, torch.zeros_like(di), torch.where(big, 3.0 * alpha * di / root, m[i]))
        mj = torch.where(small, torch.zeros_like(di), torch.where(big, 3.0 * beta * di / root, m[i + 1]))
        m[i] = torch.where(act, mi, m[i])
        m[i + 1] = torch.where(act, mj, m[i + 1])
    return m


def _monotone_v1(x, y, n):
    """curve_tools.c monotone_hermite_set: averaged slopes, then the limiter over all n nodes (eps 2·FLT_MIN)."""
    mm = x.shape[-1]
    d = _slopes(x, y)
    d_last = _col(d, n - 2)
    delta = [torch.where(n - 1 == i, d_last, d[:, i] if i < mm - 1 else d_last) for i in range(mm)]
    m = []
    for i in range(mm):
        mid = (delta[i - 1] + delta[i]) * 0.5 if i > 0 else delta[0]
        m.append(torch.where(n - 1 == i, d_last, torch.where(n - 1 > i, mid, torch.zeros_like(mid))))
    m[0] = delta[0]
    m.append(torch.zeros_like(d_last))
    m = _limit_tangents(m, delta, [n > i for i in range(mm)], _FLT_MIN2)
    return torch.stack(m[:mm], -1)


def _monotone_v2(x, y, n):
    """splines.cpp monotone_hermite_spline (non-periodic): zero tangent at extrema, limiter with FLT_EPSILON."""
    mm = x.shape[-1]
    d = _slopes(x, y)
    d_last = _col(d, n - 2)
    delta = [d[:, i] for i in range(mm - 1)]
    m = [d[:, 0]]
    for i in range(1, mm):
        di = delta[i] if i < mm - 1 else d_last
        avg = torch.where(delta[i - 1] * di <= 0, torch.zeros_like(di), (delta[i - 1] + di) * 0.5)
        m.append(torch.where(n - 1 == i, d_last, avg))
    m.append(torch.zeros_like(d_last))
    m = _limit_tangents(m, delta, [n - 1 > i for i in range(mm - 1)], _FLT_EPS)
    return torch.stack(m[:mm], -1)


def _natural_system(x, y, n, v2: bool):
    """The tridiagonal system of a natural cubic spline (second derivatives 0 at both ends)."""
    mm = x.shape[-1]
    dx = x[:, 1:] - x[:, :-1]
    s = _slopes(x, y)
    idx = torch.arange(mm, device=x.device)[None, :]
    inner = (idx >= 1) & (idx <= (n - 2)[:, None])
    z = torch.zeros_like(x[:, :1])
    sub = torch.cat([z, dx], -1) / 6.0  # A(i, i-1)
    sup = torch.cat([dx, z], -1) / 6.0  # A(i, i+1)
    if v2:
        diag = torch.cat([z, dx[:, :-1] + dx[:, 1:], z], -1) / 3.0
    else:
        diag = torch.cat([z, x[:, 2:] - x[:, :-2], z], -1) / 3.0
    rhs = torch.cat([z, s[:, 1:] - s[:, :-1], z], -1)
    one = torch.ones_like(x)
    zero = torch.zeros_like(x)
    diag = torch.where(inner, diag, one)
    sub = torch.where(inner, sub, zero)
    sup = torch.where(inner, sup, zero)
    rhs = torch.where(inner, rhs, zero)
    return _band(diag, sub, sup), rhs


def _cubic_to_tangents(x, y, n, ypp, dx_wrap=None):
    """splines.cpp smooth_cubic_spline: first derivatives from the second ones (as Hermite tangents)."""
    mm = x.shape[-1]
    dx = x[:, 1:] - x[:, :-1]
    dy = y[:, 1:] - y[:, :-1]
    if dx_wrap is not None:  # periodic: segment n-1 closes the loop
        idx = torch.arange(mm - 1, device=x.device)[None, :]
        dx = torch.where(idx == (n - 1)[:, None], dx_wrap[0][:, None], dx)
        dy = torch.where(idx == (n - 1)[:, None], dx_wrap[1][:, None], dy)
    c = dy / dx - dx / 6.0 * (ypp[:, 1:] - ypp[:, :-1])
    tang = -dx * ypp[:, :-1] / 2.0 + c
    c_last = _col(c, n - 2)
    last = c_last + (_col(dx, n - 2) * _col(ypp, n - 1) / 2.0 if dx_wrap is not None else 0.0)
    tang = torch.cat([tang, torch.zeros_like(tang[:, :1])], -1)
    idx = torch.arange(mm, device=x.device)[None, :]
    return torch.where(idx == (n - 1)[:, None], last[:, None], tang)


# ------------------------------------------------------------------------------------------------ samplers


def _hermite(x, y, m, i0, i1, h, t):
    x0 = _take(x, i0)
    dx = (t - x0) / h
    dx2 = dx * dx
    dx3 = dx2 * dx
    h00 = 2.0 * dx3 - 3.0 * dx2 + 1.0
    h10 = dx3 - 2.0 * dx2 + dx
    h01 = -2.0 * dx3 + 3.0 * dx2
    h11 = dx3 - dx2
    return h00 * _take(y, i0) + h10 * h * _take(m, i0) + h01 * _take(y, i1) + h11 * h * _take(m, i1)


def _endpoints(x, y, n, samples):
    """Before the first / after the last node: the node's y·65535 truncated, stored as uint16 (wraps)."""
    i = torch.arange(LUT, device=x.device, dtype=x.dtype)[None, :]
    xf, yf = x[:, :1], y[:, :1]
    xl, yl = _take(x, (n - 1)[:, None]), _take(y, (n - 1)[:, None])
    first_x, last_x = trunc(xf * float(LUT - 1)), trunc(xl * float(LUT - 1))
    first_y = torch.remainder(straight_through(yf * float(LUT - 1), trunc(yf * float(LUT - 1))), float(LUT))
    last_y = torch.remainder(straight_through(yl * float(LUT - 1), trunc(yl * float(LUT - 1))), float(LUT))
    return torch.where(i < first_x, first_y, torch.where(i > last_x, last_y, samples))


def sample_v1(x: torch.Tensor, y: torch.Tensor, n: torch.Tensor, kind: int) -> torch.Tensor:
    """curve_tools.c CurveDataSample at 0x10000 points: the 16-bit samples (as floats) [B, 0x10000].

    x, y [B, M] nodes in [0, 1] (strictly increasing x over the first n), n [B] int64 (≥ 2)."""
    x, y = _pad(x, y, n)
    t = _grid(x.device, x.dtype)
    ival = _segment_index(x, n, t)
    i1 = ival + 1
    h = _take(x, i1) - _take(x, ival)
    if kind == CUBIC_SPLINE:
        ypp = _solve(*_natural_system(x, y, n, v2=False))
        x0, y0, y1 = _take(x, ival), _take(y, ival), _take(y, i1)
        p0, p1 = _take(ypp, ival), _take(ypp, i1)
        dt = t - x0
        v = y0 + dt * ((y1 - y0) / h - (p1 / 6.0 + p0 / 3.0) * h + dt * (0.5 * p0 + dt * ((p1 - p0) / (6.0 * h))))
    else:
        m = _catmull_rom(x, y, n) if kind == CATMULL_ROM else _monotone_v1(x, y, n)
        v = _hermite(x, y, m, ival, i1, h, t)
    scaled = v * float(LUT - 1) + 0.5
    q = straight_through(scaled, torch.floor(scaled)).clamp(0.0, float(LUT - 1))
    return _endpoints(x, y, n, q)


def sample_v2(x: torch.Tensor, y: torch.Tensor, n: torch.Tensor, kind: int, periodic: bool) -> torch.Tensor:
    """splines.cpp CurveDataSampleV2 / CurveDataSampleV2Periodic (period 1): 16-bit samples [B, 0x10000]."""
    if periodic:
        return _sample_periodic(x, y, n, kind)
    x, y = _pad(x, y, n)
    t = _grid(x.device, x.dtype)
    x0, xl = x[:, :1], _take(x, (n - 1)[:, None])
    tc = torch.minimum(torch.maximum(t, x0), xl)
    ival = _segment_index(x, n, tc)
    i1 = ival + 1
    h = _take(x, i1) - _take(x, ival)
    if kind == CUBIC_SPLINE:
        m = _cubic_to_tangents(x, y, n, _solve(*_natural_system(x, y, n, v2=True)))
    elif kind == CATMULL_ROM:
        m = _catmull_rom(x, y, n)
    else:
        m = _monotone_v2(x, y, n)
    v = _hermite(x, y, m, ival, i1, h, tc)
    v = torch.where(tc <= x0, y[:, :1], torch.where(tc >= xl, _take(y, (n - 1)[:, None]), v))
    v = v.clamp(0.0, 1.0)
    scaled = v * float(LUT - 1)
    q = straight_through(scaled, round_away(scaled)).clamp(0.0, float(LUT - 1))
    return _endpoints(x, y, n, q)


def _periodic_sort(x, y, n):
    """Nodes wrapped into [0, 1) and stably sorted by x (std::sort is an insertion sort for ≤ 16 nodes)."""
    mm = x.shape[-1]
    idx = torch.arange(mm, device=x.device)
    xw = torch.fmod(x, 1.0)
    xw = torch.where(xw < 0, xw + 1.0, xw)
    valid = idx[None, :] < n[:, None]
    key = torch.where(valid, xw, 2.0 + idx[None, :].to(x.dtype))
    ki, kj = key[:, :, None], key[:, None, :]
    before = (kj < ki) | ((kj == ki) & (idx[None, None, :] < idx[None, :, None]))
    rank = before.to(torch.int64).sum(-1)  # [B, M]
    order = ((rank[:, None, :] == idx[None, :, None]).to(torch.int64) * idx[None, None, :]).sum(-1)
    return _pad(_take(xw, order), _take(y, order), n)


def _periodic_segments(x, y, n):
    """Segment widths / rises with the closing segment n-1 → 0 across the period."""
    mm = x.shape[-1]
    idx = torch.arange(mm, device=x.device)[None, :]
    dx = torch.cat([x[:, 1:] - x[:, :-1], torch.ones_like(x[:, :1])], -1)
    dy = torch.cat([y[:, 1:] - y[:, :-1], torch.zeros_like(y[:, :1])], -1)
    xl, yl = _col(x, n - 1), _col(y, n - 1)
    wrap_dx, wrap_dy = x[:, 0] - xl + 1.0, y[:, 0] - yl
    last = idx == (n - 1)[:, None]
    return torch.where(last, wrap_dx[:, None], dx), torch.where(last, wrap_dy[:, None], dy), (wrap_dx, wrap_dy)


def _sample_periodic(x, y, n, kind):
    x, y = _periodic_sort(x, y, n)
    mm = x.shape[-1]
    idx = torch.arange(mm, device=x.device)[None, :]
    nn = n[:, None]
    prev = torch.where(idx == 0, nn - 1, idx - 1)
    nxt = torch.where(idx == nn - 1, torch.zeros_like(idx), (idx + 1).clamp(max=mm - 1))
    dx, dy, wrap = _periodic_segments(x, y, n)
    valid = idx < nn
    if kind == CATMULL_ROM:
        span = _take(x, nxt) - _take(x, prev) + ((idx == 0) | (idx == nn - 1)).to(x.dtype)
        m = (_take(y, nxt) - _take(y, prev)) / _nonzero(torch.where(valid, span, torch.ones_like(span)))
    elif kind == MONOTONE_HERMITE:
        s = dy / _nonzero(dx)
        s1, s2 = _take(s, prev), s
        h1, h2 = _take(dx, prev), dx
        alpha = (h1 + 2.0 * h2) / (3.0 * (h1 + h2))
        prod = s1 * s2
        den = alpha * s2 + (1.0 - alpha) * s1
        m = torch.where(
            prod > 0, prod / _nonzero(torch.where(prod > 0, den, torch.ones_like(den))), torch.zeros_like(prod)
        )
    else:
        s = dy / _nonzero(dx)
        sp = _take(s, prev)
        diag = torch.where(valid, (_take(dx, prev) + dx) / 3.0, torch.ones_like(dx))
        rhs = torch.where(valid, s - sp, torch.zeros_like(s))
        a = _band(diag, torch.zeros_like(diag), torch.zeros_like(diag))
        a = a + _onehot(nxt, mm, x.dtype) * torch.where(valid, dx / 6.0, torch.zeros_like(dx))[:, :, None]
        a = a + _onehot(prev, mm, x.dtype) * torch.where(valid, _take(dx, prev) / 6.0, torch.zeros_like(dx))[:, :, None]
        m = _cubic_to_tangents(x, y, n, _solve(a, rhs), dx_wrap=wrap)
    t = torch.fmod(_grid(x.device, x.dtype), 1.0)
    t = torch.where(t < x[:, :1], t + 1.0, t)
    cnt = torch.zeros(x.shape[0], LUT, device=x.device, dtype=x.dtype)
    for j in range(mm):
        cnt = cnt + ((x[:, j : j + 1] <= t) & (n[:, None] > j)).to(x.dtype)
    i0 = cnt.long() - 1
    i0 = torch.where(i0 < 0, nn - 1, i0)
    i1 = torch.where(i0 + 1 < nn, i0 + 1, torch.zeros_like(i0))
    x0, x1 = _take(x, i0), _take(x, i1)
    h = torch.where(i1 > i0, x1 - x0, x1 - (x0 - 1.0))
    v = _hermite(x, y, m, i0, i1, h, t).clamp(0.0, 1.0)
    scaled = v * float(LUT - 1)
    return straight_through(scaled, round_away(scaled))


def table(samples: torch.Tensor, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    """dt_draw_curve_smaple_values: min + (max − min)·sample/0x10000."""
    return lo + (hi - lo) * samples * (1.0 / LUT)


# ------------------------------------------------------------------------------------------------- lookups


def lookup(tab: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """tab [N, L] at CLAMP((int)(v·0x10000), 0, 0xffff) for v [N, ...] (truncation, no interpolation)."""
    shape = v.shape
    flat = v.reshape(shape[0], -1)
    idx = torch.floor((flat * float(LUT)).clamp(0.0, float(LUT - 1))).long()
    return torch.gather(tab, 1, idx).reshape(shape)


def lookup_linear(tab: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """colorzones' lookup(): linear interpolation between the two bins around v·0x10000 (extrapolates below 0)."""
    shape = v.shape
    flat = v.reshape(shape[0], -1) * float(LUT)
    raw = trunc(flat)
    b0 = raw.clamp(0.0, float(LUT - 1))
    b1 = (raw + 1.0).clamp(0.0, float(LUT - 1))
    f = flat - b0
    out = torch.gather(tab, 1, b1.long()) * f + torch.gather(tab, 1, b0.long()) * (1.0 - f)
    return out.reshape(shape)


def fit_exp(xs, ys):
    """dt_iop_estimate_exp on four points (lists of [N] tensors, ascending x; the last one anchors the fit):
    coefficients (1/x0, y0, g) of y = y0·(x/x0)^g, g averaged over the other points' log ratios."""
    x0, y0 = xs[-1], ys[-1]
    g = torch.zeros_like(x0)
    cnt = torch.zeros_like(x0)
    for xk, yk in zip(xs[:-1], ys[:-1]):
        yy, xx = yk / y0, xk / x0
        ok = (yy > 0) & (xx > 0)
        gg = torch.log(torch.where(ok, yy, torch.ones_like(yy))) / torch.log(
            torch.where(ok, xx, 0.5 * torch.ones_like(xx))
        )
        g = g + torch.where(ok, gg, torch.zeros_like(gg))
        cnt = cnt + ok.to(x0.dtype)
    g = torch.where(cnt > 0, g * (1.0 / torch.clamp(cnt, min=1.0)), torch.ones_like(g))
    return 1.0 / x0, y0, g


def estimate_exp(tab: torch.Tensor, xm: torch.Tensor):
    """The right-hand extrapolation of a table: fit through the table at 0.7, 0.8, 0.9, 1.0 · xm (xm [N])."""
    xs = [xm * 0.7, xm * 0.8, xm * 0.9, xm * 1.0]
    return fit_exp(xs, [lookup(tab, v[:, None])[:, 0] for v in xs])


def eval_exp(coeffs, v: torch.Tensor) -> torch.Tensor:
    """dt_iop_eval_exp: y0·(v/x0)^g; coefficient tensors [N] broadcast over v [N, ...]."""
    c0, c1, c2 = (c.view((-1,) + (1,) * (v.dim() - 1)) for c in coeffs)
    base = torch.clamp(v * c0, min=1e-30)  # only read where v ≥ x0 > 0
    return c1 * torch.pow(base, c2)


def apply_curve(tab: torch.Tensor, coeffs, v: torch.Tensor) -> torch.Tensor:
    """Table below the last node, the fitted power law from there on (``v < 1/coeff[0]`` as darktable)."""
    xm = (1.0 / coeffs[0]).view((-1,) + (1,) * (v.dim() - 1))
    return torch.where(v < xm, lookup(tab, v), eval_exp(coeffs, v))


def rgb_norm(rgb: torch.Tensor, norm: int, lum_row) -> torch.Tensor:
    """src/common/rgb_norms.h dt_rgb_norm on [N, 3, H, W] → [N, 1, H, W]; ``lum_row``: the profile's Y row."""
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    if norm == RGB_NORM_LUMINANCE:
        return lum_row[0] * r + lum_row[1] * g + lum_row[2] * b
    if norm == RGB_NORM_MAX:
        return torch.maximum(r, torch.maximum(g, b))
    if norm == RGB_NORM_SUM:
        return r + g + b
    if norm == RGB_NORM_NORM:
        return torch.sqrt(r * r + g * g + b * b)
    if norm == RGB_NORM_POWER:
        r2, g2, b2 = r * r, g * g, b * b
        den = r2 + g2 + b2
        return (r * r2 + g * g2 + b * b2) / torch.where(den == 0, torch.ones_like(den), den)
    return (r + g + b) / 3.0


def preserve_ratio(rgb: torch.Tensor, norm: int, lum_row, tab, coeffs) -> torch.Tensor:
    """Linked curve through a norm: rgb · curve(norm)/norm where norm > 0, else unchanged."""
    lum = rgb_norm(rgb, norm, lum_row)
    pos = lum > 0
    safe = torch.where(pos, lum, torch.ones_like(lum))
    ratio = torch.where(pos, apply_curve(tab, coeffs, safe) / safe, torch.ones_like(lum))
    return rgb * ratio


# ------------------------------------------------------------------------------------------- param helpers


def curve_nodes(p, nodes_field: str, count_field: str, ch: int):
    """(x [N, M], y [N, M], n [N] int64) of one channel's curve from the module params."""
    nodes = p[nodes_field][:, ch]
    n = p[count_field][:, ch].round().long()
    return nodes[..., 0], nodes[..., 1], n


def check_nodes(op: str, nodes, counts, channels, maxnodes: int = 20, periodic: bool = False, types=None) -> None:
    """Refuse curves darktable cannot sample (it would keep a stale table): bad counts or unsorted x."""
    from ...errors import RenderError

    for ch in channels:
        n = int(counts[ch])
        if not 2 <= n <= maxnodes:
            raise RenderError(f"{op}: curve {ch} has {n} nodes; 2 to {maxnodes} are rendered")
        xs = [float(nodes[ch][k][0]) for k in range(n)]
        if periodic:
            wrapped = sorted(x % 1.0 for x in xs)
            dup = any(b <= a for a, b in zip(wrapped, wrapped[1:]))
            if dup and types is not None and int(types[ch]) != CATMULL_ROM:
                raise RenderError(
                    f"{op}: curve {ch} has two nodes at the same hue; darktable's "
                    "periodic cubic/monotone spline is undefined there"
                )
        elif any(b <= a for a, b in zip(xs, xs[1:])):
            raise RenderError(f"{op}: curve {ch} nodes must have strictly increasing x")
        if types is not None and int(types[ch]) not in SPLINE_TYPES:
            raise RenderError(f"{op}: unknown curve type {types[ch]}")
