"""The render term of the compact policy's training: slot values → darktable's modules (the torch
re-implementation in ``darktable_bridge.render``) → a thumbnail, compared with the target slot values' render of
the same thumbnail.

One fixed pipe holds every slot's module (the local ones as their masked instances); a slot's value is written
into its module's params as a tensor, so the render is differentiable in the values. A slot at its neutral value
leaves its module's output as it was (checked by tests/test_render_loss.py against ``render_torch`` of the
sidecar that ``slots.to_operations`` writes). Left out: haze removal, local contrast and sharpening — their
spatial work means little on a thumbnail and took two thirds of the render time; their slots keep the slot loss.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from agent import slots as slots_mod
from agent.policy import compact
from darktable_bridge.apply import sidecar_of
from darktable_bridge.modules.channelmixerrgb import tinted_xy
from darktable_bridge.render.base import layout
from darktable_bridge.render.pipe import Pipe, module_struct, plan, tensors

SKIP = ("hazeremoval", "bilat", "sharpen")
SIDE = 24  # thumbnails are SIDE × SIDE (any aspect: the masks are placed relative to the frame)


class SlotRenderer:
    """Renders [N] slot-value rows (value units, ``compact.SLOT_NAMES`` order) on [N, 3, H, W] sRGB images."""

    def __init__(self, skip: tuple[str, ...] = SKIP):
        """``skip``: modules left out of the pipe (their slots do nothing here); ``()`` renders every slot (RL,
        where no gradient goes through the render and the spatial modules must be seen to be rewarded)."""
        names = compact.SLOT_NAMES
        self.skip = tuple(skip)
        probe = {s.name: (s.lo + 0.7 * (s.hi - s.lo)) for s in slots_mod.SLOTS}  # every module present
        ops = [op for op in slots_mod.to_operations(probe) if op["module"] not in self.skip]
        sidecar = sidecar_of(Path("thumb.png"), ops)
        pl = plan(sidecar)
        self.pipe = Pipe(pl.steps)
        base = tensors([pl])
        instances = sidecar.instances()
        # where each step's flat params sit among the pipe's inputs
        first, k = {}, 0
        for step in pl.steps:
            label = instances[(step.op, step.priority)].multi_name  # "retouchiq", "retouchiq top", …
            region = next((r for r in slots_mod.REGIONS if label.endswith(" " + r)), None)
            first[(step.op, region)] = k
            k += 2 if step.blend is not None else 1
        self.writes = []  # (input index, column, slot index, weight)
        self.tint = None
        for i, name in enumerate(names):
            slot = slots_mod.BY_NAME[name]
            if slot.module in self.skip:
                continue
            region = name.split("@")[1] if "@" in name else None
            idx = first[(slot.module, region)]
            cols = layout(module_struct(slot.module))
            if slot.module == "toneequal":
                for band, w in zip(slots_mod.TONE_BANDS, slots_mod.TONE_WEIGHTS[slot.field]):
                    if w:
                        self.writes.append((idx, cols[band][0], i, w))
            elif name == "tint":
                self.tint = (idx, cols["x"][0], cols["y"][0], names.index("temperature"), i)
            else:
                self.writes.append((idx, cols[slot.field][0], i, 1.0))
        # neutral wherever a slot writes (the tone equalizer's bands sum their knobs: they start at 0)
        self.base = [t.clone() for t in base]
        for idx, col, i, _ in self.writes:
            slot = slots_mod.BY_NAME[names[i]]
            self.base[idx][:, col] = 0.0 if slot.module == "toneequal" else slot.neutral
        self.neutral = torch.tensor([[slots_mod.BY_NAME[n].neutral for n in names]])

    def inputs(self, values: torch.Tensor) -> list[torch.Tensor]:
        n = values.shape[0]
        out = [b.expand(n, -1).clone() for b in self.base]
        sums: dict[tuple[int, int], torch.Tensor] = {}
        for idx, col, i, w in self.writes:
            v = values[:, i] * w
            sums[(idx, col)] = sums[(idx, col)] + v if (idx, col) in sums else v
        for (idx, col), v in sums.items():
            out[idx][:, col] = v
        if self.tint is not None:
            idx, cx, cy, t, i = self.tint
            x, y = tinted_xy(values[:, t], values[:, i])
            out[idx][:, cx], out[idx][:, cy] = x, y
        return out

    def __call__(self, images: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Display sRGB (before 8-bit rounding) [N, 3, H, W]."""
        return self.pipe(images, *self.inputs(values), runner=_finite_gradients)[1]


def _finite_gradients(key, fn, *tensors):
    """Runs a stage of the pipe; the gradient reaching its inputs is made finite. The modules follow darktable
    into log2(0) and pow(0, ·) on black or grey pixels (colour balance rgb's chroma, the vignette's centre),
    whose derivatives are 0 · inf: without this, one such pixel turns the whole batch's gradient into NaN; with
    it, that pixel and that image's params of that stage get no gradient from there."""
    for t in tensors:
        if t.requires_grad:
            t.register_hook(lambda g: torch.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0))
    return fn(*tensors)


_LO = torch.tensor([slots_mod.BY_NAME[n].lo for n in compact.SLOT_NAMES])
_SPAN = torch.tensor([slots_mod.BY_NAME[n].hi - slots_mod.BY_NAME[n].lo for n in compact.SLOT_NAMES])
_HUES = [compact.SLOT_NAMES.index(hue) for hue in slots_mod.HUE_OF]


def unit_to_values(unit: torch.Tensor) -> torch.Tensor:
    """Network units [-1, 1] → slot values (``compact.from_unit`` on tensors)."""
    return _LO + (unit.clamp(-1.0, 1.0) + 1.0) / 2.0 * _SPAN


def gated(active: torch.Tensor, unit: torch.Tensor, renderer: SlotRenderer) -> torch.Tensor:
    """Slot values as decoded: a knob's value where it is used (``active`` 0/1 or a gate in between), neutral
    elsewhere; a hue follows its chroma's gate."""
    gate = active.clone()
    gate[:, _HUES] = 1.0
    neutral = renderer.neutral.to(unit.dtype)
    return neutral + gate * (unit_to_values(unit) - neutral)


def thumbnail(image: np.ndarray, side: int = SIDE) -> torch.Tensor:
    """uint8 RGB [H, W, 3] → sRGB [3, side, side] in [0, 1] (area-averaged)."""
    t = torch.from_numpy(np.array(image, copy=True)).permute(2, 0, 1)[None].float() / 255.0
    return torch.nn.functional.interpolate(t, size=(side, side), mode="area")[0]
