"""Operations → the photo's darktable sidecar: merged on top of what is there, backed up, written atomically.

``merge`` is the one way an edit enters a sidecar (in memory, checked to read back); ``write_sidecar`` the one
way a sidecar reaches the disk (previous version backed up, atomic replace). ``apply_edits`` is both, for a
photo on disk (``retouchiq apply``). ``undo`` takes the agent's last edit back (``undo_photo`` on disk).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xmp import SidecarError, codec
from xmp.errors import WriteError
from xmp.files import atomic_write, backup, backups, locked
from xmp.iop_order import V30_JPG, V30_RAW, V50_JPG, V50_RAW
from xmp.merge import Edit, append_edits, detect_version
from xmp.sidecar import HistoryItem, Sidecar
from xmp.structs import REGISTRY

from .errors import NothingToUndo
from .modules import VOCABULARY
from .operations import AGENT_LABEL, parse_operations
from .photos import check_photo, is_raw, sidecar_path


def check_known_items(sidecar: Sidecar) -> Sidecar:
    """Every blob of the sidecar decodes within its bounds (``xmp.codec``: no decompression bomb reaches
    darktable-cli or the renderer), and the items of modules this tool knows decode to their params: darktable
    silently drops items whose params it cannot read, so such a sidecar is refused rather than built on."""
    for item in sidecar.history:
        try:
            params, _ = item.params, item.blendop_params  # each decoded within its bound
            known = REGISTRY.get((item.operation, item.modversion))
            if known is not None and len(params) != known.size:
                known.decode(params)  # says what size it must be
        except SidecarError as exc:
            raise SidecarError(
                f"history item {item.get('num', '?')} ({item.operation}) is broken: {exc}; darktable would drop it"
            ) from None
    for form in sidecar.masks:
        try:
            codec.decode(form.get("mask_points", ""), codec.MASK_LIMIT)
        except SidecarError as exc:
            raise SidecarError(f"mask {form.get('mask_id', '?')} is broken: {exc}") from None
    return sidecar


def load_sidecar(path: str | os.PathLike) -> Sidecar | None:
    """The sidecar at ``path`` ready to build on, or None when there is none yet."""
    path = Path(path)
    return check_known_items(Sidecar.read(path)) if path.exists() else None


def parse_sidecar(data: str | bytes | None, where: str = "sidecar") -> Sidecar | None:
    """A sidecar's text (e.g. uploaded by the plugin) ready to build on; None for no text."""
    if data is None or not data.strip():
        return None
    try:
        return check_known_items(Sidecar.parse(data))
    except SidecarError as exc:
        raise SidecarError(f"{where}: {exc}") from None


@dataclass
class Merged:
    sidecar: Sidecar  # the whole sidecar with the edit on top
    items: list[HistoryItem]  # the new history items
    text: str  # what is written (checked to read back)


def build_sidecar(
    photo: str | os.PathLike, edits: list[Edit], base: Sidecar | None
) -> tuple[Sidecar, list[HistoryItem]]:
    """``edits`` on top of ``base`` (a new sidecar for the photo's name when None), in memory; ``base`` is
    changed in place. Returns the sidecar and its new history items."""
    photo = Path(photo)
    raw = is_raw(photo)
    sidecar = base if base is not None else Sidecar.new(photo.name, V30_RAW if raw else V30_JPG)
    if raw and base is None:
        # darktable has not developed this raw yet: leave its defaults to darktable (the scene-referred
        # workflow: default exposure, tone mapper, white balance), which it applies under this history
        # when it opens the photo, in the GUI and in darktable-cli alike
        sidecar.auto_presets_applied = False
    # a raw whose defaults are still to come: they take instance 0 of their modules, the agent's own go above
    first = 1 if raw and not sidecar.auto_presets_applied else 0
    jpeg_order = {V30_RAW: V30_JPG, V50_RAW: V50_JPG}.get(sidecar.iop_order_version)
    if not raw and not sidecar.active_history() and sidecar.iop_order_list is None and jpeg_order is not None:
        # darktable 4.2 gives every new image the v3.0 RAW order, where exposure & co. run before colorin on
        # a JPEG's encoded values (1 EV doubles them). With no history the order has shaped no look yet, so the
        # agent's first edit switches to the JPEG order, in which those modules work on linear values as
        # trained and rendered. With history, the photographer's order is kept (their look depends on it).
        sidecar.iop_order_version = jpeg_order
    return sidecar, append_edits(sidecar, edits, first)


def sidecar_of(photo: str | os.PathLike, ops: list[dict]) -> Sidecar:
    """A new sidecar for ``photo`` holding the operations ``ops`` (the action format's dicts, validated)."""
    return build_sidecar(photo, parse_operations({"operations": ops}), None)[0]


def merge(photo: str | os.PathLike, edits: list[Edit], base: Sidecar | None) -> Merged:
    """``build_sidecar``, and the text to write, checked to read back."""
    sidecar, items = build_sidecar(photo, edits, base)
    text = sidecar.to_string()
    Sidecar.parse(text)  # what we write must read back
    return Merged(sidecar, items, text)


def write_sidecar(path: str | os.PathLike, text: str, base: Sidecar | None) -> Path | None:
    """Write a sidecar's text to ``path``, built on ``base`` (what was read from ``path``; None: there was no
    sidecar): the previous file kept as a backup (returned; None if there was none), the new one written
    atomically. If ``path`` no longer holds what ``base`` was read from — darktable or another program wrote it
    meanwhile — nothing is written (a ``SidecarError``): that write is not lost. If the new file cannot be
    written, its backup is removed again and the old file is as it was."""
    path = Path(path)
    try:
        current = path.read_bytes() if path.exists() else None
    except OSError as exc:
        raise SidecarError(f"{path}: cannot read sidecar: {exc.strerror or exc}") from None
    if current != (base.raw if base is not None else None):
        raise SidecarError(
            f"{path} changed while the edit was being made (darktable or another program wrote it); nothing was "
            "written: run the edit again"
        )
    saved = backup(path) if current is not None else None
    try:
        atomic_write(path, text.encode("utf-8"))
    except WriteError:
        if saved is not None:
            saved.unlink(missing_ok=True)
        raise
    return saved


@dataclass
class ApplyResult:
    sidecar: Path
    backup: Path | None
    items: list[HistoryItem]
    source_version: str


def apply_edits(photo: str | os.PathLike, edits: list[Edit], xmp: str | os.PathLike | None = None) -> ApplyResult:
    """Merge ``edits`` into the photo's sidecar (``xmp`` or darktable's default name) and write it."""
    photo = check_photo(photo)
    target = Path(xmp) if xmp else sidecar_path(photo)
    with locked(photo):
        base = load_sidecar(target)
        version = detect_version(base) if base is not None else "new"
        merged = merge(photo, edits, base)  # changes base in memory; base.raw is what the file held
        return ApplyResult(target, write_sidecar(target, merged.text, base), merged.items, version)


# -- undo ----------------------------------------------------------------------------------------------------
def _same(a: HistoryItem, b: HistoryItem) -> bool:
    """Two history items do the same thing, whatever their numbers and text encoding (darktable re-encodes blobs
    when it writes a sidecar back, and gives an item blend params where the agent wrote none)."""
    if (a.operation, a.modversion, a.multi_priority, a.enabled) != (
        b.operation,
        b.modversion,
        b.multi_priority,
        b.enabled,
    ):
        return False
    if a.params != b.params:
        return False
    blends = a.blendop_params, b.blendop_params
    return None in blends or blends[0] == blends[1]


def _agents(item: HistoryItem) -> bool:
    """An item the agent may have written: an instance it named, or a module it edits in place."""
    module = VOCABULARY.get(item.operation)
    return item.multi_name.startswith(AGENT_LABEL) or (module is not None and not module.stack)


def undone_items(items: list[HistoryItem]) -> list[dict[str, str]]:
    """What an undo took back, as the command line's JSON and the server's answer list it."""
    return [{"module": i.operation, "instance": i.multi_name} for i in items]


def undone_summary(items: list[HistoryItem]) -> str:
    """What an undo took back, in darktable's module names, and how to have it again."""
    names = []
    for item in items:
        module = VOCABULARY.get(item.operation)
        name = module.gui_name if module is not None else item.operation
        names.append(f"{name} '{item.multi_name}'" if item.multi_name else name)
    return (
        f"took back {len(items)} history item(s): {', '.join(names)}. They stay in darktable's history stack, "
        "inactive: click its top item to have them again."
    )


@dataclass
class Undone:
    sidecar: Sidecar  # with the active history ending where it ended before the agent's edit
    items: list[HistoryItem]  # the items made inactive (they stay above the end, as darktable's redo)
    before: int | None  # which of the earlier versions shows the state before (None: the photo had no sidecar)
    text: str

    @property
    def summary(self) -> str:
        return undone_summary(self.items)


def undo(current: Sidecar, earlier: list[Sidecar]) -> Undone:
    """Take the agent's last edit back: ``earlier`` are versions of this sidecar from before retouchiq wrote it
    (its backups, newest first). The newest one whose active history is where
    the current one starts, followed by an item of the agent's, is the state before the agent's last edit: the
    active history ends there again. This is darktable's own undo (``history_end``): the items stay above the end,
    inactive, and a click on the top of darktable's history stack brings them back; nothing is deleted. Photographer's
    steps made after the agent's edit are above it too, and go inactive with it (the answer lists them all).
    Where every backup already holds the agent's work, the photo had no sidecar before the agent's first edit: that
    state is the last one tried, and darktable's defaults that it put under the agent's first items (a raw's
    workflow) stay active."""
    active = current.active_history()
    # "no sidecar yet" is the state before only where every backup was taken after the agent first wrote
    first = all(any(_agents(h) for h in b.active_history()) for b in earlier)
    for k, before in enumerate([*earlier, None] if first else earlier):
        if before is None:
            start = next((i for i, h in enumerate(active) if _agents(h)), len(active))
        else:
            kept = before.active_history()
            if len(kept) >= len(active) or not all(_same(a, b) for a, b in zip(kept, active)):
                continue
            start = len(kept)
        if start < len(active) and _agents(active[start]):
            current.history_end = active[start].num
            text = current.to_string()
            Sidecar.parse(text)
            return Undone(current, active[start:], k if k < len(earlier) else None, text)
    raise NothingToUndo(
        "nothing to undo: no edit of the agent's is on top of an earlier version of this sidecar "
        f"({len(earlier)} backup(s) compared)"
    )


@dataclass
class UndoResult:
    sidecar: Path
    backup: Path | None  # the sidecar as it was before this undo
    before: Path | None  # the backup that shows the state brought back (None: the photo had no sidecar)
    items: list[HistoryItem]


def undo_photo(photo: str | os.PathLike, xmp: str | os.PathLike | None = None) -> UndoResult:
    """``undo`` for a photo on disk, against the backups retouchiq keeps next to its sidecar (newest first); a
    backup that cannot be read is passed over."""
    photo = check_photo(photo)
    target = Path(xmp) if xmp else sidecar_path(photo)
    with locked(photo):
        current = load_sidecar(target)
        if current is None:
            raise NothingToUndo(f"{target}: no sidecar, nothing to undo")
        candidates: list[tuple[Path, Sidecar]] = []
        for path in reversed(backups(target)):
            try:
                earlier = load_sidecar(path)
            except SidecarError:
                continue
            if earlier is not None:
                candidates.append((path, earlier))
        undone = undo(current, [s for _, s in candidates])
        saved = write_sidecar(target, undone.text, current)  # current.raw: the bytes it was read from
        before = candidates[undone.before][0] if undone.before is not None else None
        return UndoResult(target, saved, before, undone.items)
