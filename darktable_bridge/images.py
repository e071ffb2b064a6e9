"""Reading renders and comparing them: PFM/PNG loading, sRGB ↔ linear, CIE Lab, ΔE2000 (as darktable-tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# sRGB (D65) → XYZ, and the Bradford adaptation to D50 used for Lab, as colour-science's sRGB_to_XYZ does
SRGB_TO_XYZ_D65 = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
REC2020_TO_XYZ_D50 = np.array(
    [[0.6734241, 0.1656411, 0.1251286], [0.2790177, 0.6753402, 0.0456377], [-0.0019300, 0.0299784, 0.7973330]]
)
D65 = np.array([0.95047, 1.0, 1.08883])


def read_pfm(path: str | Path) -> np.ndarray:
    """A PFM as float32 [H, W, 3], top row first (PFM stores rows bottom to top)."""
    with open(path, "rb") as fh:
        kind = fh.readline().strip()
        dims = fh.readline().split()
        while len(dims) < 2:
            dims += fh.readline().split()
        w, h = int(dims[0]), int(dims[1])
        scale = float(fh.readline())
        data = np.frombuffer(fh.read(), dtype="<f4" if scale < 0 else ">f4")
    channels = 3 if kind == b"PF" else 1
    img = data[: w * h * channels].reshape(h, w, channels)[::-1]
    return np.repeat(img, 3, axis=2) if channels == 1 else img.astype(np.float32)


def read_image(path: str | Path) -> np.ndarray:
    """8/16-bit image as float [H, W, 3] in [0, 1] (encoded values, not linearised)."""
    with Image.open(path) as im:
        if im.mode in ("I;16", "I;16B", "I"):
            arr = np.asarray(im, dtype=np.float64) / 65535.0
            return np.repeat(arr[..., None], 3, axis=2)
        return np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, None)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def _xyz_to_lab(xyz: np.ndarray, white: np.ndarray) -> np.ndarray:
    t = xyz / white
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Encoded sRGB in [0, 1] → CIE Lab (D65), as darktable-tests' deltae does."""
    return _xyz_to_lab(srgb_to_linear(rgb) @ SRGB_TO_XYZ_D65.T, D65)


def rec2020_to_lab(rgb: np.ndarray) -> np.ndarray:
    """darktable's linear Rec2020 working space (D50) → CIE Lab (D50)."""
    return _xyz_to_lab(rgb @ REC2020_TO_XYZ_D50.T, np.array([0.9642, 1.0, 0.8249]))


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    L1, a1, b1 = np.moveaxis(lab1, -1, 0)
    L2, a2, b2 = np.moveaxis(lab2, -1, 0)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cm = (c1 + c2) / 2
    g = 0.5 * (1 - np.sqrt(cm**7 / (cm**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = L2 - L1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(np.abs(dh) > 180, dh - 360 * np.sign(dh), dh)
    dh = np.where(c1p * c2p == 0, 0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lm, cmp_ = (L1 + L2) / 2, (c1p + c2p) / 2
    hs = h1p + h2p
    hm = np.where(
        c1p * c2p == 0,
        hs,
        np.where(np.abs(h1p - h2p) > 180, np.where(hs < 360, (hs + 360) / 2, (hs - 360) / 2), hs / 2),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hm - 30))
        + 0.24 * np.cos(np.radians(2 * hm))
        + 0.32 * np.cos(np.radians(3 * hm + 6))
        - 0.20 * np.cos(np.radians(4 * hm - 63))
    )
    sl = 1 + 0.015 * (lm - 50) ** 2 / np.sqrt(20 + (lm - 50) ** 2)
    sc = 1 + 0.045 * cmp_
    sh = 1 + 0.015 * cmp_ * t
    rt = -2 * np.sqrt(cmp_**7 / (cmp_**7 + 25.0**7)) * np.sin(np.radians(60 * np.exp(-(((hm - 275) / 25) ** 2))))
    return np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dH / sh) ** 2 + rt * (dc / sc) * (dH / sh))


def delta_e_srgb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return delta_e2000(srgb_to_lab(a), srgb_to_lab(b))
