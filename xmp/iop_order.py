"""darktable's default pipe orders (src/common/iop_order.c), as data.

The list order is what counts. v3.0 JPEG (iop_order_version 3) differs from v3.0 RAW (2) only in
``colorin`` following ``demosaic``, so that exposure, tone equalizer, graduated density and haze removal
work on linear data for non-raw input. The v3.0 lists are darktable 4.2.1's. darktable 5.0 gives new photos
the v5.0 orders (RAW 4, JPEG 5): the v3.0 ones with ``finalscale`` moved from after ``colorout`` to just before
it, and the modules added since 4.2 in their places (``rasterfile``, ``enlargecanvas``, ``overlay``,
``primaries``, ``colorequal``, ``agx``); darktable 4.2 passes over names it does not know in a list.
"""

from __future__ import annotations

from .errors import SidecarError

CUSTOM, LEGACY, V30_RAW, V30_JPG, V50_RAW, V50_JPG = 0, 1, 2, 3, 4, 5

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


# modules darktable added after 4.2, each right after the one it follows in darktable 5's lists
_ADDED_AFTER_4_2 = (
    ("rasterfile", "temperature"),
    ("enlargecanvas", "flip"),
    ("overlay", "enlargecanvas"),
    ("primaries", "blurs"),
    ("colorequal", "colorbalance"),
    ("agx", "sigmoid"),
)


def _v50(v30: tuple[str, ...]) -> tuple[str, ...]:
    order = [op for op in v30 if op != "finalscale"]
    order.insert(order.index("colorout"), "finalscale")
    for op, after in _ADDED_AFTER_4_2:
        order.insert(order.index(after) + 1, op)
    return tuple(order)


V50_JPG_ORDER = _v50(V30_JPG_ORDER)
V50_RAW_ORDER = _v50(V30_RAW_ORDER)
_ORDERS = {V30_JPG: V30_JPG_ORDER, V30_RAW: V30_RAW_ORDER, V50_JPG: V50_JPG_ORDER, V50_RAW: V50_RAW_ORDER}
RAW_ORDERS = (V30_RAW, V50_RAW)  # exposure & co. before colorin: for raws only


def default_order(version: int) -> list[tuple[str, int]]:
    if version not in _ORDERS:
        raise SidecarError(
            f"module order version {version} has no built-in list here (v3.0 and v5.0, RAW and JPEG, are known)"
        )
    return [(op, 0) for op in _ORDERS[version]]
