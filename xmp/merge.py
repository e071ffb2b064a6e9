"""Put new module instances on top of an existing darktable history without touching what is there.

- Existing history items and mask rows are kept as the exact strings that were read.
- Stacking edits become new instances (a free ``multi_priority``, ``multi_name`` marking the agent's layer),
  listed in ``iop_order_list`` right after the module's last instance.
- In-place edits (modules that must not run twice, e.g. tone mappers) add a history entry for the existing
  instance, changing only the fields given.
- Items beyond ``history_end`` (undone steps darktable keeps for redo) stay inactive after the new items.
- Drawn shapes: darktable's current set of forms is the snapshot stored with the last active history item
  that has forms, so the new snapshot repeats every existing form and adds the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import blend as blend_mod
from . import iop_order
from . import masks as masks_mod
from .errors import SidecarError
from .sidecar import HistoryItem, MaskForm, Sidecar
from .structs import lookup


@dataclass
class Shape:
    mask_type: int  # masks.GRADIENT, ELLIPSE, CIRCLE or PATH
    points: list[dict]  # point values, in the layout of masks.point_struct(mask_type)
    name: str = ""
    state: int = masks_mod.STATE_USE | masks_mod.STATE_SHOW  # membership state in the group


@dataclass
class Edit:
    operation: str
    modversion: int
    params: dict  # only the fields to set; the rest are defaults (or kept, in place)
    stack: bool = True
    multi_name: str = ""
    blend: dict | None = None  # complete blend params values, or None for darktable's default blending
    shapes: list[Shape] = field(default_factory=list)
    default_blend: dict | None = None  # blending of a new instance when ``blend`` is None


def detect_version(sidecar: Sidecar) -> str:
    """Which darktable wrote this sidecar, as far as the file says."""
    blendops = {h.blendop_version for h in sidecar.history if h.blendop_version}
    order = sidecar.iop_order_version
    hints = []
    if order in (4, 5):
        hints.append("darktable ≥ 5.0 (v5.0 module order)")
    if blendops & {13, 14} or any(h.get("multi_name_hand_edited") is not None for h in sidecar.history):
        hints.append("darktable ≥ 4.4")
    elif 12 in blendops:
        hints.append("darktable 4.3 development")
    if not hints:
        return "darktable 4.2 or older"
    return hints[0]


MAX_PRIORITY = 2**30  # darktable keeps multi_priority in a C int; the new instances go above the largest


def check_numbers(sidecar: Sidecar) -> None:
    """The header's and the items' numbers as darktable writes them, or a ``SidecarError``: items numbered 0, 1,
    … in file order, history_end not negative (a value past the last item is read as "all of them", as darktable
    reads it), instance numbers (multi_priority) from 0 to MAX_PRIORITY. Building on anything else would renumber
    or hide the photographer's items."""
    nums = [h.num for h in sidecar.history]
    if nums != list(range(len(nums))):
        bad = next(i for i, n in enumerate(nums) if n != i)
        raise SidecarError(
            f"history item {bad + 1} of {len(nums)} is numbered {nums[bad]}, not {bad}: darktable numbers its items "
            "0, 1, 2, … in order; this tool does not build on a sidecar that does not (open it in darktable, or edit "
            "a copy)"
        )
    if sidecar._header_int("history_end", len(nums)) < 0:
        raise SidecarError(
            f"darktable:history_end is {sidecar._header_int('history_end', 0)}, a negative number darktable never "
            "writes; refused (open the photo in darktable to repair the sidecar)"
        )
    for h in sidecar.history:
        if not 0 <= h.multi_priority <= MAX_PRIORITY:
            raise SidecarError(
                f"history item {h.num} ({h.operation}) has multi_priority {h.multi_priority}, outside 0…{MAX_PRIORITY}"
            )


def _check_mergeable(sidecar: Sidecar) -> None:
    check_numbers(sidecar)
    order = sidecar.iop_order_version
    if order == iop_order.LEGACY and sidecar.iop_order_list is None:
        raise SidecarError("sidecar uses the legacy (pre-3.0) module order, which this tool cannot extend")


def _next_form_id(sidecar: Sidecar) -> int:
    ids = [m.form_id for m in sidecar.masks]
    return max(ids + [1000]) + 1


def _current_forms(sidecar: Sidecar) -> list[MaskForm]:
    end = sidecar.history_end
    with_forms = sorted({m.num for m in sidecar.masks if m.num < end})
    if not with_forms:
        return []
    return [m for m in sidecar.masks if m.num == with_forms[-1]]


def _update_order(sidecar: Sidecar) -> None:
    """Every instance in ``iop_order_list``: one missing from it goes right after its module's last listed
    instance (several: by multi_priority). One pass over the list, whatever its length."""
    instances = {(h.operation, h.multi_priority) for h in sidecar.history}
    if all(p == 0 for _, p in instances):
        return
    order = sidecar.iop_order_list or iop_order.default_order(sidecar.iop_order_version)
    listed = set(order)
    missing: dict[str, list[int]] = {}
    for op, prio in instances - listed:
        missing.setdefault(op, []).append(prio)
    last = {op: i for i, (op, _) in enumerate(order)}
    unknown = sorted(op for op in missing if op not in last)
    if unknown:
        raise SidecarError(f"module {unknown[0]!r} is not in the sidecar's module order")
    placed = []
    for i, entry in enumerate(order):
        placed.append(entry)
        if last[entry[0]] == i and entry[0] in missing:
            placed += [(entry[0], p) for p in sorted(missing[entry[0]])]
    sidecar.iop_order_list = placed
    sidecar.iop_order_version = iop_order.CUSTOM


def append_edits(sidecar: Sidecar, edits: list[Edit], first_instance: int = 0) -> list[HistoryItem]:
    """Append ``edits`` as active history on top of ``sidecar`` (in memory); returns the new items.
    ``first_instance``: the lowest ``multi_priority`` a new instance of a stacking module may take (1 where
    darktable will put its own default instance, priority 0, under this history)."""
    if not edits:
        return []
    _check_mergeable(sidecar)
    end = sidecar.history_end
    tail = [h for h in sidecar.history if h.num >= end]
    mark_hand_edited = any(h.get("multi_name_hand_edited") is not None for h in sidecar.history)
    instances = sidecar.instances()
    new_items: list[HistoryItem] = []
    new_forms: list[MaskForm] = []
    next_id = _next_form_id(sidecar)
    num = end
    for edit in edits:
        struct = lookup(edit.operation, edit.modversion)
        struct.validate(edit.params)
        priorities = [p for (op, p) in instances if op == edit.operation]
        priorities += [h.multi_priority for h in sidecar.history + new_items if h.operation == edit.operation]
        base = None
        if not edit.stack and priorities:
            base = instances.get((edit.operation, min(priorities)))
        if base is not None:
            if base.modversion != edit.modversion:
                raise SidecarError(
                    f"{edit.operation} in the sidecar is version {base.modversion}, "
                    f"this edit is version {edit.modversion}; refusing to mix them"
                )
            values = base.decoded() | edit.params
            priority, name = base.multi_priority, base.multi_name
            blend_text = (base.get("blendop_version"), base.get("blendop_params"))
        else:
            values = struct.defaults() | edit.params
            priority = max(priorities) + 1 if priorities else (first_instance if edit.stack else 0)
            name = edit.multi_name
            blend_text = None
        blend_values = edit.blend
        if blend_values is None and blend_text is None:
            blend_values = edit.default_blend
        if edit.shapes:
            blend_values = dict(blend_values or blend_mod.PARAMS.defaults())
            group_id = next_id + len(edit.shapes)
            members = []
            for k, shape in enumerate(edit.shapes):
                layout = masks_mod.point_struct(shape.mask_type)
                form_name = shape.name or f"{_TYPE_NAMES.get(shape.mask_type, 'shape')} #{next_id + k}"
                new_forms.append(
                    MaskForm.new(0, next_id + k, shape.mask_type, form_name, [layout.encode(p) for p in shape.points])
                )
                members.append(
                    masks_mod.GROUP_POINT.encode(
                        {"formid": next_id + k, "parentid": group_id, "state": shape.state, "opacity": 1.0}
                    )
                )
            new_forms.append(
                MaskForm.new(0, group_id, masks_mod.GROUP, f"grp {edit.operation} {name}".strip(), members)
            )
            blend_values["mask_id"] = group_id
            next_id = group_id + 1
        item = HistoryItem.new(
            edit.operation,
            edit.modversion,
            struct.encode(values),
            multi_name=name,
            multi_priority=priority,
            num=num,
            blendop_version=blend_mod.VERSION if blend_values is not None else None,
            blendop_params=blend_mod.PARAMS.encode(blend_values) if blend_values else None,
        )
        if blend_values is None and blend_text is not None and blend_text[1] is not None:
            item.set("blendop_version", blend_text[0])
            item.set("blendop_params", blend_text[1])
        if mark_hand_edited:
            item.set("multi_name_hand_edited", 1)
        new_items.append(item)
        instances[(edit.operation, priority)] = item
        num += 1
    if new_forms:
        snapshot_num = max(i.num for i, e in zip(new_items, edits) if e.shapes)
        carried = [MaskForm(dict(m.attrs)) for m in _current_forms(sidecar)]
        for form in carried + new_forms:
            form.set("mask_num", snapshot_num)
    # renumber the inactive tail after the new items, with the mask rows that belong to it
    shift = len(new_items)
    for h in tail:
        h.set("num", h.num + shift)
    for m in sidecar.masks:
        if m.num >= end:
            m.set("mask_num", m.num + shift)
    sidecar.history = [h for h in sidecar.history if h.num < end] + new_items + tail
    if new_forms:
        sidecar.masks = sidecar.masks + carried + new_forms
    sidecar.history_end = end + shift
    _update_order(sidecar)
    return new_items


_TYPE_NAMES = {
    masks_mod.GRADIENT: "gradient",
    masks_mod.ELLIPSE: "ellipse",
    masks_mod.CIRCLE: "circle",
    masks_mod.PATH: "path",
    masks_mod.BRUSH: "brush",
}
