"""The keyword rule planner: the baseline the learned policies are compared with.

Hand-written rules, independent of the synthesis banks and blind to their 50 held-out paraphrases (the
"unseen paraphrases" row of the evaluation measures the rules on words they were not written for). The
instruction is cut into clauses; in each, an amount word ("a touch", "a lot", "half a stop") scales the first
rule whose keywords match (a region word turns brighten/darken/warm/cool into a masked edit), caveats ("without
blowing the highlights") add their protection, and named looks map to small presets. Requests that name no change
("fix it", "make it look natural") correct what the measurements show (exposure towards a median L* of 50, a
colour cast, flatness, dull colours).
"""

from __future__ import annotations

import re

import numpy as np

from agent import measure as measure_mod
from agent import slots as slot_space
from agent.errors import instruction as checked_instruction
from agent.policy import EditResult

# amount words → factor on a rule's deltas, longest phrases first
AMOUNTS = (
    ("a tiny bit", 0.35),
    ("a touch", 0.35),
    ("a little", 0.5),
    ("slightly", 0.5),
    ("a bit", 0.6),
    ("subtle", 0.5),
    ("gentle", 0.6),
    ("quite a bit", 1.4),
    ("a lot", 1.8),
    ("much", 1.8),
    ("way", 1.8),
    ("strongly", 1.8),
    ("really", 1.6),
    ("very", 1.6),
    ("strong", 1.4),
    ("bold", 1.4),
    ("heavy", 1.5),
)
STOPS = (
    ("a third of a stop", 0.33),
    ("two thirds of a stop", 0.67),
    ("half a stop", 0.5),
    ("stop and a half", 1.5),
    ("two stops", 2.0),
    ("one stop", 1.0),
    ("a full stop", 1.0),
    ("a stop", 1.0),
)
NUMBER_STOPS = re.compile(r"([+\-−]?\d+(?:\.\d+)?)\s*(?:stops?|ev)\b")

UP = r"(brighten|lighten|lift|raise|bring up|open up|boost|increase|more|brighter|lighter|up)"
DOWN = (
    r"(darken|deepen|lower|reduce|decrease|tone down|pull down|bring down|less|darker|deeper|down|recover|"
    r"bring back)"
)
REGIONS = (
    ("top", r"\b(sky|top|upper)\b"),
    ("bottom", r"\b(foreground|bottom|ground|lower)\b"),
    ("center", r"\b(subject|centre|center|middle)\b"),
    ("left", r"\bleft\b"),
    ("right", r"\bright\b"),
)

# named looks → presets (deltas as in agent/language/banks.py: temperature in mired, negative = warmer)
LOOKS = (
    (r"vintage|retro", {"temperature": -20.0, "saturation": -0.3}),
    (r"golden|sunset", {"temperature": -40.0, "exposure": 0.1}),
    (r"teal", {"contrast": 0.2, "shadows_tint_chroma": 0.1, "shadows_tint_hue": 200.0}),
    (r"cinematic", {"temperature": 35.0, "contrast": 0.2}),
    (r"matte|faded", {"contrast": -0.3, "shadows": 0.5}),
    (r"high[- ]key|airy", {"exposure": 0.6, "shadows": 0.4}),
    (r"low[- ]key|moody", {"exposure": -0.5, "contrast": 0.2}),
    (r"sepia", {"saturation": -1.0, "highlights_tint_chroma": 0.1, "highlights_tint_hue": 60.0}),
    (r"black[- ]and[- ]white|monochrome|b&w|greyscale|grayscale", {"saturation": -1.0}),
    (r"pastel", {"exposure": 0.3, "contrast": -0.3}),
    (r"bleach", {"saturation": -0.5, "contrast": 0.3}),
    (r"blue hour|moonlight|night", {"temperature": 50.0, "exposure": -0.3}),
    (r"dreamy|soft focus", {"clarity": -0.3, "contrast": -0.15}),
    (r"vivid|punchy|vibrant", {"vibrance": 0.3, "contrast": 0.15}),
)

# (keywords, deltas or a slot moved by UP/DOWN words): the first match per clause wins; complaints ("too
# dark") before plain words ("dark")
RULES = (
    (r"too dark|underexposed|exposure is too low", {"exposure": 0.8}),
    (r"too bright|overexposed|exposure is too high", {"exposure": -0.7}),
    (r"too (blue|cold|cool)|blue cast", {"temperature": -40.0}),
    (r"too (yellow|warm|orange)|yellow cast", {"temperature": 40.0}),
    (r"too green|green (cast|tint)", {"tint": 0.2}),
    (r"too (magenta|pink)|(pink|magenta) (cast|tint)", {"tint": -0.2}),
    (r"too (contrasty|harsh)|too much contrast|contrast is too", {"contrast": -0.3}),
    (r"washed out|faded|not enough colou?r|colou?rs (are|look) .*dull", {"saturation": 0.4}),
    (r"flat|dull|lacks contrast|not enough contrast|punch", {"contrast": 0.3}),
    (r"oversaturated|garish|too (strong|saturated)|too much saturation", {"saturation": -0.35}),
    (r"shadows? (are|is) .*(dark|crushed)|see anything", {"shadows": 0.7}),
    (r"highlights? (are|is) .*(bright|blown|hot|washed)|blown", {"highlights": -0.6}),
    (r"haz[ey]|fog|milky", {"dehaze": 0.35}),
    (r"blurry|mushy|lacks detail|soft$", {"clarity": 0.35}),
    (r"shadow|dark (areas|parts)|blacks", "shadows"),  # a slot name: direction from UP/DOWN words
    (r"highlight|bright (areas|parts)", "highlights"),
    (r"soften|softer|smooth", {"clarity": -0.3}),
    (r"sharp|crisp|clarity|detail|texture|local contrast", {"clarity": 0.35, "sharpen": 0.4}),
    (r"contrast", "contrast"),
    (r"saturat|colou?rful|vivid|colou?rs pop|mute|richer colou?r", "saturation"),
    (r"warm|yellow|golden", {"temperature": -35.0}),
    (r"cool|cold|blue", {"temperature": 35.0}),
    (r"magenta|pink", {"tint": 0.15}),
    (r"green", {"tint": -0.15}),
    (r"\bexposure|bright|light|dark|dim", "exposure"),
)
DIRECTIONAL = {
    "shadows": (0.6, -0.5),
    "highlights": (0.4, -0.6),
    "contrast": (0.25, -0.25),
    "saturation": (0.25, -0.3),
    "exposure": (0.6, -0.6),
}  # slot → (up, down) deltas
CAVEATS = (
    (r"(without|don't|do not|but not|never) (blow|blowing|clip)|(keep|protect) the highlights", {"highlights": -0.3}),
    (r"(without|don't|do not) (crush|crushing|lose|losing)|keep the shadow", {"shadows": 0.3}),
)
GENERIC = r"\b(fix|correct|auto|natural|enhance|clean|improve|right)\b"
PROTECTED = (
    "black and white",
    "teal and orange",
    "orange and teal",
    "bright and airy",
    "light and airy",
    "dark and moody",
    "sharp and clean",
)


def _amount(clause: str) -> tuple[float, float | None]:
    """(factor, exposure in stops when said in stops)."""
    m = NUMBER_STOPS.search(clause)
    if m:
        return 1.0, abs(float(m.group(1).replace("−", "-")))
    for words, ev in STOPS:
        if words in clause:
            return 1.0, ev
    for words, factor in AMOUNTS:
        if re.search(rf"\b{words}\b", clause):
            return factor, None
    return 1.0, None


def _direction(clause: str) -> int:
    down = re.search(rf"\b{DOWN}\b", clause)
    up = re.search(rf"\b{UP}\b", clause)
    if down and (not up or down.start() < up.start()):
        return -1
    return 1 if up else 0


def _clause(clause: str) -> dict[str, float]:
    factor, stops = _amount(clause)
    deltas: dict[str, float] = {}
    for pattern, extra in CAVEATS:
        if re.search(pattern, clause):
            deltas.update(extra)
            clause = re.split(r"\b(without|but|don't|do not)\b", clause)[0]
    if re.search(r"vignette|corners|edges", clause):
        sign = 1 if re.search(r"brighten|lighten|white|brighter", clause) else -1
        return {**deltas, "vignette": 0.2 * factor if sign > 0 else -0.4 * factor}
    for region, pattern in REGIONS:
        if re.search(pattern, clause):
            if re.search(r"warm", clause):
                return {**deltas, f"temperature@{region}": -45.0 * factor}
            if re.search(r"cool|blue|cold", clause):
                return {**deltas, f"temperature@{region}": 45.0 * factor}
            sign = _direction(clause)
            if sign:
                return {**deltas, f"exposure@{region}": sign * 0.6 * factor}
    for pattern, preset in LOOKS:
        if re.search(pattern, clause):
            return {
                **deltas,
                **{
                    k: v if k.endswith("_hue") or k == "saturation" and v <= -1 else v * factor
                    for k, v in preset.items()
                },
            }
    for pattern, rule in RULES:
        m = re.search(pattern, clause)
        if not m:
            continue
        if isinstance(rule, str):
            slot = rule
            if slot == "saturation" and re.search(r"mute|desaturate", clause):
                sign = -1
            else:
                sign = _direction(clause) or (-1 if re.search(r"dark|dim", clause) and slot == "exposure" else 1)
            up, down = DIRECTIONAL[slot]
            value = up if sign > 0 else down
            if slot == "exposure" and stops is not None:
                return {**deltas, "exposure": sign * stops}
            return {**deltas, slot: value * factor}
        if "exposure" in rule and stops is not None:
            return {**deltas, "exposure": np.sign(rule["exposure"]) * stops}
        return {**deltas, **{k: v * factor for k, v in rule.items()}}
    if stops is not None:  # "+1 stop", "-0.5 EV"
        return {**deltas, "exposure": -stops if re.search(r"[-−]\s*\d|darker|down", clause) else stops}
    return deltas


def _auto(stats: dict[str, float]) -> dict[str, float]:
    """Corrections from the measurements alone, for "fix it" requests."""
    deltas = {}
    if abs(stats["L_p50"] - 50.0) > 8.0:
        deltas["exposure"] = float(np.clip((50.0 - stats["L_p50"]) / 14.0, -1.5, 1.5))
    cast = stats["b_mean"] - 6.0  # photos of daylight scenes average slightly yellow
    if abs(cast) > 8.0:
        deltas["temperature"] = float(np.clip(cast * 2.0, -70.0, 70.0))
    if abs(stats["a_mean"]) > 8.0:
        deltas["tint"] = float(np.clip(-stats["a_mean"] / 50.0, -0.35, 0.35))
    if stats["contrast"] < 14.0:
        deltas["contrast"] = 0.3
    if stats["chroma"] < 12.0:
        deltas["saturation"] = 0.3
    return deltas


class RulePolicy:
    name = "rules"

    def edit(self, image: np.ndarray, instruction: str, history=None) -> EditResult:
        text = " ".join(checked_instruction(instruction).lower().split())
        for phrase in PROTECTED:  # kept whole while cutting clauses at "and"
            text = text.replace(phrase, phrase.replace(" ", "_"))
        clauses = [c.strip() for c in re.split(r",|;|\.|!|\band\b|\bthen\b|\balso\b", text) if c.strip()]
        stats = measure_mod.measure(image)
        total: dict[str, float] = {}
        matched = False
        for clause in clauses:
            deltas = _clause(clause.replace("_", " "))
            matched |= bool(deltas)
            slot_space.add_deltas(total, deltas)
        if not matched and re.search(GENERIC, text):
            total = _auto(stats)
        values = slot_space.slot_values(total)
        if not values:
            return EditResult(
                f"{measure_mod.describe(stats)} No keyword rule matched the instruction, so nothing is changed.", []
            )
        return EditResult(measure_mod.reasoning(stats, values, "Keyword rules"), slot_space.to_operations(values))
