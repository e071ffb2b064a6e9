"""darktable's recursive (Deriche) gaussian, src/common/gaussian.c, as exact linear operators.

Each 1-D pass is a causal plus an anti-causal second-order IIR filter whose state is primed with the edge pixel
times the steady-state gain (coefp / coefn). Everything is linear in the signal, so a pass over n samples is an
n×n matrix: impulse responses along the diagonals, plus the responses to the primed states in the first (causal)
and last (anti-causal) columns. The recurrences are unrolled with powers of their 2×2 companion matrix (computed
by doubling), using darktable's float coefficients as they are — b2 is not exactly (b1/2)², and coefp/coefn carry
their float rounding into the primed states, so edge transients are reproduced as well.
"""

from __future__ import annotations

import torch


def coefficients(sigma: torch.Tensor, order: torch.Tensor) -> dict[str, torch.Tensor]:
    """a0..a3, b1, b2, coefp, coefn for per-image sigma [N] and order [N] (0, 1, 2; other values act as 0).

    Float32 operations in the order darktable 4.2.1's x86-64 build (-O3 -ffast-math) evaluates them, which
    regroups several of gaussian.c's expressions: read off the compiled code, this matters because the
    denominator 1 + b1 + b2 ≈ (1 − ema)² is tiny for large sigma and coefp/coefn prime the whole image then."""
    alpha = 1.695 / sigma
    # correctly rounded expf, as glibc's (torch's float32 exp can be one ulp off)
    ema = torch.exp(-alpha.double()).to(sigma.dtype)
    ema2 = torch.exp(-2.0 * alpha.double()).to(sigma.dtype)
    b1 = -2.0 * ema
    b2 = ema2
    zero = torch.zeros_like(ema)
    one_m = 1.0 - ema
    # order 0
    k0 = (one_m * one_m) / ((2.0 * alpha * ema - ema2) + 1.0)
    z1 = k0 * ((alpha - 1.0) * ema)
    z2 = k0 * ((alpha + 1.0) * ema)
    z3 = -(k0 * ema2)
    z = (k0, z1, z2, z3, k0 + z1, z2 - k0 * ema2)
    # order 1
    o0 = one_m * one_m
    o = (o0, zero, -o0, zero, o0, -o0)
    # order 2
    cube = ema * ema * ema
    kn = -2.0 * ((3.0 * ema * one_m + cube) - 1.0) / ((3.0 * ema * (ema + 1.0) + cube) + 1.0)
    k2 = (1.0 - ema2) * 0.5 / (alpha * ema)
    t1 = -kn * ((k2 * alpha + 1.0) * ema)
    t2 = (kn * ema) * (1.0 - k2 * alpha)
    t3 = -kn * ema2
    t = (kn, t1, t2, t3, kn + t1, t2 + t3)
    pick = [torch.where(order == 1, o[i], torch.where(order == 2, t[i], z[i])) for i in range(6)]
    den = (ema2 + 1.0) + b1
    return {
        "a0": pick[0],
        "a1": pick[1],
        "a2": pick[2],
        "a3": pick[3],
        "b1": b1,
        "b2": b2,
        "coefp": pick[4] / den,
        "coefn": pick[5] / den,
    }


def _homogeneous(b1: torch.Tensor, b2: torch.Tensor, starts: torch.Tensor, length: int) -> torch.Tensor:
    """Sequences s_k = −b1·s_{k−1} − b2·s_{k−2}, k < length, from their first two terms.

    b1, b2: [N]; starts: [N, S, 2] as (s_0, s_1). Returns [N, S, length].

    Unrolled in float64: the companion matrix has a (nearly) double eigenvalue close to 1 for large sigma, and its
    powers lose ~1e-3 of the DC gain in float32; the result is cast back to the input dtype."""
    n, dtype = b1.shape[0], b1.dtype
    b1, b2, starts = b1.double(), b2.double(), starts.double()
    zero, one = torch.zeros_like(b1), torch.ones_like(b1)
    # companion matrix acting on (s_{k+1}, s_k)
    comp = torch.stack([torch.stack([-b1, -b2], -1), torch.stack([one, zero], -1)], -2)  # [N, 2, 2]
    state = torch.stack([starts[..., 1], starts[..., 0]], -1).unsqueeze(-1)  # [N, S, 2, 1]
    seq = state.unsqueeze(1)  # [N, 1, S, 2, 1]: states for k = 0
    power = comp
    count = 1
    while count < length:
        seq = torch.cat([seq, power.view(n, 1, 1, 2, 2) @ seq], 1)
        power = power @ power
        count *= 2
    return seq[:, :length, :, 1, 0].transpose(1, 2).to(dtype)


def pass_matrix(c: dict[str, torch.Tensor], size: int) -> torch.Tensor:
    """[N, size, size] matrix of one darktable 1-D pass (forward + backward): y = M @ x."""
    a0, a1, a2, a3, b1, b2 = (c[k] for k in ("a0", "a1", "a2", "a3", "b1", "b2"))
    cp, cn = c["coefp"], c["coefn"]
    # causal impulse response h⁺ (x_j enters with a0, x_{j−1} with a1)
    hp = (a0, a1 - b1 * a0)
    # response to the primed causal state (x_{−1} = x_0, y_{−1} = y_{−2} = coefp·x_0)
    g0 = a1 - (b1 + b2) * cp
    gp = (g0, -b1 * g0 - b2 * cp)
    # anti-causal response h⁻[d], d ≥ 1, stored shifted by one (x_{j+1} enters with a2, x_{j+2} with a3)
    hm = (a2, a3 - b1 * a2)
    # response to the primed anti-causal state (x_n = x_{n+1} = x_{n−1}, y_n = y_{n+1} = coefn·x_{n−1})
    q0 = a2 + a3 - (b1 + b2) * cn
    qm = (q0, a3 - b1 * q0 - b2 * cn)
    starts = torch.stack([torch.stack(s, -1) for s in (hp, gp, hm, qm)], 1)  # [N, 4, 2]
    seqs = _homogeneous(b1, b2, starts, size)
    hp_s, gp_s, hm_s, qm_s = seqs.unbind(1)  # each [N, size]

    idx = torch.arange(size, device=b1.device)
    j, i = idx.view(-1, 1), idx.view(1, -1)
    d = j - i
    zero = torch.zeros((), dtype=b1.dtype, device=b1.device)
    fwd = torch.where(d >= 0, hp_s[:, d.clamp(min=0)], zero)
    fwd = fwd + torch.where(i == 0, gp_s[:, j.expand(size, size)], zero)
    bwd = torch.where(d < 0, hm_s[:, (-d - 1).clamp(min=0)], zero)
    bwd = bwd + torch.where(i == size - 1, qm_s[:, (size - 1 - j).expand(size, size)], zero)
    return fwd + bwd


def blur(
    x: torch.Tensor,
    sigma: torch.Tensor,
    order: torch.Tensor,
    lo: torch.Tensor | None = None,
    hi: torch.Tensor | None = None,
) -> torch.Tensor:
    """dt_gaussian_blur on [N, C, H, W]: vertical pass, then horizontal; the input of each pass is clamped to
    [lo, hi] (tensors broadcasting to x, e.g. [N, C, 1, 1]) when given."""
    h, w = int(x.shape[2]), int(x.shape[3])
    c = coefficients(sigma, order)
    if lo is not None:
        x = torch.maximum(torch.minimum(x, hi), lo)
    y = pass_matrix(c, h).unsqueeze(1) @ x
    if lo is not None:
        y = torch.maximum(torch.minimum(y, hi), lo)
    return y @ pass_matrix(c, w).unsqueeze(1).transpose(-1, -2)
