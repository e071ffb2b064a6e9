"""The RL ablation: SFT, RL-rule, RL-GRM (stage 1 only) and RL-GRM+PGRT, several seeds each, the same budget.

For each seed: a stage-1 reward model (``agent.train.grm``), then three RL runs from the shipped SFT weights with
the same steps, prompts and samples (``agent.train.rl_compact``): against the rule reward, against the stage-1
reward model, and against it with PGRT. Also a control reward model: stage 1 plus as many updates as PGRT made,
spent on stage-1 pairs. Then:

- **reward accuracy** of the stage-1, PGRT and control reward models on the SFT policy's own edits of held-out
  photos (``grm.accuracy``; pairs truly worse than the target only);
- **the synthetic held-out set**: each policy (its ONNX file, through ``CompactPolicy`` as ``retouchiq edit`` runs
  it) answers every held-out sample; its values and the target's are rendered on a ``eval_side`` px thumbnail by
  every module of the edit; direction accuracy (``agent.measure.directions``), ΔE00, SSIM, L1, L2 per family;
- **RetouchEval-dt** (``agent.bench.run``, torch renderer): the same columns per family.

Each arm is reported as mean ± sd over seeds and, against SFT, the paired bootstrap interval over cases (each
case's metric averaged over the seeds first). ``out/ablation.md`` holds the tables, ``out/ablation.json`` every
number.

    retouchiq train ablation --data data/fast600 --heldout data/held601 -o out/ablation --seeds 0 1 2
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from agent.data import read_samples
from agent.metrics import paired_bootstrap
from agent.policy import compact
from agent.reward import grm as grm_mod
from agent.train import grm as grm_train
from agent.train import prompts as prompts_mod
from agent.train import rl_compact
from xmp.files import atomic_write

ARMS = ("sft", "rl-rule", "rl-grm", "rl-grm-pgrt")
FAMILIES = ("enhance", "style", "local")
METRICS = ("direction", "delta_e", "ssim", "l1", "l2")  # direction: share; l1 ×100, l2 ×1000 as the papers print


@dataclass
class AblationConfig:
    data: list[str]
    heldout: list[str]
    out: str
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 150
    policy: str = str(compact.WEIGHTS)
    max_samples: int = 0
    eval_side: int = 64
    bench: bool = True
    bench_variants: tuple[str, ...] = ("detailed",)
    bench_size: int = 128
    bench_max: int = 0  # the first N cases of each family (0: all)
    grm: grm_train.GRMTrainConfig = field(default_factory=grm_train.GRMTrainConfig)


def _slot_rows(values: list[dict[str, float]]) -> torch.Tensor:
    neutral = prompts_mod.renderer().neutral[0]
    out = neutral.expand(len(values), -1).clone()
    for row, v in enumerate(values):
        for name, x in v.items():
            out[row, compact.SLOT_NAMES.index(name)] = x
    return out


def synthetic(policy_path: str, h: prompts_mod.Prompts, images: list[np.ndarray]) -> list[dict]:
    """Per held-out sample: the policy's metrics against the target (on ``h``'s thumbnails)."""
    from agent.measure import directions, measure
    from agent.metrics import l1, l2, ssim
    from agent.reward.rule import delta_e

    policy = compact.load(policy_path)
    preds = []
    for i in range(0, len(images), 64):
        preds += policy.predict(images[i : i + 64], h.instruction[i : i + 64])
    values = _slot_rows([pred.values() if pred.recognised else {} for pred in preds])
    out, _ = prompts_mod.render(h.thumbs[h.t.photo], values)
    de = delta_e(out, h.target)
    u8 = lambda t: (t.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()  # noqa: E731
    sources: dict[int, dict] = {}  # the source's measurements, once per photo
    rows = []
    for i in range(len(h)):
        a, b, photo = u8(out[i]), u8(h.target[i]), int(h.t.photo[i])
        if photo not in sources:
            sources[photo] = measure(u8(h.src[photo]))
        asked = h.asked[i]
        moved = directions(sources[photo], measure(a), list(asked)) if asked else {}
        rows.append(
            {
                "case": str(i),
                "family": h.family[i],
                "direction": (sum(moved[k] == s for k, s in asked.items()) / len(asked)) if asked else None,
                "delta_e": float(de[i]),
                "ssim": ssim(a, b),
                "l1": 100 * l1(a, b),
                "l2": 1000 * l2(a, b),
            }
        )
    return rows


def bench(paths: list[str], cfg: AblationConfig, log) -> dict[str, list[dict]]:
    """RetouchEval-dt rows per policy file (torch renderer)."""
    from agent.bench import cases as cases_mod
    from agent.bench import run as bench_run

    cases = cases_mod.load()
    if cfg.bench_max:
        cases = [c for f in cases_mod.FAMILIES for c in [c for c in cases if c.family == f][: cfg.bench_max]]
    cases, left_out = bench_run.torch_drawable(cases)
    log(
        f"RetouchEval-dt: {len(left_out)} of {len(cases) + len(left_out)} cases left out (their targets use masks "
        "the torch renderer does not draw)"
    )
    specs = {path: f"compact:{path}" for path in paths}
    opts = bench_run.Options(
        cases=cases,
        policies=list(specs.values()),
        report=Path(cfg.out) / "bench",
        engine="torch",
        variants=tuple(cfg.bench_variants),
        size=cfg.bench_size,
    )
    t0 = time.time()
    result = bench_run.run(opts)
    log(
        f"RetouchEval-dt: {len(cases)} cases × {len(opts.variants)} wordings × {len(specs)} policies "
        f"({time.time() - t0:.0f} s)"
    )
    by_spec = {spec: path for path, spec in specs.items()}
    out: dict[str, list[dict]] = {path: [] for path in paths}
    for r in result["rows"]:
        if r["policy"] in by_spec:
            out[by_spec[r["policy"]]].append(
                {
                    "case": f"{r['case']}/{r['variant']}",
                    "family": r["family"],
                    "direction": r["hits"] / len(r["asked"]) if r["asked"] else None,
                    "delta_e": r["delta_e"],
                    "ssim": r["ssim"],
                    "l1": 100 * r["l1"],
                    "l2": 1000 * r["l2"],
                }
            )
    return out


def _per_case(rows: list[dict], metric: str, family: str | None) -> dict[str, float]:
    return {r["case"]: r[metric] for r in rows if r[metric] is not None and (family is None or r["family"] == family)}


def table(results: dict[str, dict[int, list[dict]]]) -> dict:
    """results[arm][seed] = rows → per family and metric: mean ± sd over seeds, and the paired bootstrap interval
    of (arm − SFT) over cases (each case averaged over seeds)."""
    out = {}
    for family in (None, *FAMILIES):
        fam = family or "all"
        out[fam] = {}
        for metric in METRICS:
            base = None
            for arm, by_seed in results.items():
                per_seed = [_per_case(rows, metric, family) for rows in by_seed.values()]
                means = [float(np.mean(list(d.values()))) if d else float("nan") for d in per_seed]
                cases = sorted(set.intersection(*(set(d) for d in per_seed))) if per_seed else []
                avg = {c: float(np.mean([d[c] for d in per_seed])) for c in cases}
                cell = {"mean": float(np.mean(means)), "sd": float(np.std(means, ddof=1)) if len(means) > 1 else 0.0}
                if arm == "sft":
                    base = avg
                elif base:
                    common = sorted(set(avg) & set(base))
                    d, lo, hi = paired_bootstrap([avg[c] for c in common], [base[c] for c in common])
                    cell["vs_sft"] = {"diff": d, "low": lo, "high": hi, "cases": len(common)}
                out[fam].setdefault(arm, {})[metric] = cell
    return out


def markdown(tab: dict, title: str) -> str:
    scale = {"direction": 100.0}
    lines = [
        f"### {title}",
        "",
        "| family | arm | direction % ↑ | ΔE00 ↓ | SSIM ↑ | L1×100 ↓ | L2×1000 ↓ |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for fam, arms in tab.items():
        for arm, cells in arms.items():
            parts = []
            for metric in METRICS:
                c, k = cells[metric], scale.get(metric, 1.0)
                text = f"{c['mean'] * k:.2f} ± {c['sd'] * k:.2f}"
                if "vs_sft" in c:
                    v = c["vs_sft"]
                    text += f" [{v['low'] * k:+.2f}, {v['high'] * k:+.2f}]"
                parts.append(text)
            lines.append(f"| {fam} | {arm} | " + " | ".join(parts) + " |")
    lines.append("")
    lines.append("mean ± sd over seeds; [low, high]: 95 % paired bootstrap interval of (arm − SFT) over cases")
    return "\n".join(lines)


def _accuracy_by_pair(accuracy: dict) -> list[str]:
    """The accuracies split by what the pairs are: seen or unseen wordings, and the pairs where the SFT edit misses
    a requested direction the target meets (worse by any reading)."""
    groups = (("seen", "seen wordings"), ("unseen", "unseen wordings"), ("missed", "SFT edit misses a direction"))
    lines = [
        "By pair (stage 1 / after PGRT / control; pairs):",
        "",
        "| seed | " + " | ".join(label for _, label in groups) + " |",
        "|---|" + "---:|" * len(groups),
    ]
    for seed, a in accuracy.items():
        if not all(g in a["stage1"] for g, _ in groups):  # a seed trained before the split was recorded
            continue
        cells = [
            " / ".join(f"{100 * a[m][g]:.1f}" for m in ("stage1", "pgrt", "control")) + f" %; {a['stage1']['n_' + g]}"
            for g, _ in groups
        ]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    return lines


def _seed(cfg, seed, d, p, h32, pairs, sft_pairs, timing, log) -> dict:
    """One seed: the stage-1 reward model, the three RL arms, the control; the reward accuracies."""
    gcfg = grm_train.GRMTrainConfig(**{**asdict(cfg.grm), "seed": seed})
    grm, record, _ = grm_train.train_stage1(p, gcfg, log, pairs)
    stage1 = d / "grm-stage1.pt"
    grm_mod.save(stage1, grm, record)
    arms = {
        "rl-rule": dict(reward="rule"),
        "rl-grm": dict(reward=f"grm:{stage1}"),
        "rl-grm-pgrt": dict(reward=f"grm:{stage1}", pgrt=True, grm_out=str(d / "grm-pgrt.pt")),
    }
    records = {}
    for arm, kw in arms.items():
        rcfg = rl_compact.RLConfig(
            data=cfg.data, out=str(d / f"{arm}.onnx"), policy=cfg.policy, steps=cfg.steps, seed=seed, **kw
        )
        log(f"seed {seed}: {arm}")
        records[arm] = rl_compact.train(rcfg, log, p, pairs)
        timing[f"{arm}/{seed}"] = {
            "seconds": records[arm]["seconds"],
            "step_median": records[arm]["step_seconds_median"],
        }
    # the control: stage 1 plus as many updates as PGRT made, of as many pairs, on stage-1 pairs only
    pgrt = records["rl-grm-pgrt"]
    updates = [x["grm_pairs"] for x in pgrt["history"] if "grm_pairs" in x]
    control = grm_mod.load(stage1).train()
    opt = grm_train.optimiser(control, rcfg.grm_lr)
    gen = torch.Generator().manual_seed(seed + 2000)
    for n in updates:
        grm_train.control_update(control, opt, gcfg, p, pairs, max(n, 1), gen, rcfg.pgrt_steps)
    control.eval()
    accuracy = {
        "stage1": grm_train.accuracy(grm_mod.load(stage1), h32, sft_pairs),
        "pgrt": grm_train.accuracy(pgrt["grm"].eval(), h32, sft_pairs),
        "control": grm_train.accuracy(control, h32, sft_pairs),
    }
    log(f"seed {seed}: reward accuracy on held-out SFT edits {json.dumps(accuracy)}")
    return accuracy


def run(cfg: AblationConfig, log=print) -> dict:
    t0 = time.time()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    p = prompts_mod.load(cfg.data, "train", cfg.max_samples, log=log)
    h32 = prompts_mod.load(cfg.heldout, "heldout", log=log)
    h = prompts_mod.load(cfg.heldout, "heldout", side=cfg.eval_side, log=log)
    from PIL import Image

    images = []
    for folder in cfg.heldout:
        for s in read_samples(folder, "heldout"):
            with Image.open(Path(folder) / s["input"]) as im:
                images.append(np.asarray(im.convert("RGB")))
    sft_pairs = grm_train.policy_edits(cfg.policy, h32, 2, 12345)
    arms = ("rl-rule", "rl-grm", "rl-grm-pgrt")
    paths = {"sft": {s: cfg.policy for s in cfg.seeds}, **{arm: {} for arm in arms}}
    accuracy, timing = {}, {}
    done = {s: out / f"seed{s}" / "seed.json" for s in cfg.seeds}
    pairs = None
    if not all(f.is_file() for f in done.values()):
        pairs = grm_train.make_pairs(p, cfg.grm.pairs_per_prompt, cfg.grm.seed, log)  # the same for every seed
    for seed in cfg.seeds:
        d = out / f"seed{seed}"
        for arm in arms:
            paths[arm][seed] = str(d / f"{arm}.onnx")
        if done[seed].is_file():  # a run that stopped is resumed: this seed's arms were trained already
            saved = json.loads(done[seed].read_text(encoding="utf-8"))
            accuracy[seed] = saved["accuracy"]
            timing.update(saved["timing"])
            log(f"seed {seed}: trained already ({done[seed]})")
            continue
        accuracy[seed] = _seed(cfg, seed, d, p, h32, pairs, sft_pairs, timing, log)
        atomic_write(
            done[seed],
            json.dumps(
                {"accuracy": accuracy[seed], "timing": {k: v for k, v in timing.items() if k.endswith(f"/{seed}")}}
            ).encode("utf-8"),
        )
    # every distinct policy file evaluated once (SFT's is every seed's SFT)
    distinct = list(dict.fromkeys(path for by_seed in paths.values() for path in by_seed.values()))
    per_file = {path: synthetic(path, h, images) for path in distinct}
    synth_rows = {arm: {s: per_file[path] for s, path in by_seed.items()} for arm, by_seed in paths.items()}
    result = {"config": asdict(cfg), "accuracy": accuracy, "timing": timing, "synthetic": table(synth_rows)}
    md = [markdown(result["synthetic"], f"Synthetic held-out set ({len(h)} samples, {cfg.eval_side} px renders)")]
    if cfg.bench:
        per_file = bench(distinct, cfg, log)
        bench_rows = {arm: {s: per_file[path] for s, path in by_seed.items()} for arm, by_seed in paths.items()}
        result["bench"] = table(bench_rows)
        md.append(
            markdown(
                result["bench"],
                f"RetouchEval-dt (torch renderer, {'/'.join(cfg.bench_variants)} wordings, {cfg.bench_size} px)",
            )
        )
    acc_lines = [
        "### Reward accuracy on the SFT policy's edits of held-out photos",
        "",
        "| seed | stage 1 | after PGRT | control (same compute, stage-1 pairs) | pairs |",
        "|---|---:|---:|---:|---:|",
    ]
    for seed, a in accuracy.items():
        acc_lines.append(
            f"| {seed} | {100 * a['stage1']['all']:.1f} % | {100 * a['pgrt']['all']:.1f} % | "
            f"{100 * a['control']['all']:.1f} % | {a['stage1']['n']} |"
        )
    md.append("\n".join(acc_lines))
    md.append("\n".join(_accuracy_by_pair(accuracy)))
    result["seconds"] = round(time.time() - t0, 1)
    md.append(f"whole ablation: {result['seconds'] / 60:.1f} min")
    atomic_write(out / "ablation.json", json.dumps(result, indent=1, default=str).encode("utf-8"))
    atomic_write(out / "ablation.md", ("\n\n".join(md) + "\n").encode("utf-8"))
    log(f"wrote {out / 'ablation.md'}")
    return result
