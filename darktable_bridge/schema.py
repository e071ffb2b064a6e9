"""The vocabulary as JSON Schema (draft 2020-12): what every policy's answer is validated against."""

from __future__ import annotations

from xmp import blend

from .modules import VOCABULARY
from .operations import PARAMETRIC_CHANNELS, SHAPE_FIELDS


def _mask_schema() -> dict:
    num = {"type": "number"}
    pair = {"type": "array", "items": num, "minItems": 2, "maxItems": 2}
    common = {
        "type": {},
        "invert": {"type": "boolean"},
        "feathering_radius": {"type": "number", "minimum": 0, "maximum": 250},
        "blur_radius": {"type": "number", "minimum": 0, "maximum": 100},
    }
    variants = []
    for kind, fields in SHAPE_FIELDS.items():
        props = dict(common, type={"const": kind})
        for name, spec in fields.items():
            if kind == "parametric":
                break
            default, lo, hi = spec
            if isinstance(default, list) or name == "points":
                item = {"type": "number", "minimum": lo, "maximum": hi}
                props[name] = (
                    {
                        "type": "array",
                        "items": {"type": "array", "items": item, "minItems": 2, "maxItems": 2},
                        "minItems": 3,
                        "maxItems": 64,
                    }
                    if name == "points"
                    else pair | {"items": item}
                )
            else:
                props[name] = {"type": "number", "minimum": lo, "maximum": hi, "default": default}
        if kind == "gradient":
            props["profile"] = {"enum": ["linear", "sigmoidal"]}
        if kind == "parametric":
            props["channel"] = {"enum": sorted(PARAMETRIC_CHANNELS)}
            props["range"] = {
                "type": "array",
                "items": num,
                "minItems": 4,
                "maxItems": 4,
                "description": "trapezoid x0 ≤ x1 ≤ x2 ≤ x3 in L* (0–100), C* (0–180) or hue °",
            }
        required = (
            ["type"] + (["points"] if kind == "path" else []) + (["channel", "range"] if kind == "parametric" else [])
        )
        variants.append({"type": "object", "properties": props, "required": required, "additionalProperties": False})
    single = {"oneOf": variants}
    combined = {
        "type": "object",
        "required": ["parts"],
        "additionalProperties": False,
        "properties": {
            "parts": {"type": "array", "items": single, "minItems": 1, "maxItems": 8},
            "invert": {"type": "boolean"},
            "feathering_radius": common["feathering_radius"],
            "blur_radius": common["blur_radius"],
        },
    }
    return {"oneOf": [single, combined]}


def operations_schema() -> dict:
    ops = []
    for m in VOCABULARY.values():
        props = {
            "module": {"const": m.name, "description": f"{m.gui_name}: {m.doc}"},
            "params": {
                "type": "object",
                "properties": {p.name: p.schema() for p in m.params},
                "additionalProperties": False,
            },
        }
        if m.stack:
            props |= {
                "instance": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": '^[^"<>&\\n\\r\\t]+$'},
                "mask": {"$ref": "#/$defs/mask"},
                "opacity": {"type": "number", "minimum": 0, "maximum": 100},
                "blend_mode": {"enum": sorted(blend.BLEND_MODES)},
            }
        ops.append({"type": "object", "properties": props, "required": ["module"], "additionalProperties": False})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "RetouchIQ darktable operations",
        "description": "darktable module names and params struct fields, in darktable's stored units. "
        "Unspecified fields keep darktable's defaults.",
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "operations": {"type": "array", "items": {"oneOf": ops}, "maxItems": 64},
        },
        "required": ["operations"],
        "additionalProperties": False,
        "$defs": {"mask": _mask_schema()},
    }
