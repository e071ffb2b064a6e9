"""Photo statistics in CIE Lab, and whether an edit moved each requested attribute the requested way.

``measure`` feeds three readers: the reasoning text of the training data ("median L* 31, a cool cast"), the
compact policy (as image features) and the evaluation, which calls ``directions(before, after)`` on the input
and darktable-cli's render of the policy's edit.

Regions follow the masks of ``agent.slots.REGIONS``: thirds of the frame for top/bottom/left/right and the
central ellipse (radius 0.3 of each side) for center.
"""

from __future__ import annotations

import re

import numpy as np

from darktable_bridge.images import srgb_to_lab, srgb_to_linear

REGION_NAMES = ("top", "bottom", "left", "right", "center")
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
MAX_SIDE = 512  # statistics of a larger photo are taken on a downscaled copy (they barely change)

# attribute → (statistic, threshold, relative): a move counts when |Δ| ≥ max(threshold, relative·|before|).
# 0.5 L* (or a*, b*, C*) as a mean over the frame is a fifth of a just-noticeable difference (ΔE 2.3): small
# enough that "a touch" registers, large enough that the rounding of an 8-bit render (±0.1) never does.
ATTRIBUTES = {
    "brightness": ("L_mean", 0.5, 0.0),
    "warmth": ("b_mean", 0.5, 0.0),
    "tint": ("a_mean", 0.5, 0.0),
    "saturation": ("chroma", 0.5, 0.02),
    "contrast": ("contrast", 0.5, 0.0),
    "shadows": ("L_p10", 0.5, 0.0),
    "highlights": ("L_p90", 0.5, 0.0),
    "detail": ("detail", 0.0, 0.03),
}
# Region attributes compare the region's change with the rest of the frame's, on scales where a global
# edit moves every pixel alike: exposure in EV (log2 of linear luminance), white balance in log2(R/B) of
# linear RGB. Without clipping a global "+1 EV" then leaves "brightness@top" at 0 (in L* it would not: dark
# areas gain fewer L* than bright ones); clipped or strongly tone-mapped frames still shift, so a global edit
# can pass or fail a local request by chance. 0.07 EV and 0.05 log2(R/B): what "a touch" does locally.
REGION_THRESHOLD = {"brightness": 0.07, "warmth": 0.05}
REGION_STAT = {"brightness": "ev", "warmth": "rb"}
FLOOR = 1 / 256  # linear floor before logs: 8-bit noise in the darkest pixels must not dominate
ATTRIBUTE_NAMES = tuple(ATTRIBUTES) + tuple(f"{a}@{r}" for a in REGION_STAT for r in REGION_NAMES)


def _downscale(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    step = int(np.ceil(max(h, w) / MAX_SIDE))
    if step <= 1:
        return image
    h2, w2 = h // step * step, w // step * step  # box filter: exact and dependency-free
    return image[:h2, :w2].reshape(h2 // step, step, w2 // step, step, -1).mean(axis=(1, 3))


def region_masks(h: int, w: int) -> dict[str, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w]
    yn, xn = (y + 0.5) / h, (x + 0.5) / w
    return {
        "top": yn < 1 / 3,
        "bottom": yn >= 2 / 3,
        "left": xn < 1 / 3,
        "right": xn >= 2 / 3,
        "center": ((xn - 0.5) / 0.3) ** 2 + ((yn - 0.5) / 0.3) ** 2 <= 1.0,
    }


def lab_of(image: np.ndarray) -> np.ndarray:
    """uint8 (or float in [0, 1]) sRGB [H, W, 3] → Lab (D65) float64, downscaled to ≤ MAX_SIDE."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] < 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {image.shape}")
    return srgb_to_lab(_srgb(image))


def _srgb(image: np.ndarray) -> np.ndarray:
    rgb = image[..., :3].astype(np.float64)
    if image.dtype == np.uint8:
        rgb /= 255.0
    return _downscale(rgb)


def measure(image: np.ndarray) -> dict[str, float]:
    """Statistics of an sRGB photo: L* percentiles and mean, colour cast, chroma, contrast, detail, regions."""
    lab = lab_of(image)
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    lin = np.maximum(srgb_to_linear(_srgb(np.asarray(image))), FLOOR)
    ev = np.log2(lin @ np.array([0.2126, 0.7152, 0.0722]))
    rb = np.log2(lin[..., 0] / lin[..., 2])
    stats = {f"L_p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(L, PERCENTILES))}
    lap = (
        np.abs(4 * L[1:-1, 1:-1] - L[:-2, 1:-1] - L[2:, 1:-1] - L[1:-1, :-2] - L[1:-1, 2:])
        if min(L.shape) > 2
        else np.zeros(1)
    )
    stats.update(
        L_mean=float(L.mean()),
        a_mean=float(a.mean()),
        b_mean=float(b.mean()),
        chroma=float(np.hypot(a, b).mean()),
        contrast=float(L.std()),
        detail=float(lap.mean()),
        clipped_white=float((L > 98.0).mean()),
        clipped_black=float((L < 2.0).mean()),
    )
    for name, mask in region_masks(*L.shape).items():
        if not mask.any():  # a frame a few pixels wide: the region is the whole frame
            mask = np.ones_like(mask)
        rest = ~mask if (~mask).any() else mask
        for stat, ch in (("L", L), ("b", b), ("ev", ev), ("rb", rb)):
            stats[f"{stat}@{name}"] = float(ch[mask].mean())
            if stat in ("ev", "rb"):
                stats[f"{stat}@not_{name}"] = float(ch[rest].mean())
    return stats


def _stats(x) -> dict[str, float]:
    return x if isinstance(x, dict) else measure(x)


def directions(before, after, attributes=None) -> dict[str, int]:
    """For each attribute (default: all), +1 / −1 if it moved up / down by a meaningful amount, else 0.

    ``before``/``after`` are images or ``measure`` dicts. Region attributes ("brightness@top") compare the
    region's change with the change of the rest of the frame (in EV / log2 R/B, see REGION_THRESHOLD), so a
    global edit does not count as a local one.
    """
    s0, s1 = _stats(before), _stats(after)
    out = {}
    for attr in attributes if attributes is not None else ATTRIBUTE_NAMES:
        if "@" in attr:
            kind, region = attr.split("@", 1)
            if kind not in REGION_STAT or region not in REGION_NAMES:
                raise ValueError(f"unknown attribute '{attr}'")
            st = REGION_STAT[kind]
            delta = (s1[f"{st}@{region}"] - s0[f"{st}@{region}"]) - (
                s1[f"{st}@not_{region}"] - s0[f"{st}@not_{region}"]
            )
            threshold = REGION_THRESHOLD[kind]
        else:
            if attr not in ATTRIBUTES:
                raise ValueError(f"unknown attribute '{attr}' (known: {', '.join(ATTRIBUTE_NAMES)})")
            key, absolute, relative = ATTRIBUTES[attr]
            delta = s1[key] - s0[key]
            threshold = max(absolute, relative * abs(s0[key]))
        out[attr] = 0 if abs(delta) < threshold else (1 if delta > 0 else -1)
    return out


def describe(stats: dict[str, float]) -> str:
    """One or two sentences of measured facts about the photo, for reasoning texts."""
    med, lo, hi = stats["L_p50"], stats["L_p5"], stats["L_p95"]
    level = (
        "very dark"
        if med < 25
        else "dark"
        if med < 40
        else "very bright"
        if med > 80
        else "bright"
        if med > 68
        else "mid-toned"
    )
    a, b = stats["a_mean"], stats["b_mean"]
    casts = []
    if b > 8:
        casts.append("warm/yellow")
    elif b < -4:
        casts.append("cool/blue")
    if a > 6:
        casts.append("magenta")
    elif a < -6:
        casts.append("green")
    cast = (
        f"a {' and '.join(casts)} cast (mean a* {round(a):+d}, b* {round(b):+d})"
        if casts
        else f"no strong colour cast (mean a* {round(a):+d}, b* {round(b):+d})"
    )
    chroma = stats["chroma"]
    colour = "muted" if chroma < 12 else "vivid" if chroma > 35 else "moderately saturated"
    contrast = "flat" if stats["contrast"] < 14 else "contrasty" if stats["contrast"] > 28 else "normal contrast"
    regions = sorted(REGION_NAMES, key=lambda r: stats[f"L@{r}"])
    text = (
        f"The frame is {level} (median L* {med:.0f}, 5–95 % range {lo:.0f}–{hi:.0f}) with {cast}; colours "
        f"are {colour} (mean chroma {chroma:.0f}), {contrast} (L* std {stats['contrast']:.0f}). "
        f"The brightest area is the {regions[-1]} (L* {stats['L@' + regions[-1]]:.0f}), the darkest the "
        f"{regions[0]} (L* {stats['L@' + regions[0]]:.0f})."
    )
    if stats["clipped_white"] > 0.02:
        text += f" {100 * stats['clipped_white']:.0f} % of the pixels are blown out."
    if stats["clipped_black"] > 0.02:
        text += f" {100 * stats['clipped_black']:.0f} % are crushed to black."
    return text


REGION_WORDS = {
    "top": "top (the sky)",
    "bottom": "bottom (the foreground)",
    "center": "centre (the subject)",
    "left": "left side",
    "right": "right side",
}


def _why(name: str, v: float, values: dict[str, float], s: dict[str, float]) -> str | None:
    """Why one slot value, in words and measured facts."""
    up = v > 0
    if "@" in name:
        knob, region = name.split("@")
        if knob == "exposure":
            return (
                f"exposure {v:+.2f} EV under a {region} mask {'brightens' if up else 'darkens'} the "
                f"{REGION_WORDS[region]} (now L* {s['L@' + region]:.0f})"
            )
        return (
            f"color calibration {v:.0f} K under a {region} mask {'warms' if v > 5003 else 'cools'} the "
            f"{REGION_WORDS[region]} (now b* {round(s['b@' + region]):+d})"
        )
    if name == "exposure":
        return f"exposure {v:+.2f} EV {'brightens' if up else 'darkens'} the whole frame (median L* {s['L_p50']:.0f})"
    if name == "temperature":
        return (
            f"color calibration white balance {v:.0f} K (neutral 5003 K) {'warms' if v > 5003 else 'cools'} the "
            f"colours (mean b* {round(s['b_mean']):+d})"
        )
    if name == "tint":
        return (
            f"color calibration tint {v:+.2f} pushes the colours towards {'magenta' if up else 'green'} "
            f"(mean a* {round(s['a_mean']):+d})"
        )
    if name == "contrast":
        return (
            f"color balance rgb contrast {v:+.2f} {'adds' if up else 'takes away'} contrast around mid-grey "
            f"(L* std {s['contrast']:.0f})"
        )
    if name == "vibrance":
        return (
            f"color balance rgb vibrance {v:+.2f} {'boosts' if up else 'mutes'} the muted colours first "
            f"(mean chroma {s['chroma']:.0f})"
        )
    if name == "saturation":
        if v <= -0.99:
            return "color balance rgb saturation −1 removes all colour"
        return (
            f"color balance rgb saturation {v:+.2f} {'strengthens' if up else 'weakens'} every colour "
            f"(mean chroma {s['chroma']:.0f})"
        )
    if name == "shadows":
        return (
            f"tone equalizer shadows {v:+.2f} EV {'lifts' if up else 'deepens'} the dark tones "
            f"(10th percentile L* {s['L_p10']:.0f}) and leaves the highlights alone"
        )
    if name == "highlights":
        return (
            f"tone equalizer highlights {v:+.2f} EV {'brightens' if up else 'tones down'} the bright tones "
            f"(90th percentile L* {s['L_p90']:.0f})"
        )
    if name in ("shadows_tint_chroma", "highlights_tint_chroma"):
        part = name.split("_")[0]
        hue = values.get(f"{part}_tint_hue", 0.0)
        return f"color balance rgb tints the {part} towards hue {hue:.0f}° (chroma {v:.2f})"
    if name == "clarity":
        return f"local contrast {v:+.2f} {'brings out' if up else 'softens'} texture (detail {s['detail']:.1f})"
    if name == "dehaze":
        return f"haze removal {v:+.2f} {'clears' if up else 'adds'} haze"
    if name == "sharpen":
        return f"sharpen {v:.2f} crisps the edges"
    if name == "vignette":
        centre = "recedes" if up else "stands out"
        return f"vignetting {v:+.2f} {'brightens' if up else 'darkens'} the borders so the centre {centre}"
    return None  # tint hues are told with their chroma


# a measurement in parentheses, as ``describe`` and ``_why`` write them: "(median L* 36, 5–95 % range 15–93)"
_MEASURED = re.compile(r" \((?:[^()]*?(?:L\*|a\*|b\*|chroma|std|percentile|neutral|detail|now ))[^()]*\)")


def plain(text: str) -> str:
    """The reasoning in a photographer's words: what was seen and what was done, without the measurements behind
    it (those stay in the full reasoning: ``--verbose``, the JSON, the plugin's "show measurements")."""
    return _MEASURED.sub("", text)


def reasoning(stats: dict[str, float], values: dict[str, float], lead: str = "As asked") -> str:
    """Measured facts, then one clause per slot (agent.slots names) saying what it does and why."""
    clauses = [c for c in (_why(k, v, values, stats) for k, v in values.items()) if c]
    if not clauses:
        return f"{describe(stats)} {lead}: nothing to change."
    return f"{describe(stats)} {lead}: {'; '.join(clauses)}."
