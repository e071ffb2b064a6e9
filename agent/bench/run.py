"""``retouchiq bench``: every case × wording × policy through the one edit path, scored on darktable's renders.

For each case and wording the policy sees the photo (its preview, as ``retouchiq edit`` would) and answers through
``agent.core.edit``; its sidecar, the target's and the untouched photo's are rendered by darktable-cli (or the torch
renderer) at ``size`` px, and the policy's render is compared with the target's (L1, L2, ΔE00, SSIM, PSNR) and
with the untouched render (did each requested attribute move the requested way). An answer the policy cannot
give is counted invalid and scored as no edit. Everything is cached in the report folder (``cache/``): answers
per policy, case and wording, renders by content, judge scores; a run that stops is resumed by running it again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent import core
from agent.bench.cases import FAMILIES, VARIANTS, Case
from agent.errors import PolicyError, RequestError
from agent.policy import EditResult, load_policy
from darktable_bridge import photos
from darktable_bridge.errors import RenderError
from xmp.files import atomic_write

SIZE = 384  # long side of the renders the metrics compare
BUILT_IN = {"target"}  # besides the registered policies: the case's own target edit


@dataclass
class Options:
    cases: list[Case]
    policies: list[str]
    report: Path
    engine: str = "darktable"
    variants: tuple[str, ...] = VARIANTS
    judge: str | None = None
    size: int = SIZE
    batch: int = 48  # renders per darktable-cli process


@dataclass
class Row:
    policy: str
    case: str
    family: str
    variant: str
    valid: bool
    error: str
    seconds: float
    operations: int
    l1: float = 0.0
    l2: float = 0.0
    delta_e: float = 0.0
    ssim: float = 0.0
    psnr: float = 0.0
    moved: dict = field(default_factory=dict)
    asked: dict = field(default_factory=dict)
    judge: dict | None = None
    xmp: str | None = None  # the answer's sidecar (for the report's pictures; not in results.json)

    @property
    def hits(self) -> int:
        return sum(self.moved.get(a) == s for a, s in self.asked.items())


# ---- renders ---------------------------------------------------------------------------------------------------


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def _read_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def render_darktable(jobs: list[tuple[Path, str | None]], size: int, hq: bool = False) -> list[np.ndarray]:
    """darktable-cli's renders of (photo, sidecar text; None: no edit), long side ``size``, in one process.
    ``hq=False`` (darktable-cli's ``--hq false``): the pipe runs at the render's size, twice as fast for these
    small renders; every render of a run is made the same way, so they compare alike."""
    from darktable_bridge import darktable_cli
    from xmp.iop_order import V30_JPG
    from xmp.sidecar import Sidecar

    with tempfile.TemporaryDirectory(prefix="retouchiq-bench-") as tmp:
        tmp = Path(tmp)
        pairs = []
        for k, (photo, text) in enumerate(jobs):
            xmp = tmp / f"{k:05d}.xmp"
            xmp.write_text(text or Sidecar.new(photo.name, V30_JPG).to_string(), encoding="utf-8")
            pairs.append((photo, xmp))
        outs = darktable_cli.render_batch(pairs, tmp / "out", ".png", width=size, height=size, hq=hq)
        return [_read_png(o.read_bytes()) for o in outs]


def render_torch(jobs: list[tuple[Path, str | None]], size: int) -> list[np.ndarray]:
    """The torch renderer's renders of the same, on the photo decoded at ``size``."""
    import torch

    from darktable_bridge.render.renderer import render_torch as render
    from xmp.iop_order import V30_JPG
    from xmp.sidecar import Sidecar

    out = []
    for photo, text in jobs:
        image = photos.decode(photo, size)
        sidecar = Sidecar.parse(text) if text else Sidecar.new(photo.name, V30_JPG)
        x = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255.0)[None]
        out.append(render(x, [sidecar])[1][0].numpy().transpose(1, 2, 0).astype(np.uint8))
    return out


def torch_drawable(cases: list[Case]) -> tuple[list[Case], list[Case]]:
    """(the cases whose target the torch renderer draws, the others: some targets use drawn paths or mask
    refinements, which only darktable-cli renders)."""
    import torch

    from darktable_bridge.render.renderer import render_torch as render
    from xmp.sidecar import Sidecar

    kept, left_out = [], []
    for case in cases:
        try:
            render(torch.full((1, 3, 8, 8), 0.5), [Sidecar.read(case.sidecar)])
        except RenderError:
            left_out.append(case)
        else:
            kept.append(case)
    return kept, left_out


# ---- the report folder's cache ---------------------------------------------------------------------------------


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:20]


class Cache:
    """Answers, renders and judge scores under ``report/cache``, each written atomically, keyed by content."""

    def __init__(self, report: Path):
        self.root = report / "cache"
        self._photo: dict[Path, str] = {}

    def photo_key(self, photo: Path) -> str:
        if photo not in self._photo:
            self._photo[photo] = _digest(photo.read_bytes())
        return self._photo[photo]

    def _json(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> dict | None:
        path = self._json(kind, key)
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:  # cannot happen with atomic writes, but a hand-edited cache is re-made
            return None

    def put(self, kind: str, key: str, value: dict) -> None:
        path = self._json(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(value, ensure_ascii=False).encode("utf-8"))

    def render_key(self, photo: Path, text: str | None, engine: str, size: int) -> str:
        return _digest(self.photo_key(photo), text or "", engine, str(size))

    def render_path(self, key: str) -> Path:
        return self.root / "renders" / f"{key}.png"


def reader(opts: Options):
    """``image(photo, sidecar_text)``: a render of the run, from the report folder's cache."""
    cache = Cache(opts.report)

    def image(photo: Path, text: str | None) -> np.ndarray:
        return _read_png(cache.render_path(cache.render_key(photo, text, opts.engine, opts.size)).read_bytes())

    return image


def fingerprint(spec: str, policy) -> str:
    """What an answer depends on besides the case: the policy's spec, the source files of the package its class
    is written in (the compact policy's answer also depends on how limits.py and balance.py read the words and
    the photo, beside compact.py), and its weights file if it has one (``--fresh`` forgets cached answers
    whatever changed)."""
    import inspect

    source = inspect.getsourcefile(type(policy)) if policy is not None else None
    sources = sorted(Path(source).parent.glob("*.py")) if source else []
    weights = getattr(policy, "weights_path", None)
    return _digest(spec, *(Path(p).read_bytes() for p in (*sources, weights) if p))


# ---- the run ---------------------------------------------------------------------------------------------------


def _answer(policy, spec: str, case: Case, variant: str, preview) -> dict:
    """The policy's answer to one wording of one case, through the one edit path. ``preview()`` gives the
    photo's preview."""
    if spec == "target":
        outcome = core.merge(EditResult("the case's target edit", case.operations), None, case.photo.name)
        return {"valid": True, "error": "", "seconds": 0.0, "operations": len(case.operations), "xmp": outcome.text}
    preview = preview()
    start = time.perf_counter()
    try:
        outcome = core.edit(preview, case.instruction(variant), None, case.photo.name, policy)
    except PolicyError as exc:  # counted invalid; scored as no edit
        return {"valid": False, "error": str(exc), "seconds": time.perf_counter() - start, "operations": 0, "xmp": None}
    return {
        "valid": True,
        "error": "",
        "seconds": time.perf_counter() - start,
        "operations": len(outcome.result.operations),
        "xmp": outcome.text,
        "reasoning": outcome.result.reasoning,
    }


def load_policies(specs: list[str]) -> dict[str, object]:
    """Every policy, loaded before anything is written (an unknown one is a clear error)."""
    if not specs:
        raise RequestError("--policies: name at least one policy (e.g. noop,rules,compact)")
    if len(set(specs)) != len(specs):
        raise RequestError(f"--policies: {specs} names a policy twice")
    return {s: None if s in BUILT_IN else load_policy(s) for s in specs}


def prepare(opts: Options) -> tuple[dict[str, object], object]:
    """The policies and the judge, loaded before anything is written: a bad spec is a clear error."""
    policies = load_policies(opts.policies)
    judge = None
    if opts.judge:
        from agent.bench.judge import load_judge

        judge = load_judge(opts.judge)
    return policies, judge


def run(opts: Options, progress=None, loaded: tuple[dict, object] | None = None) -> dict:
    """Answers, renders, metrics (and judge scores): the whole benchmark, resumable. Returns the results.
    ``loaded``: what ``prepare(opts)`` gave, if it was called already."""
    from agent.measure import directions
    from agent.metrics import delta_e, l1, l2, psnr, ssim

    progress = progress or (lambda done, total, label: None)
    policies, judge = loaded or prepare(opts)
    opts.report.mkdir(parents=True, exist_ok=True)
    cache = Cache(opts.report)
    render = render_darktable if opts.engine == "darktable" else render_torch

    # 1. answers (the photo's preview decoded once per case, for all its wordings and policies)
    answers: dict[tuple[str, str, str], dict] = {}
    total = len(opts.policies) * len(opts.cases) * len(opts.variants)
    marks = {s: fingerprint(s, p) for s, p in policies.items()}
    for case in opts.cases:
        seen: list[np.ndarray] = []

        def preview(case=case, seen=seen) -> np.ndarray:
            if not seen:
                seen.append(photos.decode(case.photo, photos.PREVIEW_SIDE))
            return seen[0]

        for spec in opts.policies:
            for variant in opts.variants:
                key = _digest(marks[spec], case.id, cache.photo_key(case.photo), case.instruction(variant))
                got = cache.get("answers", key)
                if got is None:
                    got = _answer(policies[spec], spec, case, variant, preview)
                    cache.put("answers", key, got)
                answers[(spec, case.id, variant)] = got
                progress(len(answers), total, f"answers {spec} {case.id}")
    answers = {k: answers[k] for k in ((s, c.id, v) for s in opts.policies for c in opts.cases for v in opts.variants)}

    # 2. renders: the targets, the untouched photos, every answer (each distinct one once)
    wanted: dict[str, tuple[Path, str | None]] = {}
    for case in opts.cases:
        for text in (case.sidecar.read_text(encoding="utf-8"), None):
            wanted[cache.render_key(case.photo, text, opts.engine, opts.size)] = (case.photo, text)
    by_id = {c.id: c for c in opts.cases}
    for (_, cid, _), a in answers.items():
        photo = by_id[cid].photo
        wanted[cache.render_key(photo, a["xmp"], opts.engine, opts.size)] = (photo, a["xmp"])
    missing = [k for k in wanted if not cache.render_path(k).exists()]
    for start in range(0, len(missing), opts.batch):
        keys = missing[start : start + opts.batch]
        for key, image in zip(keys, render([wanted[k] for k in keys], opts.size)):
            path = cache.render_path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, _png(image))
        progress(min(start + opts.batch, len(missing)), len(missing), "renders")

    image = reader(opts)

    # 3. metrics (once per case and distinct render: the wordings and policies that give the same sidecar share
    # them), 4. judge scores
    rows, judge_error, scored, untouched = [], None, {}, {}
    for n, ((spec, cid, variant), a) in enumerate(answers.items(), 1):
        case = by_id[cid]
        target_text = case.sidecar.read_text(encoding="utf-8")
        key = _digest(
            *(cache.render_key(case.photo, t, opts.engine, opts.size) for t in (None, target_text, a["xmp"])),
            json.dumps(case.attributes, sort_keys=True),
        )
        if key not in scored:
            scored[key] = cache.get("scores", key)
        if scored[key] is None:
            from agent.measure import measure

            target, after = image(case.photo, target_text), image(case.photo, a["xmp"])
            if cid not in untouched:  # the untouched render's statistics, once per case
                untouched[cid] = measure(image(case.photo, None))
            scored[key] = {
                "metrics": [
                    l1(after, target),
                    l2(after, target),
                    delta_e(after, target),
                    ssim(after, target),
                    psnr(after, target),
                ],
                "moved": directions(untouched[cid], after, list(case.attributes)),
            }
            cache.put("scores", key, scored[key])
        metrics = (*scored[key]["metrics"], scored[key]["moved"])
        row = Row(
            spec,
            cid,
            case.family,
            variant,
            a["valid"],
            a["error"],
            a["seconds"],
            a["operations"],
            *metrics[:5],
            dict(metrics[5]),
            dict(case.attributes),
            None,
            a["xmp"],
        )
        if judge is not None and judge_error is None:
            key = _digest(
                judge.name, cache.render_key(case.photo, a["xmp"], opts.engine, opts.size), case.instruction(variant)
            )
            row.judge = cache.get("judge", key)
            if row.judge is None:
                from agent.bench.judge import JudgeUnavailable

                try:
                    before, after = image(case.photo, None), image(case.photo, a["xmp"])
                    row.judge = judge.score(before, after, case.instruction(variant)).to_json()
                    cache.put("judge", key, row.judge)
                except JudgeUnavailable as exc:
                    judge_error = str(exc)
        rows.append(row)
        progress(n, len(answers), f"scores {spec} {cid}")
    return {
        "settings": {
            "engine": opts.engine,
            "size": opts.size,
            "variants": list(opts.variants),
            "policies": opts.policies,
            "judge": opts.judge,
            "cases": len(opts.cases),
        },
        "judge_error": judge_error,
        "rows": [r.__dict__ | {"hits": r.hits} for r in rows],
        "summary": summarise(rows, opts.policies),
        "attributes": per_attribute(rows, opts.policies),
    }


# ---- summaries -------------------------------------------------------------------------------------------------


def _mean(xs: list[float | None]) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def summarise(rows: list[Row], specs: list[str]) -> dict:
    """Per policy, per family and overall (and per wording): the means on the papers' scale."""
    out: dict[str, dict] = {}
    for spec in specs:
        mine = [r for r in rows if r.policy == spec]
        groups = {f: [r for r in mine if r.family == f] for f in FAMILIES} | {"overall": mine}
        groups |= {f"wording: {v}": [r for r in mine if r.variant == v] for v in VARIANTS}
        out[spec] = {}
        for name, rs in groups.items():
            if not rs:
                continue
            asked = sum(len(r.asked) for r in rs)
            judged = [r.judge for r in rs if r.judge]
            out[spec][name] = {
                "answers": len(rs),
                "l1_x100": 100 * _mean([r.l1 for r in rs]),
                "l2_x1000": 1000 * _mean([r.l2 for r in rs]),
                "delta_e": _mean([r.delta_e for r in rs]),
                "ssim": _mean([r.ssim for r in rs]),
                "psnr": _mean([r.psnr for r in rs]),
                "direction": sum(r.hits for r in rs) / asked if asked else None,
                "attributes": asked,
                "valid": sum(r.valid for r in rs) / len(rs),
                "latency_ms": 1000 * statistics.median(r.seconds for r in rs),
                "sc": _mean([j["sc"] for j in judged]) if judged else None,
                "pq": _mean([j["pq"] for j in judged]) if judged else None,
                "o": _mean([j["o"] for j in judged]) if judged else None,
                "judged": sum(1 for j in judged if j["o"] is not None),
                "malformed": sum(j["malformed"] for j in judged),
            }
    return out


def per_attribute(rows: list[Row], specs: list[str]) -> dict:
    """Per policy and requested attribute (with its direction): right / asked."""
    out: dict[str, dict[str, list[int]]] = {s: {} for s in specs}
    for r in rows:
        for attr, sign in r.asked.items():
            tally = out[r.policy].setdefault(f"{attr} {'+' if sign > 0 else '−'}", [0, 0])
            tally[0] += r.moved.get(attr) == sign
            tally[1] += 1
    return {s: dict(sorted(t.items())) for s, t in out.items()}


def slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", spec).strip("_")[:40] or "policy"
