"""The compact action space: a fixed set of named knobs ("slots") that map to vocabulary operations.

Training data states its target edits as slot values and the compact policy predicts slot values; both turn
them into ordinary operations (docs/architecture.md's action format) with ``to_operations``, so a sidecar never holds
anything the vocabulary could not express. A slot left out (or at its neutral value) writes nothing.

Each slot is one number in the units of the field it drives, except the tone-equalizer knobs (``shadows``,
``highlights``: EV at the centre of the band group, spread over the bands by fixed weights) and the colour
grading knobs (chroma and hue of a shadows/highlights tint). Local slots are ``<knob>@<region>``: the same
module as a separate named instance under a drawn mask for the region.
"""

from __future__ import annotations

from dataclasses import dataclass

from xmp.modules.toneequal import BAND_NAMES as TONE_BANDS

# region → drawn mask (operations.py's mask format); top/bottom/left/right are soft gradients, center an ellipse.
REGIONS = {
    "top": {"type": "gradient", "anchor": [0.5, 0.4], "rotation": 0.0, "compression": 0.35},
    "bottom": {"type": "gradient", "anchor": [0.5, 0.6], "rotation": 180.0, "compression": 0.35},
    "left": {"type": "gradient", "anchor": [0.4, 0.5], "rotation": 90.0, "compression": 0.35},
    "right": {"type": "gradient", "anchor": [0.6, 0.5], "rotation": -90.0, "compression": 0.35},
    "center": {"type": "ellipse", "center": [0.5, 0.5], "radius": [0.3, 0.3], "rotation": 0.0, "border": 0.25},
}

# the weight of each tone knob on the tone equalizer's bands (TONE_BANDS, −8 EV … 0 EV)
TONE_WEIGHTS = {
    "shadows": (0.5, 0.8, 1.0, 1.0, 0.6, 0.2, 0.0, 0.0, 0.0),
    "highlights": (0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.6, 1.0, 1.0),
}


@dataclass(frozen=True)
class Slot:
    name: str
    module: str
    field: str  # the vocabulary field (or a knob name for toneequal / grading)
    lo: float
    hi: float
    neutral: float
    doc: str


GLOBAL_SLOTS = (
    Slot("exposure", "exposure", "exposure", -2.0, 2.0, 0.0, "brightness in stops"),
    Slot(
        "temperature",
        "channelmixerrgb",
        "temperature",
        3000.0,
        9000.0,
        5003.0,
        "white balance: above 5003 K warms, below cools",
    ),
    Slot("tint", "channelmixerrgb", "tint", -0.5, 0.5, 0.0, "tint: + magenta, − green"),
    Slot("contrast", "colorbalancergb", "contrast", -0.6, 0.6, 0.0, "contrast around mid-grey"),
    Slot("vibrance", "colorbalancergb", "vibrance", -0.6, 0.6, 0.0, "vibrance (muted colours first)"),
    Slot("saturation", "colorbalancergb", "saturation_global", -1.0, 0.6, 0.0, "saturation; −1 is greyscale"),
    Slot("shadows", "toneequal", "shadows", -1.5, 1.5, 0.0, "shadows in EV (tone equalizer, dark bands)"),
    Slot("highlights", "toneequal", "highlights", -1.5, 1.0, 0.0, "highlights in EV (tone equalizer, bright bands)"),
    Slot("shadows_tint_chroma", "colorbalancergb", "shadows_C", 0.0, 0.4, 0.0, "colour tint of the shadows"),
    Slot("shadows_tint_hue", "colorbalancergb", "shadows_H", 0.0, 360.0, 0.0, "hue of the shadows tint (°)"),
    Slot("highlights_tint_chroma", "colorbalancergb", "highlights_C", 0.0, 0.4, 0.0, "colour tint of the highlights"),
    Slot("highlights_tint_hue", "colorbalancergb", "highlights_H", 0.0, 360.0, 0.0, "hue of the highlights tint (°)"),
    Slot("clarity", "bilat", "detail", -0.5, 1.0, 0.0, "local contrast; negative softens"),
    Slot("dehaze", "hazeremoval", "strength", -0.5, 0.8, 0.0, "haze removal; negative adds haze"),
    Slot("sharpen", "sharpen", "amount", 0.0, 1.5, 0.0, "unsharp mask amount"),
    Slot("vignette", "vignette", "brightness", -0.8, 0.3, 0.0, "vignette: negative darkens the border"),
)

LOCAL_KNOBS = (
    Slot("exposure", "exposure", "exposure", -1.5, 1.5, 0.0, "brightness of the region in stops"),
    Slot("temperature", "channelmixerrgb", "temperature", 3500.0, 8000.0, 5003.0, "white balance of the region"),
)

LOCAL_SLOTS = tuple(
    Slot(f"{k.name}@{r}", k.module, k.field, k.lo, k.hi, k.neutral, f"{k.doc} ({r})")
    for r in REGIONS
    for k in LOCAL_KNOBS
)

SLOTS = GLOBAL_SLOTS + LOCAL_SLOTS
BY_NAME = {s.name: s for s in SLOTS}
# knobs whose value has no effect while their partner is neutral (a hue without chroma)
HUE_OF = {"shadows_tint_hue": "shadows_tint_chroma", "highlights_tint_hue": "highlights_tint_chroma"}

# fixed settings written with a slot's module (darktable defaults that the slots rely on)
MODULE_BASE = {
    "vignette": {"saturation": 0.0, "scale": 60.0, "falloff_scale": 100.0},
    "hazeremoval": {"distance": 0.5},
    "sharpen": {"radius": 2.0, "threshold": 0.5},
    "bilat": {"sigma_r": 0.5, "sigma_s": 0.5},
}


def is_active(name: str, value: float, tol: float = 1e-3) -> bool:
    slot = BY_NAME[name]
    if name in HUE_OF:
        return False  # written together with its chroma
    return abs(value - slot.neutral) > tol * max(1.0, abs(slot.hi - slot.lo) / 2.0)


def clip(name: str, value: float) -> float:
    slot = BY_NAME[name]
    return min(slot.hi, max(slot.lo, float(value)))


# slot deltas (what the phrase banks and the rule policy speak): added to the slot's neutral value, except the
# white balance (a shift in mired, 1e6 / K; negative = warmer, so the same words are the same visual step at any
# white balance) and the tint hues (absolute degrees)
MIRED_NEUTRAL = 1e6 / 5003.0


def add_deltas(total: dict[str, float], deltas: dict[str, float]) -> None:
    """Add ``deltas`` into ``total`` (a hue replaces: it is absolute)."""
    for k, v in deltas.items():
        total[k] = v if k in HUE_OF else total.get(k, 0.0) + v


def slot_values(deltas: dict[str, float]) -> dict[str, float]:
    """Summed deltas → slot values, clipped, non-neutral only (a hue only with its chroma), in slot order."""
    raw = {}
    for k, v in deltas.items():
        if k.split("@")[0] == "temperature":
            raw[k] = 1e6 / (MIRED_NEUTRAL + v)
        elif k in HUE_OF:
            raw[k] = v % 360.0
        else:
            raw[k] = BY_NAME[k].neutral + v
    out = {}
    for k, v in raw.items():
        v = round(clip(k, v), 4)
        if k in HUE_OF:
            chroma = HUE_OF[k]
            if chroma in raw and is_active(chroma, raw[chroma]):
                out[k] = v
        elif is_active(k, v):
            out[k] = v
    return {k: out[k] for k in sorted(out, key=lambda n: list(BY_NAME).index(n))}


def to_operations(values: dict[str, float]) -> list[dict]:
    """Slot values → operations, one per (module, region), in darktable's usual editing order."""
    unknown = set(values) - set(BY_NAME)
    if unknown:
        raise ValueError(f"unknown slot(s): {', '.join(sorted(unknown))}")
    groups: dict[tuple[str, str | None], dict] = {}
    for slot in SLOTS:
        if slot.name not in values or not is_active(slot.name, values[slot.name]):
            continue
        value = clip(slot.name, values[slot.name])
        region = slot.name.split("@")[1] if "@" in slot.name else None
        params = groups.setdefault((slot.module, region), {})
        if slot.module == "toneequal":
            for band, w in zip(TONE_BANDS, TONE_WEIGHTS[slot.field]):
                if w:
                    params[band] = round(params.get(band, 0.0) + w * value, 4)
        elif slot.field in ("shadows_C", "highlights_C"):
            hue = next(h for h, c in HUE_OF.items() if c == slot.name)
            params[slot.field] = round(value, 4)
            params[slot.field[:-1] + "H"] = round(clip(hue, values.get(hue, 0.0)) % 360.0, 2)
        else:
            params[slot.field] = round(value, 4)
    ops = []
    for (module, region), params in groups.items():
        op = {"module": module, "params": {**MODULE_BASE.get(module, {}), **params}}
        if region is not None:
            op["instance"] = region
            op["mask"] = dict(REGIONS[region])
        ops.append(op)
    return ops


def neutral_values() -> dict[str, float]:
    return {s.name: s.neutral for s in SLOTS}
