"""The rule reward: what can be checked without a model, on the rendered pixels.

    reward = valid · (0.4 · share of the requested directions met
                      + 0.4 · e^(−ΔE00 to the target render / 5)
                      + 0.2 · mean quality score / 10)            ∈ [0, 1]

An invalid answer gets 0, below every valid one. Directions are the request's attributes (``agent.measure``'s
names and thresholds: 0.5 L*, 0.07 EV for a region, …) measured between the source and the render; quality is
``criteria.QUALITY`` (clipping, gamut, cast added) beyond what the target itself adds (a target that brightens a
dark photo may clip a little: the target scores 1).
"""

from __future__ import annotations

import numpy as np
import torch

from agent.measure import ATTRIBUTES, REGION_THRESHOLD
from agent.reward import criteria

DELTA_E_SCALE = 5.0
WEIGHTS = (0.4, 0.4, 0.2)  # directions, closeness to the target, quality


def _threshold(name: str, before: torch.Tensor) -> torch.Tensor:
    """The smallest change of criterion ``name`` that counts as a move (agent.measure's thresholds)."""
    if "@" in name:
        return torch.full_like(before, REGION_THRESHOLD[name.split("@")[0]])
    if name == "detail":  # agent.measure: 3 % of the detail; here on a log2 scale
        return torch.full_like(before, float(np.log2(1.03)))
    _, absolute, relative = ATTRIBUTES[name]
    return torch.maximum(torch.full_like(before, absolute), relative * before.abs())


def directions_met(src: torch.Tensor, m: torch.Tensor, asked: list[dict[str, int]]) -> torch.Tensor:
    """[N] share of each row's requested attributes that moved the requested way (1 where nothing was asked).
    ``src``: ``criteria.stats`` of the sources, ``m``: ``criteria.measured``; ``asked``: attribute → ±1."""
    index = {c: j for j, c in enumerate(criteria.NAMES)}
    base = {"saturation": criteria.STAT_NAMES.index("chroma")}
    out = torch.ones(len(asked))
    for row, wants in enumerate(asked):
        if not wants:
            continue
        hits = 0
        for attr, sign in wants.items():
            before = src[row, base[attr]] if attr in base else torch.tensor(0.0)
            change = m[row, index[attr]]
            hits += bool(change * sign >= _threshold(attr, before))
        out[row] = hits / len(wants)
    return out


def delta_e(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[N] mean CIEDE2000 between two batches of sRGB images [N, 3, H, W] in [0, 1]."""
    from darktable_bridge.images import delta_e_srgb

    x = a.detach().clamp(0, 1).permute(0, 2, 3, 1).double().numpy()
    y = b.detach().clamp(0, 1).permute(0, 2, 3, 1).double().numpy()
    return torch.from_numpy(delta_e_srgb(x, y).reshape(len(x), -1).mean(1)).float()


def reward(
    src_stats: torch.Tensor,
    out_stats: torch.Tensor,
    out: torch.Tensor,
    target: torch.Tensor,
    asked: list[dict[str, int]],
    valid: torch.Tensor | None = None,
    target_stats: torch.Tensor | None = None,
) -> torch.Tensor:
    """[N] rule rewards in [0, 1]. ``out``/``target``: the renders (sRGB [N, 3, H, W]); stats: ``criteria.stats``
    (``target_stats``, the target's, are measured here when not given)."""
    m = criteria.measured(src_stats, out_stats)
    mt = criteria.measured(src_stats, criteria.stats(target) if target_stats is None else target_stats)
    k = criteria.N_CHANGE
    damage = torch.cat([m[:, :k], (m[:, k:] - mt[:, k:]).clamp(min=0)], 1)
    wd, wt, wq = WEIGHTS
    r = (
        wd * directions_met(src_stats, m, asked)
        + wt * torch.exp(-delta_e(out, target) / DELTA_E_SCALE)
        + wq * criteria.quality_scores(damage).mean(1) / 10.0
    )
    return r if valid is None else torch.where(valid, r, torch.zeros_like(r))
