"""Training data: split by photo, synthesis (determinism, schema, renders, unseen paraphrases), measurements,
and the keyword rule planner."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent import measure as measure_mod
from agent import slots as slot_space
from agent.data import read_samples, split_of, synth
from agent.errors import RequestError
from agent.language import banks, looks
from agent.policy import load_policy

from conftest import split_photo_set

ROOT = Path(__file__).resolve().parent.parent
SIZE = 96


def pick_photos():
    """Two train and two held-out photos (copies of the bundled test photos)."""
    return split_photo_set()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    summary = synth.synth(pick_photos(), 12, out, seed=3, size=SIZE)
    return out, summary


def test_split_is_by_file_name_and_about_a_fifth():
    assert split_of("/a/b/photo_1.jpg") == split_of("elsewhere/photo_1.jpg")
    share = np.mean([split_of(f"img_{i:05d}.jpg") == "heldout" for i in range(2000)])
    assert 0.17 < share < 0.23


def test_synth_is_deterministic_by_seed(data, tmp_path):
    out, _ = data
    again = tmp_path / "again"  # each sample has its own random stream: a shorter run is a prefix
    synth.synth(pick_photos(), 5, again, seed=3, size=SIZE)
    assert read_samples(again) == read_samples(out)[:5]
    for sample in read_samples(again):
        for key in ("input", "target"):
            assert (again / sample[key]).read_bytes() == (out / sample[key]).read_bytes()
    other = tmp_path / "other"
    synth.synth(pick_photos(), 3, other, seed=4, size=SIZE)
    first = [s["instruction"] for s in read_samples(out)[:3]]
    assert [s["instruction"] for s in read_samples(other)] != first


def test_samples_follow_the_contract(data):
    out, _ = data
    samples = read_samples(out)
    assert len(samples) == 12
    assert {s["family"] for s in samples} == {"enhance", "style", "local"}
    for s in samples:
        assert set(s) == {
            "id",
            "family",
            "split",
            "photo",
            "input",
            "target",
            "instruction",
            "paraphrase",
            "unseen",
            "reasoning",
            "slots",
            "operations",
            "attributes",
        }
        assert re.fullmatch(r"\d{6}", s["id"]) and s["input"] == f"images/{s['id']}.png"
        assert s["split"] == split_of(s["photo"]) and s["paraphrase"] in ("seen", "unseen")
        assert s["instruction"] and s["instruction"] == " ".join(s["instruction"].split())
        assert "median L*" in s["reasoning"]
        keep = s["instruction"] in banks.KEEP  # a request for no change: no slot, no operation, no attribute
        assert (not s["slots"]) == keep and set(s["slots"]) <= set(slot_space.BY_NAME)
        assert s["operations"] == slot_space.to_operations(s["slots"])
        assert bool(s["attributes"]) != keep and all(v in (1, -1) for v in s["attributes"].values())
        assert set(s["attributes"]) <= set(measure_mod.ATTRIBUTE_NAMES)
        for key in ("input", "target"):
            with Image.open(out / s[key]) as im:
                assert im.mode == "RGB" and max(im.size) == SIZE


def test_targets_are_the_renders_of_the_operations_and_move_as_asked(data):
    out, _ = data
    for s in read_samples(out):
        image = np.asarray(Image.open(out / s["input"]))
        target = np.asarray(Image.open(out / s["target"]))
        np.testing.assert_array_equal(synth.render(image, s["slots"]), target)
        moved = measure_mod.directions(image, target, list(s["attributes"]))
        assert moved == s["attributes"], (s["instruction"], moved)


def test_fast_mode_writes_inputs_only_and_shares_the_originals(tmp_path):
    from retouchiq.cli import main

    photos = pick_photos()
    summary = synth.synth(photos, 15, tmp_path, seed=3, size=SIZE, fast=True)
    samples = read_samples(tmp_path)
    assert len(samples) == 15 and not (tmp_path / "targets").exists()
    assert {s["family"] for s in samples} == {"enhance", "style", "local"}
    originals = {p.stem: np.asarray(synth.load_photo(p, SIZE)) for p in photos}
    for s in samples:
        assert set(s) == {
            "id",
            "family",
            "split",
            "photo",
            "input",
            "target",
            "instruction",
            "paraphrase",
            "unseen",
            "reasoning",
            "slots",
            "operations",
            "attributes",
        }
        assert s["target"] is None and s["slots"] and s["operations"] == slot_space.to_operations(s["slots"])
        image = np.asarray(Image.open(tmp_path / s["input"]))
        original = originals[Path(s["photo"]).stem]
        assert max(image.shape[:2]) == SIZE and "median L*" in s["reasoning"]
        if s["family"] == "enhance":  # the degraded photo; its fix moves it back towards the original as asked
            assert s["input"] == f"images/{s['id']}.png"
            assert measure_mod.directions(image, original, list(s["attributes"])) == s["attributes"]
        else:
            assert s["input"] == f"images/original-{Path(s['photo']).stem}.png"
            np.testing.assert_array_equal(image, original)
    assert len(list((tmp_path / "images").iterdir())) < 15 and summary["samples"] == 15
    assert len(read_samples([tmp_path], "train")) == sum(s["split"] == "train" for s in samples)
    # evaluation renders the targets of fast data itself (tests/test_eval.py checks what it measures)
    assert main(["eval", "--data", str(tmp_path), "--split", "train", "--policies", "noop", "--engine", "torch"]) == 0


def test_split_has_no_leakage_and_unseen_paraphrases_only_in_heldout(data):
    out, _ = data
    samples = read_samples(out)
    by_photo = {}
    for s in samples:
        by_photo.setdefault(s["photo"], set()).add(s["split"])
    assert all(len(v) == 1 for v in by_photo.values())
    assert {s["split"] for s in samples} == {"train", "heldout"}
    assert any(s["paraphrase"] == "unseen" for s in samples)
    for s in samples:
        if s["split"] == "train":
            assert s["paraphrase"] == "seen"
        if s["paraphrase"] == "seen":
            assert not [t for _, _, t in banks.UNSEEN if unseen_pattern(t).search(s["instruction"].lower())]
            assert s["unseen"] is None
        else:  # which held-out wording, and the attributes it asks by itself
            assert unseen_pattern(s["unseen"]["phrasing"]).search(s["instruction"].lower())
            assert s["unseen"]["phrasing"] in {t for _, _, t in banks.UNSEEN}
            assert s["unseen"]["attributes"] and set(s["unseen"]["attributes"]) <= set(s["attributes"])


def unseen_pattern(template: str) -> re.Pattern:
    """An unseen template's words in order, whatever fills its amount."""
    return re.compile(
        ".*".join(re.escape(c.strip(" ,")) for c in re.split(r"\{\w\}", template.lower()) if c.strip(" ,"))
    )


def test_unseen_paraphrases_are_kept_out_of_the_banks():
    assert len(banks.UNSEEN) == 50 and len({t for _, _, t in banks.UNSEEN}) == 50
    seen = (
        [t for i in banks.INTENTS.values() for t in i.phrases]
        + [t for d in banks.DEFECTS.values() for t in d.phrases]
        + [g for g, _ in banks.GENERIC]
    )
    for kind, name, template in banks.UNSEEN:
        assert name in {"intent": banks.INTENTS, "defect": banks.DEFECTS, "look": looks.LOOKS}[kind]
        assert not [t for t in seen if unseen_pattern(template).search(t.lower())], template


def test_added_phrasings_avoid_the_unseen_paraphrases_words():
    """Beyond the hand-written core, no bank phrasing (nor look alias or template) uses a distinctive word of the
    50 held-out paraphrases, so the unseen subset stays unseen however the banks grow."""
    forbidden = re.compile("|".join(rf"\b{re.escape(w.strip())}\b" for w in banks.FORBIDDEN_WORDS), re.IGNORECASE)
    added = (
        [t for n, i in banks.INTENTS.items() for t in i.phrases if t not in banks.BASE_PHRASES[n]]
        + [t for n, d in banks.DEFECTS.items() for t in d.phrases if t not in banks.BASE_DEFECT_PHRASES[n]]
        + [g for g, _ in banks.GENERIC_EXTRA]
        + list(banks.LOOK_TEMPLATES_EXTRA)
        + [a for v in looks.MORE_ALIASES.values() for a in v]
        + [p for n in banks.NEGATIONS_EXTRA for p in n.phrases]
        + list(banks.KEEP)
    )
    assert len(added) > 5000
    assert not [t for t in added if forbidden.search(t)]
    # and every UNSEEN template still carries one of the forbidden words or is kept out by its exact wording
    all_seen = [t.lower() for i in banks.INTENTS.values() for t in i.phrases] + [
        t.lower() for d in banks.DEFECTS.values() for t in d.phrases
    ]
    for _, _, template in banks.UNSEEN:
        assert not [t for t in all_seen if unseen_pattern(template).search(t)], template


def test_complaints_about_a_part_ask_for_its_cure():
    """ "the sky is a bit too bright" asks for a darker sky, "the sky is too blue" for a warmer one, "the corners
    are too bright" for a vignette; plural parts take plural verbs."""
    phrases = {name: set(i.phrases) for name, i in banks.INTENTS.items()}
    assert {"the sky is {a} too bright", "the sky looks {a} too bright"} <= phrases["sky_down"]
    assert {"the sky is {a} too blue", "the sky seems {a} too cold"} <= phrases["sky_warm"]
    assert "the foreground is {a} too dark" in phrases["ground_up"]
    assert {"the corners are {a} too bright", "the corners look {a} too bright"} <= phrases["vignette"]
    assert "the left side is {a} too yellow" in phrases["left_cool"]
    wrong = re.compile(r"\b(?:corners|edges|borders|clouds) (?:is|looks|seems)\b")
    assert not [t for ps in phrases.values() for t in ps if wrong.search(t)]


def test_terse_explicit_requests_are_drawn_alone():
    """Style draws include a single explicit request on its own, and terse wordings ("darker", "a bit warmer")
    make up a visible share of them: the policy once ignored the bare word "darker"."""
    import random

    rng, available = random.Random(5), synth.available_slots()
    draws = [synth.draw("style", rng, available) for _ in range(3000)]
    alone = [d for d in draws if len(d.parts) == 1 and d.parts[0].key.startswith("intent:")]
    assert len(alone) > 300
    terse = [d.instruction for d in alone if len(d.instruction.rstrip(".!?").split()) <= 3]
    assert len(terse) > 0.08 * len(alone)
    assert synth.short_phrases(banks.INTENTS["darker"].phrases)
    assert "darker" in synth.short_phrases(banks.INTENTS["darker"].phrases)


def test_requests_for_no_change_are_drawn_and_ask_for_nothing():
    """A few style draws ask for no change at all ("leave it as it is"): no parts, so no edit and no attribute;
    they teach the policy that some wordings want nothing (its decoding otherwise falls back on the likeliest
    knob)."""
    import random

    rng, available = random.Random(3), synth.available_slots()
    draws = [synth.draw("style", rng, available) for _ in range(2000)]
    keep = [d for d in draws if d.instruction in banks.KEEP]
    assert 0.01 * len(draws) < len(keep) < 0.06 * len(draws)
    assert all(not d.parts for d in keep)
    assert not [d for d in draws if not d.parts and d.instruction not in banks.KEEP]


def test_every_recipe_uses_known_slots_and_attributes():
    for deltas, attrs in (
        [(i.deltas, i.attributes) for i in banks.INTENTS.values()]
        + [(k.deltas, k.attributes) for k in looks.LOOKS.values()]
        + [({d.slot: d.lo}, d.attributes) for d in banks.DEFECTS.values()]
    ):
        assert set(deltas) <= set(slot_space.BY_NAME), deltas
        assert set(attrs) <= set(measure_mod.ATTRIBUTE_NAMES), attrs


def test_recipes_needing_missing_modules_are_skipped_and_counted(tmp_path, monkeypatch):
    no_bilat = {s.name for s in slot_space.SLOTS if s.module != "bilat"}
    monkeypatch.setattr(synth, "available_slots", lambda: no_bilat)
    summary = synth.synth(pick_photos()[:2], 9, tmp_path, seed=11, size=64)
    assert "clarity" in summary["unused_slots"]
    assert all("clarity" not in s["slots"] for s in read_samples(tmp_path))
    assert any(k.startswith("skipped:") and "clarity" in k for k in summary["counts"])


def test_temperature_defect_is_undone_by_its_mired_mirror():
    values = slot_space.slot_values({"temperature": -40.0})  # the fix of a cool cast of +40 mired
    degrade = slot_space.slot_values({"temperature": 40.0})
    assert values["temperature"] > 5003 > degrade["temperature"]
    assert 1e6 / values["temperature"] + 1e6 / degrade["temperature"] == pytest.approx(2e6 / 5003, rel=1e-4)


def test_synth_command_reports_a_missing_folder(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "retouchiq",
            "data",
            "synth",
            "--photos",
            tmp_path / "nope",
            "--n",
            "2",
            "--out",
            tmp_path / "out",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 3 and "not a folder" in proc.stderr


def test_synth_command_takes_several_folders_and_one_split(tmp_path):
    """--photos A B uses both folders (ordered by file name); --split train keeps the held-out photos out."""
    import shutil

    photos = pick_photos()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i, p in enumerate(photos):
        shutil.copyfile(p, (a if i % 2 else b) / p.name)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "retouchiq",
            "data",
            "synth",
            "--fast",
            "--photos",
            a,
            b,
            "--split",
            "train",
            "--n",
            "6",
            "--size",
            "48",
            "--out",
            out,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    samples = read_samples(out)
    assert {s["split"] for s in samples} == {"train"}
    assert {Path(s["photo"]).name for s in samples} <= {p.name for p in photos if split_of(p) == "train"}
    assert {Path(s["photo"]).parent for s in samples} <= {a, b}


# ------------------------------------------------------------------------------------------------ measure


def gradient(h=60, w=90):
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([60 + 120 * x / w, 80 + 60 * y / h, 100 + 40 * np.sin(x / 7.0)], -1)
    return img.clip(0, 255).astype(np.uint8)


def test_measure_reports_the_contract_statistics():
    s = measure_mod.measure(gradient())
    for key in ("L_p5", "L_p50", "L_p95", "a_mean", "b_mean", "chroma", "contrast", "detail"):
        assert np.isfinite(s[key])
    for r in measure_mod.REGION_NAMES:
        assert f"L@{r}" in s and f"b@{r}" in s
    assert s["L@left"] < s["L@right"]  # red rises to the right


@pytest.mark.parametrize(
    "change, attr, sign",
    [
        (lambda im: im * 1.15, "brightness", 1),
        (lambda im: im * 0.85, "brightness", -1),
        (lambda im: im + [12, 0, -12], "warmth", 1),
        (lambda im: im + [-10, 0, 10], "warmth", -1),
        (lambda im: im + [8, -8, 8], "tint", 1),
        (lambda im: im.mean(-1, keepdims=True) + 0.5 * (im - im.mean(-1, keepdims=True)), "saturation", -1),
        (lambda im: 128 + 1.3 * (im - 128), "contrast", 1),
        (lambda im: np.where(im < 110, im + 15, im), "shadows", 1),
        (lambda im: np.where(im > 120, im - 15, im), "highlights", -1),
    ],
)
def test_directions_on_synthetic_changes(change, attr, sign):
    before = gradient()
    after = np.clip(change(before.astype(np.float64)), 0, 255).astype(np.uint8)
    assert measure_mod.directions(before, after, [attr]) == {attr: sign}


def test_directions_ignore_no_change_and_tell_regions_from_global_edits():
    img = gradient()
    assert set(measure_mod.directions(img, img).values()) == {0}
    top = img.astype(np.float64)
    top[: img.shape[0] // 3] *= 1.3
    top = top.clip(0, 255).astype(np.uint8)
    moved = measure_mod.directions(img, top, ["brightness@top", "brightness@bottom"])
    assert moved == {"brightness@top": 1, "brightness@bottom": -1}
    brighter = np.clip(img * 1.2, 0, 255).astype(np.uint8)  # a global edit is not a local one
    assert measure_mod.directions(img, brighter, ["brightness@top"]) == {"brightness@top": 0}


def test_detail_falls_when_blurred():
    rng = np.random.default_rng(0)
    img = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    blurred = ((img[:-1, :-1].astype(int) + img[1:, 1:]) // 2).astype(np.uint8)
    assert measure_mod.directions(img[:-1, :-1], blurred, ["detail"]) == {"detail": -1}
    with pytest.raises(ValueError, match="unknown attribute"):
        measure_mod.directions(img, img, ["sparkle"])


# ------------------------------------------------------------------------------------------------ rules


@pytest.fixture(scope="module")
def rules():
    return load_policy("rules")


def ops_of(rules, text):
    return {(o["module"], o.get("instance")): o["params"] for o in rules.edit(gradient(), text).operations}


def test_rules_compound_instruction(rules):
    ops = ops_of(rules, "make it warmer and lift the shadows a bit")
    assert ops[("channelmixerrgb", None)]["temperature"] > 5003
    assert ops[("toneequal", None)]["blacks"] > 0


def test_rules_negation_protects_the_highlights(rules):
    ops = ops_of(rules, "brighter without blowing the highlights")
    assert ops[("exposure", None)]["exposure"] > 0
    assert ops[("toneequal", None)]["whites"] < 0


@pytest.mark.parametrize(
    "text, key, field, sign",
    [
        ("cooler please", ("channelmixerrgb", None), "temperature", -1),
        ("darken the sky a lot", ("exposure", "top"), "exposure", -1),
        ("brighten the foreground", ("exposure", "bottom"), "exposure", 1),
        ("brighten the subject slightly", ("exposure", "center"), "exposure", 1),
        ("warm the left side", ("channelmixerrgb", "left"), "temperature", 1),
        ("add a vignette", ("vignette", None), "brightness", -1),
        ("it's too dark", ("exposure", None), "exposure", 1),
        ("reduce the contrast", ("colorbalancergb", None), "contrast", -1),
        ("make it black and white", ("colorbalancergb", None), "saturation_global", -1),
    ],
)
def test_rules_keywords(rules, text, key, field, sign):
    value = ops_of(rules, text)[key][field]
    assert np.sign(value - (5003.0 if field == "temperature" else 0.0)) == sign


def test_rules_amounts_and_stops(rules):
    assert ops_of(rules, "make it half a stop darker")[("exposure", None)]["exposure"] == -0.5
    assert ops_of(rules, "+1 stop")[("exposure", None)]["exposure"] == 1.0
    small = ops_of(rules, "darken the sky a touch")[("exposure", "top")]["exposure"]
    big = ops_of(rules, "darken the sky a lot")[("exposure", "top")]["exposure"]
    assert big < small < 0


def test_rules_never_crash_on_odd_requests(rules):
    assert rules.edit(gradient(), "haz la foto más cálida").operations == []
    result = rules.edit(gradient(), "make it look natural")
    assert "median L*" in result.reasoning
    with pytest.raises(RequestError, match="empty"):
        rules.edit(gradient(), "   ")


def test_rules_answer_every_synthesised_sample_validly(data, rules):
    out, _ = data
    for s in read_samples(out):
        result = rules.edit(np.asarray(Image.open(out / s["input"])), s["instruction"])
        json.dumps(result.to_json())
