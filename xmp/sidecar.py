"""darktable sidecars as objects: header, history items, masks history; hardened parsing.

Everything the file holds survives a read/write: unknown attributes and elements (tags, rating,
metadata of other programs) stay in the tree, and history items or mask rows that are not changed are
written back from the exact strings that were read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

from . import codec
from . import masks as masks_mod
from .errors import SidecarError
from .files import atomic_write
from .serialize import to_string
from .structs import REGISTRY, Struct, lookup

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_DT = "http://darktable.sf.net/"
NS_XMPMM = "http://ns.adobe.com/xap/1.0/mm/"
MAX_BYTES = 16 * 1024 * 1024
XMP_VERSION = 5
HISTORY_ORDER = (
    "num",
    "operation",
    "enabled",
    "modversion",
    "params",
    "multi_name",
    "multi_name_hand_edited",
    "multi_priority",
    "blendop_version",
    "blendop_params",
)
MASK_ORDER = ("mask_num", "mask_id", "mask_type", "mask_name", "mask_version", "mask_points", "mask_nb", "mask_src")
IOP_ORDER_NAMES = {0: "custom", 1: "legacy", 2: "v3.0 RAW", 3: "v3.0 JPEG", 4: "v5.0 RAW", 5: "v5.0 JPEG"}


_DT_NAMES: dict[str, str] = {}


def _dt(name: str) -> str:
    """darktable's attribute ``name`` as lxml names it (looked up, not rebuilt: a long history asks millions of
    times)."""
    key = _DT_NAMES.get(name)
    if key is None:
        key = _DT_NAMES[name] = f"{{{NS_DT}}}{name}"
    return key


def _ordered(values: dict[str, str], order: tuple[str, ...]) -> dict[str, str]:
    known = {_dt(k): values[k] for k in order if k in values}
    return known | {_dt(k): v for k, v in values.items() if k not in order}


def _parse_int(text: str | None, name: str, default: int | None, owner: str) -> int:
    if text is None:
        if default is None:
            raise SidecarError(f"{owner} has no darktable:{name}")
        return default
    try:
        return int(text)
    except ValueError:
        raise SidecarError(f"darktable:{name}={text!r} is not an integer") from None


class _Row:
    """A ``rdf:li`` of darktable fields, kept as the exact attribute strings that are written."""

    ORDER: tuple[str, ...] = ()

    def __init__(self, attrs: dict[str, str], element=None):
        self.attrs = attrs  # clark name -> text, in file order
        self._element = element  # the rdf:li it was read from while it holds exactly ``attrs``

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(_dt(name), default)

    def set(self, name: str, value) -> None:
        self._element = None
        key = _dt(name)
        text = str(int(value)) if isinstance(value, bool) else str(value)
        if key in self.attrs:
            self.attrs[key] = text
        else:
            plain = {k.split("}", 1)[1]: v for k, v in self.attrs.items()} | {name: text}
            self.attrs = _ordered(plain, self.ORDER)

    def int(self, name: str, default: int | None = None) -> int:
        return _parse_int(self.get(name), name, default, type(self).__name__)


class HistoryItem(_Row):
    ORDER = HISTORY_ORDER

    @classmethod
    def new(
        cls,
        operation: str,
        modversion: int,
        params: bytes,
        *,
        enabled: bool = True,
        multi_name: str = "",
        multi_priority: int = 0,
        blendop_version: int | None = None,
        blendop_params: bytes | None = None,
        num: int = 0,
    ) -> HistoryItem:
        values = {
            "num": str(num),
            "operation": operation,
            "enabled": str(int(enabled)),
            "modversion": str(modversion),
            "params": codec.encode(params),
            "multi_name": multi_name,
            "multi_priority": str(multi_priority),
        }
        if blendop_params is not None:
            values["blendop_version"] = str(blendop_version)
            values["blendop_params"] = codec.encode(blendop_params)
        return cls(_ordered(values, HISTORY_ORDER))

    num = property(lambda self: self.int("num"))
    operation = property(lambda self: self.get("operation") or "")
    enabled = property(lambda self: self.int("enabled", 1) != 0)
    modversion = property(lambda self: self.int("modversion"))
    multi_name = property(lambda self: self.get("multi_name", ""))
    multi_priority = property(lambda self: self.int("multi_priority", 0))
    blendop_version = property(lambda self: self.int("blendop_version", 0) or None)

    @property
    def params(self) -> bytes:
        """The params blob, at most its module's struct size when this tool knows the module and version."""
        known = REGISTRY.get((self.operation, self.int("modversion", -1)))
        return codec.decode(self.get("params", ""), known.size if known else codec.PARAMS_LIMIT)

    @property
    def blendop_params(self) -> bytes | None:
        text = self.get("blendop_params")
        return None if text is None else codec.decode(text, codec.BLEND_LIMIT)

    @property
    def struct(self) -> Struct:
        return lookup(self.operation, self.modversion)

    def decoded(self) -> dict:
        """Params as named fields (needs the struct for this module and version)."""
        return self.struct.decode(self.params)

    def describe(self) -> str:
        name = f" '{self.multi_name}'" if self.multi_name else ""
        state = "" if self.enabled else " (off)"
        return f"{self.num:3d} {self.operation} v{self.modversion} #{self.multi_priority}{name}{state}"


class MaskForm(_Row):
    ORDER = MASK_ORDER

    @classmethod
    def new(cls, num: int, form_id: int, mask_type: int, name: str, points: list[bytes]) -> MaskForm:
        values = {
            "mask_num": str(num),
            "mask_id": str(form_id),
            "mask_type": str(mask_type),
            "mask_name": name,
            "mask_version": str(masks_mod.VERSION),
            "mask_points": codec.encode(b"".join(points)),
            "mask_nb": str(len(points)),
            "mask_src": codec.encode(bytes(8)),
        }
        return cls(_ordered(values, MASK_ORDER))

    num = property(lambda self: self.int("mask_num"))
    form_id = property(lambda self: self.int("mask_id"))
    mask_type = property(lambda self: self.int("mask_type"))
    name = property(lambda self: self.get("mask_name", ""))

    def points(self) -> list[dict]:
        layout = masks_mod.point_struct(self.mask_type)
        blob = codec.decode(self.get("mask_points", ""), codec.MASK_LIMIT)
        if layout is None:
            raise SidecarError(f"mask type {self.mask_type} has no known point layout")
        n = self.int("mask_nb")
        if len(blob) != n * layout.size:
            raise SidecarError(f"mask {self.form_id}: {n} points need {n * layout.size} bytes, got {len(blob)}")
        return [layout.decode(blob[i * layout.size : (i + 1) * layout.size]) for i in range(n)]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


@dataclass
class Sidecar:
    root: etree._Element
    history: list[HistoryItem] = field(default_factory=list)
    masks: list[MaskForm] = field(default_factory=list)
    path: Path | None = None
    raw: bytes | None = None  # the bytes it was parsed from (a writer checks the file still holds them)

    # -- reading -------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, data: bytes | str, path: Path | None = None) -> Sidecar:
        if isinstance(data, str):
            data = data.encode("utf-8")
        where = f"{path}: " if path else ""
        if len(data) > MAX_BYTES:
            raise SidecarError(f"{where}sidecar is {len(data)} bytes, more than the {MAX_BYTES} byte limit")
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise SidecarError(f"{where}sidecar declares a DTD or entities, which darktable never writes; refused")
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise SidecarError(f"{where}malformed XML: {exc}") from None
        if root.tag != f"{{{NS_X}}}xmpmeta":
            found = root.find(f".//{{{NS_X}}}xmpmeta")
            if found is None:
                raise SidecarError(f"{where}not an XMP packet (no x:xmpmeta element)")
            root = found
        sidecar = cls(root=root, path=path, raw=data)
        desc = sidecar.description
        if desc.get(_dt("xmp_version")) is None:
            raise SidecarError(f"{where}no darktable:xmp_version: not a darktable sidecar")
        version = sidecar._header_int("xmp_version")
        if version > XMP_VERSION:
            raise SidecarError(
                f"{where}darktable:xmp_version {version} is newer than this tool reads (≤ {XMP_VERSION})"
            )
        sidecar.history = [HistoryItem(a, li) for a, li in sidecar._rows("history")]
        sidecar.masks = [MaskForm(a, li) for a, li in sidecar._rows("masks_history")]
        for item in sidecar.history:
            for name in ("operation", "params", "modversion"):
                if item.get(name) is None:
                    raise SidecarError(
                        f"{where}history item {item.get('num', '?')} has no darktable:{name} "
                        "(darktable would discard the whole history)"
                    )
        return sidecar

    @classmethod
    def read(cls, path: str | os.PathLike) -> Sidecar:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise SidecarError(f"{path}: sidecar is {size} bytes, more than the {MAX_BYTES} byte limit")
            data = path.read_bytes()
        except OSError as exc:
            raise SidecarError(f"{path}: cannot read sidecar: {exc.strerror or exc}") from None
        return cls.parse(data, path)

    @classmethod
    def new(cls, derived_from: str = "", iop_order_version: int = 3) -> Sidecar:
        """An empty darktable 4.2 sidecar (non-raw input: v3.0 JPEG module order)."""
        root = etree.Element(f"{{{NS_X}}}xmpmeta", nsmap={"x": NS_X})
        root.set(f"{{{NS_X}}}xmptk", "XMP Core 4.4.0-Exiv2")
        rdf = etree.SubElement(root, f"{{{NS_RDF}}}RDF", nsmap={"rdf": NS_RDF})
        desc = etree.SubElement(rdf, f"{{{NS_RDF}}}Description", nsmap={"xmpMM": NS_XMPMM, "darktable": NS_DT})
        desc.set(f"{{{NS_RDF}}}about", "")
        desc.set(f"{{{NS_XMPMM}}}DerivedFrom", derived_from)
        for key, value in (
            ("xmp_version", XMP_VERSION),
            ("raw_params", 0),
            ("auto_presets_applied", 1),
            ("history_end", 0),
            ("iop_order_version", iop_order_version),
        ):
            desc.set(_dt(key), str(value))
        for name in ("masks_history", "history"):
            etree.SubElement(etree.SubElement(desc, _dt(name)), f"{{{NS_RDF}}}Seq")
        return cls(root=root)

    @cached_property
    def description(self) -> etree._Element:
        """The rdf:Description that holds darktable's fields (found once: a sidecar of 60 000 history items
        must not be searched again for every item)."""
        for desc in self.root.iter(f"{{{NS_RDF}}}Description"):
            if desc.get(_dt("xmp_version")) is not None or desc.find(_dt("history")) is not None:
                return desc
        desc = self.root.find(f".//{{{NS_RDF}}}Description")
        if desc is None:
            raise SidecarError("XMP packet has no rdf:Description")
        return desc

    def _rows(self, name: str) -> Iterator[tuple[dict[str, str], etree._Element | None]]:
        """(attributes, the rdf:li when they are all of it) per row."""
        seq = self.description.find(f"{_dt(name)}/{{{NS_RDF}}}Seq")
        if seq is None:
            return
        prefix = f"{{{NS_DT}}}"
        for li in seq.iterchildren(f"{{{NS_RDF}}}li"):
            attrs = dict(li.attrib)
            if not len(li):
                yield attrs, li
                continue
            for child in li:  # the element form of struct fields, as some writers use: written back as attributes
                if isinstance(child.tag, str) and child.tag.startswith(prefix):
                    attrs[child.tag] = child.text or ""
            yield attrs, None

    def _header_int(self, name: str, default: int | None = None) -> int:
        return _parse_int(self.description.get(_dt(name)), name, default, "sidecar")

    # -- header --------------------------------------------------------------------------------------
    @property
    def history_end(self) -> int:
        """darktable's own reading of it: at most the number of items (a larger value counts as all of them);
        a negative one leaves none active (``xmp.merge`` refuses to build on that)."""
        return min(self._header_int("history_end", len(self.history)), len(self.history))

    @history_end.setter
    def history_end(self, value: int) -> None:
        self.description.set(_dt("history_end"), str(value))

    @property
    def auto_presets_applied(self) -> bool:
        """Whether darktable has given the photo its defaults (for a raw: its scene-referred workflow, the
        default exposure and tone mapper). Not yet: darktable applies them when it opens the photo, under the
        history written here."""
        return self._header_int("auto_presets_applied", 0) != 0

    @auto_presets_applied.setter
    def auto_presets_applied(self, value: bool) -> None:
        self.description.set(_dt("auto_presets_applied"), "1" if value else "0")

    @property
    def iop_order_version(self) -> int:
        return self._header_int("iop_order_version", 0)

    @iop_order_version.setter
    def iop_order_version(self, value: int) -> None:
        self.description.set(_dt("iop_order_version"), str(value))

    @property
    def iop_order_list(self) -> list[tuple[str, int]] | None:
        text = self.description.get(_dt("iop_order_list"))
        if not text:
            return None
        parts = text.split(",")
        if len(parts) % 2:
            raise SidecarError("darktable:iop_order_list has an odd number of entries")
        try:
            return [(parts[i], int(parts[i + 1])) for i in range(0, len(parts), 2)]
        except ValueError:
            raise SidecarError("darktable:iop_order_list has a non-integer instance number") from None

    @iop_order_list.setter
    def iop_order_list(self, entries: list[tuple[str, int]]) -> None:
        if entries[0][0] != "rawprepare" or entries[-1][0] != "gamma":
            raise SidecarError("iop_order_list must start with rawprepare and end with gamma")
        desc = self.description
        attrs = dict(desc.attrib)
        attrs[_dt("iop_order_list")] = ",".join(f"{op},{n}" for op, n in entries)
        # keep darktable's place for the list: right after iop_order_version
        desc.attrib.clear()
        for key, value in attrs.items():
            if key != _dt("iop_order_list"):
                desc.set(key, value)
            if key == _dt("iop_order_version"):
                desc.set(_dt("iop_order_list"), attrs[_dt("iop_order_list")])
        if desc.get(_dt("iop_order_list")) is None:
            desc.set(_dt("iop_order_list"), attrs[_dt("iop_order_list")])

    def active_history(self) -> list[HistoryItem]:
        end = self.history_end
        return [h for h in self.history if h.num < end]

    def instances(self) -> dict[tuple[str, int], HistoryItem]:
        """Last active history item per module instance (operation, multi_priority)."""
        last: dict[tuple[str, int], HistoryItem] = {}
        for item in sorted(self.active_history(), key=lambda h: h.num):
            last[(item.operation, item.multi_priority)] = item
        return last

    # -- writing -------------------------------------------------------------------------------------
    def _sync(self) -> None:
        desc = self.description
        for name, rows in (("masks_history", self.masks), ("history", self.history)):
            container = desc.find(_dt(name))
            if container is None:
                container = etree.SubElement(desc, _dt(name))
            seq = container.find(f"{{{NS_RDF}}}Seq")
            if seq is None:
                seq = etree.SubElement(container, f"{{{NS_RDF}}}Seq")
            items = []
            for row in rows:  # a row read from this list and not changed keeps its element (long histories)
                li = row._element
                if li is None or li.getparent() is not seq or dict(li.attrib) != row.attrs:
                    li = etree.SubElement(seq, f"{{{NS_RDF}}}li")
                    for key, value in row.attrs.items():
                        li.set(key, value)
                    row._element = li
                items.append(li)
            seq[:] = items

    def to_string(self) -> str:
        self._sync()
        return to_string(self.root)

    def write(self, path: str | os.PathLike) -> Path:
        """Atomic write: a temporary file in the same folder, flushed, then renamed over ``path``."""
        return atomic_write(Path(path), self.to_string().encode("utf-8"))
