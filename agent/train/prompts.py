"""Prompts for reward-model training and RL: synthesized samples with thumbnails, target renders and measurements.

One ``Prompts`` holds, for every sample of ``retouchiq data synth`` folders: what the compact policy reads
(``sft_compact.Tensors``), a thumbnail of its input photo, the source as the renderer draws it with every slot at
neutral, the target slot values' render, the ``criteria.stats`` of both, the attributes it asks to move and its
family. Every slot is rendered, haze removal, local contrast and sharpening included, so every knob the policy has
is rewarded: a row goes through a pipe (``render_loss.SlotRenderer``) that holds those three modules only where
its knob is used — as a sidecar holds them (local contrast at detail 0 is not the identity: up to 0.12 of a
display value on these thumbnails), and haze removal costs 0.7 s of the 1.2 s of 128 thumbnails at 32 px with all
three, 0.25 s without (one thread).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from agent import slots as slots_mod
from agent.data import read_samples
from agent.errors import RequestError
from agent.policy import compact
from agent.reward import criteria
from agent.train import render_loss, sft_compact

SIDE = 32


@functools.cache
def renderer(skip: tuple[str, ...] = render_loss.SKIP) -> render_loss.SlotRenderer:
    return render_loss.SlotRenderer(skip=skip)


def _spatial_columns() -> dict[str, int]:
    return {s.module: compact.SLOT_NAMES.index(s.name) for s in slots_mod.GLOBAL_SLOTS if s.module in render_loss.SKIP}


def render(thumbs: torch.Tensor, values: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Slot values [N, slots] on thumbnails [N, 3, S, S] → (display sRGB clipped to [0, 1], their stats)."""
    cols = _spatial_columns()
    neutral = renderer().neutral[0]
    used = torch.stack([(values[:, i] - neutral[i]).abs() > 1e-4 for i in cols.values()], 1)  # [N, 3]
    raws = torch.zeros(len(values), 3, *thumbs.shape[2:])
    with torch.no_grad():
        for pattern in torch.unique(used, dim=0):
            rows = torch.nonzero((used == pattern).all(1)).flatten()
            r = renderer(tuple(m for m, on in zip(cols, pattern.tolist()) if not on))
            for i in range(0, len(rows), chunk):
                part = rows[i : i + chunk]
                raws[part] = r(thumbs[part], values[part])
    outs = raws.clamp(0, 1)
    return outs, criteria.stats(outs, raws)


def values_of(active: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
    """Activations and unit values → slot values (neutral where off), as decoding writes them."""
    return render_loss.gated(active, unit, renderer())


@dataclass
class Prompts:
    t: sft_compact.Tensors
    thumbs: torch.Tensor  # [photos, 3, S, S]
    src: torch.Tensor  # [photos, 3, S, S] the thumbnail through the pipe at neutral
    src_stats: torch.Tensor  # [photos, stats]
    target_values: torch.Tensor  # [N, slots]
    target: torch.Tensor  # [N, 3, S, S]
    target_stats: torch.Tensor  # [N, stats]
    asked: list[dict]
    family: list[str]
    instruction: list[str]
    paraphrase: list[str]  # "seen": the banks' wordings; "unseen": the 50 kept out of them (held-out samples)

    def __len__(self):
        return len(self.t)


def load(folders: list[str], split: str, max_samples: int = 0, side: int = SIDE, log=print) -> Prompts:
    samples = [{**s, "dir": str(d)} for d in folders for s in read_samples(d, split)]
    samples = samples[:max_samples] if max_samples else samples
    if not samples:
        raise RequestError(f"{', '.join(map(str, folders))}: no samples of split '{split}'")
    t = sft_compact.load_tensors(samples, log)
    thumbs = sft_compact.thumbnails(sft_compact.input_paths(samples), side)
    neutral = renderer().neutral.expand(len(thumbs), -1)
    src, src_stats = render(thumbs, neutral)
    target_values = values_of(t.active, t.unit)
    target, target_stats = render(thumbs[t.photo], target_values)
    log(f"prompts ({split}): {len(samples)} samples, {len(thumbs)} photos, renders at {side} px")
    return Prompts(
        t,
        thumbs,
        src,
        src_stats,
        target_values,
        target,
        target_stats,
        [s.get("attributes") or {} for s in samples],
        [s["family"] for s in samples],
        [s["instruction"] for s in samples],
        [s.get("paraphrase") or "seen" for s in samples],
    )


def clause_inputs(p: Prompts, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """What a reward model reads of the instructions of rows ``idx``: clause embeddings, mask, amounts."""
    cidx = p.t.cidx[idx]
    return p.t.table[cidx.clamp(min=0)], (cidx >= 0).float(), p.t.amounts[idx]
