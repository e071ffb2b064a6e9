"""The compact policy: a small network that ships inside the package and runs on a CPU in tens of milliseconds.

Inputs: the instruction as a MiniLM sentence embedding (``text.py``, clause by clause), the photo as frame-wide
statistics of ``agent.measure`` (L* percentiles, colour cast, chroma, contrast, clipping, detail). An MLP
trunk answers each clause (with its amount words as numbers, ``amounts.py``) on its own, for every slot of
``agent/slots.py``: an activation logit (is this knob used) and a Gaussian (mean, log-std) over its value mapped to
[-1, 1] across the slot's [lo, hi] range, so RL can sample edits later; the clauses' answers are combined per slot.
Decoding takes the active slots' means; ``to_operations`` turns them into vocabulary operations.

The network is defined and trained in torch (``compact_net.py``, ``agent/train/sft_compact.py``) and ships as an
ONNX graph (``weights/compact.onnx``) that runs here with onnxruntime: an edit imports neither torch nor
transformers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent import slots as slots_mod
from agent.errors import PolicyError
from agent.errors import instruction as checked_instruction
from agent.policy import EditResult, known_words, limits

WEIGHTS = Path(__file__).resolve().parent / "weights" / "compact.onnx"
SLOT_NAMES = tuple(s.name for s in slots_mod.SLOTS)
KNOBS = tuple(i for i, name in enumerate(SLOT_NAMES) if name not in slots_mod.HUE_OF)  # hues go with their chroma
WORK_SIDE = 128  # the policy judges the photo at this long side (training images are reduced the same way)
ACTIVE = 0.5  # activation probability above which a knob is used
FALLBACK = 0.2  # a request that clears no knob gets its likeliest one if at least this likely (see decode)
BALANCE_SLOTS = ("temperature", "tint")  # what a request to fix the white balance sets (balance.py)


# the photo statistics the policy reads: frame-wide tone and colour. Per-region statistics and a thumbnail CNN were
# tried and dropped: with 22 training photos they let the network recognise the photo instead of reading the
# request (held-out activation recall 0.78 from the text alone, 0.57 with a 32 px CNN and all 47 statistics)
# the ONNX graph's inputs and outputs (agent/policy/compact_net.py exports it; a configuration reads what it needs)
INPUTS = ("text", "stats", "clauses", "mask", "amounts")
OUTPUTS = ("logit", "mean", "log_std", "clause_logit")

STATS = (
    "L_p5",
    "L_p10",
    "L_p50",
    "L_p90",
    "L_p95",
    "L_mean",
    "a_mean",
    "b_mean",
    "chroma",
    "contrast",
    "clipped_white",
    "clipped_black",
    "detail",
)


# ---- photo features -------------------------------------------------------------------------------------------


def work_image(image: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] (or [H, W] greyscale) → uint8 RGB with long side ≤ WORK_SIDE."""
    from PIL import Image

    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise PolicyError(f"expected an 8-bit RGB image [H, W, 3], got {image.dtype} {list(image.shape)}")
    if min(image.shape[:2]) < 2:
        raise PolicyError(f"the image is too small to judge ({image.shape[1]}×{image.shape[0]} pixels)")
    image = image[..., :3]
    h, w = image.shape[:2]
    if max(h, w) <= WORK_SIDE:
        return np.ascontiguousarray(image)
    scale = WORK_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR, reducing_gap=2.0))


def features(image: np.ndarray) -> dict:
    """The photo as the policy sees it: measure() statistics of the 128 px working copy."""
    from agent.measure import measure

    return measure(work_image(image))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---- slot values ↔ network units ------------------------------------------------------------------------------


def to_unit(name: str, value: float) -> float:
    s = slots_mod.BY_NAME[name]
    return 2.0 * (slots_mod.clip(name, value) - s.lo) / (s.hi - s.lo) - 1.0


def from_unit(name: str, u: float) -> float:
    s = slots_mod.BY_NAME[name]
    return s.lo + (min(1.0, max(-1.0, float(u))) + 1.0) / 2.0 * (s.hi - s.lo)


def decode(prob: np.ndarray, mean: np.ndarray, fallback: float = 0.0) -> dict[str, float]:
    """Per-slot activation probabilities and unit means → slot values (only the knobs that are used).

    ``fallback`` > 0: when no knob clears ``ACTIVE`` — a generic "fix it" spreads its probability over the knobs
    a degraded photo may need — the likeliest knob is used if its probability reaches ``fallback``. Requests for
    no change (banks.KEEP) are trained to stay below it."""
    used = [i for i in KNOBS if prob[i] > ACTIVE]
    if not used and fallback > 0:
        best = max(KNOBS, key=lambda i: prob[i])
        used = [best] if prob[best] >= fallback else []
    values = {SLOT_NAMES[i]: round(from_unit(SLOT_NAMES[i], mean[i]), 4) for i in used}
    for hue, chroma in slots_mod.HUE_OF.items():
        if chroma in values:  # a hue means something only with its chroma
            values[hue] = round(from_unit(hue, mean[SLOT_NAMES.index(hue)]), 2)
    return values


# parts of a request that are not requests of their own: caveats ("but keep it natural") and a "fix it" after a
# description ("it's too warm, fix it"), which the description's answer answers
_NOT_OWN = re.compile(
    r"^(?:(?:but|without|don't|do not|not|no|keep|leave|except)\b"
    r"|(?:(?:can|could) you |please )?(?:fix|correct|improve|repair|sort out|clean)"
    r"(?: (?:it|them|that|this))?(?: up)?(?:,? (?:but|without)\b.*)?[\s?!.]*$)",
    re.IGNORECASE,
)


# ---- the policy -----------------------------------------------------------------------------------------------


@dataclass
class Prediction:
    """The network's answer for one photo: per slot activation probability, unit mean and std."""

    stats: dict
    prob: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    recognised: bool = True  # False: no word of the request is one the policy was trained on (known_words.py)
    clauses: tuple[str, ...] = ()  # the clauses as read (text.clause_keys), at most MAX_CLAUSES
    clause_known: tuple[bool, ...] = ()  # per clause: has a word the policy was trained on
    clause_prob: np.ndarray | None = None  # per clause and slot, the clause's own activation probability
    clause_limits: tuple[str | None, ...] = ()  # per clause: why the policy has no tool for it (limits.py), or None
    balance: object = None  # balance.Correction where a clause asks to fix the white balance without saying how
    balance_clauses: tuple[int, ...] = ()  # those clauses

    def values(self) -> dict[str, float]:
        values = decode(self.prob, self.mean, FALLBACK)
        if not self.balance_applies():
            return values
        # the measured cast, not the network, answers the white balance (balance.py)
        values = {k: v for k, v in values.items() if k not in BALANCE_SLOTS} | self.balance.values
        return {k: values[k] for k in SLOT_NAMES if k in values}

    def balance_applies(self) -> bool:
        """Whether the measured cast answers the white balance: a clause asks to fix it without saying how, and no
        other clause asks for a white balance or tint of its own ("…, cool toward neutral": that one decides)."""
        if self.balance is None:
            return False
        if self.clause_prob is None:
            return True
        cols = [SLOT_NAMES.index(k) for k in BALANCE_SLOTS]
        return not any(
            (self.clause_prob[j, cols] > ACTIVE).any()
            for j in range(len(self.clause_prob))
            if j not in self.balance_clauses
        )

    def unanswered(self, values: dict[str, float]) -> list[tuple[str, bool]]:
        """The clauses of a request of several that no knob of ``values`` answers, as (clause, recognised): a
        knob answers the clauses that ask for it with probability above ``ACTIVE`` (a knob taken by the
        fallback, the clause that asks for it most). Caveats and a "fix it" after a description are not requests
        of their own (``_NOT_OWN``); an edit that changes nothing says so as a whole."""
        if len(self.clauses) < 2 or self.clause_prob is None or not values:
            return []
        answered: set[int] = set(self.balance_clauses if self.balance_applies() else ())
        for name in values:
            i = SLOT_NAMES.index(name)
            if i not in KNOBS:
                continue
            p = self.clause_prob[:, i]
            asking = [j for j in range(len(p)) if p[j] > ACTIVE]
            answered.update(asking or [int(np.argmax(p))])
        limited = self.clause_limits or (None,) * len(self.clauses)
        return [
            (c, bool(k))
            for j, (c, k, why) in enumerate(zip(self.clauses, self.clause_known, limited))
            if j not in answered and why is None and known_words.words(c) and not _NOT_OWN.match(c)
        ]

    def sample(self, rng: np.random.Generator) -> dict[str, float]:
        """One draw from the policy's distribution (Bernoulli activations, Gaussian values)."""
        on = rng.random(len(SLOT_NAMES)) < self.prob
        u = rng.normal(self.mean, self.std)
        return decode(on.astype(np.float32), u)


class CompactPolicy:
    """The network as an onnxruntime session (``load``), the instruction encoder, the decoding."""

    name = "compact"

    def __init__(self, session, config: dict, stat_keys: list[str], meta: dict | None = None):
        from agent.policy.text import TextEncoder

        self.session = session
        self.inputs = {i.name for i in session.get_inputs()}
        self.outputs = [o.name for o in session.get_outputs()]
        self.config = config
        self.stat_keys = stat_keys
        self.meta = meta or {}
        self.text = TextEncoder()

    def stat_vector(self, stats: dict) -> np.ndarray:
        missing = [k for k in self.stat_keys if k not in stats]
        if missing:
            raise PolicyError(
                f"the photo statistics lack {missing[:5]}: the weights were trained on another "
                "measure(); retrain with `retouchiq train sft --policy compact`"
            )
        return np.array([stats[k] for k in self.stat_keys], dtype=np.float32)

    def predict(self, images: list[np.ndarray], instructions: list[str]) -> list[Prediction]:
        from agent.policy import amounts, balance
        from agent.policy.text import MAX_CLAUSES

        for text in instructions:
            checked_instruction(text)
        works = [work_image(im) for im in images]  # the photos as the policy judges them (and measures a cast)
        feats = [features(w) for w in works]
        keys = [self.text.keys(t)[:MAX_CLAUSES] for t in instructions]
        known_clauses = [[known_words.recognised(k) for k in ks] for ks in keys]
        limited = [[limits.why(k) for k in ks] for ks in keys]
        feed = {"stats": np.stack([self.stat_vector(f) for f in feats]), "text": self.text.encode(instructions)}
        if "clauses" in self.inputs:
            emb, mask = self.text.encode_clauses(instructions)
            for row, known in enumerate(known_clauses):
                if any(known):  # a part with no word of the banks asks for nothing, as a whole such request does
                    mask[row, : len(known)] *= np.array(known, np.float32)
                # a part the policy has no tool for is not given to the network (its reason is said instead)
                mask[row, : len(known)] *= np.array([why is None for why in limited[row]], np.float32)
            feed |= {"clauses": emb, "mask": mask}
        if "amounts" in self.inputs:
            feed["amounts"] = amounts.clause_features(keys, MAX_CLAUSES)
        out = dict(
            zip(self.outputs, self.session.run(self.outputs, {k: v for k, v in feed.items() if k in self.inputs}))
        )
        prob, std = _sigmoid(out["logit"]), np.exp(out["log_std"])
        clause_prob = _sigmoid(out["clause_logit"]) if "clause_logit" in out else None
        known = [any(ks) for ks in known_clauses]  # as read: "polish it" is the banks' "enhance it" (limits.py)
        prob[~np.array(known)] = 0.0  # the network answers anything with something; an unknown request gets nothing
        for row, whys in enumerate(limited):
            if all(w is not None or not k for w, k in zip(whys, known_clauses[row])):
                prob[row] = 0.0  # nothing left that the policy can do
        # clauses that ask to fix the white balance without saying which way: the photo's cast answers them
        neutral = [
            tuple(j for j, k in enumerate(ks) if limited[i][j] is None and balance.asks(k)) if known[i] else ()
            for i, ks in enumerate(keys)
        ]
        return [
            Prediction(
                f,
                prob[i],
                out["mean"][i],
                std[i],
                known[i],
                tuple(keys[i]),
                tuple(known_clauses[i]),
                None if clause_prob is None else clause_prob[i, : len(keys[i])],
                tuple(limited[i]),
                balance.correction(works[i]) if neutral[i] else None,
                neutral[i],
            )
            for i, f in enumerate(feats)
        ]

    def result(self, pred: Prediction, values: dict[str, float], instruction: str) -> EditResult:
        from agent.policy.reasoning import cannot, explain, unanswered, unrecognised

        if not pred.recognised:  # also when a roll's shared look (--consistent) would give it values
            return EditResult(
                unrecognised(pred.stats, instruction, known_words.EXAMPLES), [], {"slots": {}, "unanswered": []}
            )
        skipped = pred.unanswered(values)
        text = explain(pred.stats, values, instruction) + unanswered(skipped) + cannot(pred, values, instruction)
        if pred.balance_applies():
            text += pred.balance.reasoning()
        return EditResult(
            text, slots_mod.to_operations(values), {"slots": values, "unanswered": [c for c, _ in skipped]}
        )

    def edit(self, image: np.ndarray, instruction: str, history=None) -> EditResult:
        # history: the preview already shows the current look, and the operations stack on top of it
        pred = self.predict([image], [instruction])[0]
        return self.result(pred, pred.values(), instruction)


def load(path: str | None = None) -> CompactPolicy:
    """The compact policy from ``path`` (default: the weights shipped in the package)."""
    import onnxruntime as ort

    path = Path(path or WEIGHTS)
    if not path.is_file():
        raise PolicyError(
            f"{path}: compact policy weights not found (train them with `retouchiq train sft --policy compact`)"
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # a small network: one thread is fastest, and other threads stall it on busy CPUs
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        props = session.get_modelmeta().custom_metadata_map
        config, stat_keys, slots = (json.loads(props[k]) for k in ("config", "stat_keys", "slots"))
        meta = json.loads(props.get("meta", "{}"))
    except Exception as exc:  # a truncated or foreign file
        raise PolicyError(f"{path}: not a compact policy file ({exc})") from None
    if slots != list(SLOT_NAMES):
        raise PolicyError(f"{path}: trained for another slot set than agent/slots.py; retrain the policy")
    policy = CompactPolicy(session, config, stat_keys, meta)
    policy.weights_path = path
    return policy
