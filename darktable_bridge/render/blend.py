"""darktable's blending (src/develop/blend.c) for the renderer: opacity, parametric and drawn masks.

A blend step's structure (mask mode, colour space, blend mode, which parametric channels, the drawn shapes'
types) is static; the numbers (opacity, trapezoids, shape geometry) come in as a flat tensor: the blend params
struct's floats followed by each drawn shape's point values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from xmp import blend as B
from xmp import masks as M
from xmp.sidecar import Sidecar

from ..errors import RenderError
from . import color
from .base import Context, Params, flatten


@dataclass
class BlendStep:
    mask_mode: int
    cst: int
    mode: int
    channels: tuple[int, ...]  # active parametric channels (input side)
    shapes: tuple[tuple[int, int], ...]  # (mask type, group state) per drawn shape
    shape_values: list[float]  # geometry of the shapes (flattened point structs)
    combine: int

    @property
    def key(self) -> tuple:
        return (self.mask_mode, self.cst, self.mode, self.channels, self.shapes, self.combine)

    def apply(self, before: torch.Tensor, after: torch.Tensor, p: Params, space: str, ctx: Context) -> torch.Tensor:
        from .masks import drawn_mask, parametric_mask

        n, _, h, w = before.shape
        opacity = (p["opacity"] / 100.0).view(-1, 1, 1, 1)
        blend_space = "lab" if self.cst == B.CS_LAB else "rgb"
        a = _to(before, space, blend_space)
        b = _to(after, space, blend_space)
        mask = torch.ones((n, 1, h, w), dtype=before.dtype, device=before.device)
        if self.mask_mode & B.MASK_DRAWN and self.shapes:
            geometry = p.flat[:, p_size() :]
            drawn = drawn_mask(self.shapes, geometry, ctx, h, w)
            if self.combine & B.COMBINE_DRAWN_INVERTED:
                drawn = 1.0 - drawn
            mask = mask * drawn
        if self.mask_mode & B.MASK_PARAMETRIC and self.channels:
            mask = mask * parametric_mask(a, p, self.channels, self.cst)
        if self.combine & B.COMBINE_INVERT:
            mask = 1.0 - mask
        mask = mask * opacity
        out = a * (1.0 - mask) + b * mask
        return _to(out, blend_space, space)


def p_size() -> int:
    return len(flatten(B.PARAMS, B.PARAMS.defaults()))


def _to(x: torch.Tensor, src: str, dst: str) -> torch.Tensor:
    if src == dst:
        return x
    return color.rgb_to_lab(x) if dst == "lab" else color.lab_to_rgb(x)


def blend_structure(values: dict, space: str, sidecar: Sidecar, num: int) -> BlendStep | None:
    """The static part of a history item's blending, or None when blending is off."""
    mode = values["mask_mode"]
    if mode == 0:
        return None
    if mode & B.MASK_RASTER:
        raise RenderError("raster masks are not rendered here; use --engine darktable")
    if values["blend_mode"] not in (B.BLEND_MODES["normal"], B.BLEND_MODES["normal bounded"]):
        raise RenderError(f"blend mode {values['blend_mode']:#x} is not rendered here (only normal)")
    for name in ("feathering_radius", "blur_radius", "contrast", "brightness", "details"):
        if values[name] != 0:
            raise RenderError(f"mask refinement '{name}' is not rendered here yet; use --engine darktable")
    cst = values["blend_cst"]
    if cst not in (B.CS_LAB, B.CS_RGB_SCENE, B.CS_RGB_DISPLAY):
        raise RenderError(f"blend colour space {cst} is not rendered here")
    channels = ()
    if mode & B.MASK_PARAMETRIC:
        active = values["blendif"] & 0xFFFF
        channels = tuple(i for i in range(16) if active >> i & 1)
        if cst != B.CS_LAB and channels:
            raise RenderError("parametric masks are rendered in the Lab blend space only")
        if values["blendif"] >> 16:
            raise RenderError("inverted parametric channels are not rendered here yet")
        if any(c >= 4 and c < 8 or c >= 12 for c in channels):
            raise RenderError("parametric masks on the module's output are not rendered here yet")
    shapes, geometry = (), []
    if mode & B.MASK_DRAWN and values["mask_id"]:
        shapes, geometry = _group_shapes(sidecar, values["mask_id"])
    return BlendStep(mode, cst, values["blend_mode"], channels, shapes, geometry, values["mask_combine"])


def _group_shapes(sidecar: Sidecar, group_id: int) -> tuple[tuple, list[float]]:
    end = sidecar.history_end
    nums = sorted({m.num for m in sidecar.masks if m.num < end})
    forms = {m.form_id: m for m in sidecar.masks if nums and m.num == nums[-1]}
    if group_id not in forms:
        raise RenderError(f"drawn mask group {group_id} is not in the sidecar's current forms")
    shapes, geometry = [], []
    for member in forms[group_id].points():
        form = forms.get(member["formid"])
        if form is None:
            raise RenderError(f"drawn mask {member['formid']} is missing from the sidecar")
        if member["state"] & ~(M.STATE_USE | M.STATE_SHOW | M.STATE_UNION):
            raise RenderError("only unions of drawn shapes are rendered here")
        if form.mask_type not in (M.GRADIENT, M.ELLIPSE, M.CIRCLE):
            raise RenderError(
                f"drawn shape type {form.mask_type} is not rendered here yet (gradient, ellipse, circle are)"
            )
        points = form.points()
        shapes.append((form.mask_type, member["state"]))
        geometry.extend(flatten(M.point_struct(form.mask_type), points[0]) + [member["opacity"]])
    return tuple(shapes), geometry
