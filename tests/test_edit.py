"""``retouchiq edit`` and ``retouchiq roll``: sidecars next to the photos, backups, JSON, rolls, bad input."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent import core
from agent import edit as edit_mod
from agent.measure import measure
from agent.policy import EditResult, load_policy
from darktable_bridge import darktable_cli, images
from darktable_bridge.photos import preview as load_preview
from retouchiq.cli import main
from xmp.sidecar import Sidecar

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """The test photo at 480 px (darktable-cli and the renderer stay quick)."""
    path = tmp_path_factory.mktemp("src") / "peaks.jpg"
    with Image.open(PHOTO) as im:
        im = im.convert("RGB")
        im.thumbnail((480, 480))
        im.save(path, quality=92)
    return path


@pytest.fixture
def photo(small, tmp_path) -> Path:
    return Path(shutil.copy(small, tmp_path / "peaks.jpg"))


@pytest.fixture(scope="module")
def policy():
    return load_policy("compact")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_edit_writes_sidecar_and_json(photo, capsys):
    code, out, _ = run(capsys, "edit", str(photo), "-i", "make it warmer", "--json")
    assert code == 0
    doc = json.loads(out.strip().splitlines()[0])
    assert set(doc) >= {"photo", "sidecar", "reasoning", "operations"}
    assert doc["photo"] == str(photo)
    assert doc["sidecar"] == str(photo) + ".xmp"
    assert doc["backup"] is None
    assert any(op["module"] == "channelmixerrgb" and op["params"]["temperature"] > 5003 for op in doc["operations"])
    side = Sidecar.read(doc["sidecar"])
    assert any(item.operation == "channelmixerrgb" for item in side.history)


def test_edit_keeps_backup(photo, capsys):
    assert run(capsys, "edit", str(photo), "-i", "make it warmer")[0] == 0
    first = (photo.parent / (photo.name + ".xmp")).read_bytes()
    code, out, _ = run(capsys, "edit", str(photo), "-i", "make it darker")
    assert code == 0 and "previous kept as" in out
    backups = list(photo.parent.glob("peaks.jpg.xmp.retouchiq-*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == first
    history = Sidecar.read(photo.parent / "peaks.jpg.xmp").history
    assert len(history) > len(Sidecar.parse(first).history)  # stacked on top, the first edit kept


def test_edit_judges_the_current_look(photo, policy):
    """After a strong warm edit the preview the policy sees is the warm one."""
    preview = load_preview(photo)
    ops = [{"module": "channelmixerrgb", "params": {"temperature": 8000}}]
    done = edit_mod.write(photo, core.merge(EditResult("test", ops), None, photo.name), None)
    look, note = edit_mod.current_look(photo, Sidecar.read(done.sidecar))
    assert note is None
    assert measure(look)["b_mean"] > measure(preview)["b_mean"] + 5


@pytest.mark.darktable
def test_a_sidecar_in_darktables_legacy_order_is_previewed(photo, capsys):
    """darktable 4.2.1 writes iop_order_version 2 (the legacy order), JPEGs too: the edit judges the photo as
    that sidecar renders it (+1 EV here), without a warning, and stacks on it."""
    legacy = ROOT / "tests" / "data" / "darktable-4.2" / "examples" / "exposure_plus1ev_v30raw_order_on_png.xmp"
    side = photo.with_name(photo.name + ".xmp")
    shutil.copy(legacy, side)
    look, note = edit_mod.current_look(photo, Sidecar.read(side))
    assert note is None
    assert measure(look)["L_p50"] > measure(load_preview(photo))["L_p50"] + 8
    code, out, err = run(capsys, "edit", str(photo), "-i", "make it warmer")
    assert code == 0 and "unedited" not in out + err and "could not" not in out + err, out + err
    after = Sidecar.read(side)
    assert after.iop_order_version == 2 and [h.operation for h in after.history][0] == "exposure"


@pytest.mark.darktable
def test_a_sidecar_in_darktable_5s_order_is_previewed_and_extended(photo, capsys):
    """darktable 5 writes iop_order_version 5 (the v5.0 JPEG order) and no list, which darktable 4.2 does not
    know: the preview writes the order out for it, so the look is the +1 EV the sidecar holds (as in the v3.0
    JPEG order), and the edit stacks on it in darktable 5's order."""
    example = ROOT / "tests" / "data" / "darktable-4.2" / "examples" / "exposure_plus1ev_v30jpg.xmp"
    text = example.read_text().replace('iop_order_version="3"', 'iop_order_version="5"')
    text = text.replace(
        'darktable:multi_name=""', 'darktable:multi_name=""\n      darktable:multi_name_hand_edited="0"'
    )
    side = photo.with_name(photo.name + ".xmp")
    side.write_text(text)
    look, note = edit_mod.current_look(photo, Sidecar.read(side))
    assert note is None
    shutil.copy(example, side)
    same, _ = edit_mod.current_look(photo, Sidecar.read(side))
    assert np.abs(look.astype(float) - same).mean() < 0.5
    side.write_text(text)
    code, out, err = run(capsys, "edit", str(photo), "-i", "make it brighter and warmer")
    assert code == 0 and "unedited" not in out + err and "could not" not in out + err, out + err
    after = Sidecar.read(side)
    names = [op for op, _ in after.iop_order_list]
    assert names.index("finalscale") + 1 == names.index("colorout") and after.history[1].get("multi_name_hand_edited")


def test_preview_and_text_output(photo, capsys, tmp_path):
    out = tmp_path / "after.jpg"
    code, text, _ = run(capsys, "edit", str(photo), "-i", "brighten it up", "--preview", str(out))
    assert code == 0 and "The frame is" in text and "+ exposure" in text
    with Image.open(out) as im:
        after = np.asarray(im.convert("RGB"))
    assert measure(after)["L_p50"] > measure(load_preview(photo))["L_p50"] + 1


@pytest.mark.darktable
def test_darktable_renders_the_sidecar(photo, capsys, tmp_path):
    assert run(capsys, "edit", str(photo), "-i", "make it much warmer")[0] == 0
    before = darktable_cli.render(photo, None, tmp_path / "before.png", width=320, height=320)
    after = darktable_cli.render(photo, photo.parent / "peaks.jpg.xmp", tmp_path / "after.png", width=320, height=320)
    assert after.loaded["channelmixerrgb"] >= 1  # darktable loaded the agent's item (the runner checks all)
    with Image.open(before.output) as b, Image.open(after.output) as a:
        assert measure(np.asarray(a.convert("RGB")))["b_mean"] > measure(np.asarray(b.convert("RGB")))["b_mean"] + 1


def test_roll_consistent(small, tmp_path, capsys):
    """Three frames of one scene at different exposures: one look, and each frame pulled to the roll's level."""
    roll = tmp_path / "roll"
    roll.mkdir()
    with Image.open(small) as im:
        base = np.asarray(im.convert("RGB"), dtype=np.float32)
    for name, gain in (("a_dark.jpg", 0.55), ("b_mid.jpg", 1.0), ("c_bright.jpg", 1.35)):
        Image.fromarray((base * gain).clip(0, 255).astype(np.uint8)).save(roll / name, quality=92)
    code, out, err = run(capsys, "roll", str(roll), "-i", "give it a warm vintage look", "--consistent")
    assert code == 0, err
    assert "3 photo(s)" in out and "3 sidecar(s) written" in out and "one look for the roll" in out
    assert "3/3" in err or "6/6" in err  # the progress bar
    slots = {}
    for name in ("a_dark.jpg", "b_mid.jpg", "c_bright.jpg"):
        side = Sidecar.read(roll / f"{name}.xmp")
        slots[name] = {item.operation for item in side.history}
    # one look: the same style modules on every frame (exposure and white balance are per frame)
    per_frame = {"exposure", "channelmixerrgb"}
    assert slots["a_dark.jpg"] - per_frame == slots["b_mid.jpg"] - per_frame == slots["c_bright.jpg"] - per_frame
    # per-frame exposure brings the frames together: the dark one up, the bright one down
    names = sorted(slots)
    preds = edit_mod.predict(
        load_policy("compact"), [load_preview(roll / n) for n in names], "give it a warm vintage look"
    )
    plan = edit_mod.consistent_plan(preds, names)
    assert [f.scene for f in plan] == [0, 0, 0]  # one scene
    values = [f.values for f in plan]
    assert values[0]["exposure"] > values[1]["exposure"] > values[2]["exposure"]
    shared = {k: v for k, v in values[0].items() if k not in ("exposure", "temperature")}
    assert all({k: v for k, v in v2.items() if k not in ("exposure", "temperature")} == shared for v2 in values)


def test_roll_json_and_failures(small, tmp_path, capsys):
    roll = tmp_path / "roll"
    roll.mkdir()
    shutil.copy(small, roll / "good.jpg")
    (roll / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code, out, err = run(capsys, "roll", str(roll), "-i", "warmer", "--json")
    assert code == 1  # one photo failed, the other was edited
    docs = [json.loads(line) for line in out.splitlines()]
    assert {d["photo"].split("/")[-1] for d in docs} == {"good.jpg", "broken.jpg"}
    assert "error" in next(d for d in docs if d["photo"].endswith("broken.jpg"))
    assert not (roll / "broken.jpg.xmp").exists()
    assert run(capsys, "roll", str(tmp_path / "missing"), "-i", "warmer")[0] == 3  # photos not found


def _variant(tmp_path: Path, small: Path, kind: str) -> Path:
    with Image.open(small) as im:
        im = im.convert("RGB")
    if kind == "png16":
        path = tmp_path / "grey16.png"
        grey = np.asarray(im.convert("L"), dtype=np.uint16) * 257
        Image.fromarray(grey).save(path)  # PIL writes mode I;16 as a 16-bit greyscale PNG
    elif kind == "grey":
        path = tmp_path / "grey.jpg"
        im.convert("L").save(path)
    elif kind == "cmyk-tiff":
        path = tmp_path / "cmyk.tif"  # darktable reads CMYK TIFFs (not CMYK JPEGs: see below)
        im.convert("CMYK").save(path)
    elif kind == "palette":
        path = tmp_path / "palette.png"
        im.convert("P").save(path)
    else:
        path = tmp_path / "big.jpg"  # ~50 MP: downscaled for the policy, not refused
        Image.new("RGB", (8660, 5774), (90, 110, 140)).save(path, quality=70)
    return path


@pytest.mark.parametrize("kind", ["png16", "grey", "cmyk-tiff", "palette", "big"])
def test_unusual_photos_work(small, tmp_path, capsys, kind):
    path = _variant(tmp_path, small, kind)
    preview = load_preview(path)
    assert preview.dtype == np.uint8 and preview.ndim == 3 and max(preview.shape[:2]) <= 1024
    if kind == "png16":
        assert 20 < preview.mean() < 235  # 16-bit values scaled, not clipped to white
    code, _, err = run(capsys, "edit", str(path), "-i", "a bit brighter")
    assert code == 0, err
    assert (tmp_path / (path.name + ".xmp")).exists()


def test_bad_input(small, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\x00" * 100)
    code, _, err = run(capsys, "edit", str(corrupt), "-i", "warmer")
    assert code == 3 and "not an image" in err and not (tmp_path / "corrupt.jpg.xmp").exists()

    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1)).save(tiny)
    code, _, err = run(capsys, "edit", str(tiny), "-i", "warmer")
    assert code == 3 and "too small" in err

    photo = Path(shutil.copy(small, tmp_path / "p.jpg"))
    code, _, err = run(capsys, "edit", str(photo), "-i", "  ")
    assert code == 2 and "empty instruction" in err
    code, _, err = run(capsys, "edit", str(tmp_path / "nope.jpg"), "-i", "warmer")
    assert code == 3 and "not found" in err
    # the same failure gives the same exit status whatever the command (apply: a photo that is not there)
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps({"operations": [{"module": "exposure", "params": {"exposure": 0.5}}]}))
    assert run(capsys, "apply", str(tmp_path / "nope.jpg"), "--ops", str(ops))[0] == 3
    # one photo of two failing: 1 (the other was edited)
    assert run(capsys, "edit", str(photo), str(tmp_path / "nope.jpg"), "-i", "warmer")[0] == 1
    # another language: best effort, never a crash
    assert run(capsys, "edit", str(photo), "-i", "mach das Bild wärmer, bitte")[0] == 0


def test_read_only_folder(small, tmp_path, capsys, monkeypatch):
    """The folder refuses new files (simulated: the tests may run as root, who may write anywhere)."""
    import os

    import xmp.files

    real_open = os.open

    def refuse(path, flags, *args):
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    photo = Path(shutil.copy(small, tmp_path / "p.jpg"))
    monkeypatch.setattr(xmp.files.os, "open", refuse)
    code, _, err = run(capsys, "edit", str(photo), "-i", "warmer")
    assert code == 7 and "cannot write" in err and "Permission denied" in err
    assert not (tmp_path / "p.jpg.xmp").exists()


def test_read_only_sidecar_is_not_damaged(photo, capsys):
    """A sidecar darktable cannot use is refused before anything is written; the file stays byte for byte."""
    side = photo.parent / (photo.name + ".xmp")
    side.write_text("<x:xmpmeta garbage")
    before = side.read_bytes()
    code, _, err = run(capsys, "edit", str(photo), "-i", "warmer")
    assert code == 4 and err  # a sidecar problem
    assert side.read_bytes() == before
    assert not list(photo.parent.glob("*.bak"))


def test_instances_are_named_after_the_request(photo, capsys):
    """Two edits read apart in darktable's history: each new instance carries its request in its name."""
    assert run(capsys, "edit", str(photo), "-i", "make it warmer", "--policy", "rules")[0] == 0
    assert run(capsys, "edit", str(photo), "-i", 'make it "darker" <now>', "--policy", "rules")[0] == 0
    names = {h.multi_name for h in Sidecar.read(photo.with_name(photo.name + ".xmp")).history}
    assert {"retouchiq make it warmer", "retouchiq make it darker now"} <= names, names


def test_a_cmyk_jpeg_is_refused_before_anything_is_written(small, tmp_path, capsys):
    """darktable 4.2 cannot open a CMYK JPEG ('No decoder found'): a sidecar for one would be a file darktable
    never reads. One clear line, exit 3, nothing written; in a roll the other photos are edited."""
    folder = tmp_path / "roll"
    folder.mkdir()
    with Image.open(small) as im:
        im.convert("CMYK").save(folder / "print.jpg")
    shutil.copy(small, folder / "peaks.jpg")
    code, _, err = run(capsys, "edit", str(folder / "print.jpg"), "-i", "warmer")
    assert code == 3 and "CMYK JPEG" in err and "darktable cannot open" in err, err
    assert not (folder / "print.jpg.xmp").exists()
    code, _, err = run(capsys, "roll", str(folder), "-i", "warmer", "--policy", "rules")
    assert code == 1 and "CMYK" in err
    assert (folder / "peaks.jpg.xmp").exists() and not (folder / "print.jpg.xmp").exists()


def _frame(image: np.ndarray, gain: float, tint: tuple[float, float, float], shift: int) -> Image.Image:
    """A frame of the same scene: another exposure and white balance, reframed by a few pixels."""
    lin = (image / 255.0) ** 2.2 * gain * np.array(tint)
    out = (np.clip(lin, 0, 1) ** (1 / 2.2) * 255).round().astype(np.uint8)
    h, w = out.shape[:2]
    return Image.fromarray(out[shift : h - 8 + shift, shift : w - 8 + shift])


@pytest.mark.darktable
def test_a_consistent_roll_of_two_scenes_keeps_each_scenes_light(tmp_path, capsys):
    """Four frames of a warm field at midday and four of mountains at blue hour, exposures and white balance
    varying within each scene: the frames of a scene are matched to one another, the scenes are never pulled
    together, the style goes on every frame, and each frame's reasoning says its scene."""
    roll = tmp_path / "roll"
    roll.mkdir()
    field_photo = ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg"
    for scene, (src, tint0) in enumerate(((field_photo, (1.0, 1.0, 1.0)), (PHOTO, (0.45, 0.6, 1.0)))):
        with Image.open(src) as im:
            im = im.convert("RGB")
            im.thumbnail((480, 480))
            image = np.asarray(im, dtype=np.float64)
        frames = [(0.6, 1.0, 0), (1.0, 0.92, 2), (1.5, 1.06, 4), (0.8, 1.1, 6)]
        for k, (gain, warm, shift) in enumerate(frames):
            tint = (tint0[0] * warm, tint0[1], tint0[2] / warm)
            scale = 0.35 if scene else 1.0  # blue hour: dark
            _frame(image, gain * scale, tint, shift).save(roll / f"{'ab'[scene]}{k}.jpg", quality=92)
    names = sorted(p.name for p in roll.glob("*.jpg"))
    code, out, err = run(capsys, "roll", str(roll), "-i", "add a little contrast", "--consistent", "--json")
    assert code == 0, err
    docs = {Path(d["photo"]).name: d for d in map(json.loads, out.strip().splitlines()) if "photo" in d}
    assert "scene 1: a0.jpg, a1.jpg, a2.jpg, a3.jpg (exposure and white balance matched)" in err
    assert "scene 2: b0.jpg, b1.jpg, b2.jpg, b3.jpg" in err
    for name in names:
        scene = "Scene 1" if name[0] == "a" else "Scene 2"
        assert scene in docs[name]["reasoning"], docs[name]["reasoning"]
    # the same style on every frame (exposure and white balance are per frame)
    per_frame = {"exposure", "channelmixerrgb"}
    styles = {n: {h.operation for h in Sidecar.read(roll / f"{n}.xmp").history} - per_frame for n in names}
    assert len({frozenset(s) for s in styles.values()}) == 1, styles
    renders = darktable_cli.render_batch(
        [(roll / n, roll / f"{n}.xmp") for n in names], tmp_path / "out", ".png", width=320
    )

    def lab(image) -> np.ndarray:
        return images.srgb_to_lab(np.asarray(image, dtype=np.float64)[..., :3] / 255.0).reshape(-1, 3).mean(0)

    before = {n: lab(load_preview(roll / n, 320)) for n in names}
    after = {n: lab(Image.open(r).convert("RGB")) for n, r in zip(names, renders)}
    for prefix in "ab":
        scene = [n for n in names if n[0] == prefix]
        b0 = np.array([before[n] for n in scene])
        b1 = np.array([after[n] for n in scene])
        assert abs(b1[:, 2].mean() - b0[:, 2].mean()) <= 2, (prefix, b0, b1)  # the scene keeps its colour
        assert b1[:, 0].std() <= b0[:, 0].std() / 2, (prefix, b0[:, 0], b1[:, 0])  # its frames match
        assert b1[:, 2].std() <= b0[:, 2].std() / 2, (prefix, b0[:, 2], b1[:, 2])
    # and the two scenes stay apart: the blue-hour frames are not lifted to the field's light
    field_l = np.mean([after[n][0] for n in names if n[0] == "a"])
    blue_l = np.mean([after[n][0] for n in names if n[0] == "b"])
    blue_l0 = np.mean([before[n][0] for n in names if n[0] == "b"])
    assert abs(blue_l - blue_l0) < 6 and field_l - blue_l > 15, (field_l, blue_l0, blue_l)


def test_scenes_are_told_apart_by_capture_time_too():
    """Alike frames shot an hour apart are two scenes (the same view at midday and at dusk); without times,
    content alone decides."""
    rng = np.random.default_rng(3)
    view, other = rng.random((60, 80, 3)) * 255, rng.random((60, 80, 3)) * 255
    sigs = [edit_mod.scene_signature(img.astype(np.uint8)) for img in (view, view * 0.5, other, view)]
    assert edit_mod.group_scenes(sigs) == [0, 0, 1, 0]
    hour = 3600.0
    assert edit_mod.group_scenes(sigs, [0.0, 60.0, 120.0, hour]) == [0, 0, 1, 2]
    assert edit_mod.group_scenes(sigs, [0.0, None, 120.0, 180.0]) == [0, 0, 1, 0]


def test_capture_time_is_read_from_exif(tmp_path):
    from darktable_bridge.photos import capture_time

    exif = Image.Exif()
    exif[0x0132] = "2024:06:01 12:00:00"
    Image.new("RGB", (64, 48)).save(tmp_path / "a.jpg", exif=exif)
    exif[0x0132] = "2024:06:01 12:20:30"
    Image.new("RGB", (64, 48)).save(tmp_path / "b.jpg", exif=exif)
    Image.new("RGB", (64, 48)).save(tmp_path / "c.jpg")
    assert capture_time(tmp_path / "b.jpg") - capture_time(tmp_path / "a.jpg") == 20 * 60 + 30
    assert capture_time(tmp_path / "c.jpg") is None and capture_time(tmp_path / "missing.jpg") is None


def test_the_reasoning_reads_in_plain_words_with_the_measurements_on_request(photo, capsys):
    from agent.measure import plain

    text = (
        "The frame is dark (median L* 36, 5–95 % range 15–93) with a cool/blue cast (mean a* +1, b* -5); colours "
        'are muted (mean chroma 9), flat (L* std 12). The brightest area is the top (L* 50). For "warmer": '
        "white balance 6068 K (neutral 5003 K) warms the colours (mean b* -5); exposure +0.30 EV under a top "
        "mask brightens the top (the sky) (now L* 50)."
    )
    assert plain(text) == (
        "The frame is dark with a cool/blue cast; colours are muted, flat. The brightest area is the top. For "
        '"warmer": white balance 6068 K warms the colours; exposure +0.30 EV under a top mask brightens the top '
        "(the sky)."
    )
    code, out, _ = run(capsys, "edit", str(photo), "-i", "warmer", "--policy", "rules")
    assert code == 0 and "warms the colours" in out and "L*" not in out and "b*" not in out
    assert "color calibration white balance" in out  # darktable's module, where the photographer finds it
    code, out, _ = run(capsys, "edit", str(photo), "-i", "cooler", "--policy", "rules", "--verbose")
    assert code == 0 and "median L*" in out
    code, out, _ = run(capsys, "edit", str(photo), "-i", "darker", "--policy", "rules", "--json")
    doc = json.loads(out)
    assert "median L*" in doc["reasoning"] and "L*" not in doc["summary"] and doc["summary"]
