"""The compact generalist reward model (GRM): it writes a case's criteria, measures each on the render, and sums.

For a request and the source photo it writes a rubric over the catalogue of ``criteria.py``: a weight per
criterion (softmax: the weights sum to 100 %), and for each change criterion the change it wants and how much it
tolerates. The edited render is then *measured* (``criteria.measured``: the change of each attribute, the damage
of each quality criterion), each criterion scored 0–10 (a change: 10·exp(−½·(miss / tolerance)²); damage: on the
catalogue's fixed scale) and the scalar reward is the weighted sum, 0–10. ``rubric()`` prints it as the paper's
GRM writes it ("white balance 25 %: wanted +4.0 b*, measured +2.1 → 8.0/10 …").

What it knows that the policy does not: it reads the source photo's statistics as they are (the policy reads them
noised and swapped, so that it cannot recognise its few training photos) and it judges the pixels of the render,
quality included; it is trained on pairs of edits that differ in amount (too little, too much, the wrong place,
unasked changes, the wrong way; ``agent.train.grm``), then on the policy's own edits (PGRT).

Reads the instruction clause by clause (MiniLM embeddings and amount words, as the compact policy reads them).
Saved as a torch file (``save``/``load``: its configuration, the statistics' normalisation and its record).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from agent.errors import PolicyError
from agent.policy import amounts
from agent.policy.text import DIM as TEXT_DIM
from agent.reward import criteria

MIN_TOL = 0.25  # the narrowest tolerance, in the criterion's steps (criteria.Criterion.scale)


@dataclass
class GRMConfig:
    hidden: int = 256
    clause_dim: int = 128
    n_stats: int = len(criteria.STAT_NAMES)
    amount_dim: int = amounts.DIM
    dropout: float = 0.1
    stat_noise: float = 0.5  # training only: Gaussian noise (in stds) on the source statistics, so that the
    # model reads the photo's tones instead of recognising its few training photos


@dataclass
class Judgement:
    """A batch's rubrics and scores: weights [N, C] summing to 1, wanted changes and tolerances [N, C] in the
    criteria's units (NaN for quality criteria), measured [N, C], scores [N, C] in 0–10, reward [N] in 0–10."""

    weights: torch.Tensor
    wanted: torch.Tensor
    tolerance: torch.Tensor
    measured: torch.Tensor
    scores: torch.Tensor
    reward: torch.Tensor


class CompactGRM(nn.Module):
    def __init__(self, cfg: GRMConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or GRMConfig()
        c = len(criteria.CATALOGUE)
        self.clause = nn.Sequential(
            nn.Linear(TEXT_DIM + cfg.amount_dim, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.clause_dim)
        )
        self.trunk = nn.Sequential(
            nn.Linear(cfg.clause_dim + cfg.n_stats, cfg.hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.GELU(),
        )
        self.head = nn.Linear(cfg.hidden, 3 * c)
        self.register_buffer("stat_mean", torch.zeros(cfg.n_stats))
        self.register_buffer("stat_std", torch.ones(cfg.n_stats))
        with torch.no_grad():  # start with even weights, no wanted change, a middling tolerance
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()

    def rubric_of(self, clauses, mask, amount_feats, src_stats):
        """(weights [N, C] summing to 1, wanted [N, C], tolerance [N, C]; both in the criteria's units)."""
        x = torch.cat([clauses, amount_feats], 2)
        h = (self.clause(x) * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        s = (criteria.public(src_stats) - self.stat_mean) / self.stat_std
        if self.training and self.cfg.stat_noise:
            s = s + self.cfg.stat_noise * torch.randn_like(s)
        s = s.clamp(-4, 4)
        w, want, tol = self.head(self.trunk(torch.cat([h, s], 1))).view(len(h), 3, -1).unbind(1)
        scale = criteria.SCALES.to(want)
        return torch.softmax(w, 1), want * scale, (MIN_TOL + nn.functional.softplus(tol)) * scale

    def forward(self, clauses, mask, amount_feats, src_stats, out_stats) -> Judgement:
        """Judge renders: ``src_stats``/``out_stats`` are ``criteria.stats`` of the source and of the render."""
        return score(self.rubric_of(clauses, mask, amount_feats, src_stats), src_stats, out_stats)


def score(rubric: tuple[torch.Tensor, torch.Tensor, torch.Tensor], src_stats, out_stats) -> Judgement:
    """A rubric (``CompactGRM.rubric_of``) applied to renders: measure, score each criterion, sum."""
    weights, wanted, tol = rubric
    m = criteria.measured(src_stats, out_stats)
    k = criteria.N_CHANGE
    change = 10.0 * torch.exp(-0.5 * ((m[:, :k] - wanted[:, :k]) / tol[:, :k]) ** 2)
    scores = torch.cat([change, criteria.quality_scores(m)], 1)
    nan = torch.full_like(wanted[:, k:], float("nan"))
    return Judgement(
        weights,
        torch.cat([wanted[:, :k], nan], 1),
        torch.cat([tol[:, :k], nan], 1),
        m,
        scores,
        (weights * scores).sum(1),
    )


# ---- the rubric as text -----------------------------------------------------------------------------------------


def _percentages(weights: list[float]) -> list[int]:
    """Whole percentages that sum to exactly 100 (largest remainders)."""
    raw = [w * 100.0 for w in weights]
    out = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: 100 - sum(out)]:
        out[i] += 1
    return out


def rubric(j: Judgement, row: int = 0, instruction: str = "", shown: int = 6) -> str:
    """One row's rubric: the criteria by weight (the ``shown`` heaviest, the rest summed as "others"), each with
    what it wants, what was measured and its score, and the weighted total."""
    pct = _percentages(j.weights[row].tolist())
    order = sorted(range(len(pct)), key=lambda i: -j.weights[row, i].item())
    lines = [f'Criteria for "{instruction}" (weights sum to 100 %):' if instruction else "Criteria:"]
    for i in order[:shown]:
        c = criteria.CATALOGUE[i]
        m, s = j.measured[row, i].item(), j.scores[row, i].item()
        if c.kind == "change":
            want, tol = j.wanted[row, i].item(), j.tolerance[row, i].item()
            what = f"wanted {want:+.2f} ± {tol:.2f} {c.unit}, measured {m:+.2f}"
        else:
            what = f"damage measured {m:.3f} ({c.unit})"
        lines.append(f"  {c.label:<34} {pct[i]:>3} %  {what} → {s:.1f}/10")
    rest = order[shown:]
    if rest:
        w = sum(pct[i] for i in rest)
        mean = sum(j.weights[row, i].item() * j.scores[row, i].item() for i in rest) / max(
            sum(j.weights[row, i].item() for i in rest), 1e-9
        )
        lines.append(f"  {'others (' + str(len(rest)) + ' criteria)':<34} {w:>3} %  → {mean:.1f}/10 on average")
    lines.append(f"  total: Σ weight × score = {j.reward[row].item():.2f}/10")
    return "\n".join(lines)


# ---- files ------------------------------------------------------------------------------------------------------


def save(path: str | Path, grm: CompactGRM, record: dict | None = None) -> Path:
    import io

    from xmp.files import atomic_write

    buf = io.BytesIO()
    torch.save({"config": asdict(grm.cfg), "state": grm.state_dict(), "record": record or {}}, buf)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, buf.getvalue())


def load(path: str | Path) -> CompactGRM:
    path = Path(path)
    if not path.is_file():
        raise PolicyError(f"{path}: reward model not found (train one with `retouchiq train grm`)")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        grm = CompactGRM(GRMConfig(**blob["config"]))
        grm.load_state_dict(blob["state"])
    except Exception as exc:  # a truncated or foreign file
        raise PolicyError(f"{path}: not a compact reward model file ({exc})") from None
    grm.record = blob.get("record", {})
    return grm.eval()
