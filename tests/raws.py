"""Synthetic DNG raw files for the tests: a licensed photo turned back into a Bayer mosaic as a camera would
record it, with what darktable's raw reader needs — colour matrix, as-shot neutral, black and white levels.

The camera's colour space is linear sRGB scaled per channel by ``gains`` (the sensor's sensitivities): its
ColorMatrix1 (XYZ → camera, D65) is therefore diag(gains) · XYZ→linear sRGB and a white object reads ``gains``,
the as-shot neutral. darktable develops it with its default raw workflow like any camera's DNG.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

XYZ_TO_LINEAR_SRGB = np.array(
    [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560], [0.0556434, -0.2040259, 1.0572252]]
)
ILLUMINANT_D65 = 21  # EXIF LightSource


def _rationals(values) -> list[int]:
    out = []
    for v in values:
        f = Fraction(float(v)).limit_denominator(100000)
        out += [f.numerator, f.denominator]
    return out


def make_dng(
    photo: str | Path,
    path: str | Path,
    side: int = 600,
    gains: tuple[float, float, float] = (0.55, 1.0, 0.75),
    exposure: float = 0.45,
    black: int = 512,
    white: int = 15000,
    colour_matrix: bool = True,
) -> Path:
    """``photo`` (an sRGB image) as an RGGB mosaic DNG at ``path``, long side ``side``; ``exposure`` scales the
    scene under the white level (a camera exposing for the highlights leaves the photo darker than its JPEG)."""
    import tifffile

    with Image.open(photo) as im:
        im = im.convert("RGB")
        im.thumbnail((side, side))
        rgb = np.asarray(im, dtype=np.float64) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    h, w = linear.shape[0] // 2 * 2, linear.shape[1] // 2 * 2
    camera = linear[:h, :w] * np.array(gains) * exposure
    mosaic = np.empty((h, w))
    mosaic[0::2, 0::2] = camera[0::2, 0::2, 0]  # R G
    mosaic[0::2, 1::2] = camera[0::2, 1::2, 1]  # G B
    mosaic[1::2, 0::2] = camera[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = camera[1::2, 1::2, 2]
    raw = np.clip(np.round(black + mosaic * (white - black)), 0, 65535).astype(np.uint16)
    tags = [
        (271, "s", 0, "RetouchIQ", True),  # Make
        (272, "s", 0, "Synthetic DNG", True),  # Model
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "RetouchIQ Synthetic DNG", True),  # UniqueCameraModel
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, "H", 1, 1, True),  # CFALayout: rectangular
        (50714, "I", 1, black, True),  # BlackLevel
        (50717, "I", 1, white, True),  # WhiteLevel
        (50728, "2I", 3, _rationals(gains), True),  # AsShotNeutral
    ]
    if colour_matrix:
        matrix = np.diag(gains) @ XYZ_TO_LINEAR_SRGB
        tags += [
            (50721, "2i", 9, _rationals(matrix.ravel()), True),  # ColorMatrix1
            (50778, "H", 1, ILLUMINANT_D65, True),  # CalibrationIlluminant1
        ]
    path = Path(path)
    tifffile.imwrite(path, raw, photometric=32803, subfiletype=0, extratags=tags, metadata=None)  # 32803: CFA
    return path
