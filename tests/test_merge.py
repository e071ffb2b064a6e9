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


@pytest.mark.parametrize("version", [iop_order.V50_JPG, iop_order.V50_RAW])
def test_darktable_5_module_orders_are_extended(version):
    """darktable 5 writes iop_order_version 5 (JPEG) or 4 (RAW) and no list: the agent's new instance goes into
    darktable 5's own order, finalscale just before colorout, the modules added since 4.2 in their places."""
    text = (EXAMPLES / "exposure_plus1ev_v30jpg.xmp").read_text()
    s = Sidecar.parse(text.replace('iop_order_version="3"', f'iop_order_version="{version}"'))
    append_edits(s, edits({"module": "exposure", "params": {"exposure": 0.3}}))
    order = s.iop_order_list
    names = [op for op, _ in order]
    assert s.iop_order_version == iop_order.CUSTOM and len(names) == len(set(names)) + 1
    assert names.index("finalscale") + 1 == names.index("colorout")
    assert names.index("agx") == names.index("sigmoid") + 1 and names.index("colorequal") < names.index("rgbcurve")
    assert order.index(("exposure", 1)) == order.index(("exposure", 0)) + 1
    assert (names.index("colorin") < names.index("exposure")) == (version == iop_order.V50_JPG)
    v30 = [op for op, _ in iop_order.default_order(version - 2)]
    assert [op for op in dict.fromkeys(names) if op in v30 and op != "finalscale"] == [
        op for op in v30 if op != "finalscale" and op in names
    ]  # otherwise the v3.0 order of the same kind


def test_raw_photos_get_the_raw_order(tmp_path):
    """A raw darktable has not developed yet: its v3.0 RAW order, its defaults left to darktable (instance 0 of
    exposure is darktable's), the agent's exposure as instance 1 right after it."""
    s, _ = apply_mod.build_sidecar(tmp_path / "x.NEF", edits({"module": "exposure", "params": {}}), None)
    order = iop_order.default_order(iop_order.V30_RAW)
    at = order.index(("exposure", 0)) + 1
    assert s.iop_order_list == order[:at] + [("exposure", 1)] + order[at:]
    assert not s.auto_presets_applied and [h.multi_priority for h in s.history] == [1]
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


def test_header_and_item_numbers_are_darktables_or_refused():
    """Numbers darktable would read otherwise than as written are refused or read as darktable reads them; the
    photographer's items are never renumbered."""
    text = (EXAMPLES / "two_exposure_instances_iop_order_list.xmp").read_text()
    base = Sidecar.parse(text)
    n = len(base.history)
    agent = edits({"module": "exposure", "params": {"exposure": 0.3}})
    # history_end past the last item: darktable reads "all of them"; the edit goes right after them, active
    far = Sidecar.parse(text.replace(f'darktable:history_end="{n}"', 'darktable:history_end="100"'))
    assert far.history_end == n
    new = append_edits(far, agent)
    assert [h.num for h in far.history] == list(range(n + 1)) and new[0].num == n and far.history_end == n + 1
    # a negative history_end, items not numbered 0, 1, …, absurd instance numbers: refused, nothing changed
    cases = [
        (text.replace(f'darktable:history_end="{n}"', 'darktable:history_end="-3"'), "negative"),
        (text.replace('darktable:num="1"', 'darktable:num="7"'), "numbered 7, not 1"),
        (text.replace('darktable:multi_priority="1"', 'darktable:multi_priority="2147483647"'), "multi_priority"),
    ]
    for hostile, says in cases:
        s = Sidecar.parse(hostile)
        before = [dict(h.attrs) for h in s.history]
        with pytest.raises(SidecarError, match=says):
            append_edits(s, agent)
        assert [dict(h.attrs) for h in s.history] == before


def test_merging_is_linear_in_the_history():
    """A sidecar of 20 000 items (the photographer's, all one module): reading, merging and writing stay linear
    (the description element is found once, history_end read once per pass)."""
    import time

    s = apply_mod.sidecar_of("big.jpg", [{"module": "exposure", "params": {"exposure": 0.1}}])
    item = s.history[0]
    from xmp.sidecar import HistoryItem

    s.history = [HistoryItem({**item.attrs, "{http://darktable.sf.net/}num": str(i)}) for i in range(20_000)]
    s.history_end = 20_000
    text = s.to_string()
    start = time.perf_counter()
    merged = apply_mod.merge("big.jpg", edits({"module": "exposure", "params": {"exposure": 0.3}}), Sidecar.parse(text))
    seconds = time.perf_counter() - start
    assert merged.items[0].num == 20_000 and seconds < 30, seconds  # quadratic took minutes; see benchmarks


@pytest.mark.darktable
def test_a_history_end_past_the_items_renders_as_the_correct_merge(tmp_path, dt):
    """history_end="100" on two items: darktable shows both; the agent's item on top must render exactly as on
    the same sidecar with history_end="2" (it was written as item 100, which darktable then left inactive)."""
    import numpy as np

    from conftest import SAMPLE

    text = (EXAMPLES / "two_exposure_instances_iop_order_list.xmp").read_text()
    renders = []
    for end in ("2", "100"):
        s = Sidecar.parse(text.replace('darktable:history_end="2"', f'darktable:history_end="{end}"'))
        merged = apply_mod.merge(SAMPLE, edits({"module": "exposure", "params": {"exposure": 0.7}}), s)
        path = tmp_path / f"end{end}.xmp"
        path.write_text(merged.text)
        renders.append(dt.xmp(path, photo=SAMPLE, fmt="png"))
    assert np.abs(renders[0] - renders[1]).max() == 0
