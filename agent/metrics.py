"""How close a render is to a target render: the pixel metrics of evaluation and the benchmark.

All take two uint8 sRGB images of one shape [H, W, 3]. L1 and L2 are on values in [0, 1] (the RetouchIQ and
JarvisArt tables print L1×100 and L2×1000); ΔE00 as darktable's integration tests measure it (sRGB → Lab → CIEDE2000,
mean over pixels); SSIM on luma (Wang et al. 2004); PSNR on the 8-bit values.
"""

from __future__ import annotations

import math

import numpy as np


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.shape != b.shape:
        raise ValueError(f"images of different shapes {a.shape} and {b.shape}")
    return a[..., :3].astype(np.float64) / 255.0, b[..., :3].astype(np.float64) / 255.0


def l1(a: np.ndarray, b: np.ndarray) -> float:
    x, y = _pair(a, b)
    return float(np.abs(x - y).mean())


def l2(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared difference."""
    x, y = _pair(a, b)
    return float(((x - y) ** 2).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """dB, capped at 100 for identical images."""
    mse = l2(a, b)
    return 100.0 if mse == 0 else min(100.0, 10.0 * math.log10(1.0 / mse))


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    from darktable_bridge.images import delta_e_srgb

    x, y = _pair(a, b)
    return float(delta_e_srgb(x, y).mean())


def _gauss(x: np.ndarray, sigma: float = 1.5, radius: int = 5) -> np.ndarray:
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(x, radius, mode="reflect")
    rows = sum(w * pad[:, i : i + x.shape[1]] for i, w in enumerate(k))
    return sum(w * rows[i : i + x.shape[0], :] for i, w in enumerate(k))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM (Wang et al. 2004: Gaussian σ 1.5, K1 0.01, K2 0.03) of the luma."""
    if a.shape != b.shape:
        raise ValueError(f"SSIM of images of different shapes {a.shape} and {b.shape}")
    luma = np.array([0.299, 0.587, 0.114])
    x, y = a[..., :3].astype(np.float64) @ luma, b[..., :3].astype(np.float64) @ luma
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _gauss(x), _gauss(y)
    vx, vy, cxy = _gauss(x * x) - mx**2, _gauss(y * y) - my**2, _gauss(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s.mean())


def paired_bootstrap(a, b, n: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of the paired differences a − b over cases and its bootstrap interval (cases resampled with
    replacement, ``n`` times): (mean, low, high). The difference is "real" where the interval excludes 0."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if d.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, (n, d.size))].mean(1)
    tail = (1 - level) / 2
    return float(d.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
