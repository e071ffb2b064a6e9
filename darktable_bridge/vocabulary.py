"""The operation vocabulary the agent speaks: darktable module names, params struct field names and units.

One declared table: per module, which fields an agent may set (with the range it may use), how the
module enters the history (a new stacked instance or an in-place edit), which colour space it blends in,
its neutral settings and its GUI names. Exported as JSON Schema; every policy's output is validated here.
Out-of-range values are errors, never clamped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xmp import SidecarError, Struct
from xmp.modules import PARAMS as STRUCTS

RGB, LAB = "rgb", "lab"


@dataclass(frozen=True)
class Param:
    """One agent-settable field: a struct field (``name``) or a derived one with its own ``apply``."""

    name: str
    min: float
    max: float
    gui: str
    doc: str = ""
    unit: str = ""
    kind: str = "number"  # number | integer | choice | vector | curve | curves
    length: int = 0  # vector length
    choices: tuple[int, ...] = ()
    apply: Callable[[dict, Any], None] | None = None  # derived fields write struct fields themselves

    def check(self, module: str, value: Any) -> None:
        where = f"{module}.{self.name}"
        if self.kind in ("curve", "curves"):
            curves = [value] if self.kind == "curve" else value
            if not isinstance(curves, list) or not 1 <= len(curves) <= 3:
                raise SidecarError(f"{where}: expected {'a curve' if self.kind == 'curve' else '1 to 3 curves'}")
            for curve in curves:
                _check_curve(where, curve, self.min, self.max)
            return
        values = value if self.kind == "vector" else [value]
        if self.kind == "vector" and (not isinstance(value, list) or len(value) != self.length):
            raise SidecarError(f"{where}: expected a list of {self.length} numbers, got {value!r}")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise SidecarError(f"{where}: expected a number, got {v!r}")
            if self.kind in ("integer", "choice") and int(v) != v:
                raise SidecarError(f"{where}: expected an integer, got {v!r}")
            if self.kind == "choice" and int(v) not in self.choices:
                raise SidecarError(f"{where}: {v!r} is not one of {list(self.choices)}")
            if not self.min <= v <= self.max:
                raise SidecarError(f"{where}: {v!r} is out of range [{self.min:g}, {self.max:g}]")

    def schema(self) -> dict:
        desc = f"{self.doc} (darktable: {self.gui})" + (f" [{self.unit}]" if self.unit else "")
        number = {"type": "number", "minimum": self.min, "maximum": self.max}
        if self.kind == "integer":
            return {"type": "integer", "minimum": int(self.min), "maximum": int(self.max), "description": desc}
        if self.kind == "choice":
            return {"type": "integer", "enum": list(self.choices), "description": desc}
        if self.kind == "vector":
            return {
                "type": "array",
                "items": number,
                "minItems": self.length,
                "maxItems": self.length,
                "description": desc,
            }
        if self.kind in ("curve", "curves"):
            node = {"type": "array", "items": number, "minItems": 2, "maxItems": 2}
            curve = {"type": "array", "items": node, "minItems": 2, "maxItems": 20}
            if self.kind == "curve":
                return curve | {"description": desc}
            return {"type": "array", "items": curve, "minItems": 1, "maxItems": 3, "description": desc}
        return number | {"description": desc}


def _check_curve(where: str, curve: Any, lo: float, hi: float) -> None:
    if not isinstance(curve, list) or not 2 <= len(curve) <= 20:
        raise SidecarError(f"{where}: a curve is a list of 2 to 20 [x, y] nodes")
    xs = []
    for node in curve:
        if (
            not isinstance(node, list)
            or len(node) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in node)
        ):
            raise SidecarError(f"{where}: curve node {node!r} is not [x, y]")
        if not all(lo <= v <= hi for v in node):
            raise SidecarError(f"{where}: curve node {node!r} is outside [{lo:g}, {hi:g}]")
        xs.append(node[0])
    if any(b <= a for a, b in zip(xs, xs[1:])):
        raise SidecarError(f"{where}: curve nodes must have strictly increasing x")


@dataclass(frozen=True)
class Module:
    """A module of the vocabulary. ``stack``: each agent edit is a new instance; else edited in place."""

    name: str  # darktable operation name
    gui_name: str
    doc: str
    colorspace: str  # RGB or LAB: the module's default blend colour space
    params: tuple[Param, ...]
    stack: bool = True
    neutral: dict | None = None  # settings with no visible effect, or None (a tone mapper has none)
    base: dict = field(default_factory=dict)  # struct fields written whenever the agent uses the module

    @property
    def struct(self) -> Struct:
        return STRUCTS[self.name]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise SidecarError(
            f"{self.name} has no field {name!r} the agent may set; known: {', '.join(p.name for p in self.params)}"
        )

    def to_struct(self, values: dict) -> dict:
        """Validate agent values and turn them into struct field values (only the fields to set)."""
        if not isinstance(values, dict):
            raise SidecarError(f"{self.name}: params must be an object")
        out = dict(self.base)
        for name, value in values.items():
            p = self.param(name)
            p.check(self.name, value)
            if p.apply is not None:
                p.apply(out, value)
            else:
                out[name] = float(value) if p.kind == "number" else value
        return {k: v for k, v in out.items() if not k.startswith("_")}  # "_" keys: scratch of derived fields


def field_param(module: str, name: str, gui: str, lo: float | None = None, hi: float | None = None, **kw) -> Param:
    """A Param mirroring struct field ``name`` (doc, unit, range, type), narrowed to [lo, hi] if given."""
    f = STRUCTS[module].field(name)
    kind = kw.pop("kind", None)
    choices = dict(f.choices or ({0: "off", 1: "on"} if f.ctype == "gboolean" else {}))
    if kind is None:
        kind = "choice" if choices else ("integer" if f.is_integer else ("vector" if f.shape else "number"))
    lo = (f.min if f.min is not None else min(choices, default=0)) if lo is None else lo
    hi = (f.max if f.max is not None else max(choices, default=0)) if hi is None else hi
    return Param(
        name,
        lo,
        hi,
        gui,
        kw.pop("doc", f.doc),
        kw.pop("unit", f.unit),
        kind,
        f.shape[0] if f.shape else 0,
        tuple(sorted(choices)),
        **kw,
    )
