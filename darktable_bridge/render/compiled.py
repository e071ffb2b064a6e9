"""The pipe through ``torch.compile`` (inductor) for inference, on the CPU or a CUDA GPU.

The eager pipe runs several hundred small element-wise ops per pixel, each a full pass over memory; inductor
fuses them into a few vectorized loops (C++ on the CPU, Triton kernels on a GPU). Each stage (colorin, one module
step with its blend, colorout) is compiled on its own and cached per stage structure and tensor shapes, so pipes of
other structures reuse compiled modules (inductor's on-disk cache also serves later processes). Only no-grad
renders are compiled (``retouchiq fit`` differentiates through the eager pipe). A pipe key (structure, hints,
shapes) switches to its compiled stages only when its first compiled output agrees with the eager pipe's
(``TOLERANCE``); a failed compilation (that stage) or a disagreement (that key) falls back to eager, with a warning.

Modes (``mode`` argument or the ``RETOUCHIQ_RENDER_COMPILE`` environment variable): ``off`` (default), ``on``
(compile on first use), ``auto`` (compile a key on its ``AUTO_AFTER``-th render: one-off structures, such as
random edits, stay eager and skip the compile time).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field

import torch

from .memory import tune_allocator
from .pipe import Pipe

MODES = ("off", "on", "auto")
# module steps that are compiled (checked against eager on random settings); other modules, and steps with a
# blend (masks), run eagerly inside a compiled pipe: some modules' graphs (pyramids, large unrolled loops) take
# very long to trace and compile, and nothing else has been measured yet
COMPILE_OPS = frozenset({"exposure", "channelmixerrgb", "colorbalancergb", "sigmoid", "toneequal", "vignette"})
# ... except on a GPU: Triton's sigmoid stage differed from eager by 1.7e-3 (H100, 2026-11-27; every other stage
# by ≤ 1.6e-5), which fails TOLERANCE for the whole pipe, so it runs eagerly between compiled stages there
CUDA_EAGER_OPS = frozenset({"sigmoid"})
AUTO_AFTER = 4
# max |compiled − eager| / max(1, the pixel's largest |channel|) on the linear and display outputs: fused maths
# rounds differently, and extreme settings (pixels at 1e10) differ by more than any absolute bound
TOLERANCE = 1e-4


@dataclass
class Entry:
    """One pipe key (structure, shapes, hints): its use count and whether its compiled run was accepted."""

    uses: int = 0
    ready: bool = False
    failed: str | None = None
    compile_s: float = 0.0  # first compiled call (tracing + code generation + C++ build), seconds
    check: dict = field(default_factory=dict)


_CACHE: dict[tuple, Entry] = {}
_STAGES: dict[tuple, object] = {}  # stage key + tensor shapes → compiled stage function (or None: failed)
_STAGE_ERRORS: dict[tuple, str] = {}


def mode_from_env() -> str:
    mode = os.environ.get("RETOUCHIQ_RENDER_COMPILE", "off").strip().lower() or "off"
    return {"0": "off", "1": "on", "false": "off", "true": "on"}.get(mode, mode)


def _configure() -> None:
    import torch._dynamo.config as dc

    # one code object (pipe._step) serves every module: allow many specialisations before dynamo gives up
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(dc, name) and getattr(dc, name) < 1024:
            setattr(dc, name, 1024)
    if hasattr(dc, "accumulated_recompile_limit") and dc.accumulated_recompile_limit < 8192:
        dc.accumulated_recompile_limit = 8192


def _signature(tensors) -> tuple:
    return tuple((tuple(t.shape), t.dtype, str(t.device)) for t in tensors)


def _compiled_runner(key, fn, *tensors):
    """Pipe runner: each stage (colorin, a module step with its blend, colorout) is compiled on its own and
    shared by every pipe that has it at this size, so a new structure mostly reuses compiled modules."""
    if key[0] == "step" and (
        key[1][0] not in COMPILE_OPS or key[1][3] is not None or (tensors[0].is_cuda and key[1][0] in CUDA_EAGER_OPS)
    ):
        return fn(*tensors)
    skey = (key, _signature(tensors))
    if skey not in _STAGES:
        try:
            compiled = torch.compile(fn, dynamic=False)
            out = compiled(*tensors)
        except Exception as exc:  # any compiler failure: this stage stays eager
            _STAGES[skey] = None
            _STAGE_ERRORS[skey] = f"{type(exc).__name__}: {str(exc)[:300]}"
            warnings.warn(
                f"renderer: torch.compile failed for {key[:2]}, running it eagerly ({_STAGE_ERRORS[skey]})",
                RuntimeWarning,
                stacklevel=2,
            )
            return fn(*tensors)
        _STAGES[skey] = compiled
        return out
    compiled = _STAGES[skey]
    return fn(*tensors) if compiled is None else compiled(*tensors)


def run(pipe: Pipe, structure: tuple, image: torch.Tensor, params, mode: str | None = None):
    """pipe(image, *params) without gradients, compiled when ``mode`` (default: from the environment) says so."""
    mode = mode or mode_from_env()
    if mode not in MODES:
        raise ValueError(f"compile mode {mode!r}: one of {', '.join(MODES)}")
    if image.device.type == "cpu":
        tune_allocator()
    with torch.no_grad():
        if mode == "off" or image.device.type not in ("cpu", "cuda"):
            return pipe(image, *params)
        hints = pipe.hints(image, *params)
        key = (structure, hints, _signature([image, *params]))
        entry = _CACHE.setdefault(key, Entry())
        entry.uses += 1
        if entry.ready:
            return pipe(image, *params, hints=hints, runner=_compiled_runner)
        if entry.failed or (mode == "auto" and entry.uses < AUTO_AFTER):
            return pipe(image, *params, hints=hints)
        return _first(entry, pipe, image, params, hints)


def _first(entry: Entry, pipe: Pipe, image, params, hints):
    """Eager reference, then the compiled stages (compiling those not yet compiled), compared; returns the
    eager result either way."""
    ref = pipe(image, *params, hints=hints)
    _configure()
    t = time.perf_counter()
    out = pipe(image, *params, hints=hints, runner=_compiled_runner)
    entry.compile_s = time.perf_counter() - t
    diffs = [deviation(a, b) for a, b in zip(ref, out)]
    nan_ok = all(
        bool((torch.isnan(a) == torch.isnan(b)).all() and (torch.isinf(a) == torch.isinf(b)).all())
        for a, b in zip(ref, out)
    )
    entry.check = {"max_deviation": diffs, "nan_match": nan_ok}
    if max(diffs) > TOLERANCE or not nan_ok:
        entry.failed = (
            f"compiled output differs from eager by {max(diffs):.2e} relative (NaN/inf positions match: {nan_ok})"
        )
        warnings.warn(f"renderer: {entry.failed}; rendering eagerly", RuntimeWarning, stacklevel=2)
        return ref
    entry.ready = True
    return ref


def deviation(ref: torch.Tensor, out: torch.Tensor) -> float:
    """Largest |out − ref| over pixels, relative to the pixel's largest |channel| in ``ref`` where that is above 1
    (NaN and inf positions are compared separately)."""
    if not ref.numel():
        return 0.0
    scale = ref.abs().nan_to_num(nan=0.0, posinf=0.0).amax(1, keepdim=True).clamp(min=1.0)
    return float(((out - ref).abs() / scale).nan_to_num(nan=0.0, posinf=0.0).max())


def compile_seconds() -> float:
    """Total time spent in first compiled calls so far in this process."""
    return sum(e.compile_s for e in _CACHE.values())


def entries() -> dict[tuple, Entry]:
    return _CACHE
