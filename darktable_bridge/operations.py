"""Agent operations (docs/architecture.md's action format) → validated darktable edits → sidecar history.

An operation: ``{"module", "params", "instance"?, "mask"?, "opacity"?, "blend_mode"?}``. Masks:

- drawn: ``gradient`` (anchor [x, y], rotation °, compression, curvature, profile linear|sigmoidal),
  ``ellipse`` (center, radius [a, b], rotation, border), ``circle`` (center, radius, border),
  ``path`` (points [[x, y], ...] of a closed polygon, border); coordinates in [0, 1] of the image,
  rotation 0 of a gradient covers the top of the frame;
- parametric: ``{"type": "parametric", "channel": "lightness"|"chroma"|"hue", "range": [x0, x1, x2, x3]}``,
  a trapezoid (0 below x0, ramps to 1 at x1, 1 until x2, ramps to 0 at x3) in L* (0–100), C* (0–~180)
  or hue degrees; blended in Lab so the units are the same for every module;
- combined: ``{"parts": [mask, ...], "invert"?, "feathering_radius"?, "blur_radius"?}``: drawn shapes are
  joined (union), parametric channels all apply (product) and intersect the drawn mask.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from xmp import SidecarError, blend, masks
from xmp.merge import Edit, Shape

from .modules import VOCABULARY
from .vocabulary import LAB, Module

AGENT_LABEL = "retouchiq"
OPERATION_KEYS = {"module", "params", "instance", "mask", "opacity", "blend_mode"}
MAX_OPERATIONS = 64

_GRADIENT = {
    "anchor": ([0.5, 0.5], -0.5, 1.5),
    "rotation": (0.0, -180.0, 180.0),
    "compression": (0.3, 0.01, 1.0),
    "curvature": (0.0, -2.0, 2.0),
}
_ELLIPSE = {
    "center": ([0.5, 0.5], -0.5, 1.5),
    "radius": ([0.3, 0.2], 0.01, 1.0),
    "rotation": (0.0, -180.0, 180.0),
    "border": (0.1, 0.001, 1.0),
}
_CIRCLE = {"center": ([0.5, 0.5], -0.5, 1.5), "radius": (0.2, 0.01, 1.0), "border": (0.1, 0.001, 1.0)}
_PATH = {"points": (None, -0.5, 1.5), "border": (0.05, 0.001, 0.5)}
_PARAMETRIC = {"channel": None, "range": None}
_COMMON = {"type", "invert", "feathering_radius", "blur_radius"}
SHAPE_FIELDS = {"gradient": _GRADIENT, "ellipse": _ELLIPSE, "circle": _CIRCLE, "path": _PATH, "parametric": _PARAMETRIC}
PARAMETRIC_CHANNELS = {
    "lightness": ("L", 100.0, 100.0),
    "chroma": ("C", 180.0, 128.0 * math.sqrt(2.0)),
    "hue": ("h", 360.0, 360.0),
}  # name -> (Lab blendif channel, max in user units, scale)


def _number(where: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SidecarError(f"{where}: expected a number, got {value!r}")
    if not lo <= value <= hi:
        raise SidecarError(f"{where}: {value!r} is out of range [{lo:g}, {hi:g}]")
    return float(value)


def _value(where: str, spec: dict, key: str, default: Any, lo: float, hi: float) -> Any:
    value = spec.get(key, default)
    if isinstance(default, list):
        if not isinstance(value, list) or len(value) != len(default):
            raise SidecarError(f"{where}.{key}: expected a list of {len(default)} numbers")
        return [_number(f"{where}.{key}", v, lo, hi) for v in value]
    return _number(f"{where}.{key}", value, lo, hi)


def _shape(where: str, spec: dict) -> Shape:
    kind = spec["type"]
    fields = SHAPE_FIELDS[kind]
    v = {k: _value(where, spec, k, d, lo, hi) for k, (d, lo, hi) in fields.items() if d is not None}
    if kind == "gradient":
        profile = spec.get("profile", "sigmoidal")
        if profile not in ("linear", "sigmoidal"):
            raise SidecarError(f"{where}.profile: expected 'linear' or 'sigmoidal'")
        return Shape(
            masks.GRADIENT,
            [
                {
                    "anchor": v["anchor"],
                    "rotation": v["rotation"],
                    "compression": v["compression"],
                    "steepness": 0.0,
                    "curvature": v["curvature"],
                    "state": 1 if profile == "linear" else 2,
                }
            ],
        )
    if kind == "ellipse":
        return Shape(
            masks.ELLIPSE,
            [
                {
                    "center": v["center"],
                    "radius": v["radius"],
                    "rotation": v["rotation"],
                    "border": v["border"],
                    "flags": 0,
                }
            ],
        )
    if kind == "circle":
        return Shape(masks.CIRCLE, [{"center": v["center"], "radius": v["radius"], "border": v["border"]}])
    points = spec.get("points")
    if not isinstance(points, list) or not 3 <= len(points) <= 64:
        raise SidecarError(f"{where}.points: a path needs 3 to 64 [x, y] points")
    nodes = []
    for p in points:
        if not isinstance(p, list) or len(p) != 2:
            raise SidecarError(f"{where}.points: {p!r} is not [x, y]")
        xy = [_number(f"{where}.points", c, -0.5, 1.5) for c in p]
        nodes.append({"corner": xy, "ctrl1": xy, "ctrl2": xy, "border": [v["border"], v["border"]], "state": 1})
    return Shape(masks.PATH, nodes)


def _flatten_mask(where: str, mask: Any) -> tuple[list[dict], dict]:
    if not isinstance(mask, dict):
        raise SidecarError(f"{where}: a mask is an object")
    if "parts" in mask:
        extra = set(mask) - {"parts", "invert", "feathering_radius", "blur_radius"}
        if extra:
            raise SidecarError(f"{where}: unknown mask field(s) {sorted(extra)}")
        parts = mask["parts"]
        if not isinstance(parts, list) or not 1 <= len(parts) <= 8:
            raise SidecarError(f"{where}.parts: expected 1 to 8 masks")
        specs = []
        for i, part in enumerate(parts):
            if not isinstance(part, dict) or "parts" in part:
                raise SidecarError(f"{where}.parts[{i}]: expected a single mask")
            specs.append(part)
        return specs, mask
    return [mask], mask


def mask_to_blend(module: Module, where: str, mask: Any) -> tuple[list[Shape], dict]:
    """Drawn shapes and the blend params (mask id filled in at merge) for an operation's ``mask``."""
    specs, options = _flatten_mask(where, mask)
    shapes, parametric = [], []
    for i, spec in enumerate(specs):
        w = f"{where}[{i}]" if len(specs) > 1 else where
        kind = spec.get("type")
        if kind not in SHAPE_FIELDS:
            raise SidecarError(f"{w}.type: expected one of {sorted(SHAPE_FIELDS)}, got {kind!r}")
        allowed = set(SHAPE_FIELDS[kind]) | _COMMON | ({"profile"} if kind == "gradient" else set())
        extra = set(spec) - allowed
        if extra:
            raise SidecarError(f"{w}: unknown field(s) {sorted(extra)} for a {kind} mask")
        if kind == "parametric":
            parametric.append(_parametric(w, spec))
        else:
            shapes.append(_shape(w, spec))
    for k, shape in enumerate(shapes):
        if k:
            shape.state |= masks.STATE_UNION
    cst = blend.CS_LAB if parametric or module.colorspace == LAB else blend.CS_RGB_SCENE
    p = blend.default_params(cst)
    p["mask_mode"] = (
        blend.MASK_ENABLED | (blend.MASK_DRAWN if shapes else 0) | (blend.MASK_PARAMETRIC if parametric else 0)
    )
    for channel, trapezoid in parametric:
        p["blendif"] |= 1 << channel
        p["blendif_parameters"][channel] = trapezoid
    invert = any(bool(s.get("invert", False)) for s in specs) or bool(options.get("invert", False))
    if invert:
        p["mask_combine"] |= blend.COMBINE_INVERT if parametric else blend.COMBINE_DRAWN_INVERTED
    if "feathering_radius" in options:
        p["feathering_radius"] = _number(f"{where}.feathering_radius", options["feathering_radius"], 0, 250)
    if "blur_radius" in options:
        p["blur_radius"] = _number(f"{where}.blur_radius", options["blur_radius"], 0, 100)
    return shapes, p


def _parametric(where: str, spec: dict) -> tuple[int, list[float]]:
    name = spec.get("channel")
    if name not in PARAMETRIC_CHANNELS:
        raise SidecarError(f"{where}.channel: expected one of {sorted(PARAMETRIC_CHANNELS)}, got {name!r}")
    channel, top, scale = PARAMETRIC_CHANNELS[name]
    rng = spec.get("range")
    if not isinstance(rng, list) or len(rng) != 4:
        raise SidecarError(f"{where}.range: expected [x0, x1, x2, x3]")
    values = [_number(f"{where}.range", v, 0.0, top) for v in rng]
    if any(b < a for a, b in zip(values, values[1:])):
        raise SidecarError(f"{where}.range: values must not decrease")
    return blend.LAB_CHANNELS[channel], [v / scale for v in values]


LABEL_CHARS = 32  # longest request kept whole in an instance's name


def instance_label(request: str) -> str:
    """A request as darktable shows it in an instance's name (``exposure retouchiq warmer``): one line, no
    characters an instance name may not hold, cut at a word past ``LABEL_CHARS``."""
    text = " ".join("".join(c if c.isprintable() else " " for c in request if c not in '"<>&').split())
    if len(text) <= LABEL_CHARS:
        return text
    head = text[: LABEL_CHARS - 1]
    if text[LABEL_CHARS - 1] != " " and " " in head:  # the last word would be cut: leave it out
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;.") + "…"


def to_edit(op: Any, index: int = 0, label: str = "") -> Edit:
    """Validate one agent operation and turn it into an ``xmp.merge.Edit``; its instance is named after the
    operation's own ``instance``, else ``label`` (the request), else just the agent's name."""
    where = f"operations[{index}]"
    if not isinstance(op, dict):
        raise SidecarError(f"{where}: an operation is an object")
    extra = set(op) - OPERATION_KEYS
    if extra:
        raise SidecarError(f"{where}: unknown key(s) {sorted(extra)}; allowed: {sorted(OPERATION_KEYS)}")
    name = op.get("module")
    if name not in VOCABULARY:
        raise SidecarError(f"{where}: unknown module {name!r}; known: {', '.join(VOCABULARY)}")
    module = VOCABULARY[name]
    values = module.to_struct(op.get("params", {}))
    instance = op.get("instance")
    if instance is not None and (
        not isinstance(instance, str)
        or not instance.strip()
        or len(instance) > 40
        or any(c in instance for c in '"<>&\n\r\t')
    ):
        raise SidecarError(f"{where}.instance: expected a short name without quotes, <, >, & or control chars")
    multi_name = f"{AGENT_LABEL} {instance or label}".rstrip()
    blend_values, shapes = None, []
    if "mask" in op:
        shapes, blend_values = mask_to_blend(module, f"{where}.mask", op["mask"])
    if "opacity" in op or "blend_mode" in op:
        if blend_values is None:
            blend_values = default_blend(module)
            blend_values["mask_mode"] = blend.MASK_ENABLED
        if "opacity" in op:
            blend_values["opacity"] = _number(f"{where}.opacity", op["opacity"], 0.0, 100.0)
        if "blend_mode" in op:
            mode = op["blend_mode"]
            if mode not in blend.BLEND_MODES:
                raise SidecarError(f"{where}.blend_mode: expected one of {sorted(blend.BLEND_MODES)}")
            blend_values["blend_mode"] = blend.BLEND_MODES[mode]
    if not module.stack and (instance or shapes):
        raise SidecarError(f"{where}: {name} is edited in place and cannot take an instance name or a mask")
    return Edit(
        name,
        module.struct.version,
        values,
        stack=module.stack,
        multi_name=multi_name,
        blend=blend_values,
        shapes=shapes,
        default_blend=default_blend(module),
    )


def default_blend(module: Module) -> dict:
    """darktable's default blending for the module (written with every item, as darktable does)."""
    return blend.default_params(blend.CS_LAB if module.colorspace == LAB else blend.CS_RGB_SCENE)


def parse_operations(doc: Any, label: str = "") -> list[Edit]:
    """``{"operations": [...]}`` (or the bare list) → edits; every problem is one clear error. ``label``: what
    names the instances that have no name of their own (``instance_label`` of the request)."""
    ops = doc.get("operations") if isinstance(doc, dict) else doc
    if isinstance(doc, dict):
        extra = set(doc) - {"operations", "reasoning"}
        if extra:
            raise SidecarError(f"unknown top-level key(s) {sorted(extra)}; expected 'operations' (and 'reasoning')")
    if not isinstance(ops, list):
        raise SidecarError('expected {"operations": [...]}')
    if len(ops) > MAX_OPERATIONS:
        raise SidecarError(f"{len(ops)} operations; at most {MAX_OPERATIONS} per request")
    return [to_edit(op, i, label) for i, op in enumerate(ops)]


def load_operations(path: str | Path) -> list[Edit]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SidecarError(f"{path}: cannot read operations file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SidecarError(f"{path}: not valid JSON: {exc}") from None
    return parse_operations(doc)
