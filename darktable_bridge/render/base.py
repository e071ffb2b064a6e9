"""What a re-implemented darktable module looks like to the renderer.

A module works on a batch ``[N, 3, H, W]`` in its colour space (``rgb``: linear Rec2020 working space;
``lab``: CIE Lab D50) and reads its params from a ``Params`` view: every struct field as a float tensor
``[N, *shape]``. Integer fields that change the algorithm (enums, switches) are *structure*: they are read as
Python values (``p.static(name)``), must be equal across a batch, and an ONNX graph is built per structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from xmp import Struct


@dataclass
class Context:
    width: int  # full input image size (masks and radii refer to it)
    height: int
    scale: float = 1.0  # processing scale relative to the input (1 at 1:1 export)


class Params:
    """Named views on a flat params tensor [N, K] laid out as the struct's float fields."""

    def __init__(self, struct: Struct, flat: torch.Tensor, static: dict):
        self.struct, self.flat, self._static = struct, flat, static

    def __getitem__(self, name: str) -> torch.Tensor:
        start, f = layout(self.struct)[name]
        n = self.flat.shape[0]
        return self.flat[:, start : start + f.count].reshape((n,) + f.shape) if f.shape else self.flat[:, start]

    def static(self, name: str):
        return self._static[name]

    def hint(self, name: str, default=None):
        """A value of ``RenderModule.hints`` when the pipe was given them, else ``default``."""
        return self._static.get(name, default)


_LAYOUTS: dict[tuple[str, int], dict] = {}


def layout(struct: Struct) -> dict:
    """field name -> (offset in the flat float vector, field); char fields are left out."""
    key = (struct.module, struct.version)
    if key not in _LAYOUTS:
        pos, out = 0, {}
        for f in struct.fields:
            if f.ctype == "char":
                continue
            out[f.name] = (pos, f)
            pos += f.count
        _LAYOUTS[key] = out
    return _LAYOUTS[key]


def flatten(struct: Struct, values: dict) -> list[float]:
    flat = []
    for name, (_, f) in layout(struct).items():
        v = values[name]
        if f.shape:
            flat.extend(float(x) for x in torch.as_tensor(v, dtype=torch.float64).flatten().tolist())
        else:
            flat.append(float(v))
    return flat


def graph_barrier() -> None:
    """Ends the compiled graph here (a graph break under ``torch.compile``; nothing when eager).

    Modules call it where their per-image work (commit_params: constants from the params, [N] tensors) ends and
    the pixels start: otherwise inductor fuses those values into the per-pixel loop and evaluates them (powf,
    exp, matrix inversions) again for every vector of pixels. Also where a per-pixel result is read several
    times by what follows (sigmoid's curve, read back per channel by its hue step): the break stores it once
    instead of letting each reader recompute it."""
    if torch.compiler.is_compiling():
        torch._dynamo.graph_break()


class RenderModule:
    """Subclasses set ``op``, ``space`` and ``static_fields``, and implement ``process``."""

    op: str = ""
    space: str = "rgb"
    static_fields: tuple[str, ...] = ()

    def check(self, values: dict) -> None:
        """Raise RenderError for settings this re-implementation does not reproduce."""

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        raise NotImplementedError

    def hints(self, p: Params, ctx: Context) -> dict | None:
        """Python values derived from a batch's params that let ``process`` skip work (read with ``p.hint``).

        Computed eagerly before a compiled pipe runs (they become constants of its graph, and part of its cache
        key); without them (eager runs, ONNX export) ``process`` must work them out itself or do the general
        computation."""
        return None
