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
from darktable_bridge import darktable_cli
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
    done = edit_mod.write(photo, core.merge(EditResult("test", ops), None, photo.name))
    look, note = edit_mod.current_look(photo, Sidecar.read(done.sidecar))
    assert note is None
    assert measure(look)["b_mean"] > measure(preview)["b_mean"] + 5


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
    preds = load_policy("compact").predict(
        [load_preview(roll / n) for n in sorted(slots)], ["give it a warm vintage look"] * 3
    )
    values = edit_mod.consistent_values(preds)
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
    elif kind == "cmyk":
        path = tmp_path / "cmyk.jpg"
        im.convert("CMYK").save(path)
    elif kind == "palette":
        path = tmp_path / "palette.png"
        im.convert("P").save(path)
    else:
        path = tmp_path / "big.jpg"  # ~50 MP: downscaled for the policy, not refused
        Image.new("RGB", (8660, 5774), (90, 110, 140)).save(path, quality=70)
    return path


@pytest.mark.parametrize("kind", ["png16", "grey", "cmyk", "palette", "big"])
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
    import xmp.files

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    photo = Path(shutil.copy(small, tmp_path / "p.jpg"))
    monkeypatch.setattr(xmp.files.tempfile, "mkstemp", refuse)
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
