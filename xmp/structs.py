"""C structs declared as data: darktable's params layouts without hand-written byte offsets.

A struct is a sequence of fields; each field has a C type, an optional shape (arrays, nested
``{x, y}`` nodes flattened into the last axis), a default, a documented range, a unit and a one-line
doc. Layouts are packed little-endian: every darktable type used here is 4 bytes (float, int,
enum, gboolean) except ``char[N]``, so there is no padding to model.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import SidecarError

# C type -> struct format character (4 bytes each); "char" is a byte string of the field's length.
_FORMATS = {"float": "f", "int": "i", "enum": "i", "gboolean": "i", "uint": "I"}


@dataclass(frozen=True)
class Field:
    name: str
    ctype: str = "float"
    default: Any = 0.0
    min: float | None = None
    max: float | None = None
    unit: str = ""
    doc: str = ""
    shape: tuple[int, ...] = ()
    choices: Mapping[int, str] | None = None  # enum values and their darktable labels

    def __post_init__(self):
        if self.ctype != "char" and self.ctype not in _FORMATS:
            raise ValueError(f"unknown C type {self.ctype!r} for field {self.name}")

    @property
    def count(self) -> int:
        return math.prod(self.shape) if self.shape else 1

    @property
    def size(self) -> int:
        return self.count if self.ctype == "char" else 4 * self.count

    @property
    def is_integer(self) -> bool:
        return self.ctype in ("int", "enum", "gboolean", "uint")

    def check(self, value: Any, where: str) -> None:
        """Raise if ``value`` (already shaped) is outside the documented range or not a valid choice."""
        for v in _flatten(value, self.shape):
            if self.ctype == "char":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and math.isnan(v)):
                raise SidecarError(f"{where}.{self.name}: expected a number, got {v!r}")
            if self.is_integer and int(v) != v:
                raise SidecarError(f"{where}.{self.name}: expected an integer, got {v!r}")
            if self.choices is not None and int(v) not in self.choices:
                raise SidecarError(f"{where}.{self.name}: {v!r} is not one of {sorted(self.choices)}")
            if self.ctype == "gboolean" and v not in (0, 1):
                raise SidecarError(f"{where}.{self.name}: expected 0 or 1, got {v!r}")
            if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
                raise SidecarError(f"{where}.{self.name}: {v!r} is out of range [{self.min}, {self.max}]")


def _flatten(value: Any, shape: tuple[int, ...]) -> list:
    if not shape:
        return [value]
    try:
        arr = np.asarray(value, dtype=object)
    except ValueError:  # ragged nesting
        arr = None
    if arr is None or arr.shape != shape:
        raise SidecarError(f"expected nested lists of shape {list(shape)}, got {value!r}")
    return arr.ravel().tolist()


def _unflatten(flat: list, shape: tuple[int, ...]) -> Any:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [_unflatten(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


@dataclass(frozen=True)
class Struct:
    """One darktable params struct at one version (``module`` is darktable's operation name)."""

    module: str
    version: int
    fields: tuple[Field, ...]
    doc: str = ""
    _index: dict = field(init=False, repr=False, compare=False)
    size: int = field(init=False, repr=False, compare=False)  # bytes of the packed struct
    format: str = field(init=False, repr=False, compare=False)  # its struct.pack format

    def __post_init__(self):
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.module} v{self.version}: duplicate field names")
        object.__setattr__(self, "_index", {f.name: f for f in self.fields})
        # worked out once: a long history decodes the same struct tens of thousands of times
        object.__setattr__(self, "size", sum(f.size for f in self.fields))
        parts = [f"{f.size}s" if f.ctype == "char" else f"{f.count}{_FORMATS[f.ctype]}" for f in self.fields]
        object.__setattr__(self, "format", "<" + "".join(parts))

    def field(self, name: str) -> Field:
        try:
            return self._index[name]
        except KeyError:
            raise SidecarError(
                f"{self.module} v{self.version} has no field {name!r}; known: {', '.join(self._index)}"
            ) from None

    def defaults(self) -> dict[str, Any]:
        return {f.name: _copy(f.default) for f in self.fields}

    def decode(self, blob: bytes) -> dict[str, Any]:
        if len(blob) != self.size:
            raise SidecarError(f"{self.module} v{self.version} params must be {self.size} bytes, got {len(blob)}")
        flat = list(struct.unpack(self.format, blob))
        out, pos = {}, 0
        for f in self.fields:
            if f.ctype == "char":
                out[f.name] = flat[pos]
                pos += 1
            else:
                out[f.name] = _unflatten(flat[pos : pos + f.count], f.shape)
                pos += f.count
        return out

    def encode(self, values: Mapping[str, Any]) -> bytes:
        """Pack a full set of values (missing fields take their defaults); unknown names are errors."""
        for name in values:
            self.field(name)
        flat = []
        for f in self.fields:
            v = values.get(f.name, f.default)
            if f.ctype == "char":
                flat.append(bytes(v))
            elif not f.shape:
                flat.append(int(v) if f.is_integer else float(v))
            else:
                try:
                    arr = np.asarray(v, dtype=np.float64)
                except (ValueError, TypeError):
                    arr = None
                if arr is None or arr.shape != f.shape:
                    raise SidecarError(f"{self.module}.{f.name}: expected nested lists of shape {list(f.shape)}")
                flat.extend((arr.astype(np.int64) if f.is_integer else arr).ravel().tolist())
        try:
            return struct.pack(self.format, *flat)
        except struct.error as exc:
            raise SidecarError(f"{self.module} v{self.version}: cannot pack params: {exc}") from None

    def validate(self, values: Mapping[str, Any]) -> None:
        for name, v in values.items():
            self.field(name).check(v, self.module)


def _copy(v):
    return [_copy(x) for x in v] if isinstance(v, list) else v


REGISTRY: dict[tuple[str, int], Struct] = {}


def register(s: Struct) -> Struct:
    REGISTRY[(s.module, s.version)] = s
    return s


def lookup(module: str, version: int) -> Struct:
    try:
        return REGISTRY[(module, version)]
    except KeyError:
        known = sorted(v for (m, v) in REGISTRY if m == module)
        if known:
            raise SidecarError(f"{module} params version {version} is not supported (known: {known})") from None
        raise SidecarError(f"unknown module {module!r}") from None
