"""Supervised training of the compact policy on ``retouchiq data synth`` output, read top to bottom.

Targets per slot of agent/slots.py: is the knob used (BCE on its activation logit) and, where it is, its value in
[-1, 1] units (MSE on the mean; Gaussian NLL on the log-std with the mean held fixed, so the spread learns how
uncertain the value is without slowing the mean down). With ``render_weight`` > 0 (not the default: measured
level, docs/policy.md), also through the renderer: every ``render_every``-th step,
``render_batch`` samples of the batch have their predicted values (a knob counts where its probability passes
0.5, with the probability's gradient passed straight through) rendered on a thumbnail of their photo by
``render_loss.SlotRenderer`` and compared with the target values' render of it (mean absolute difference of the
display values, in percent). Only ``split == "train"`` samples are used: held-out photos
never reach the weights. Photo features and instruction embeddings are computed once, before the epochs.

    retouchiq train sft --policy compact --data data/synth [data/synth2 ...] -o agent/policy/weights/compact.onnx
"""

from __future__ import annotations

import functools
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from agent import slots as slots_mod
from agent.data import read_samples
from agent.errors import RequestError
from agent.policy import amounts, compact, compact_net
from agent.train import render_loss


@dataclass
class TrainConfig:
    data: list[str]  # folders written by `retouchiq data synth`, used together
    out: str = str(compact.WEIGHTS)
    epochs: int = 60
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    hidden: int = 512
    dropout: float = 0.1
    value_weight: float = 4.0  # MSE in [-1, 1] units is small next to the BCE; this balances them
    pos_weight: float = 2.0  # a missed knob fails the request, a spare one rarely does: favour recall
    stat_noise: float = 1.0  # noise on the standardised statistics, so the photo informs amounts but cannot
    # be recognised (held-out photos are other photos); 0.5 let values flip sign on
    # held-out photos (docs/policy.md)
    text_dropout: float = 0.1  # dropout on the 384-d instruction embedding: no single direction of it may decide
    stat_clip: float = 2.0  # the statistics are clipped at ±2 std: beyond that a photo (a very dark one) only
    # taught the network "brighten", whatever the words (6 let "darken it" brighten it)
    stat_swap: float = 1.0  # share of the batch's explicit requests ("darken it", "golden hour") that read the
    # statistics of another sample's photo: the direction they ask for must not hang on
    # the photo (a dark held-out photo had "darken it" and "too bright" brightened; 0.5
    # still flipped "darken it"); generic requests ("fix it") keep their own photo
    set_dim: int = 256  # compose "mix" only: also read the clauses one by one (per-clause MLP, summed)
    amounts: bool = True  # each clause also reads its amount words as numbers (agent/policy/amounts.py)
    compose: str = "clauses"  # answer each clause on its own and combine per knob (compact_net.py; "mix": the whole
    # request at once, as the weights shipped before it; this is 4–5 points better)
    nll_weight: float = 0.1
    val_fraction: float = 0.1  # of the training photos' samples, to watch over-fitting
    seed: int = 0
    max_samples: int = 0  # 0 = all
    members: int = 1  # networks trained from seeds seed, seed + 1, …; shipped as one averaged ensemble
    threads: int = 1  # the model is small: more threads mostly wait on each other (3× slower, 2 busy cores)
    render_weight: float = 0.0  # the render term (mean |display − target display| in %; 0.02 measured, not shipped)
    render_every: int = 4  # render on every n-th step (the render costs ~5× a step of the network)
    render_batch: int = 64  # samples of the batch rendered
    render_side: int = 16  # thumbnail side in pixels


@dataclass
class Tensors:
    text: torch.Tensor  # [N, 384] the clauses' mean embedding
    stats: torch.Tensor
    active: torch.Tensor
    unit: torch.Tensor
    cidx: torch.Tensor  # [N, MAX_CLAUSES] rows of ``table`` for the clauses one by one, -1 = none
    explicit: torch.Tensor  # [N] bool: the instruction says what to change (not one of the generic requests)
    amounts: torch.Tensor  # [N, MAX_CLAUSES, amounts.DIM] the clauses' amount words as numbers
    table: torch.Tensor  # [distinct clauses, 384], shared, not indexed by take()
    photo: torch.Tensor  # [N] row of ``thumbs`` for the sample's input photo
    target: torch.Tensor  # [N, 3, side, side] the target values' render of that thumbnail (empty: no render term)
    thumbs: torch.Tensor  # [distinct inputs, 3, side, side] sRGB thumbnails, shared

    def __len__(self):
        return len(self.text)

    def take(self, idx) -> Tensors:
        rows = [getattr(self, f)[idx] for f in ("text", "stats", "active", "unit", "cidx", "explicit", "amounts")]
        return Tensors(
            *rows, self.table, self.photo[idx], self.target[idx] if len(self.target) else self.target, self.thumbs
        )

    def inputs(self, net) -> tuple:
        """What the network reads: mean embedding and statistics, and the clauses one by one (with their amounts)
        if it uses them."""
        if not net.reads_clauses:
            return self.text, self.stats
        clauses = (self.text, self.stats, self.table[self.cidx.clamp(min=0)], (self.cidx >= 0).float())
        return clauses + (self.amounts,) if net.cfg.amount_dim else clauses


def targets(slot_values: dict) -> tuple[np.ndarray, np.ndarray]:
    """Sample slots → (active 0/1, value in unit range; neutral where inactive)."""
    names = compact.SLOT_NAMES
    active = np.zeros(len(names), np.float32)
    unit = np.zeros(len(names), np.float32)
    for i, name in enumerate(names):
        slot = slots_mod.BY_NAME[name]
        chroma = slots_mod.HUE_OF.get(name)
        used = name in slot_values and (
            slots_mod.is_active(chroma, slot_values.get(chroma, 0.0))
            if chroma
            else slots_mod.is_active(name, slot_values[name])
        )
        active[i] = used
        unit[i] = compact.to_unit(name, slot_values[name] if used else slot.neutral)
    return active, unit


def load_tensors(samples: list[dict], log=print, render_side: int = 0) -> Tensors:
    """render_side > 0: also thumbnails of the inputs and the target values' renders of them (render term)."""
    from PIL import Image

    from agent.policy.text import TextEncoder

    stats, active, unit, seen, photo = [], [], [], {}, []
    t0 = time.time()
    for k, s in enumerate(samples):
        path = Path(s["dir"]) / s["input"]
        if path not in seen:  # `synth --fast` data shares one input per photo among its samples
            with Image.open(path) as im:
                pixels = np.asarray(im.convert("RGB"))
            st = compact.features(pixels)
            seen[path] = ([st[key] for key in compact.STATS], len(seen))
        stats.append(seen[path][0])
        photo.append(seen[path][1])
        a, u = targets(s["slots"])
        active.append(a)
        unit.append(u)
        if (k + 1) % 200 == 0 or k + 1 == len(samples):
            log(f"features {k + 1}/{len(samples)} ({time.time() - t0:.0f} s)")
    from agent.policy.text import MAX_CLAUSES

    # every distinct clause once; the clauses as drawn (courtesies kept): the shipped weights were trained so, and
    # the policy normalises the requests it answers (text.clause_keys)
    encoder = TextEncoder(cache_size=1 << 30, normalise=False)
    text = encoder.encode([s["instruction"] for s in samples])
    split = [encoder.keys(s["instruction"])[:MAX_CLAUSES] for s in samples]
    index = {c: i for i, c in enumerate(dict.fromkeys(c for cs in split for c in cs))}
    table = encoder.encode(list(index))  # a clause is its own only clause: its embedding
    cidx = np.full((len(samples), MAX_CLAUSES), -1, np.int64)
    for row, cs in enumerate(split):
        cidx[row, : len(cs)] = [index[c] for c in cs]
    log(
        f"instruction embeddings: {len({s['instruction'] for s in samples})} distinct, {len(index)} distinct "
        f"clauses ({time.time() - t0:.0f} s)"
    )
    from agent.language.banks import GENERIC

    generic = {g for g, _ in GENERIC}
    explicit = torch.tensor([s["instruction"].strip() not in generic for s in samples])
    active_t, unit_t = torch.from_numpy(np.stack(active)), torch.from_numpy(np.stack(unit))
    photo_t = torch.tensor(photo)
    # the thumbnails in a pass of their own: made inside the loop above, the process held 3.8 GB at the loop's end
    # over 50000 samples instead of 0.5 GB (measured; the heap no longer shrank between the loop's transient arrays)
    # and into one buffer (as a list of tensors: 2.0 GB at the end instead of 1.4 GB)
    thumbs = thumbnails(list(seen), render_side) if render_side else torch.zeros(0)
    target = torch.zeros(0)
    if render_side:
        target = _target_renders(active_t, unit_t, photo_t, thumbs)
        log(f"target renders: {len(target)} at {render_side} px from {len(thumbs)} inputs ({time.time() - t0:.0f} s)")
    return Tensors(
        torch.from_numpy(text),
        torch.tensor(stats, dtype=torch.float32),
        active_t,
        unit_t,
        torch.from_numpy(cidx),
        explicit,
        torch.from_numpy(amounts.clause_features(split, MAX_CLAUSES)),
        torch.from_numpy(table),
        photo_t,
        target,
        thumbs,
    )


def thumbnails(paths: list[Path], side: int) -> torch.Tensor:
    """[len(paths), 3, side, side] sRGB thumbnails of image files, in one buffer."""
    from PIL import Image

    thumbs = torch.zeros((len(paths), 3, side, side))
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            thumbs[i] = render_loss.thumbnail(np.asarray(im.convert("RGB")), side)
    return thumbs


def input_paths(samples: list[dict]) -> list[Path]:
    """The distinct input images of the samples in the order ``load_tensors`` numbers them (``Tensors.photo``)."""
    return list(dict.fromkeys(Path(s["dir"]) / s["input"] for s in samples))


@functools.lru_cache(maxsize=1)
def _renderer() -> render_loss.SlotRenderer:
    return render_loss.SlotRenderer()


def _target_renders(active, unit, photo, thumbs, chunk: int = 256) -> torch.Tensor:
    r = _renderer()
    out = []
    with torch.no_grad():
        for i in range(0, len(active), chunk):
            values = render_loss.gated(active[i : i + chunk], unit[i : i + chunk], r)
            out.append(r(thumbs[photo[i : i + chunk]], values).clamp(0.0, 1.0))
    return torch.cat(out)


def total_loss(cfg: TrainConfig, parts: dict):
    """The objective from loss_fn's parts (tensors while training, floats when evaluating)."""
    total = parts["bce"] + cfg.value_weight * parts["mse"] + cfg.nll_weight * parts["nll"]
    return total + cfg.render_weight * parts["render"] if "render" in parts else total


def loss_fn(net, cfg: TrainConfig, b: Tensors, render: int = 0) -> dict:
    """render > 0: also the render term on the batch's first ``render`` samples."""
    logit, mean, log_std = net(*b.inputs(net))
    bce = F.binary_cross_entropy_with_logits(logit, b.active, pos_weight=torch.tensor(cfg.pos_weight))
    n_on = b.active.sum().clamp(min=1.0)
    mse = ((mean - b.unit) ** 2 * b.active).sum() / n_on
    nll = ((0.5 * ((mean.detach() - b.unit) / log_std.exp()) ** 2 + log_std) * b.active).sum() / n_on
    parts = {"bce": bce, "mse": mse, "nll": nll}
    if render and len(b.target):
        parts["render"] = render_term(logit[:render], mean[:render], b.take(slice(0, render)))
    return parts


def render_term(logit: torch.Tensor, mean: torch.Tensor, b: Tensors) -> torch.Tensor:
    """Mean |render of the predicted values − render of the target values| of the display values, in %."""
    r = _renderer()
    p = torch.sigmoid(logit)
    gate = (p > compact.ACTIVE).float() + p - p.detach()  # used as decoded; the gradient reaches the probability
    pred = r(b.thumbs[b.photo], render_loss.gated(gate, mean, r)).clamp(0.0, 1.0)
    return 100.0 * (pred - b.target).abs().mean()


def evaluate(net, cfg: TrainConfig, d: Tensors, chunk: int = 4096, render_samples: int = 1024) -> dict:
    """Losses over the whole set (in chunks; the per-slot means weigh the chunks by their used knobs)."""
    net.eval()
    sums = {"bce": 0.0, "mse": 0.0, "nll": 0.0}
    n_on = float(d.active.sum().clamp(min=1.0))
    with torch.no_grad():
        for i in range(0, len(d), chunk):
            b = d.take(slice(i, i + chunk))
            parts = loss_fn(net, cfg, b)
            on = float(b.active.sum().clamp(min=1.0))
            sums["bce"] += float(parts["bce"]) * len(b) / len(d)
            sums["mse"] += float(parts["mse"]) * on / n_on
            sums["nll"] += float(parts["nll"]) * on / n_on
        if cfg.render_weight and len(d.target):  # on the first render_samples samples (the render is slow)
            n = min(len(d), render_samples)
            sums["render"] = float(
                sum(
                    render_term(*net(*b.inputs(net))[:2], b) * len(b)
                    for b in (d.take(slice(i, min(n, i + 256))) for i in range(0, n, 256))
                )
                / n
            )
    net.train()
    return {"loss": total_loss(cfg, sums), **sums}


def train(cfg: TrainConfig, log=None) -> dict:
    """Train, save the weights to ``cfg.out``; returns the run's record (losses per epoch, timing)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train(cfg, log or (lambda msg: print(msg, file=sys.stderr, flush=True)))
    finally:
        torch.set_num_threads(threads)


def _train(cfg: TrainConfig, log) -> dict:
    t0 = time.time()
    torch.manual_seed(cfg.seed)
    samples = [{**s, "dir": str(d)} for d in cfg.data for s in read_samples(d, "train")]  # held-out: never
    samples = samples[: cfg.max_samples] if cfg.max_samples else samples
    if not samples:
        raise RequestError(f"{', '.join(map(str, cfg.data))}: no training samples (split 'train')")
    full = load_tensors(samples, log, cfg.render_side if cfg.render_weight else 0)
    t_feat = time.time() - t0

    # validation: a fraction of the training samples (by sample; held-out photos are not loaded at all)
    perm = torch.randperm(len(full), generator=torch.Generator().manual_seed(cfg.seed))
    n_val = int(len(full) * cfg.val_fraction) if len(full) >= 20 else 0
    val, tr = full.take(perm[:n_val]), full.take(perm[n_val:])

    nets, histories = [], []
    for k in range(max(1, cfg.members)):
        if cfg.members > 1:
            log(f"member {k + 1}/{cfg.members}")
        net, history = _fit(cfg, tr, val, cfg.seed + k, log, t0)
        nets.append(net)
        histories.append(history)
    net = nets[0] if len(nets) == 1 else compact_net.Ensemble(nets)
    net.eval()
    history = histories[-1]
    first = histories[0][0]["initial"]
    final = {**history[-1], "train": evaluate(net, cfg, tr)}
    if n_val:
        final["val"] = evaluate(net, cfg, val)
    record = {
        "config": asdict(cfg),
        "samples": len(samples),
        "train": len(tr),
        "val": n_val,
        "initial": first,
        "final": final,
        "feature_seconds": round(t_feat, 1),
        "seconds": round(time.time() - t0, 1),
        "trained": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    compact_net.save(cfg.out, net, list(compact.STATS), record)
    log(f"saved {cfg.out} ({Path(cfg.out).stat().st_size / 1e6:.1f} MB) after {record['seconds']:.0f} s")
    return {**record, "history": [h for hs in histories for h in hs]}


def _fit(cfg: TrainConfig, tr: Tensors, val: Tensors, seed: int, log, t0: float):
    """One network on the training tensors; returns it and its per-epoch record."""
    torch.manual_seed(seed)
    n_val = len(val)
    net = compact_net.CompactNet(
        compact_net.Config(
            n_stats=len(compact.STATS),
            hidden=cfg.hidden,
            dropout=cfg.dropout,
            stat_noise=cfg.stat_noise,
            text_dropout=cfg.text_dropout,
            set_dim=cfg.set_dim,
            stat_clip=cfg.stat_clip,
            compose=cfg.compose,
            amount_dim=amounts.DIM if cfg.amounts and cfg.compose == "clauses" else 0,
        )
    )
    net.stat_mean.copy_(tr.stats.mean(0))
    net.stat_std.copy_(tr.stats.std(0).clamp(min=1e-3))
    with torch.no_grad():  # start from the data's base rates: the head begins at "mostly off, neutral values"
        k = len(compact.SLOT_NAMES)
        rate = tr.active.mean(0).clamp(1e-3, 1 - 1e-3)
        net.head.bias[:k] = torch.log(rate / (1 - rate))
        net.head.bias[k : 2 * k] = ((tr.unit * tr.active).sum(0) / tr.active.sum(0).clamp(min=1)).clamp(-1, 1)
        net.head.bias[2 * k :] = math.log(0.3)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(tr) / cfg.batch_size))
    total_steps = cfg.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total_steps, pct_start=0.1)

    history = []
    first = evaluate(net, cfg, tr)
    log(f"start: train loss {first['loss']:.4f}")
    net.train()
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(tr))
        running = 0.0
        for i in range(steps_per_epoch):
            b = tr.take(order[i * cfg.batch_size : (i + 1) * cfg.batch_size])
            if cfg.stat_swap:
                swap = b.explicit & (torch.rand(len(b)) < cfg.stat_swap)
                b.stats[swap] = b.stats[torch.randperm(len(b))][swap]
            render = cfg.render_batch if cfg.render_weight and i % max(1, cfg.render_every) == 0 else 0
            parts = loss_fn(net, cfg, b, render)
            loss = total_loss(cfg, parts)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            running += loss.item() * len(b) / len(tr)
        rec = {"epoch": epoch + 1, "train": {"loss": running}}  # mean over the epoch's batches (dropout on)
        if epoch == 0:
            rec["initial"] = first
        if n_val:
            rec["val"] = evaluate(net, cfg, val)
        history.append(rec)
        if epoch == 0 or (epoch + 1) % 5 == 0 or epoch + 1 == cfg.epochs:
            r = f", render {rec['val']['render']:.2f} %" if n_val and "render" in rec["val"] else ""
            v = (
                f", val {rec['val']['loss']:.4f} (bce {rec['val']['bce']:.3f}, mse {rec['val']['mse']:.4f}{r})"
                if n_val
                else ""
            )
            log(f"epoch {epoch + 1}/{cfg.epochs}: train {rec['train']['loss']:.4f}{v} ({time.time() - t0:.0f} s)")
    net.eval()
    return net, history
