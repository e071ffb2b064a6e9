"""Synthesis of instruction → reasoning → edit samples in the paper's three task families.

- enhance: the photo is degraded by random slot values (rendered by the torch renderer); the instruction
  complains about the defect or asks generically ("fix the colours"); the target undoes the degradation
  (exposure −d for +d, the white balance mirrored in mired, ...).
- style: a named look scaled by a strength word, and/or direct global adjustments ("warmer and lift the shadows").
- local: masked edits on a region of agent.slots.REGIONS (darken the sky, brighten the subject, a vignette...).

Every sample is checked on its own render: each requested attribute must move the requested way from the input
to the target (agent.measure.directions); a draw that fails is redrawn and counted in the summary, so the
data never asks for something its target does not do. Only slots whose module the torch renderer implements
at run time are used; recipes that need another are skipped and counted.
"""
from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent import slots as slot_space
from agent import measure as measure_mod
from agent.data import split_of
from agent.language import banks, looks

FAMILIES = ("enhance", "style", "local")
UNSEEN_SHARE = 0.5   # of held-out samples, phrased with one of the 50 unseen paraphrases
KEEP_SHARE = 0.03    # of style draws: a request for no change at all (banks.KEEP), answered by no operation
MAX_DRAWS = 30       # redraws of one sample before giving up on its photo


@dataclass
class Part:
    key: str                                   # "intent:brighter", "defect:flat", "look:vintage"
    text: str
    deltas: dict[str, float]
    attributes: dict[str, int]
    degrade: dict[str, float] = field(default_factory=dict)   # enhance: what was done to the photo


@dataclass
class Draw:
    family: str
    parts: list[Part]
    instruction: str
    unseen: bool


class Skip(Exception):
    """A recipe needs a slot whose module the renderer lacks, or cannot be phrased here."""


def available_slots() -> set[str]:
    from darktable_bridge.render.modules import MODULES
    return {s.name for s in slot_space.SLOTS if s.module in MODULES}


def _tidy(text: str) -> str:
    text = " ".join(text.split()).replace(" ,", ",").strip(" ,")
    return text.replace(", ,", ",")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# ----------------------------------------------------------------------------------------------- phrasing

CORE_SHARE = 0.3    # of the phrasings drawn from the hand-written core of a bank,
SHORT_SHARE = 0.1   # from its terse ones ("darker", "a bit warmer", "dehaze it"), the rest from all its phrasings
_SHORT: dict[tuple[str, ...], tuple[str, ...]] = {}


def short_phrases(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The phrasings of at most two words besides the amount: what people type into a panel. Among thousands of
    sentence-length ones they would be drawn too rarely for the policy to learn them (it once ignored "darker")."""
    if phrases not in _SHORT:
        _SHORT[phrases] = tuple(p for p in phrases if len(re.sub(r"\{[abs]\}", " ", p).split()) <= 2)
    return _SHORT[phrases]


def _template(phrases: tuple[str, ...], core: tuple[str, ...], rng: random.Random) -> str:
    r = rng.random()
    if r < CORE_SHARE:
        return rng.choice(core)
    short = short_phrases(phrases)
    return rng.choice(short if short and r < CORE_SHARE + SHORT_SHARE else phrases)


def phrase_intent(intent: banks.Intent, rng: random.Random, template: str | None = None) -> Part:
    template = template or _template(intent.phrases, banks.BASE_PHRASES.get(intent.name, intent.phrases), rng)
    deltas = dict(intent.deltas)
    words = {"a": "", "b": "", "s": ""}
    if intent.stops and ("{a}" in template or "{b}" in template) and rng.random() < 0.35:
        pre, post, ev = rng.choice(banks.STOPS)
        words["a"], words["b"] = pre, post if intent.stops > 0 else post.replace("+", "-")
        deltas = {"exposure": intent.stops * ev}
    else:
        factor = 1.0
        if "{a}" in template or "{b}" in template:
            amount = rng.choice(banks.AMOUNTS)
            words["a"], words["b"], factor = amount.pre, amount.post, amount.factor
        elif "{s}" in template:
            words["s"], factor = rng.choice(banks.STRENGTHS)
        if intent.name != "monochrome":  # black and white has no amount
            deltas = {k: v * factor for k, v in deltas.items()}
    return Part(f"intent:{intent.name}", _tidy(template.format(**words)), deltas, dict(intent.attributes))


def phrase_look(look: looks.Look, rng: random.Random, template: str | None = None) -> Part:
    word, strength = rng.choice(banks.STRENGTHS) if template is None else ("", 1.0)
    if template is None:
        name = f"{word} {rng.choice(look.aliases)}".strip()
        template = rng.choice(banks.LOOK_TEMPLATES)
        text = template.format(look=name, art=_article(name))
    else:
        text = template
    return Part(f"look:{look.name}", _tidy(text), look.values(strength), dict(look.attributes))


def phrase_defect(defect: banks.Defect, rng: random.Random, template: str | None = None) -> Part:
    d = rng.uniform(defect.lo, defect.hi)
    lo, hi = sorted((abs(defect.lo), abs(defect.hi)))
    size = (abs(d) - lo) / (hi - lo)
    adverbs, adjectives = next((a, s) for edge, a, s in banks.DEFECT_WORDS if size < edge)
    template = template or _template(defect.phrases, banks.BASE_DEFECT_PHRASES.get(defect.name, defect.phrases), rng)
    text = template.format(a=rng.choice(adverbs), s=rng.choice(adjectives))
    return Part(f"defect:{defect.name}", _tidy(text), {defect.slot: -d}, dict(defect.attributes), {defect.slot: d})


def _negate(part: Part, rng: random.Random) -> Part:
    """Maybe add a caveat that fits the request ("brighter, without blowing the highlights"); complaints
    ("it's too dark") only take caveats that name what to protect."""
    fits = [n for n in banks.NEGATIONS if all(part.attributes.get(a) == s for a, s in n.when.items())
            and (n.when or not part.degrade)]
    if not fits or rng.random() > 0.25:
        return part
    neg = rng.choice(fits)
    deltas = {k: v * neg.scale for k, v in part.deltas.items()}
    for k, v in neg.deltas.items():
        deltas[k] = deltas.get(k, 0.0) + v
    return Part(part.key, f"{part.text}{rng.choice((' ', ', '))}{rng.choice(neg.phrases)}", deltas,
                part.attributes, part.degrade)


def _compatible(parts: list[Part], new: Part) -> bool:
    used_attr = {a for p in parts for a in p.attributes}
    used_slot = {k for p in parts for k in p.deltas}
    return not (used_attr & set(new.attributes)) and not (used_slot & set(new.deltas))


def _needs(part: Part, available: set[str]) -> None:
    missing = sorted(set(part.deltas) - available)
    if missing:
        raise Skip(f"{part.key} needs {', '.join(missing)}")


def _more(parts: list[Part], pick, n: int, available: set[str]) -> None:
    """Add up to n compatible parts drawn by ``pick``."""
    for _ in range(4 * n):
        if len(parts) >= n:
            return
        part = pick()
        if _compatible(parts, part) and not (set(part.deltas) - available):
            parts.append(part)


def _join(parts: list[Part], rng: random.Random) -> str:
    text = parts[0].text
    for p in parts[1:]:
        text += rng.choice(banks.CONNECTORS) + p.text
    r = rng.random()
    if r < 0.12 and text.split(" ", 1)[0] in IMPERATIVES:
        text = rng.choice(banks.PREFIXES) + text
    elif r < 0.22:
        text += rng.choice(banks.SUFFIXES)
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    if r >= 0.22 and rng.random() < 0.15:
        text += rng.choice((".", "!", " please"))
    return _tidy(text)


# verbs that start the banks' imperative phrasings: a request that starts with one can take "could you …"
IMPERATIVES = frozenset((
    "add", "apply", "boost", "brighten", "bring", "bump", "clear", "compress", "convert", "cool", "correct",
    "counter", "crush", "cut", "darken", "decrease", "deepen", "defog", "dehaze", "desaturate", "dim", "do", "dodge",
    "drop", "ease", "eliminate", "enhance", "enrich", "fix", "flatten", "get", "give", "go", "grade", "highlight",
    "increase", "intensify", "lift", "lighten", "lower", "make", "move", "mute", "open", "pull", "push", "put",
    "raise", "recover", "reduce", "remove", "saturate", "sharpen", "shift", "smooth", "soften", "steepen",
    "strengthen", "take", "tone", "turn", "warm", "weaken", "vignette"))


def draw(family: str, rng: random.Random, available: set[str], unseen: tuple | None = None) -> Draw:
    """One request of a family; ``unseen`` = (kind, name, template) forces the first part's wording."""
    if unseen is not None:
        kind, name, template = unseen
        first = {"intent": lambda: phrase_intent(banks.INTENTS[name], rng, template),
                 "defect": lambda: phrase_defect(banks.DEFECTS[name], rng, template),
                 "look": lambda: phrase_look(looks.LOOKS[name], rng, template)}[kind]()
    style = [i for i in banks.INTENTS.values() if i.family == "style"]
    local = [i for i in banks.INTENTS.values() if i.family == "local"]
    if family == "enhance":
        parts = [first] if unseen else [phrase_defect(rng.choice(list(banks.DEFECTS.values())), rng)]
        _needs(parts[0], available)
        if rng.random() < 0.4:
            _more(parts, lambda: phrase_defect(rng.choice(list(banks.DEFECTS.values())), rng), 2, available)
        kinds = {banks.DEFECTS[p.key.split(":")[1]].kind for p in parts}
        generic = [g for g, covers in banks.GENERIC if kinds <= set(covers)]
        if not unseen and generic and rng.random() < 0.3:
            text = rng.choice(generic)
        else:
            parts[0] = _negate(parts[0], rng)
            text = _join(parts, rng)
        return Draw(family, parts, text, unseen is not None)
    if family == "style":
        if not unseen and rng.random() < KEEP_SHARE:
            return Draw(family, [], rng.choice(banks.KEEP), False)
        r = rng.random()
        if unseen:
            parts = [first]
        elif r < 0.55:
            parts = [phrase_look(rng.choice(list(looks.LOOKS.values())), rng)]
        else:
            parts = [phrase_intent(rng.choice(style), rng)]
        _needs(parts[0], available)
        if unseen:
            n = 1 if r < 0.45 else 2 if r < 0.8 else 3
        else:  # a look mostly alone; an explicit request alone ("darker") as often as with one or two more
            k = rng.random()
            n = (1 if k < 0.8 else 2) if r < 0.55 else (1 if k < 0.35 else 2 if k < 0.7 else 3)
        _more(parts, lambda: phrase_intent(rng.choice(style), rng), n, available)
    else:
        parts = [first] if unseen else [phrase_intent(rng.choice(local), rng)]
        _needs(parts[0], available)
        r = rng.random()
        if r < 0.15:
            _more(parts, lambda: phrase_intent(rng.choice(local), rng), 2, available)
        elif r < 0.3:
            _more(parts, lambda: phrase_intent(rng.choice(style), rng), 2, available)
    parts = [_negate(p, rng) if p.key.startswith("intent:") else p for p in parts]
    return Draw(family, parts, _join(parts, rng), unseen is not None)


# ----------------------------------------------------------------------------------------------- images

def load_photo(path: str | os.PathLike, size: int) -> np.ndarray:
    """A photo as 8-bit sRGB (embedded ICC profiles converted), long side ``size`` (never upscaled)."""
    from PIL import Image

    from darktable_bridge.render.pipe import load_image

    arr = np.round(load_image(path).transpose(1, 2, 0) * 255.0).astype(np.uint8)
    img = Image.fromarray(arr)
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return np.asarray(img)


def render(image: np.ndarray, values: dict[str, float]) -> np.ndarray:
    """uint8 sRGB → uint8 sRGB through the torch renderer, with the slot values' operations."""
    import torch

    from darktable_bridge import apply as apply_mod, operations
    from darktable_bridge.render.renderer import render_torch

    edits = operations.parse_operations({"operations": slot_space.to_operations(values)})
    sidecar, _ = apply_mod.build_sidecar(Path("input.png"), edits, None)
    x = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255.0)[None]
    _, display = render_torch(x, [sidecar])
    return display[0].numpy().transpose(1, 2, 0).astype(np.uint8)


# ----------------------------------------------------------------------------------------------- samples

LEADS = {"enhance": "To fix that", "style": "As asked", "local": "As asked, locally"}


def family_of(unseen: tuple) -> str:
    kind, name, _ = unseen
    return "enhance" if kind == "defect" else "style" if kind == "look" else banks.INTENTS[name].family


def original_name(photo: Path) -> str:
    """Fast mode: the one input image that the photo's style and local samples share."""
    return f"images/original-{photo.stem}.png"


def make_sample(index: int, photo: Path, rng: random.Random, size: int, available: set[str],
                cache: dict, counts: Counter, fast: bool = False) -> tuple[dict, np.ndarray, np.ndarray | None]:
    """One checked sample; ``fast`` skips the target render (target None) and, outside enhance, the check."""
    split = split_of(photo)
    if photo not in cache:
        image = load_photo(photo, size)
        cache[photo] = image, measure_mod.measure(image)
    original, s_orig = cache[photo]
    family = FAMILIES[index % 3]  # families in equal shares
    unseen = None
    if split == "heldout" and rng.random() < UNSEEN_SHARE:
        unseen = rng.choice([u for u in banks.UNSEEN if family_of(u) == family])
    for _ in range(MAX_DRAWS):
        try:
            d = draw(family, rng, available, unseen)
        except Skip as exc:
            counts[f"skipped: {exc}"] += 1
            if unseen is not None:
                raise
            continue
        degrade, fix = {}, {}
        for p in d.parts:
            slot_space.add_deltas(degrade, p.degrade)
            slot_space.add_deltas(fix, p.deltas)
        image = render(original, slot_space.slot_values(degrade)) if degrade else original
        values = slot_space.slot_values(fix)
        if not values and d.parts:  # (a request for no change, banks.KEEP, has no parts and rightly no edit)
            counts["rejected: no edit"] += 1
            continue
        attributes = {k: v for p in d.parts for k, v in p.attributes.items()}
        s0 = measure_mod.measure(image) if degrade else s_orig
        target = None if fast else render(image, values)
        # fast mode checks an enhance sample against the undegraded photo, which its fix restores; style and
        # local requests are taken as drawn (their checks fail mostly on amounts too small to measure)
        after = measure_mod.measure(target) if target is not None else s_orig if degrade else None
        moved = measure_mod.directions(s0, after, attributes) if after is not None else attributes
        wrong = [a for a, want in attributes.items() if moved[a] != want]
        if wrong:
            counts.update(f"rejected: target does not move {a}" for a in wrong)
            continue
        sid = f"{index:06d}"
        sample = {"id": sid, "family": family, "split": split, "photo": str(photo),
                  "input": f"images/{sid}.png" if degrade or not fast else original_name(photo),
                  "target": None if fast else f"targets/{sid}.png", "instruction": d.instruction,
                  "paraphrase": "unseen" if d.unseen else "seen",
                  # which held-out wording, and what it asks by itself (the request may add clauses of the banks)
                  "unseen": {"phrasing": unseen[2], "attributes": sorted(d.parts[0].attributes)} if d.unseen else None,
                  "reasoning": measure_mod.reasoning(s0, values, LEADS[family]),
                  "slots": values, "operations": slot_space.to_operations(values), "attributes": attributes}
        return sample, image, target
    raise Skip(f"no valid sample for {photo.name} after {MAX_DRAWS} draws")


def synth(photos: list[Path], n: int, out: Path, seed: int = 0, size: int = 384, progress=None,
          fast: bool = False) -> dict:
    """Write OUT/samples.jsonl, OUT/images/<id>.png, OUT/targets/<id>.png; returns a summary.

    ``fast`` (training data for the compact policy, which reads only the input): no target images (``target``
    is null), style and local samples share their photo's OUT/images/original-<stem>.png, only enhance inputs
    are rendered, and only enhance samples are checked (against the undegraded photo)."""
    from PIL import Image

    if not photos:
        raise ValueError("no photos (.jpg, .png, .tif) to synthesise from")
    if n < 1 or size < 16:
        raise ValueError("--n must be ≥ 1 and --size ≥ 16")
    available = available_slots()
    (out / "images").mkdir(parents=True, exist_ok=True)
    if not fast:
        (out / "targets").mkdir(parents=True, exist_ok=True)
    counts, cache, lines, written = Counter(), {}, [], set()
    start = time.perf_counter()
    for i in range(n):
        rng = random.Random(f"retouchiq-synth:{seed}:{i}")
        for attempt in range(len(photos)):
            photo = photos[rng.randrange(len(photos))]
            try:
                sample, image, target = make_sample(i, photo, rng, size, available, cache, counts, fast)
                break
            except Skip as exc:
                counts[f"skipped: {exc}"] += 1
        else:
            raise ValueError("could not draw a valid sample from any photo")
        if sample["input"] not in written:
            Image.fromarray(image).save(out / sample["input"])
            if fast and sample["input"].startswith("images/original-"):
                written.add(sample["input"])
        if target is not None:
            Image.fromarray(target).save(out / sample["target"])
        lines.append(json.dumps(sample, ensure_ascii=False))
        counts[f"{sample['family']}/{sample['split']}/{sample['paraphrase']}"] += 1
        if progress:
            progress(i + 1, n)
    tmp = out / ".samples.jsonl.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, out / "samples.jsonl")
    return {"samples": n, "seconds": round(time.perf_counter() - start, 1),
            "unused_slots": sorted(set(slot_space.BY_NAME) - available), "counts": dict(sorted(counts.items()))}
