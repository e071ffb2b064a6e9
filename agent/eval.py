"""``retouchiq eval``: policies on held-out samples, rendered by darktable-cli, measured three ways.

For each sample and policy: the policy answers through the one edit path (``agent.core.edit``: its operations in a
fresh sidecar for the sample's input image), darktable-cli renders it (or the torch renderer, ``--engine torch``), and
- direction accuracy: each requested attribute must move the requested way from the input to the render
  (``agent.measure.directions``; counted per attribute),
- ΔE00 (mean over pixels) and SSIM (luminance, Gaussian window) of the render against the target render.
Besides the registered policies (``noop``, no operations, is the floor) one is built in here: ``target`` (the
sample's own operations: the ceiling, whose gap to perfect is the renderers' disagreement and the thresholds'
noise). Samples of ``retouchiq data synth --fast`` have no target image: their target is the sample's operations
rendered here by the same engine (so ``target`` scores ΔE00 0 on them).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent import core
from agent import measure as measure_mod
from agent.errors import PolicyError
from agent.metrics import delta_e, ssim
from agent.policy import EditResult, load_policy
from xmp.iop_order import V30_JPG
from xmp.sidecar import Sidecar


class TargetPolicy:
    """Stands for the sample's own target operations, which evaluation reads from the sample."""

    name = "target"


def get_policy(spec: str):
    return TargetPolicy() if spec == "target" else load_policy(spec)


# ------------------------------------------------------------------------------------------------ render


def _read(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def render_sidecar(photo: Path, text: str | None, engine: str, tmp: Path) -> np.ndarray:
    """The photo rendered with the sidecar ``text`` (None: no edit), at the photo's size."""
    text = text or Sidecar.new(photo.name, V30_JPG).to_string()
    if engine == "torch":
        import torch

        from darktable_bridge.render.renderer import render_torch

        image = _read(photo)
        x = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255.0)[None]
        return render_torch(x, [Sidecar.parse(text)])[1][0].numpy().transpose(1, 2, 0).astype(np.uint8)
    from darktable_bridge import darktable_cli

    xmp, out = tmp / "edit.xmp", tmp / "render.png"
    out.unlink(missing_ok=True)
    xmp.write_text(text, encoding="utf-8")
    h, w = _read(photo).shape[:2]
    darktable_cli.render(photo, xmp, out, width=w, height=h)
    result = _read(out)
    if result.shape[:2] != (h, w):
        raise RuntimeError(f"darktable-cli rendered {result.shape[1]}×{result.shape[0]}, expected {w}×{h}")
    return result


# ------------------------------------------------------------------------------------------------ run


@dataclass
class Row:
    hits: int = 0
    attributes: int = 0
    samples: int = 0
    de: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def add(self, r: dict) -> None:
        self.samples += 1
        self.hits += r["hits"]
        self.attributes += r["attributes"]
        self.de.append(r["delta_e"])
        self.ssim.append(r["ssim"])
        self.errors += bool(r["error"])
        self.seconds += r["policy_seconds"]

    def summary(self) -> dict:
        return {
            "samples": self.samples,
            "direction_accuracy": self.hits / self.attributes if self.attributes else None,
            "attributes": self.attributes,
            "delta_e": float(np.mean(self.de)) if self.de else None,
            "ssim": float(np.mean(self.ssim)) if self.ssim else None,
            "policy_errors": self.errors,
            "policy_ms": 1000 * self.seconds / self.samples if self.samples else None,
        }


def target_render(sample: dict, data: Path, engine: str, tmp: Path) -> np.ndarray:
    """The sample's target image, or where it has none (``--fast`` data) its operations rendered by ``engine``."""
    if sample.get("target"):
        return _read(data / sample["target"])
    photo = data / sample["input"]
    return render_sidecar(photo, core.merge(EditResult("", sample["operations"]), None, photo.name).text, engine, tmp)


def evaluate_sample(sample: dict, data: Path, policy, name: str, engine: str, tmp: Path, target: np.ndarray) -> dict:
    """One policy on one sample (``target``: the sample's ``target_render``, made once for all policies)."""
    photo = data / sample["input"]
    image = _read(photo)
    error = ""
    start = time.perf_counter()
    if isinstance(policy, TargetPolicy):
        outcome = core.merge(EditResult("", sample["operations"]), None, photo.name)
    else:
        try:
            outcome = core.edit(image, sample["instruction"], None, photo.name, policy)
        except PolicyError as exc:  # a policy that cannot answer scores as doing nothing, and is counted
            outcome, error = core.Outcome(EditResult("", [])), str(exc)
    seconds = time.perf_counter() - start
    ops = outcome.result.operations
    if isinstance(policy, TargetPolicy) and not sample.get("target"):
        rendered = target  # fast data: target_render rendered this very sidecar with this engine already
    else:
        rendered = render_sidecar(photo, outcome.text, engine, tmp)
    want = sample["attributes"]
    moved = measure_mod.directions(image, rendered, list(want))
    hits = sum(moved[a] == s for a, s in want.items())
    unseen = sample.get("unseen") or {}  # sets made before this field have none
    own = [a for a in unseen.get("attributes", ()) if a in want]
    return {
        "id": sample["id"],
        "policy": name,
        "family": sample["family"],
        "paraphrase": sample["paraphrase"],
        "hits": hits,
        "attributes": len(want),
        "moved": moved,
        "delta_e": delta_e(rendered, target),
        "ssim": ssim(rendered, target),
        "operations": len(ops),
        "error": error,
        "policy_seconds": seconds,
        "phrasing": unseen.get("phrasing"),
        "phrasing_hits": sum(moved[a] == want[a] for a in own),
        "phrasing_attributes": len(own),
    }


def evaluate(samples: list[dict], data: Path, specs: list[str], engine: str = "darktable", progress=None) -> dict:
    policies = {spec: get_policy(spec) for spec in specs}
    results = []
    total = len(samples) * len(policies)
    with tempfile.TemporaryDirectory(prefix="retouchiq-eval-") as tmp:
        for sample in samples:
            target = target_render(sample, data, engine, Path(tmp))
            for name, policy in policies.items():
                results.append(evaluate_sample(sample, data, policy, name, engine, Path(tmp), target))
                if progress:
                    progress(len(results), total, f"{sample['id']} {name}")
    return {
        "engine": engine,
        "split": samples[0]["split"] if samples else None,
        "results": results,
        "table": summarise(results, specs),
    }


ALONE, EACH = "unseen wordings alone", "unseen, each wording alike"


def summarise(results: list[dict], specs: list[str]) -> dict:
    """Rows per family, overall, and by wording. "unseen paraphrases" counts every attribute of the requests that
    use a held-out wording, clauses of the banks added to it included; ``ALONE`` only what the held-out wording
    itself asks, and ``EACH`` averages that per wording, so that which of the 50 a set happens to draw more often
    does not decide the figure."""
    groups: dict[tuple[str, str], Row] = {}
    per_wording: dict[str, dict[str, list[int]]] = {}
    for r in results:
        # held-out photos either way; "seen" wordings come from the banks' templates, "unseen" from the 50 kept out
        wording = "unseen paraphrases" if r["paraphrase"] == "unseen" else "seen paraphrases"
        for group in (r["family"], "overall", wording):
            groups.setdefault((r["policy"], group), Row()).add(r)
        if r.get("phrasing_attributes"):
            groups.setdefault((r["policy"], ALONE), Row()).add(
                {**r, "hits": r["phrasing_hits"], "attributes": r["phrasing_attributes"]}
            )
            tally = per_wording.setdefault(r["policy"], {}).setdefault(r["phrasing"], [0, 0])
            tally[0] += r["phrasing_hits"]
            tally[1] += r["phrasing_attributes"]
    order = ("enhance", "style", "local", "overall", "seen paraphrases", "unseen paraphrases", ALONE)
    table = {spec: {g: groups[(spec, g)].summary() for g in order if (spec, g) in groups} for spec in specs}
    for spec, tallies in per_wording.items():
        if spec in table:
            table[spec][EACH] = {
                **table[spec][ALONE],
                "wordings": len(tallies),
                "direction_accuracy": float(np.mean([h / n for h, n in tallies.values()])),
            }
    return table


def markdown(report: dict) -> str:
    lines = [
        f"Split {report['split']}, renders by "
        f"{'darktable-cli' if report['engine'] == 'darktable' else 'the torch renderer'}; "
        "direction accuracy over requested attributes, ΔE00 and SSIM against the target render.",
        "",
        "| policy | family | samples | direction accuracy | ΔE00 to target | SSIM to target | policy errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for spec, groups in report["table"].items():
        for group, s in groups.items():
            count = f"{s['wordings']} wordings" if "wordings" in s else s["attributes"]
            acc = f"{100 * s['direction_accuracy']:.1f} % ({count})" if s["direction_accuracy"] is not None else "–"
            lines.append(
                f"| {spec} | {group} | {s['samples']} | {acc} | {s['delta_e']:.2f} | {s['ssim']:.3f} | "
                f"{s['policy_errors']} |"
            )
    return "\n".join(lines)


def write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
