"""Edge-aware surface blurs of darktable 4.2.1 on grey images: the fast guided filter
(src/common/fast_guided_filter.h with the box means of src/common/box_filters.c) and the exposure-independent
guided filter (src/common/eigf.h, with the recursive gaussian of src/common/gaussian.c, see ``_gaussian``).

Images are [N, C, H, W]; radii and other settings may differ per image ([N] tensors). Sizes of the downscaled
grids are static (Python ints from the input shape), so per-image scalings are handled by computing every
possible grid and selecting per image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _gaussian

MIN_FLOAT = 2.0**-16


def _axis_weights(n_in: int, n_out: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Neighbour indices and weights of darktable's interpolate_bilinear along one axis (float32 coordinates,
    samples at j·n_in/n_out, no pixel-centre offset, neighbours clamped to the last sample)."""
    j = torch.arange(n_out, dtype=torch.float32, device=device)
    pos = (j / float(n_out)) * float(n_in)
    prev = torch.floor(pos)
    nxt = prev + 1.0
    last = float(n_in - 1)
    prev = torch.clamp(prev, max=last)
    nxt = torch.clamp(nxt, max=last)
    w_next = nxt - pos  # weight of the previous sample
    w_prev = 1.0 - w_next  # weight of the next sample
    return prev.long(), nxt.long(), w_next, w_prev


def interpolate_bilinear(x: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """darktable's interpolate_bilinear (used both to down- and to upsample), [N, C, h, w] → [N, C, out_h, out_w]."""
    h, w = int(x.shape[2]), int(x.shape[3])
    dt = x.dtype
    xp, xn, wxn, wxp = _axis_weights(w, out_w, x.device)
    yp, yn, wyn, wyp = _axis_weights(h, out_h, x.device)
    wxn, wxp = wxn.to(dt).view(1, 1, 1, -1), wxp.to(dt).view(1, 1, 1, -1)
    wyn, wyp = wyn.to(dt).view(1, 1, -1, 1), wyp.to(dt).view(1, 1, -1, 1)
    rows = x.index_select(3, xp) * wxn + x.index_select(3, xn) * wxp
    return wyp * rows.index_select(2, yn) + wyn * rows.index_select(2, yp)


def _box_mean_axis(x: torch.Tensor, radius: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean over the window [i − r, i + r] clipped to the image along ``dim`` (2 or 3); r: [N] integer-valued."""
    n = int(x.shape[dim])
    shape = [1, 1, 1, 1]
    shape[dim] = n
    # running sums in double: the window differences then lose nothing noticeable
    cs = torch.cumsum(x.double(), dim)
    pad = [0, 0, 0, 0]
    pad[2 * (3 - dim)] = 1
    cs = F.pad(cs, pad)  # cs[k] = sum of samples < k
    i = torch.arange(n, device=x.device).view(shape)
    r = radius.to(torch.long).view(-1, 1, 1, 1)
    hi = torch.clamp(i + r, max=n - 1)
    lo = torch.clamp(i - r, min=0)
    size = list(x.shape)
    size[dim] = n
    hi_e, lo_e = (hi + 1).expand(size), lo.expand(size)
    total = torch.gather(cs, dim, hi_e) - torch.gather(cs, dim, lo_e)
    count = (hi - lo + 1).to(torch.float64)
    return (total / count).to(x.dtype)


def box_mean(x: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """dt_box_mean with one iteration: horizontal then vertical clipped box means of width 2r + 1."""
    return _box_mean_axis(_box_mean_axis(x, radius, 3), radius, 2)


def quantize(x: torch.Tensor, sampling: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Log2 posterization by ``sampling`` EV ([N]); a plain copy (no clipping) when sampling is 0."""
    s = sampling.view(-1, 1, 1, 1)
    safe = torch.where(s == 0.0, torch.ones_like(s), s)
    q = torch.clamp(torch.exp2(torch.floor(torch.log2(x) / safe) * safe), lo, hi)
    return torch.where(s == 0.0, x, q)


def _col(t: torch.Tensor) -> torch.Tensor:
    return t.view(-1, 1, 1, 1)


def fast_surface_blur(
    image: torch.Tensor,
    radius: torch.Tensor,
    feathering: torch.Tensor,
    iterations: int,
    geomean: bool,
    quantization: torch.Tensor,
    q_min: float = 2.0**-14,
    q_max: float = 4.0,
) -> torch.Tensor:
    """Fast guided filter of a grey image [N, 1, H, W] with itself (fast_surface_blur).

    radius: [N] integer-valued full-resolution radius; feathering: [N] regularization added to the variance."""
    h, w = int(image.shape[2]), int(image.shape[3])
    ds_h, ds_w = int(h / 4.0), int(w / 4.0)
    ds_radius = torch.where(radius < 4, torch.ones_like(radius), torch.floor(radius / 4.0))
    eps = _col(feathering)
    ds = interpolate_bilinear(image, ds_h, ds_w)
    ab = None
    for i in range(iterations):
        guide = quantize(ds, quantization, q_min, q_max)
        m = box_mean(torch.cat([guide, ds, guide * guide, guide * ds], 1), ds_radius)
        mi, mp, mii, mip = m.unbind(1)
        var = torch.clamp((mii - mi * mi) + eps[:, 0], min=1e-15)
        a = (mip - mi * mp) / var
        b = mp - a * mi
        ab = box_mean(torch.stack([a, b], 1), ds_radius)
        if i != iterations - 1:
            ds = torch.clamp(ds * ab[:, :1] + ab[:, 1:], min=MIN_FLOAT)
    ab = interpolate_bilinear(ab, h, w)
    out = torch.clamp(image * ab[:, :1] + ab[:, 1:], min=MIN_FLOAT)
    return torch.sqrt(image * out) if geomean else out


_KERNELS: dict[float, torch.Tensor] = {}


def _fixed_kernel(sigma: float) -> torch.Tensor:
    """Two-sided impulse response of one pass, long enough for the tails to vanish in float32."""
    if sigma not in _KERNELS:
        pad = 8 + int(8 * sigma)
        coefs = _gaussian.coefficients(
            torch.full((1,), sigma, dtype=torch.float32), torch.zeros(1, dtype=torch.float32)
        )
        _KERNELS[sigma] = _gaussian.pass_matrix(coefs, 2 * pad + 1)[0, pad].clone()
    return _KERNELS[sigma]


def _fixed_sigma_blur(x: torch.Tensor, sigma: float, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """dt_gaussian_blur for a small constant sigma as a convolution with edge replication.

    darktable primes both recursions with the steady state of the edge pixel, which is the response to the edge
    value repeated forever; the impulse response is read off the middle row of the exact pass matrix."""
    kernel = _fixed_kernel(float(sigma)).to(device=x.device, dtype=x.dtype)
    pad = (kernel.shape[0] - 1) // 2
    n, c, h, w = x.shape
    k = kernel  # y_j = Σ_d kernel[pad + d]·x_{j+d}: conv2d's cross-correlation needs no flip
    x = torch.maximum(torch.minimum(x, hi), lo).reshape(n * c, 1, h, w)
    y = F.conv2d(F.pad(x, (0, 0, pad, pad), mode="replicate"), k.view(1, 1, -1, 1))
    y = torch.maximum(torch.minimum(y.reshape(n, c, h, w), hi), lo).reshape(n * c, 1, h, w)
    y = F.conv2d(F.pad(y, (pad, pad, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return y.reshape(n, c, h, w)


def _gaussian_with_bounds(x: torch.Tensor, sigma, fixed: bool) -> torch.Tensor:
    """dt_gaussian_blur as eigf.h calls it: every channel clamped to its own range over the image, with
    darktable's starting values of the min/max reductions (1e7 and 0)."""
    lo = torch.clamp(torch.amin(x, dim=(2, 3), keepdim=True), max=1e7)
    hi = torch.clamp(torch.amax(x, dim=(2, 3), keepdim=True), min=0.0)
    if fixed:
        return _fixed_sigma_blur(x, sigma, lo, hi)
    return _gaussian.blur(x, sigma, torch.zeros_like(sigma), lo, hi)


def _eigf_stats(image: torch.Tensor, mask: torch.Tensor, scale: int, sigma, fixed: bool) -> torch.Tensor:
    """[avg_g, var_g, avg_m, covar] at scale 1/``scale``, upsampled back to full size (guide g = the quantized
    mask, m = the image)."""
    h, w = int(image.shape[2]), int(image.shape[3])
    ds_h, ds_w = int(h / float(scale)), int(w / float(scale))
    m = interpolate_bilinear(image, ds_h, ds_w)
    g = interpolate_bilinear(mask, ds_h, ds_w)
    av = _gaussian_with_bounds(torch.cat([g, g * g, m, m * g], 1), sigma, fixed)
    av = torch.cat([av[:, :1], av[:, 1:2] - av[:, :1] * av[:, :1], av[:, 2:3], av[:, 3:4] - av[:, :1] * av[:, 2:3]], 1)
    return interpolate_bilinear(av, h, w)


def _tracing() -> bool:
    return torch.onnx.is_in_onnx_export() or torch.jit.is_tracing()


def eigf_scalings(radius: torch.Tensor) -> tuple[int, ...]:
    """The grid scalings (1…4) a batch with these radii [N] needs, as Python ints: the ones that occur (an image
    whose scaling is none of them gets the first, 1, as in the full selection)."""
    values = set(torch.clamp(radius.detach(), 1.0, 4.0).flatten().tolist())
    used = tuple(s for s in (1, 2, 3, 4) if float(s) in values)
    return used if values <= {1.0, 2.0, 3.0, 4.0} else tuple(sorted(set(used) | {1}))


def fast_eigf_surface_blur(
    image: torch.Tensor,
    radius: torch.Tensor,
    feathering: torch.Tensor,
    iterations: int,
    geomean: bool,
    quantization: torch.Tensor,
    q_min: float = 2.0**-14,
    q_max: float = 4.0,
    scalings: tuple[int, ...] | None = None,
) -> torch.Tensor:
    """Exposure-independent guided filter of a grey image [N, 1, H, W] with itself (fast_eigf_surface_blur).

    The gaussian sigma is the integer radius [N]; the grid is downscaled by clamp(radius, 1, 4) ∈ {1, 2, 3, 4}
    with a gaussian of sigma max(radius / scaling, 1), i.e. 1 unless the scaling is 4.

    darktable has a cheaper path without quantization (guide = image): the general formulas reduce to it exactly
    (avg_m = avg_g, covar = var_g, norm_m = norm_g), so only the general one is computed.

    scalings: the grid scalings that occur in the batch (``eigf_scalings``), when known in advance."""
    rad = radius.to(image.dtype)
    if scalings is None:  # only the scalings in use; all four in a traced graph, where the radius is an input
        scalings = (1, 2, 3, 4) if _tracing() else eigf_scalings(rad)
    scaling = torch.clamp(rad, 1.0, 4.0)
    sigma4 = torch.clamp(rad / 4.0, min=1.0)
    eps = _col(feathering)
    for i in range(iterations):
        mask = quantize(image, quantization, q_min, q_max)
        stats = None
        for s in scalings:
            fixed = s < 4
            st = _eigf_stats(image, mask, s, 1.0 if fixed else sigma4, fixed)
            stats = st if stats is None else torch.where(_col(scaling) == float(s), st, stats)
        avg_g, var_g, avg_m, cov = (t.unsqueeze(1) for t in stats.unbind(1))
        norm_g = torch.clamp(avg_g * image, min=1e-6)
        norm_m = torch.clamp(avg_m * mask, min=1e-6)
        nvg = var_g / norm_g
        a = (cov / torch.sqrt(norm_g * norm_m)) / (nvg + eps)
        b = avg_m - a * avg_g
        out = torch.clamp(image * a + b, min=MIN_FLOAT)
        image = torch.sqrt(image * out) if geomean and i == iterations - 1 else out
    return image
