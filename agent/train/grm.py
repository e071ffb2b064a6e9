"""Training the compact reward model: stage 1 on edits worse than the target, PGRT on the policy's own edits.

**Stage 1** (``train_stage1``): for each training prompt, the target edit (strong) against edits made worse from it
(weak) in the ways policies fail — too little (the target's changes × 0–0.6, nothing at all included), too much
(× 1.5–2.5), the wrong way (one knob's change reversed), an unasked change (a knob the request does not use, moved),
the wrong place (a local knob moved to another region). A pair is kept only if the weak edit is truly worse:
its render at least ``MIN_GAP`` ΔE (CIE76, mean over pixels) from the target's render. Loss per pair: the ranking
loss −log σ((r_strong − r_weak) / T), plus an anchor that keeps each change criterion's wanted change and
tolerance on the target's measured change (a Gaussian negative log-likelihood).

**PGRT** (``pgrt_update``, called by ``agent.train.rl_compact`` between policy updates): the same loss on pairs whose
weak edit is the *current policy's* sample for the prompt, filtered the same way — the paper's reward for the GRM,
1[r_strong > r_weak], has this loss as its differentiable surrogate (the compact GRM is a network, not a text
generator). ``control_update`` spends the same compute on stage-1 pairs: the control arm of the accuracy table.

**Accuracy** (``accuracy``): share of pairs (target, a policy's edit) where the GRM scores the target higher, on
pairs that are truly worse, from prompts whose photos no training saw (``split == "heldout"``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from agent import slots as slots_mod
from agent.policy import compact
from agent.reward import criteria, rule
from agent.reward.grm import CompactGRM, GRMConfig, save, score
from agent.train import prompts as prompts_mod

MIN_GAP = 1.0  # ΔE76 between a weak edit's render and the target's below which a pair is not "truly worse"
KINDS = ("little", "much", "wrong_way", "unasked", "wrong_place")
_HUES = [compact.SLOT_NAMES.index(h) for h in slots_mod.HUE_OF]
_LOCAL = {name: i for i, name in enumerate(compact.SLOT_NAMES) if "@" in name}


@dataclass
class GRMTrainConfig:
    pairs_per_prompt: int = 4
    epochs: int = 30
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    temperature: float = 0.5  # of the ranking loss, in reward points (0–10)
    anchor: float = 1.0  # weight of the wanted-change anchor
    asked: float = 0.0  # weight of the asked-attributes term (0: off, as in docs/rl.md's table): the weights put
    # on what the sample asks to move, and the wanted change of each asked attribute the asked way
    seed: int = 0


def gap(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[N] mean CIE76 ΔE between two batches of sRGB renders."""
    return (criteria.lab(a) - criteria.lab(b)).norm(dim=1).flatten(1).mean(1)


# ---- weak edits -------------------------------------------------------------------------------------------------


def perturb(values: torch.Tensor, kind: str, gen: torch.Generator) -> torch.Tensor:
    """Slot values [N, slots] made worse in one way (``KINDS``); clipped to the slots' ranges."""
    r = prompts_mod.renderer()
    neutral = r.neutral[0]
    lo = torch.tensor([slots_mod.BY_NAME[n].lo for n in compact.SLOT_NAMES])
    hi = torch.tensor([slots_mod.BY_NAME[n].hi for n in compact.SLOT_NAMES])
    n, k = values.shape
    d = values - neutral
    d[:, _HUES] = 0.0
    on = d.abs() > 1e-4
    out = values.clone()
    rand = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    if kind in ("little", "much"):
        f = rand(n, 1) * 0.6 if kind == "little" else 1.5 + rand(n, 1)
        out = neutral + d * f
        out[:, _HUES] = values[:, _HUES]
    elif kind == "wrong_way":
        pick = torch.multinomial(on.float() + 1e-6, 1, generator=gen).flatten()
        out[torch.arange(n), pick] = neutral[pick] - d[torch.arange(n), pick]
    elif kind == "unasked":
        free = (~on).float()
        free[:, _HUES] = 0.0
        pick = torch.multinomial(free + 1e-6, 1, generator=gen).flatten()
        half = (hi - lo)[pick] / 2
        sign = torch.where(rand(n) < 0.5, -1.0, 1.0)
        sign = torch.where(neutral[pick] <= lo[pick], 1.0, torch.where(neutral[pick] >= hi[pick], -1.0, sign))
        out[torch.arange(n), pick] = neutral[pick] + sign * (0.3 + 0.5 * rand(n)) * half
    elif kind == "wrong_place":
        names = list(_LOCAL)
        for row in range(n):
            used = [nm for nm in names if on[row, _LOCAL[nm]]]
            if not used:  # nothing local: an unasked change instead
                out[row] = perturb(values[row : row + 1], "unasked", gen)[0]
                continue
            src = used[int(rand(1) * len(used))]
            knob, region = src.split("@")
            others = [nm for nm in names if nm.startswith(knob + "@") and nm != src]
            dst = others[int(rand(1) * len(others))]
            out[row, _LOCAL[dst]] = values[row, _LOCAL[src]]
            out[row, _LOCAL[src]] = neutral[_LOCAL[src]]
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return torch.maximum(torch.minimum(out, hi), lo)


@dataclass
class Pairs:
    """Pairs (strong = the prompt's target, weak = another edit): the prompt's row, the weak render's stats and
    what made it (a ``KINDS`` name or "policy")."""

    row: torch.Tensor
    weak_stats: torch.Tensor
    kind: list[str]

    def __len__(self):
        return len(self.row)

    def take(self, idx) -> Pairs:
        idx = torch.as_tensor(idx)
        return Pairs(self.row[idx], self.weak_stats[idx], [self.kind[i] for i in idx.tolist()])


def make_pairs(p: prompts_mod.Prompts, per_prompt: int, seed: int, log=print) -> Pairs:
    """Stage-1 pairs: ``per_prompt`` weak edits per prompt (kinds in turn), kept if truly worse."""
    gen = torch.Generator().manual_seed(seed)
    rows, stats, kinds = [], [], []
    t0 = time.time()
    for j in range(per_prompt):
        for start in range(0, len(p), 1024):
            idx = torch.arange(start, min(len(p), start + 1024))
            weak = p.target_values[idx].clone()
            kind_of = [KINDS[(i + j) % len(KINDS)] for i in idx.tolist()]  # every kind for every prompt in turn
            for kind in KINDS:
                sel = torch.tensor([k == kind for k in kind_of])
                if sel.any():
                    weak[sel] = perturb(p.target_values[idx[sel]], kind, gen)
            out, st = prompts_mod.render(p.thumbs[p.t.photo[idx]], weak)
            keep = gap(out, p.target[idx]) >= MIN_GAP
            rows.append(idx[keep])
            stats.append(st[keep])
            kinds += [k for k, ok in zip(kind_of, keep.tolist()) if ok]
        log(f"stage-1 pairs: pass {j + 1}/{per_prompt}, {len(kinds)} kept ({time.time() - t0:.0f} s)")
    return Pairs(torch.cat(rows), torch.cat(stats), kinds)


# ---- the loss ---------------------------------------------------------------------------------------------------


def judge(grm: CompactGRM, p: prompts_mod.Prompts, rows: torch.Tensor, out_stats: torch.Tensor):
    clauses, mask, amounts = prompts_mod.clause_inputs(p, rows)
    return grm(clauses, mask, amounts, p.src_stats[p.t.photo[rows]], out_stats)


def judged(grm: CompactGRM, p: prompts_mod.Prompts, pairs: Pairs):
    """(rubric, strong judgement, weak judgement) of pairs: one rubric per pair scores both of its edits."""
    clauses, mask, amounts = prompts_mod.clause_inputs(p, pairs.row)
    src = p.src_stats[p.t.photo[pairs.row]]
    rubric = grm.rubric_of(clauses, mask, amounts, src)
    return rubric, score(rubric, src, p.target_stats[pairs.row]), score(rubric, src, pairs.weak_stats)


def pair_loss(grm: CompactGRM, cfg: GRMTrainConfig, p: prompts_mod.Prompts, pairs: Pairs) -> tuple[torch.Tensor, float]:
    """(loss, share ranked right) of a batch of pairs."""
    rubric, strong, weak = judged(grm, p, pairs)
    margin = strong.reward - weak.reward
    rank = F.softplus(-margin / cfg.temperature).mean()
    k = criteria.N_CHANGE
    z = (strong.measured[:, :k] - strong.wanted[:, :k]) / strong.tolerance[:, :k]
    scale = criteria.SCALES[:k]
    anchor = (0.5 * z**2 + torch.log(strong.tolerance[:, :k] / scale)).mean()
    loss = rank + cfg.anchor * anchor
    if cfg.asked:
        loss = loss + cfg.asked * asked_term(p, pairs.row, rubric)
    return loss, float((margin > 0).float().mean())


def asked_matrix(p: prompts_mod.Prompts, rows: torch.Tensor) -> torch.Tensor:
    """[N, criteria] +1 / −1 where the sample asks to move the criterion up / down (its ``attributes``), else 0."""
    index = {c: j for j, c in enumerate(criteria.NAMES)}
    out = torch.zeros(len(rows), len(criteria.NAMES))
    for i, r in enumerate(rows.tolist()):
        for attr, sign in p.asked[r].items():
            if attr in index:
                out[i, index[attr]] = float(sign)
    return out


def asked_term(p: prompts_mod.Prompts, rows: torch.Tensor, rubric) -> torch.Tensor:
    """What the synthesized samples say outright: the weights go to the attributes asked (cross-entropy against
    them, spread evenly), and an asked attribute's wanted change points the asked way (a hinge at half a step)."""
    weights, wanted, _ = rubric
    a = asked_matrix(p, rows)
    any_asked = a.abs().sum(1) > 0
    if not any_asked.any():
        return weights.sum() * 0.0
    target = a.abs()[any_asked] / a.abs()[any_asked].sum(1, keepdim=True)
    ce = -(target * weights[any_asked].clamp(min=1e-8).log()).sum(1).mean()
    steps = wanted / criteria.SCALES.to(wanted)
    hinge = (F.relu(0.5 - a * steps) * a.abs()).sum() / a.abs().sum()
    return ce + hinge


def _step(grm, opt, cfg, p, pairs) -> float:
    grm.train()
    loss, acc = pair_loss(grm, cfg, p, pairs)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(grm.parameters(), 1.0)
    opt.step()
    grm.eval()
    return acc


def new_grm(p: prompts_mod.Prompts, seed: int) -> CompactGRM:
    torch.manual_seed(seed)
    grm = CompactGRM(GRMConfig())
    src = criteria.public(p.src_stats)
    grm.stat_mean.copy_(src.mean(0))
    grm.stat_std.copy_(src.std(0).clamp(min=1e-3))
    return grm


def train_stage1(p: prompts_mod.Prompts, cfg: GRMTrainConfig, log=print, pairs: Pairs | None = None):
    """A reward model trained on stage-1 pairs; returns (grm, its record, the pairs)."""
    t0 = time.time()
    if pairs is None:
        pairs = make_pairs(p, cfg.pairs_per_prompt, cfg.seed, log)
    grm = new_grm(p, cfg.seed)
    opt = torch.optim.AdamW(grm.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps = max(1, len(pairs) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps, pct_start=0.1)
    history = []
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(pairs), generator=gen)
        accs = []
        for i in range(steps):
            accs.append(_step(grm, opt, cfg, p, pairs.take(order[i * cfg.batch_size : (i + 1) * cfg.batch_size])))
            sched.step()
        history.append(float(np.mean(accs)))
        if epoch == 0 or (epoch + 1) % 10 == 0:
            log(f"grm epoch {epoch + 1}/{cfg.epochs}: pairs ranked right {history[-1]:.3f} ({time.time() - t0:.0f} s)")
    record = {
        "config": asdict(cfg),
        "pairs": len(pairs),
        "kinds": {k: pairs.kind.count(k) for k in KINDS},
        "train_accuracy": history,
        "seconds": round(time.time() - t0, 1),
    }
    return grm, record, pairs


def optimiser(grm: CompactGRM, lr: float = 5e-4) -> torch.optim.Optimizer:
    return torch.optim.AdamW(grm.parameters(), lr=lr, weight_decay=1e-4)


def policy_pairs(p: prompts_mod.Prompts, rows: torch.Tensor, outs: torch.Tensor, stats: torch.Tensor) -> Pairs:
    """Pairs whose weak edit is a policy's (its renders ``outs`` and their stats for prompt rows ``rows``), kept
    where truly worse than the target."""
    keep = gap(outs, p.target[rows]) >= MIN_GAP
    return Pairs(rows[keep], stats[keep], ["policy"] * int(keep.sum()))


def pgrt_update(grm, opt, cfg: GRMTrainConfig, p, pairs: Pairs, replay: Pairs | None, gen, steps: int = 2) -> float:
    """``steps`` updates on the policy's pairs (mixed half and half with stage-1 pairs, so that what stage 1
    taught is not forgotten); returns the share of the policy's pairs ranked right *before* the update."""
    if not len(pairs):
        return float("nan")
    with torch.no_grad():
        before = pair_loss(grm, cfg, p, pairs)[1]
    for _ in range(steps):
        batch = pairs
        if replay is not None and len(replay):
            extra = replay.take(torch.randint(len(replay), (len(pairs),), generator=gen))
            batch = Pairs(
                torch.cat([pairs.row, extra.row]),
                torch.cat([pairs.weak_stats, extra.weak_stats]),
                pairs.kind + extra.kind,
            )
        _step(grm, opt, cfg, p, batch)
    return before


def control_update(grm, opt, cfg: GRMTrainConfig, p, replay: Pairs, n: int, gen, steps: int = 2) -> None:
    """The same compute as ``pgrt_update`` on ``n`` policy pairs, spent on stage-1 pairs only (the control)."""
    for _ in range(steps):
        _step(grm, opt, cfg, p, replay.take(torch.randint(len(replay), (2 * n,), generator=gen)))


def accuracy(grm: CompactGRM, p: prompts_mod.Prompts, pairs: Pairs, by_family: bool = True) -> dict:
    """Share of pairs where the target scores higher, overall and per family; and by what the pair is: of a seen
    or an unseen wording (``p.paraphrase``), and ``missed`` — pairs whose weak edit meets fewer of the requested
    directions than the target does, worse by any reading. Each with its count (``n``, ``n_seen`` …)."""
    with torch.no_grad():
        _, strong, weak = judged(grm, p, pairs)
    right = (strong.reward > weak.reward).float()

    def share(sel: torch.Tensor) -> float:
        return float(right[sel].mean()) if sel.any() else float("nan")

    out = {"all": float(right.mean()) if len(right) else float("nan"), "n": len(right)}
    rows = pairs.row.tolist()
    if by_family:
        fam = np.array([p.family[i] for i in rows])
        for f in ("enhance", "style", "local"):
            out[f] = share(torch.from_numpy(fam == f))
    asked = [p.asked[i] for i in rows]
    src = p.src_stats[p.t.photo[pairs.row]]
    met_weak, met_strong = (rule.directions_met(src, j.measured, asked) for j in (weak, strong))
    unseen = torch.tensor([p.paraphrase[i] == "unseen" for i in rows], dtype=torch.bool)
    groups = {"seen": ~unseen, "unseen": unseen, "missed": met_weak < met_strong}
    for name, sel in groups.items():
        out[name], out[f"n_{name}"] = share(sel), int(sel.sum())
    return out


def policy_edits(policy_path: str, p: prompts_mod.Prompts, samples: int, seed: int) -> Pairs:
    """A compact policy's own edits of the prompts as pairs against the targets: its decoded answer and
    ``samples`` draws from its distribution per prompt, kept where truly worse."""
    from agent.policy.compact_net import load_net
    from agent.train.rl_compact import distribution, sample

    net, _, _ = load_net(policy_path)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        prob, mean, std = distribution(net, p.t.inputs(net))
    every = torch.arange(len(p))
    rows, values = [every], [prompts_mod.values_of((prob > compact.ACTIVE).float(), mean)]
    for _ in range(samples):
        on, u = sample(prob, mean, std, gen)
        rows.append(every)
        values.append(prompts_mod.values_of(on, u.clamp(-1, 1)))
    rows_t = torch.cat(rows)
    out, stats = prompts_mod.render(p.thumbs[p.t.photo[rows_t]], torch.cat(values))
    return policy_pairs(p, rows_t, out, stats)


def run(
    data: list[str],
    out: str,
    cfg: GRMTrainConfig,
    heldout: list[str] | None = None,
    policy: str = "",
    max_samples: int = 0,
    log=print,
) -> dict:
    """``retouchiq train grm``: stage 1 on ``data``, saved to ``out``; with ``heldout`` data, its accuracy on
    held-out perturbed pairs and (with ``policy``) on that policy's own held-out edits."""
    p = prompts_mod.load(data, "train", max_samples, log=log)
    grm, record, _ = train_stage1(p, cfg, log)
    if heldout:
        h = prompts_mod.load(heldout, "heldout", log=log)
        record["heldout_perturbed"] = accuracy(grm, h, make_pairs(h, len(KINDS), cfg.seed + 99, log=lambda m: None))
        if policy:
            record["heldout_policy"] = accuracy(grm, h, policy_edits(policy, h, 2, cfg.seed + 7))
    save(out, grm, record)
    return record
