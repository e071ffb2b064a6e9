"""Raw files: the agent's edit goes on top of darktable's own defaults for a raw (its scene-referred workflow),
in darktable-cli as in the GUI (tests/test_gui.py), and raws darktable cannot develop are refused."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from raws import make_dng

from darktable_bridge import darktable_cli, images
from darktable_bridge.operations import parse_operations
from xmp.iop_order import V30_RAW
from xmp.merge import append_edits
from xmp.sidecar import Sidecar

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg"

pytestmark = pytest.mark.darktable


@pytest.fixture(scope="module")
def dng(tmp_path_factory) -> Path:
    return make_dng(PHOTO, tmp_path_factory.mktemp("raw") / "field.dng")


@pytest.fixture
def raw(dng, tmp_path) -> Path:
    return Path(shutil.copy(dng, tmp_path / "field.dng"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retouchiq", *args], cwd=ROOT, capture_output=True, text=True)


def rendered(photo: Path, xmp: Path | None, out: Path) -> np.ndarray:
    return images.read_image(darktable_cli.render(photo, xmp, out, width=400).output) * 255.0


def test_a_fresh_raw_gets_the_edit_on_top_of_darktables_defaults(raw, tmp_path):
    """+1 EV on a raw darktable has not developed yet: darktable's default workflow (its +0.7 EV exposure, tone
    mapper, white balance) stays, the agent's exposure is a second instance on top — the render is
    darktable's own default rendering with its exposure raised by exactly 1 EV."""
    ops = tmp_path / "ops.json"
    ops.write_text('{"operations": [{"module": "exposure", "params": {"exposure": 1.0}}]}')
    done = cli("apply", str(raw), "--ops", str(ops))
    assert done.returncode == 0, done.stderr
    side = Sidecar.read(raw.with_name("field.dng.xmp"))
    assert not side.auto_presets_applied  # darktable applies its defaults under this history
    (item,) = side.history
    assert (item.operation, item.multi_priority) == ("exposure", 1)  # darktable's own exposure keeps instance 0

    # the same change made by hand in darktable: its default exposure (+0.7 EV, black -0.000244) at +1.7 EV
    by_hand = Sidecar.new(raw.name, V30_RAW)
    by_hand.auto_presets_applied = False
    exposure = {"module": "exposure", "params": {"exposure": 1.7, "black": -0.000244}}
    append_edits(by_hand, parse_operations({"operations": [exposure]}))
    by_hand.write(tmp_path / "by-hand.xmp")

    default = rendered(raw, None, tmp_path / "default.png")
    agent = rendered(raw, raw.with_name("field.dng.xmp"), tmp_path / "agent.png")
    expected = rendered(raw, tmp_path / "by-hand.xmp", tmp_path / "by-hand.png")
    assert np.abs(agent - expected).mean() < 0.5, np.abs(agent - expected).mean()
    assert agent.mean() > default.mean() + 15  # and it is a real change from the default rendering


def test_edit_and_roll_on_a_card_of_raws(dng, tmp_path):
    """`edit` judges darktable's rendering of the raw and stacks a second edit; `roll` over fresh raws leaves
    each one darktable's defaults."""
    card = tmp_path / "card"
    card.mkdir()
    for name in ("a.dng", "b.dng"):
        shutil.copy(dng, card / name)
    done = cli("roll", str(card), "-i", "brighter and warmer", "--policy", "rules")
    assert done.returncode == 0, done.stderr
    for name in ("a.dng", "b.dng"):
        side = Sidecar.read(card / f"{name}.xmp")
        assert not side.auto_presets_applied
        assert {h.operation for h in side.history} >= {"exposure", "channelmixerrgb"}
        assert all(h.multi_priority >= 1 for h in side.history if h.operation in ("exposure", "channelmixerrgb"))
    done = cli("edit", str(card / "a.dng"), "-i", "a little darker", "--policy", "rules")
    assert done.returncode == 0 and "unedited" not in done.stdout + done.stderr, done.stdout + done.stderr
    exposures = [h.multi_priority for h in Sidecar.read(card / "a.dng.xmp").history if h.operation == "exposure"]
    assert exposures == [1, 2]
    before = rendered(card / "b.dng", None, tmp_path / "b0.png")
    after = rendered(card / "b.dng", card / "b.dng.xmp", tmp_path / "b1.png")
    lab0, lab1 = images.srgb_to_lab(before / 255).reshape(-1, 3), images.srgb_to_lab(after / 255).reshape(-1, 3)
    assert lab1[:, 0].mean() > lab0[:, 0].mean() + 3 and lab1[:, 2].mean() > lab0[:, 2].mean() + 1


def test_a_dng_without_a_colour_matrix_is_found_in_its_tags(dng, tmp_path):
    # darktable 4.2 on this machine develops such a DNG without the log line the refusal relied on
    from darktable_bridge.photos import lacks_colour_matrix

    assert not lacks_colour_matrix(dng)
    assert lacks_colour_matrix(make_dng(PHOTO, tmp_path / "nomatrix.dng", colour_matrix=False))
    (tmp_path / "cut.dng").write_bytes(dng.read_bytes()[:40])  # the directory cut off: darktable says why
    assert not lacks_colour_matrix(tmp_path / "cut.dng") and not lacks_colour_matrix(PHOTO)


def test_raws_darktable_cannot_develop_are_refused(dng, tmp_path):
    truncated = tmp_path / "cut.dng"
    truncated.write_bytes(dng.read_bytes()[:100_000])
    no_matrix = make_dng(PHOTO, tmp_path / "nomatrix.dng", colour_matrix=False)
    for photo, says in ((truncated, "truncated"), (no_matrix, "no colour matrix")):
        done = cli("edit", str(photo), "-i", "warmer", "--policy", "rules")
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 3 and len(lines) == 1 and says in lines[0], done.stderr
        assert "nothing was written" in lines[0] and not photo.with_name(photo.name + ".xmp").exists()
