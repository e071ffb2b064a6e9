"""darktable's pixel pipe for non-raw input, re-implemented in torch: decode → colorin → modules → colorout.

Built from a sidecar: the active history's last entry per module instance, enabled ones, in the sidecar's
module order. 8-bit sRGB input (v/255), working space linear Rec2020, output to sRGB; darktable's 8-bit export
is ``round(clamp(v·255))``. Processing is at the input's size (a 1:1 export); raw files stay with darktable-cli.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from xmp import SidecarError, iop_order
from xmp import blend as blend_mod
from xmp.sidecar import Sidecar

from ..errors import RenderError
from . import color
from .base import Context, Params, flatten
from .blend import BlendStep, blend_structure
from .modules import MODULES

PIPE_MODULES = {"colorin", "colorout", "gamma", "flip", "mask_manager"}  # done by the pipe itself (or no-ops)


@dataclass
class Step:
    op: str
    priority: int
    static: dict
    blend: BlendStep | None

    @property
    def key(self) -> tuple:
        return (self.op, self.priority, tuple(sorted(self.static.items())), self.blend.key if self.blend else None)


@dataclass
class Plan:
    """A sidecar as steps (structure) and per-step flat params (values)."""

    steps: list[Step]
    params: list[list[float]]
    blend_params: list[list[float] | None] = field(default_factory=list)

    @property
    def structure(self) -> tuple:
        return tuple(s.key for s in self.steps)


def plan(sidecar: Sidecar) -> Plan:
    order = sidecar.iop_order_list
    if order is None:
        version = sidecar.iop_order_version
        if version in iop_order.RAW_ORDERS:
            raise RenderError(
                "the RAW module orders run exposure & co. before colorin on a JPEG; "
                "the renderer follows the JPEG orders only (use --engine darktable)"
            )
        if version not in (iop_order.V30_JPG, iop_order.V50_JPG):
            raise RenderError(f"module order version {version} is not rendered here; use --engine darktable")
        order = iop_order.default_order(version)
    rank = {entry: i for i, entry in enumerate(order)}
    steps, params, blends = [], [], []
    instances = sidecar.instances()
    for (op, prio), item in sorted(instances.items(), key=lambda kv: rank.get(kv[0], 10**6)):
        if op in PIPE_MODULES:
            if op == "flip" and item.params not in (b"\xff\xff\xff\xff",) and item.enabled:
                raise RenderError("flip with a fixed orientation is not rendered here")
            continue
        if not item.enabled:
            continue
        if op not in MODULES:
            raise RenderError(f"module '{op}' is not implemented by the renderer; use --engine darktable")
        if (op, prio) not in rank:
            raise RenderError(f"module '{op}' instance {prio} is missing from the sidecar's module order")
        module = MODULES[op]
        try:
            values = item.decoded()
        except SidecarError as exc:
            raise RenderError(str(exc)) from None
        module.check(values)
        static = {name: _frozen(values[name]) for name in module.static_fields}
        bstep, bflat = None, None
        if item.blendop_params is not None and item.blendop_version == blend_mod.VERSION:
            bvalues = blend_mod.PARAMS.decode(item.blendop_params)
            bstep = blend_structure(bvalues, module.space, sidecar, item.num)
            bflat = flatten(blend_mod.PARAMS, bvalues) if bstep else None
        elif item.blendop_params is not None:
            raise RenderError(f"{op}: blend params version {item.blendop_version} is not rendered here")
        steps.append(Step(op, prio, static, bstep))
        params.append(flatten(module_struct(op), values))
        blends.append(bflat)
    return Plan(steps, params, blends)


def _frozen(value):
    """Static values become part of a structure key: lists (curve nodes, arrays) as tuples."""
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


def module_struct(op: str):
    from xmp.modules import PARAMS

    return PARAMS[op]


class Pipe(torch.nn.Module):
    """One structure (modules, their static settings, blend structure); values are inputs."""

    def __init__(self, steps: list[Step]):
        super().__init__()
        self.steps = steps

    def hints(self, image: torch.Tensor, *params: torch.Tensor) -> tuple:
        """Per step, the module's ``hints`` for these params (hashable; see ``RenderModule.hints``)."""
        ctx = Context(width=image.shape[-1], height=image.shape[-2])
        out, it = [], iter(params)
        for step in self.steps:
            flat = next(it)
            if step.blend:
                next(it)
            h = MODULES[step.op].hints(Params(module_struct(step.op), flat, step.static), ctx)
            out.append(tuple(sorted(h.items())) if h else ())
        return tuple(out)

    def forward(
        self, image: torch.Tensor, *params: torch.Tensor, hints: tuple | None = None, runner=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """image: encoded sRGB [N, 3, H, W] in [0, 1]; params: per step [N, K] (and [N, 420/4] blend);
        hints: ``self.hints(image, *params)`` or None; runner: ``runner(key, fn, *tensors)`` runs each stage
        (decode, one per step, encode; ``key`` names the stage's structure) instead of ``fn(*tensors)``.

        Returns (linear Rec2020 working space, display sRGB before quantisation)."""
        n, _, h, w = image.shape
        ctx = Context(width=w, height=h)
        run = runner or _eager
        # colorin hands Lab to the pipe and colorout takes Lab back: both hand-offs go through darktable's Lab
        x = run(("colorin",), _enter, image)
        space = "lab"
        it = iter(params)
        for i, step in enumerate(self.steps):
            flat = next(it)
            bflat = next(it) if step.blend else None
            hint = hints[i] if hints is not None else ()
            fn = partial(_step, step, {**step.static, **dict(hint)} if hint else step.static, space, ctx)
            key = ("step", step.key, hint, space, ctx.width, ctx.height)
            x = run(key, fn, x, flat) if bflat is None else run(key, fn, x, flat, bflat)
            space = MODULES[step.op].space
        return run(("colorout", space), partial(_exit, space), x)


def _eager(key, fn, *tensors):
    return fn(*tensors)


def _enter(image: torch.Tensor) -> torch.Tensor:
    return color.xyz_to_lab(color.matmul3(color.srgb_decode(image), "SRGB_TO_XYZ_D50"))


def _step(
    step: Step,
    static: dict,
    space: str,
    ctx: Context,
    x: torch.Tensor,
    flat: torch.Tensor,
    bflat: torch.Tensor | None = None,
) -> torch.Tensor:
    module = MODULES[step.op]
    x = _convert(x, space, module.space)
    out = module.process(x, Params(module_struct(step.op), flat, static), ctx)
    if step.blend is not None:
        out = step.blend.apply(x, out, Params(blend_mod.PARAMS, bflat, {}), module.space, ctx)
    return out


def _exit(space: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = color.lab_to_rgb(_convert(x, space, "lab"))
    return x, color.srgb_encode(color.matmul3(x, "REC2020_TO_SRGB"))


def _convert(x: torch.Tensor, src: str, dst: str) -> torch.Tensor:
    if src == dst:
        return x
    return color.rgb_to_lab(x) if dst == "lab" else color.lab_to_rgb(x)


def quantize(display: torch.Tensor) -> torch.Tensor:
    """darktable's 8-bit export rounding."""
    return torch.round(display.clamp(0, 1) * 255.0)


def load_image(path) -> np.ndarray:
    """8-bit (or 16-bit) RGB file → encoded sRGB float32 [3, H, W] in [0, 1], as darktable decodes it."""
    from PIL import Image, ImageCms

    with Image.open(path) as im:
        icc = im.info.get("icc_profile")
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(im, dtype=np.float32) / 65535.0
            arr = np.repeat(arr[..., None], 3, axis=2)
        else:
            if icc:
                src = ImageCms.ImageCmsProfile(__import__("io").BytesIO(icc))
                im = ImageCms.profileToProfile(im.convert("RGB"), src, ImageCms.createProfile("sRGB"))
            bits = 16 if im.mode.endswith("16") else 8
            arr = np.asarray(im.convert("RGB"), dtype=np.float32) / (65535.0 if bits == 16 else 255.0)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def tensors(plans: list[Plan], dtype=torch.float32, device="cpu") -> list[torch.Tensor]:
    """Stack the per-step params of plans that share one structure into the Pipe's inputs."""
    out = []
    for i, step in enumerate(plans[0].steps):
        out.append(torch.tensor([pl.params[i] for pl in plans], dtype=dtype, device=device))
        if step.blend is not None:
            out.append(
                torch.tensor(
                    [pl.blend_params[i] + pl.steps[i].blend.shape_values for pl in plans], dtype=dtype, device=device
                )
            )
    return out
