"""Merging agent operations into existing sidecars (no darktable needed)."""

import pytest

from darktable_bridge import apply as apply_mod
from darktable_bridge import operations
from xmp import SidecarError, iop_order
from xmp.merge import append_edits
from xmp.sidecar import Sidecar

from conftest import EXAMPLES

MASKED = {
    "module": "exposure",
    "instance": "sky",
    "params": {"exposure": -0.5},
    "mask": {"type": "gradient", "anchor": [0.5, 0.4]},
}


def edits(*ops):
    return operations.parse_operations({"operations": list(ops)})


def test_existing_items_and_masks_stay_byte_identical():
    s = Sidecar.read(EXAMPLES / "exposure_gradient_mask.xmp")
    before_h = [dict(h.attrs) for h in s.history]
    before_m = [dict(m.attrs) for m in s.masks]
    new = append_edits(s, edits({"module": "exposure", "params": {"exposure": 0.3}}, MASKED))
    assert [h.attrs for h in s.history[:1]] == before_h
    assert [m.attrs for m in s.masks[:2]] == before_m
    assert [h.num for h in s.history] == [0, 1, 2] and s.history_end == 3
    assert [h.multi_priority for h in new] == [1, 2]
    assert all(h.multi_name.startswith("retouchiq") for h in new)
    # new snapshot of forms: the user's two forms again plus the agent's gradient and group, at the last item
    latest = [m for m in s.masks if m.num == 2]
    assert {m.form_id for m in latest} == {1001, 1002, 1003, 1004}
    order = s.iop_order_list
    assert order.index(("exposure", 1)) == order.index(("exposure", 0)) + 1
    assert order.index(("exposure", 2)) == order.index(("exposure", 1)) + 1
    assert s.iop_order_version == iop_order.CUSTOM
    reread = Sidecar.parse(s.to_string())
    assert [h.attrs for h in reread.history] == [h.attrs for h in s.history]


def test_redo_tail_stays_inactive_after_the_new_items():
    s = Sidecar.read(EXAMPLES / "two_exposure_instances_iop_order_list.xmp")
    s.history_end = 1  # the photographer undid the second instance
    tail = dict(s.history[1].attrs)
    new = append_edits(s, edits({"module": "colorbalancergb", "params": {"vibrance": 0.2}}))
    assert new[0].num == 1 and s.history_end == 2
    assert s.history[2].num == 2 and s.history[2].multi_name == "second"
    assert {k: v for k, v in s.history[2].attrs.items() if not k.endswith("}num")} == {
        k: v for k, v in tail.items() if not k.endswith("}num")
    }


def test_in_place_module_changes_only_the_given_fields():
    s = Sidecar.new("a.jpg")
    append_edits(s, edits({"module": "sigmoid", "params": {"middle_grey_contrast": 2.0}}))
    append_edits(s, edits({"module": "sigmoid", "params": {"hue_preservation": 50.0}}))
    first, second = s.history
    assert first.multi_priority == second.multi_priority == 0
    assert second.decoded()["middle_grey_contrast"] == 2.0 and second.decoded()["hue_preservation"] == 50.0
    assert s.iop_order_list is None


def test_in_place_keeps_the_users_blending():
    s = Sidecar.new("a.jpg")
    append_edits(s, edits({"module": "sigmoid", "params": {"middle_grey_contrast": 2.0}}))
    s.history[0].set("blendop_params", "gz14eJxjYIAACQYYOOHEgAZY0QVwggZ7CB6pfNoAAE8gGQg=")
    append_edits(s, edits({"module": "sigmoid", "params": {"contrast_skewness": 0.2}}))
    assert s.history[1].get("blendop_params") == s.history[0].get("blendop_params")


def test_newer_sidecars_get_the_4_4_attribute():
    text = (
        (EXAMPLES / "exposure_plus1ev_v30jpg.xmp")
        .read_text()
        .replace('darktable:multi_name=""', 'darktable:multi_name=""\n      darktable:multi_name_hand_edited="0"')
    )
    s = Sidecar.parse(text)
    new = append_edits(s, edits({"module": "exposure", "params": {"exposure": 0.3}}))
    assert new[0].get("multi_name_hand_edited") == "1"
    keys = [k.split("}")[1] for k in new[0].attrs]
    assert keys.index("multi_name_hand_edited") == keys.index("multi_name") + 1


def test_v50_module_order_is_refused():
    text = (
        (EXAMPLES / "exposure_plus1ev_v30jpg.xmp").read_text().replace('iop_order_version="3"', 'iop_order_version="5"')
    )
    with pytest.raises(SidecarError, match="module order"):
        append_edits(Sidecar.parse(text), edits({"module": "exposure", "params": {"exposure": 0.3}}))


def test_raw_photos_get_the_raw_order(tmp_path):
    s, _ = apply_mod.build_sidecar(tmp_path / "x.NEF", edits({"module": "exposure", "params": {}}), None)
    assert s.iop_order_version == iop_order.V30_RAW
    s, _ = apply_mod.build_sidecar(tmp_path / "x.png", edits({"module": "exposure", "params": {}}), None)
    assert s.iop_order_version == iop_order.V30_JPG


def test_a_jpeg_sidecar_without_history_switches_to_the_jpeg_order(tmp_path):
    fresh = Sidecar.new("x.jpg", iop_order.V30_RAW)  # what darktable 4.2's import writes for a JPEG
    s, _ = apply_mod.build_sidecar(tmp_path / "x.jpg", edits({"module": "exposure", "params": {}}), fresh)
    assert s.iop_order_version == iop_order.V30_JPG
    edited = Sidecar.new("x.jpg", iop_order.V30_RAW)
    append_edits(edited, edits({"module": "exposure", "params": {}}))  # the photographer's own edit
    s, _ = apply_mod.build_sidecar(tmp_path / "x.jpg", edits({"module": "exposure", "params": {}}), edited)
    order = [op for op, _ in s.iop_order_list]  # the photographer's history keeps its (RAW) order
    assert order.index("exposure") < order.index("colorin")
