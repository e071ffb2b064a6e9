"""Find vocabulary params whose render matches a target: "match this look" as a darktable edit.

Gradient descent through the torch renderer. The chosen modules' numeric fields (those the agent may set and
that are struct fields themselves) are optimised inside their documented ranges (a sigmoid maps an unbounded
variable onto [min, max]); everything else keeps darktable's defaults. Exposure starts from the log-ratio of the
two photos' mean luminance, the rest from their neutral values. Works at a reduced size for speed; the result
is an ordinary operations list, applied like any agent edit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .apply import sidecar_of
from .modules import VOCABULARY
from .render import color
from .render.base import layout
from .render.pipe import Pipe, load_image, plan, tensors

DEFAULT_FIELDS = {
    "exposure": ("exposure",),
    "channelmixerrgb": ("temperature",),
    "colorbalancergb": ("contrast", "vibrance", "saturation_global", "chroma_global"),
    "toneequal": ("deep_blacks", "blacks", "shadows", "midtones", "highlights"),
}


@dataclass
class FitResult:
    operations: list[dict]
    loss: float
    steps: int


def _neutral_value(module: str, name: str) -> float:
    neutral = VOCABULARY[module].neutral or {}
    if name in neutral and isinstance(neutral[name], (int, float)):
        return float(neutral[name])
    from xmp.modules import PARAMS

    return float(PARAMS[module].field(name).default)


def _resize(img: np.ndarray, size: int) -> torch.Tensor:
    t = torch.from_numpy(img)[None]
    h, w = t.shape[-2:]
    scale = size / max(h, w)
    if scale < 1:
        t = torch.nn.functional.interpolate(t, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")
    return t


def fit(
    before: str | Path,
    after: str | Path,
    modules: list[str] | None = None,
    size: int = 256,
    steps: int = 200,
    lr: float = 0.05,
    progress=None,
    which: dict[str, tuple[str, ...]] | None = None,
) -> FitResult:
    """``which``: per module the fields to fit (default ``DEFAULT_FIELDS``; its keys are then the modules)."""
    fittable = which or DEFAULT_FIELDS
    modules = list(which) if which else (modules or list(DEFAULT_FIELDS))
    src, dst = load_image(before), load_image(after)
    if src.shape != dst.shape:
        raise ValueError(
            f"BEFORE is {src.shape[2]}×{src.shape[1]} but AFTER is {dst.shape[2]}×{dst.shape[1]}; "
            "the photos must have the same size"
        )
    x = _resize(src, size)
    y = _resize(dst, size)
    target_lab = color.rgb_to_lab(color.matmul3(color.srgb_decode(y), color.SRGB_TO_REC2020))

    fields = [(m, f) for m in modules for f in fittable.get(m, ())]
    unknown = [m for m in modules if m not in fittable]
    if unknown:
        raise ValueError(f"fit does not know which fields of {unknown} to fit; fittable: {list(DEFAULT_FIELDS)}")
    ops = [{"module": m, "params": {f: _neutral_value(m, f) for f in fittable[m]}} for m in modules]
    sidecar = sidecar_of(Path("fit.png"), ops)
    pl = plan(sidecar)
    pipe = Pipe(pl.steps)
    base = tensors([pl])
    step_index = {s.op: i for i, s in enumerate(pl.steps)}
    flat_pos = []  # where each fitted field sits in the pipe inputs
    k = 0
    for s in pl.steps:
        flat_pos.append(k)
        k += 2 if s.blend is not None else 1

    ranges = [(VOCABULARY[m].param(f).min, VOCABULARY[m].param(f).max) for m, f in fields]
    init = []
    for (m, f), (lo, hi) in zip(fields, ranges):
        v = _neutral_value(m, f)
        if (m, f) == ("exposure", "exposure"):
            rec709 = torch.tensor([0.2126, 0.7152, 0.0722]).view(1, 3, 1, 1)
            lum_y, lum_x = ((color.srgb_decode(t) * rec709).sum(1).mean() for t in (y, x))
            v = float(torch.log2(lum_y / lum_x.clamp(min=1e-6)).clamp(lo + 1e-3, hi - 1e-3))
        u = (v - lo) / (hi - lo)
        u = min(max(u, 1e-3), 1 - 1e-3)
        init.append(math.log(u / (1 - u)))
    z = torch.tensor(init, dtype=torch.float32, requires_grad=True)
    opt = torch.optim.Adam([z], lr=lr)
    lo_t = torch.tensor([r[0] for r in ranges])
    span = torch.tensor([r[1] - r[0] for r in ranges])

    def inputs(values: torch.Tensor) -> list[torch.Tensor]:
        out = [t.clone() for t in base]
        for j, (m, f) in enumerate(fields):
            start, _ = layout(VOCABULARY[m].struct)[f]
            idx = flat_pos[step_index[m]]
            col = torch.zeros_like(out[idx])
            col[:, start] = 1.0
            out[idx] = out[idx] * (1 - col) + values[j] * col
        return out

    # the best point seen is kept: with many fields at once a step can land where a module's math has no finite
    # answer (e.g. chroma, saturation and vibrance all pushed together), and Adam would carry the NaN on; such a
    # step is undone and the learning rate halved
    best, best_loss = z.detach().clone(), math.inf
    for it in range(steps):
        values = lo_t + span * torch.sigmoid(z)
        linear, _ = pipe(x, *inputs(values))
        lab = color.rgb_to_lab(linear.clamp(min=0))
        loss = torch.nn.functional.smooth_l1_loss(lab, target_lab)
        opt.zero_grad()
        loss.backward()
        if not (torch.isfinite(loss) and torch.isfinite(z.grad).all()):
            with torch.no_grad():
                z.copy_(best)
            for group in opt.param_groups:
                group["lr"] /= 2
            opt.state.clear()
        else:
            if float(loss.detach()) < best_loss:
                best, best_loss = z.detach().clone(), float(loss.detach())
            opt.step()
        if progress:
            progress(it + 1, steps, best_loss)
    loss_value = best_loss
    values = (lo_t + span * torch.sigmoid(best)).tolist()
    result_ops = []
    for m in modules:
        params = {f: round(v, 4) for (mm, f), v in zip(fields, values) if mm == m}
        result_ops.append({"module": m, "params": params})
    return FitResult(result_ops, loss_value, steps)
