"""The compact policy: a small network that ships inside the package and runs on a CPU in well under 150 ms.

Inputs: the instruction as a MiniLM sentence embedding (``text.py``, clause by clause), the photo as frame-wide
statistics of ``agent.measure`` (L* percentiles, colour cast, chroma, contrast, clipping, detail). An MLP
trunk answers each clause (with its amount words as numbers, ``amounts.py``) on its own, for every slot of
``agent/slots.py``: an activation logit (is this knob used) and a Gaussian (mean, log-std) over its value mapped to
[-1, 1] across the slot's [lo, hi] range, so RL can sample edits later; the clauses' answers are combined per slot.
Decoding takes the active slots' means; ``to_operations`` turns them into vocabulary operations. Trained by
``agent/train/sft_compact.py``.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from agent import slots as slots_mod
from agent.errors import PolicyError, instruction as checked_instruction
from agent.policy import EditResult, vocabulary
from agent.policy.text import DIM as TEXT_DIM

WEIGHTS = Path(__file__).resolve().parent / "weights" / "compact.pt"
SLOT_NAMES = tuple(s.name for s in slots_mod.SLOTS)
KNOBS = tuple(i for i, name in enumerate(SLOT_NAMES) if name not in slots_mod.HUE_OF)  # hues go with their chroma
WORK_SIDE = 128   # the policy judges the photo at this long side (training images are reduced the same way)
ACTIVE = 0.5      # activation probability above which a knob is used
FALLBACK = 0.2    # a request that clears no knob gets its likeliest one if at least this likely (see decode)


# the photo statistics the policy reads: frame-wide tone and colour. Per-region statistics and a thumbnail CNN were
# tried and dropped: with 22 training photos they let the network recognise the photo instead of reading the
# request (held-out activation recall 0.78 from the text alone, 0.57 with a 32 px CNN and all 47 statistics)
STATS = ("L_p5", "L_p10", "L_p50", "L_p90", "L_p95", "L_mean", "a_mean", "b_mean", "chroma", "contrast",
         "clipped_white", "clipped_black", "detail")


@dataclass
class Config:
    n_stats: int
    hidden: int = 512
    dropout: float = 0.1
    stat_noise: float = 0.0   # training only: Gaussian noise on the standardised statistics (see sft_compact)
    text_dropout: float = 0.0  # training only: dropout on the instruction embedding (see sft_compact)
    set_dim: int = 0          # > 0: each clause also goes through its own MLP and the results are summed
    stat_clip: float = 6.0    # standardised statistics are clipped to ±this: a photo far outside the training
                              # photos' range (very dark, very bright) must not swamp what the words ask for
    compose: str = "mix"      # "mix": the trunk reads the whole request at once; "clauses": the trunk answers
                              # each clause (with the photo) on its own and the answers are combined per knob
    amount_dim: int = 0       # "clauses" only: each clause also reads its amount words as numbers (amounts.py)


class CompactNet(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        if cfg.compose not in ("mix", "clauses"):
            raise ValueError(f"unknown compose mode {cfg.compose!r}")
        n_in = TEXT_DIM + cfg.n_stats + (cfg.set_dim if cfg.compose == "mix" else cfg.amount_dim)
        if cfg.set_dim and cfg.compose == "mix":  # per clause, before any mixing: "warm the bottom" stays bottom
            self.clause = nn.Sequential(nn.Linear(TEXT_DIM, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.set_dim))
        self.trunk = nn.Sequential(
            nn.Linear(n_in, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden), nn.GELU())
        self.head = nn.Linear(cfg.hidden, 3 * len(SLOT_NAMES))
        # normalisation of the statistics, set from the training set and saved with the weights
        self.register_buffer("stat_mean", torch.zeros(cfg.n_stats))
        self.register_buffer("stat_std", torch.ones(cfg.n_stats))

    @property
    def reads_clauses(self) -> bool:
        return bool(self.cfg.set_dim) or self.cfg.compose == "clauses"

    def forward(self, text: torch.Tensor, stats: torch.Tensor, clauses: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, amounts: torch.Tensor | None = None, per_clause: bool = False):
        """text [N, 384] (the clauses' mean), stats [N, S] raw, and when ``reads_clauses`` the clauses one by
        one [N, C, 384] with their 0/1 mask [N, C] (and with ``amount_dim`` their amounts [N, C, amount_dim])
        → (activation logits, means in [-1, 1] units, log-stds), each [N, n_slots]. ``per_clause`` (compose
        "clauses" only): also each clause's own activation logits [N, C, n_slots]."""
        s = ((stats - self.stat_mean) / self.stat_std).clamp(-self.cfg.stat_clip, self.cfg.stat_clip)
        if self.training and self.cfg.stat_noise:
            s = s + self.cfg.stat_noise * torch.randn_like(s)
        if self.cfg.compose == "clauses":
            return self._per_clause(clauses, mask, s, amounts, per_clause)
        if self.training and self.cfg.text_dropout:
            text = nn.functional.dropout(text, self.cfg.text_dropout)
        parts = [text, s]
        if self.cfg.set_dim:
            if self.training and self.cfg.text_dropout:
                clauses = nn.functional.dropout(clauses, self.cfg.text_dropout)
            parts.insert(1, (self.clause(clauses) * mask[..., None]).sum(1))
        h = self.trunk(torch.cat(parts, dim=1))
        logit, mean, log_std = self.head(h).view(-1, 3, len(SLOT_NAMES)).unbind(1)
        return logit, mean, log_std.clamp(-5.0, 1.0)

    def _per_clause(self, clauses: torch.Tensor, mask: torch.Tensor, s: torch.Tensor, amounts: torch.Tensor | None,
                    per_clause: bool = False):
        """Each clause with the photo through trunk and head, then per knob: used if any clause uses it
        (noisy-OR of the clauses' probabilities), its value and spread from the clauses weighted by how surely
        each asks for it. No clause sees another, so "darken the left, warm the right" cannot trade regions."""
        if self.training and self.cfg.text_dropout:
            clauses = nn.functional.dropout(clauses, self.cfg.text_dropout)
        n, c = mask.shape
        parts = [clauses] + ([amounts] if self.cfg.amount_dim else []) + [s[:, None, :].expand(n, c, s.shape[1])]
        x = torch.cat(parts, dim=2)
        logit, mean, log_std = self.head(self.trunk(x)).view(n, c, 3, len(SLOT_NAMES)).unbind(2)
        on = mask[..., None] > 0
        # P(off) = Π (1 − p_k): q = Σ softplus(logit_k) = −log P(off); the combined logit is log(e^q − 1)
        q = torch.where(on, nn.functional.softplus(logit), torch.zeros_like(logit)).sum(1).clamp(min=1e-6)
        combined = q + torch.log(-torch.expm1(-q))
        w = torch.softmax(torch.where(on, logit, torch.full_like(logit, -1e4)), dim=1)
        out = combined, (w * mean).sum(1), (w * log_std).sum(1).clamp(-5.0, 1.0)
        return out + (logit,) if per_clause else out


class Ensemble(nn.Module):
    """Several CompactNets trained alike from different seeds; their logits, means and log-stds are averaged."""

    def __init__(self, members: list[CompactNet]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    @property
    def reads_clauses(self) -> bool:
        return self.members[0].reads_clauses

    def forward(self, *inputs: torch.Tensor, **options):
        outs = [m(*inputs, **options) for m in self.members]
        return tuple(torch.stack(parts).mean(0) for parts in zip(*outs))


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
_NOT_OWN = re.compile(r"^(?:(?:but|without|don't|do not|not|no|keep|leave|except)\b"
                      r"|(?:(?:can|could) you |please )?(?:fix|correct|improve|repair|sort out|clean)"
                      r"(?: (?:it|them|that|this))?(?: up)?(?:,? (?:but|without)\b.*)?[\s?!.]*$)", re.IGNORECASE)


# ---- the policy -----------------------------------------------------------------------------------------------

@dataclass
class Prediction:
    """The network's answer for one photo: per slot activation probability, unit mean and std."""
    stats: dict
    prob: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    recognised: bool = True   # False: no word of the request is one the policy was trained on (vocabulary.py)
    clauses: tuple[str, ...] = ()           # the clauses as read (text.clause_keys), at most MAX_CLAUSES
    clause_known: tuple[bool, ...] = ()     # per clause: has a word the policy was trained on
    clause_prob: np.ndarray | None = None   # per clause and slot, the clause's own activation probability

    def values(self) -> dict[str, float]:
        return decode(self.prob, self.mean, FALLBACK)

    def unanswered(self, values: dict[str, float]) -> list[tuple[str, bool]]:
        """The clauses of a request of several that no knob of ``values`` answers, as (clause, recognised): a
        knob answers the clauses that ask for it with probability above ``ACTIVE`` (a knob taken by the
        fallback, the clause that asks for it most). Caveats and a "fix it" after a description are not requests
        of their own (``_NOT_OWN``); an edit that changes nothing says so as a whole."""
        if len(self.clauses) < 2 or self.clause_prob is None or not values:
            return []
        answered: set[int] = set()
        for name in values:
            i = SLOT_NAMES.index(name)
            if i not in KNOBS:
                continue
            p = self.clause_prob[:, i]
            asking = [j for j in range(len(p)) if p[j] > ACTIVE]
            answered.update(asking or [int(np.argmax(p))])
        return [(c, bool(k)) for j, (c, k) in enumerate(zip(self.clauses, self.clause_known))
                if j not in answered and vocabulary.words(c) and not _NOT_OWN.match(c)]

    def sample(self, rng: np.random.Generator) -> dict[str, float]:
        """One draw from the policy's distribution (Bernoulli activations, Gaussian values)."""
        on = rng.random(len(SLOT_NAMES)) < self.prob
        u = rng.normal(self.mean, self.std)
        return decode(on.astype(np.float32), u)


class CompactPolicy:
    name = "compact"

    def __init__(self, net: CompactNet | Ensemble, stat_keys: list[str], meta: dict | None = None):
        from agent.policy.text import TextEncoder

        self.net = net.eval()
        self.stat_keys = stat_keys
        self.meta = meta or {}
        self.text = TextEncoder()

    def stat_vector(self, stats: dict) -> np.ndarray:
        missing = [k for k in self.stat_keys if k not in stats]
        if missing:
            raise PolicyError(f"the photo statistics lack {missing[:5]}: the weights were trained on another "
                              "measure(); retrain with `retouchiq train sft --policy compact`")
        return np.array([stats[k] for k in self.stat_keys], dtype=np.float32)

    def predict(self, images: list[np.ndarray], instructions: list[str]) -> list[Prediction]:
        for text in instructions:
            checked_instruction(text)
        # the networks are small: one thread is fastest, and on busy CPUs OpenMP's other threads stall it ~5×
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                return self._predict(images, instructions)
        finally:
            torch.set_num_threads(threads)

    def _predict(self, images: list[np.ndarray], instructions: list[str]) -> list[Prediction]:
        from agent.policy.text import MAX_CLAUSES

        feats = [features(im) for im in images]
        stats = torch.from_numpy(np.stack([self.stat_vector(f) for f in feats]))
        text = torch.from_numpy(self.text.encode(instructions))
        keys = [self.text.keys(t)[:MAX_CLAUSES] for t in instructions]
        known_clauses = [[vocabulary.recognised(k) for k in ks] for ks in keys]
        extra = ()
        if self.net.reads_clauses:
            emb, mask = self.text.encode_clauses(instructions)
            for row, known in enumerate(known_clauses):
                if any(known):  # a part with no word of the banks asks for nothing, as a whole such request does
                    mask[row, :len(known)] *= np.array(known, np.float32)
            extra = (torch.from_numpy(emb), torch.from_numpy(mask))
        if self.net.cfg.amount_dim:
            from agent.policy import amounts

            extra += (torch.from_numpy(amounts.clause_features(keys, MAX_CLAUSES)),)
        logit, mean, log_std, *clause_logit = self.net(text, stats, *extra, per_clause=True)  # "mix": none
        prob, std = torch.sigmoid(logit).numpy(), log_std.exp().numpy()
        clause_prob = torch.sigmoid(clause_logit[0]).numpy() if clause_logit else None
        known = [vocabulary.recognised(t) for t in instructions]
        prob[~np.array(known)] = 0.0  # the network answers anything with something; an unknown request gets nothing
        return [Prediction(f, prob[i], mean[i].numpy(), std[i], known[i], tuple(keys[i]), tuple(known_clauses[i]),
                           None if clause_prob is None else clause_prob[i, :len(keys[i])])
                for i, f in enumerate(feats)]

    def result(self, pred: Prediction, values: dict[str, float], instruction: str) -> EditResult:
        from agent.policy.reasoning import explain, unanswered, unrecognised

        if not pred.recognised:  # also when a roll's shared look (--consistent) would give it values
            return EditResult(unrecognised(pred.stats, instruction, vocabulary.EXAMPLES), [],
                              {"slots": {}, "unanswered": []})
        skipped = pred.unanswered(values)
        text = explain(pred.stats, values, instruction) + unanswered(skipped)
        return EditResult(text, slots_mod.to_operations(values),
                          {"slots": values, "unanswered": [c for c, _ in skipped]})

    def edit(self, image: np.ndarray, instruction: str, history=None) -> EditResult:
        # history: the preview already shows the current look, and the operations stack on top of it
        pred = self.predict([image], [instruction])[0]
        return self.result(pred, pred.values(), instruction)


def _half(net: nn.Module) -> dict:
    return {k: v.detach().to(torch.float16) if v.is_floating_point() else v for k, v in net.state_dict().items()}


def save(path: str | Path, net: CompactNet | Ensemble, stat_keys: list[str], meta: dict) -> Path:
    """float16 weights; an ensemble as one state per member (``members``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nets = list(net.members) if isinstance(net, Ensemble) else [net]
    ckpt = {"config": asdict(net.cfg), "state": _half(nets[0]), "stat_keys": list(stat_keys),
            "slots": list(SLOT_NAMES), "meta": meta}
    if len(nets) > 1:
        ckpt["members"] = [_half(m) for m in nets[1:]]
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(ckpt, tmp)
    tmp.replace(path)
    return path


def load_net(path: str | Path) -> tuple[CompactNet | Ensemble, list[str], dict]:
    path = Path(path)
    if not path.is_file():
        raise PolicyError(f"{path}: compact policy weights not found (train them with "
                          "`retouchiq train sft --policy compact`)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise PolicyError(f"{path}: not a compact policy checkpoint ({exc})") from None
    if ckpt.get("slots") != list(SLOT_NAMES):
        raise PolicyError(f"{path}: trained for another slot set than agent/slots.py; retrain the policy")
    nets = []
    for state in [ckpt["state"]] + list(ckpt.get("members", [])):
        net = CompactNet(Config(**ckpt["config"]))
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        nets.append(net)
    return (nets[0] if len(nets) == 1 else Ensemble(nets)), ckpt["stat_keys"], ckpt.get("meta", {})


def load(path: str | None = None) -> CompactPolicy:
    """The compact policy from ``path`` (default: the weights shipped in the package)."""
    net, keys, meta = load_net(path or WEIGHTS)
    return CompactPolicy(net, keys, meta)
