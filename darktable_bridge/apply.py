"""Operations → the photo's darktable sidecar: merged on top of what is there, backed up, written atomically."""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from xmp import SidecarError
from xmp.iop_order import V30_JPG, V30_RAW
from xmp.merge import Edit, append_edits, detect_version
from xmp.sidecar import HistoryItem, Sidecar, atomic_write
from xmp.structs import REGISTRY

RAW_EXTENSIONS = {".3fr", ".ari", ".arw", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".iiq", ".k25", ".kdc",
                  ".mef", ".mos", ".mrw", ".nef", ".nrw", ".orf", ".pef", ".raf", ".raw", ".rw2", ".rwl", ".sr2",
                  ".srf", ".srw", ".x3f"}


def sidecar_path(photo: str | os.PathLike) -> Path:
    """darktable's name for a photo's sidecar: the full file name plus ``.xmp``."""
    photo = Path(photo)
    return photo.with_name(photo.name + ".xmp")


def check_photo(photo: Path) -> None:
    if not photo.exists():
        raise SidecarError(f"{photo}: photo not found")
    if not photo.is_file():
        raise SidecarError(f"{photo}: not a file")
    try:
        with open(photo, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise SidecarError(f"{photo}: cannot read photo: {exc.strerror or exc}") from None


def backup(path: Path) -> Path:
    """Copy an existing sidecar aside (``NAME.retouchiq-YYYYmmdd-HHMMSS.bak``), never overwriting a backup."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.retouchiq-{stamp}.bak")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.retouchiq-{stamp}-{n}.bak")
        n += 1
    atomic_write(target, path.read_bytes())
    shutil.copystat(path, target)
    return target


def check_known_items(sidecar: Sidecar) -> None:
    """darktable silently drops items whose params it cannot read; refuse to build on such a sidecar."""
    for item in sidecar.history:
        if (item.operation, item.modversion) in REGISTRY:
            try:
                item.decoded()
            except SidecarError as exc:
                raise SidecarError(f"history item {item.num} ({item.operation}) is broken: {exc}; "
                                   "darktable would drop it") from None


@dataclass
class ApplyResult:
    sidecar: Path
    backup: Path | None
    items: list[HistoryItem]
    source_version: str


def build_sidecar(photo: Path, edits: list[Edit], base: Sidecar | None) -> tuple[Sidecar, list[HistoryItem]]:
    is_raw = photo.suffix.lower() in RAW_EXTENSIONS
    sidecar = base if base is not None else Sidecar.new(photo.name, V30_RAW if is_raw else V30_JPG)
    if (not is_raw and not sidecar.active_history() and sidecar.iop_order_list is None
            and sidecar.iop_order_version == V30_RAW):
        # darktable 4.2 gives every new image the v3.0 RAW order, where exposure & co. run before colorin on
        # a JPEG's encoded values (1 EV doubles them). With no history the order has shaped no look yet, so the
        # agent's first edit switches to the JPEG order, in which those modules work on linear values as
        # trained and rendered. With history, the photographer's order is kept (their look depends on it).
        sidecar.iop_order_version = V30_JPG
    items = append_edits(sidecar, edits)
    return sidecar, items


def apply_edits(photo: str | os.PathLike, edits: list[Edit], xmp: str | os.PathLike | None = None) -> ApplyResult:
    """Merge ``edits`` into the photo's sidecar (``xmp`` or darktable's default name) and write it."""
    photo = Path(photo)
    check_photo(photo)
    target = Path(xmp) if xmp else sidecar_path(photo)
    base = Sidecar.read(target) if target.exists() else None
    if base is not None:
        check_known_items(base)
    version = detect_version(base) if base is not None else "new"
    sidecar, items = build_sidecar(photo, edits, base)
    text = sidecar.to_string()
    Sidecar.parse(text)  # what we write must read back
    saved = backup(target) if target.exists() else None
    atomic_write(target, text.encode("utf-8"))
    return ApplyResult(target, saved, items, version)
