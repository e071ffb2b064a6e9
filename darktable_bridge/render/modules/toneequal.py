"""toneequal v2 (src/iop/toneequal.c), "tone equalizer": exposure gains by luminance band, edge-aware mask.

A grey luminance mask (src/common/luminance_mask.h, with exposure/contrast boost) is smoothed by the fast guided
filter or the EIGF (``_filters``), its log2 picks a gain from a radial-basis curve (8 gaussians at −8…0 EV whose
weights are the least-squares fit of the 9 user gains, solved with darktable's float Cholesky), looked up at the
1e-4 EV resolution of darktable's LUT, and the RGB channels are multiplied by that gain.
"""

import torch

from xmp.modules.toneequal import BAND_NAMES as BANDS

from ...errors import RenderError
from ..base import Context, Params, RenderModule, graph_barrier
from ..color import fpow
from ._filters import eigf_scalings, fast_eigf_surface_blur, fast_surface_blur

NONE, AVG_GUIDED, GUIDED, AVG_EIGF, EIGF = range(5)
MIN_FLOAT = 2.0**-16
CONTRAST_FULCRUM = 2.0**-4
LUT_RESOLUTION = 10000.0
LUT_SIZE = int(8 * LUT_RESOLUTION) + 1  # −8 … 0 EV
# the 8 radial-basis centres split [-8, 0] EV in 7 steps; the 9 user nodes sit on whole EVs
CENTERS_OPS = tuple((-56.0 + 8.0 * i) / 7.0 for i in range(8))
CENTERS_PARAMS = tuple(float(v) for v in range(-8, 1))


def luminance_mask(x: torch.Tensor, method: int, exposure_boost: torch.Tensor, fulcrum, contrast_boost) -> torch.Tensor:
    """[N, 3, H, W] → [N, 1, H, W], never below 2^-16 (NaNs from 0/0 end up there too, as fmaxf does)."""
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    eb = exposure_boost.view(-1, 1, 1, 1)
    if method == 0:
        lum = eb * (r + g + b) / 3.0
    elif method == 1:
        mx = torch.maximum(torch.maximum(r, g), b)
        mn = torch.minimum(torch.minimum(r, g), b)
        lum = eb * (mx + mn) / 2.0
    elif method == 2:
        lum = eb * torch.maximum(torch.maximum(r, g), b)
    elif method == 3:
        lum = eb * (r.abs() + g.abs() + b.abs())
    elif method == 4:
        lum = eb * torch.sqrt(r * r + g * g + b * b)
    elif method == 5:
        ar, ag, ab = r.abs(), g.abs(), b.abs()
        num = ar * ar * ar + ag * ag * ag + ab * ab * ab
        den = ar * ar + ag * ag + ab * ab
        ok = den > 0.0
        lum = torch.where(ok, eb * num / torch.where(ok, den, torch.ones_like(den)), torch.zeros_like(den))
    else:
        lum = eb * fpow(r.abs() * g.abs() * b.abs(), 1.0 / 3.0)
    out = (lum - fulcrum) * contrast_boost + fulcrum
    if method == 5:  # 0/0: fmaxf(NaN, 2^-16) keeps the floor
        out = torch.where(ok, out, torch.zeros_like(out))
    return torch.clamp(out, min=MIN_FLOAT)


def _gauss(dist: torch.Tensor, denom: torch.Tensor) -> torch.Tensor:
    return torch.exp(-dist * dist / denom)


def rbf_weights(gains_ev: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """pseudo_solve of build_interpolation_matrix: least-squares weights [N, 8] of 8 gaussians fitting the 9 linear
    gains 2^EV, by normal equations and a Cholesky factorization in darktable's order.

    Solved in double: the normal matrix has a condition number near 6e4, so float32 rounding (darktable's, which
    depends on its libm and compiler) moves the curve by ~1e-4; double lands closest to darktable on average."""
    dtype = gains_ev.dtype
    gains_ev, sigma = gains_ev.double(), sigma.double()
    y = torch.exp2(gains_ev)  # [N, 9]
    denom = (2.0 * sigma * sigma).view(-1, 1, 1)
    cp = torch.tensor(CENTERS_PARAMS, dtype=dtype, device=y.device).view(1, 9, 1)
    co = torch.tensor(CENTERS_OPS, dtype=dtype, device=y.device).view(1, 1, 8)
    A = _gauss(cp - co, denom)  # [N, 9, 8]
    n, m = 8, 9
    cols = [A[:, :, i] for i in range(n)]
    rows_y = [y[:, k] for k in range(m)]

    def dot(u, v):
        s = u[:, 0] * v[:, 0]
        for k in range(1, m):
            s = s + u[:, k] * v[:, k]
        return s

    AtA = [[dot(cols[i], cols[j]) if j <= i else None for j in range(n)] for i in range(n)]
    yv = torch.stack(rows_y, 1)
    Aty = [dot(cols[i], yv) for i in range(n)]
    # Cholesky-Banachiewicz, row by row
    L = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = torch.zeros_like(Aty[0])
            for k in range(j):
                s = s + L[i][k] * L[j][k]
            L[i][j] = torch.sqrt(AtA[i][i] - s) if i == j else (AtA[i][j] - s) / L[j][j]
    # L b = A'y, then L' x = b
    b = [None] * n
    for i in range(n):
        s = Aty[i]
        for j in range(i):
            s = s - L[i][j] * b[j]
        b[i] = s / L[i][i]
    x = [None] * n
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(n - 1, i, -1):
            s = s - L[j][i] * x[j]
        x[i] = s / L[i][i]
    return torch.stack(x, 1).to(dtype)


def correction(exposure: torch.Tensor, weights: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Gain at log2 luminance ``exposure`` [N, 1, H, W] (already in [-8, 0]), clamped to [1/4, 4]."""
    denom = (2.0 * sigma * sigma).view(-1, 1, 1, 1)
    result = None
    for i, c in enumerate(CENTERS_OPS):
        term = _gauss(exposure - c, denom) * weights[:, i].view(-1, 1, 1, 1)
        result = term if result is None else result + term
    return torch.clamp(result, 0.25, 4.0)


def _radius(p: Params, ctx: Context) -> torch.Tensor:
    """modify_roi_in: radius of the filter from the diameter in % of the largest side, float maths as in C."""
    max_size = float(max(ctx.width, ctx.height))
    diameter = (p["blending"].to(torch.float32) / 100.0) * max_size * float(ctx.scale)
    half = (diameter - 1.0) / 2.0
    return torch.where(half < 0.0, torch.ceil(half), torch.floor(half)).detach()  # (int) cast


class ToneEqual(RenderModule):
    op = "toneequal"
    space = "rgb"
    static_fields = ("details", "method", "iterations")

    def check(self, values):
        if values["method"] not in range(7):
            raise RenderError(f"toneequal: unknown luminance estimator {values['method']}")
        if values["details"] in (AVG_GUIDED, GUIDED, AVG_EIGF, EIGF) and not 1 <= values["iterations"] <= 64:
            raise RenderError(f"toneequal: {values['iterations']} filter iterations are not rendered here")

    def hints(self, p: Params, ctx: Context) -> dict | None:
        if p.static("details") in (AVG_EIGF, EIGF):
            return {"eigf_scalings": eigf_scalings(_radius(p, ctx))}
        return None

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        details, method, iterations = p.static("details"), p.static("method"), int(p.static("iterations"))
        exposure_boost = torch.exp2(p["exposure_boost"])
        contrast_boost = torch.exp2(p["contrast_boost"]).view(-1, 1, 1, 1)
        feathering = 1.0 / p["feathering"]
        quantization = p["quantization"]

        radius = _radius(p, ctx).to(x.dtype)
        bands = torch.stack([p[b] for b in BANDS], 1)
        sigma = p["smoothing"]
        weights = rbf_weights(bands, sigma)
        graph_barrier()

        if details in (GUIDED, EIGF):
            lum = luminance_mask(x, method, exposure_boost, CONTRAST_FULCRUM, contrast_boost)
        else:
            lum = luminance_mask(x, method, exposure_boost, 0.0, 1.0)
        if details in (AVG_GUIDED, GUIDED):
            lum = fast_surface_blur(lum, radius, feathering, iterations, details == AVG_GUIDED, quantization)
        elif details in (AVG_EIGF, EIGF):
            lum = fast_eigf_surface_blur(
                lum, radius, feathering, iterations, details == AVG_EIGF, quantization, scalings=p.hint("eigf_scalings")
            )

        exposure = torch.clamp(torch.log2(lum), -8.0, 0.0)
        # the LUT holds the curve every 1e-4 EV, indexed with roundf; keep the gradient of the exact curve
        index = torch.floor((exposure + 8.0) * LUT_RESOLUTION + 0.5)
        if torch.compiler.is_compiling():
            # compiled (inference only): build that LUT, 80,001 entries per image, and look the pixels up in it:
            # 8 exponentials per entry instead of per pixel (a 1024 px photo has 7× more pixels than entries)
            grid = torch.arange(LUT_SIZE, dtype=x.dtype, device=x.device) / LUT_RESOLUTION - 8.0
            lut = correction(grid.view(1, 1, 1, -1).expand(x.shape[0], 1, 1, LUT_SIZE), weights, sigma)
            graph_barrier()  # store the table (otherwise inductor folds it back into the per-pixel loop)
            offsets = torch.arange(x.shape[0], device=x.device).view(-1, 1, 1, 1) * LUT_SIZE
            gain = lut.reshape(-1)[index.long() + offsets]
            graph_barrier()  # one look-up per pixel, not one per channel
            return x * gain
        snapped = index / LUT_RESOLUTION - 8.0
        exposure = exposure + (snapped - exposure).detach()
        gain = correction(exposure, weights, sigma)
        return x * gain


MODULE = ToneEqual()
