"""A request to fix the white balance: the photo's cast says which way and how much, not the words.

A request to correct the white balance names no direction; the network answered it from the words and the
frame's mean colour, and users found it warming and adding magenta to a warm, magenta night photo (issue 22).
What such a request asks for is the colour of the light taken out, so it is measured instead:

- the light's colour is estimated three ways on the linear values of the unclipped pixels, and each of its a*, b*
  is the median of the three: grey world (the mean: fooled by a frame full of one colour, a red door), white
  patch (the mean of the brightest tenth: fooled by a bright coloured object) and shades of grey (Finlayson and
  Trezzi, 2004: the 6-norm, between the two). Of the 24 Kodak photos, daylight scenes all, 18 land inside
  ``NEUTRAL``; the benchmark's sodium-lit bridge at night lands at a* +9, b* +24;
- a light inside ``NEUTRAL`` is no cast: the white balance is left alone (the reasoning says so). Outside it, the
  axis that is out — a* (green-magenta), b* (blue-yellow) or both — is brought towards daylight's slight warmth
  (``DAYLIGHT``) and the other is held where it is;
- most of the difference (``STRENGTH``) is taken out with color calibration's white balance and tint, a little
  being left so that a scene keeps its light (a sunset, lamps at night). Both knobs move both axes (a tint
  towards magenta also makes it bluer), so the two are solved together (Newton's method), on the estimates
  themselves with the module's adaptation taken as von Kries gains
  (``darktable_bridge.modules.channelmixerrgb.adaptation_gains``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from agent import slots as slots_mod
from darktable_bridge.images import linear_to_srgb, srgb_to_lab, srgb_to_linear
from darktable_bridge.modules.channelmixerrgb import adaptation_gains

P = 6  # the norm of shades of grey (1: grey world, ∞: the brightest pixel)
PATCH = 90  # white patch: the pixels above this percentile of luminance
DAYLIGHT = (0.0, 6.0)  # a*, b* of the light in a daylight photo that reads as neutral (slightly warm)
NEUTRAL = ((-8.0, 8.0), (-3.0, 15.0))  # the a* and b* of a light that is no cast (daylight photos vary)
STRENGTH = 0.7  # share of the cast taken out
MOST = 40.0  # the largest white balance shift, in mired (5003 K → 4 169 K or 6 255 K), and tint, ±0.4
LUMA = np.array([0.2126, 0.7152, 0.0722])

_ASKS = re.compile(
    r"\bwhite[- ]?balance\b|\bwb\b|\bcolou?r[- ]cast\b|\bcast\b|\bneutrali[sz]e\b|\bneutral (?:colou?rs?|greys?|grays?"
    r"|whites?|tones?)\b|\bmake the whites? (?:look )?white\b|\bcolou?r temperature\b",
    re.IGNORECASE,
)
_FIX = re.compile(
    r"\b(?:fix|correct|neutrali[sz]e|neutral|remove|get rid of|take out|sort out|repair|adjust|auto|off|wrong|bad"
    r"|weird|make)\b",
    re.IGNORECASE,
)
# a clause that says which way, how far or where is the network's to answer: "remove the magenta cast", "warmer
# white balance", "white balance to 4400 K", "fix the white balance of the sky"
_DIRECTED = re.compile(
    r"\b(?:warm\w*|cool\w*|cold\w*|hot|blue\w*|yellow\w*|orange\w*|amber|golden|magenta\w*|pink\w*|purple\w*|"
    r"green\w*|red\w*|cyan\w*|teal|sky|top|bottom|left|right|cent(?:re|er)|middle|subject|foreground|background|"
    r"shadows?|highlights?|edges?|corners?|border|\d+\s*k)\b",
    re.IGNORECASE,
)


def asks(clause: str) -> bool:
    """Whether a clause asks to correct the white balance without saying which way."""
    return bool(_ASKS.search(clause) and _FIX.search(clause) and not _DIRECTED.search(clause))


def _as_lab(rgb: np.ndarray) -> np.ndarray:
    """a*, b* of a mid grey lit by linear RGB light ``rgb``."""
    y = float(rgb @ LUMA)
    if y <= 1e-6:
        return np.zeros(2)
    return srgb_to_lab(linear_to_srgb(np.clip(rgb / y * 0.18, 0.0, 1.0))[None, None])[0, 0, 1:]


def estimates(image: np.ndarray) -> np.ndarray:
    """The photo's light three ways, [3, 3] linear RGB (uint8 sRGB ``image``); None when nearly all is clipped."""
    lin = srgb_to_linear(np.asarray(image, np.float64)[..., :3].reshape(-1, 3) / 255.0)
    lin = lin[lin.max(axis=1) < 0.98]
    if len(lin) < 16:  # nearly all clipped: the few others say nothing reliable
        return None
    y = lin @ LUMA
    return np.stack(
        [lin.mean(axis=0), lin[y >= np.percentile(y, PATCH)].mean(axis=0), np.mean(lin**P, axis=0) ** (1.0 / P)]
    )


def _seen(lights: np.ndarray, gains: np.ndarray | None = None) -> np.ndarray:
    """a*, b* of the median of the estimates ``lights`` (after ``gains``)."""
    return np.median([_as_lab(e if gains is None else e * gains) for e in lights], axis=0)


@dataclass(frozen=True)
class Correction:
    """The light measured and the white balance that takes most of it out (``values``: slot values, empty when
    the photo has no cast to fix)."""

    a: float
    b: float
    values: dict[str, float]
    limited: tuple[float, float] | None = None  # a*, b* of that grey after the correction, where MOST stopped it

    def reasoning(self) -> str:
        seen = f"a grey under the photo's light measures a* {self.a:+.1f}, b* {self.b:+.1f}"
        if not self.values:
            return f" The white balance is left as it is: {seen}, close enough to neutral daylight."
        how = f"{STRENGTH:.0%} of the difference is taken out"
        if self.limited is not None:
            how = (
                f"the correction is limited to {MOST:.0f} mired and {MOST / 100:.1f} of tint, which takes it to "
                f"a* {self.limited[0]:+.1f}, b* {self.limited[1]:+.1f}, short of {STRENGTH:.0%} of the way"
            )
        return (
            f" For the white balance, the photo's cast is measured rather than guessed: {seen} (daylight: "
            f"a* {DAYLIGHT[0]:+.0f}, b* {DAYLIGHT[1]:+.0f}); {how}."
        )


def _gains(v: np.ndarray) -> np.ndarray:
    """The von Kries gains of a white balance (mired shift from neutral, tint)."""
    return adaptation_gains(1e6 / (slots_mod.MIRED_NEUTRAL + v[0]), v[1])


def _solve(lights: np.ndarray, wanted: np.ndarray, steps: int = 6) -> tuple[float, float]:
    """The white balance (mired shift from neutral, tint) that moves the measured light by ``wanted`` (a*, b*),
    within ``MOST``."""
    target = _seen(lights) + wanted
    x = np.zeros(2)
    most = np.array([MOST, MOST / 100.0])

    def seen(v: np.ndarray) -> np.ndarray:
        return _seen(lights, _gains(v))

    for _ in range(steps):
        now = seen(x)
        jac = np.stack([(seen(x + d) - now) / d.sum() for d in (np.array([2.0, 0.0]), np.array([0.0, 0.02]))], 1)
        try:
            x = x + np.linalg.solve(jac, target - now)
        except np.linalg.LinAlgError:
            break
        x = np.clip(x, -most, most)
    return float(x[0]), float(x[1])


def correction(image: np.ndarray) -> Correction:
    """The white balance that takes most of the photo's cast out (uint8 sRGB ``image``)."""
    lights = estimates(image)
    if lights is None:
        return Correction(0.0, 0.0, {})
    a, b = (float(v) for v in _seen(lights))
    cast = np.array([a - DAYLIGHT[0], b - DAYLIGHT[1]])
    off = np.array([not lo <= v <= hi for v, (lo, hi) in zip((a, b), NEUTRAL)])
    if not off.any():
        return Correction(a, b, {})
    wanted = -STRENGTH * np.where(off, cast, 0.0)
    mired, tint = _solve(lights, wanted)
    after = _seen(lights, _gains(np.array([mired, tint])))
    short = np.abs(after - (np.array([a, b]) + wanted)).max() > 0.5  # a* or b* more than half a unit off
    limited = (float(after[0]), float(after[1])) if short else None
    return Correction(a, b, slots_mod.slot_values({"temperature": mired, "tint": tint}), limited)
