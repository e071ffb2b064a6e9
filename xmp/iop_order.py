"""darktable 4.2.1's default pipe orders (src/common/iop_order.c), as data.

The list order is what counts. v3.0 JPEG (iop_order_version 3) differs from v3.0 RAW (2) only in
``colorin`` following ``demosaic``, so that exposure, tone equalizer, graduated density and haze removal
work on linear data for non-raw input.
"""

from __future__ import annotations

from .errors import SidecarError

CUSTOM, LEGACY, V30_RAW, V30_JPG = 0, 1, 2, 3

V30_JPG_ORDER = (
    "rawprepare",
    "invert",
    "temperature",
    "highlights",
    "cacorrect",
    "hotpixels",
    "rawdenoise",
    "demosaic",
    "colorin",
    "denoiseprofile",
    "bilateral",
    "rotatepixels",
    "scalepixels",
    "lens",
    "cacorrectrgb",
    "hazeremoval",
    "ashift",
    "flip",
    "clipping",
    "liquify",
    "spots",
    "retouch",
    "exposure",
    "mask_manager",
    "tonemap",
    "toneequal",
    "crop",
    "graduatednd",
    "profile_gamma",
    "equalizer",
    "channelmixerrgb",
    "diffuse",
    "censorize",
    "negadoctor",
    "blurs",
    "nlmeans",
    "colorchecker",
    "defringe",
    "atrous",
    "lowpass",
    "highpass",
    "sharpen",
    "colortransfer",
    "colormapping",
    "channelmixer",
    "basicadj",
    "colorbalance",
    "colorbalancergb",
    "rgbcurve",
    "rgblevels",
    "basecurve",
    "filmic",
    "sigmoid",
    "filmicrgb",
    "lut3d",
    "colisa",
    "tonecurve",
    "levels",
    "shadhi",
    "zonesystem",
    "globaltonemap",
    "relight",
    "bilat",
    "colorcorrection",
    "colorcontrast",
    "velvia",
    "vibrance",
    "colorzones",
    "bloom",
    "colorize",
    "lowlight",
    "monochrome",
    "grain",
    "soften",
    "splittoning",
    "vignette",
    "colorreconstruct",
    "colorout",
    "clahe",
    "finalscale",
    "overexposed",
    "rawoverexposed",
    "dither",
    "borders",
    "watermark",
    "gamma",
)

# v3.0 RAW: the same list with colorin after equalizer (before channelmixerrgb), as darktable's v30_order[]
V30_RAW_ORDER = tuple(op for op in V30_JPG_ORDER if op != "colorin")
V30_RAW_ORDER = (
    V30_RAW_ORDER[: V30_RAW_ORDER.index("equalizer") + 1]
    + ("colorin",)
    + V30_RAW_ORDER[V30_RAW_ORDER.index("equalizer") + 1 :]
)


def default_order(version: int) -> list[tuple[str, int]]:
    if version == V30_JPG:
        return [(op, 0) for op in V30_JPG_ORDER]
    if version == V30_RAW:
        return [(op, 0) for op in V30_RAW_ORDER]
    raise SidecarError(
        f"module order version {version} has no built-in list here (only v3.0 RAW and v3.0 JPEG are known)"
    )
