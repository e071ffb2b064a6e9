"""Taking the agent's last edit back: `retouchiq undo`, `/v1/undo` and what darktable-cli makes of the result."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from raws import make_dng
from test_server import Served

from darktable_bridge import apply as apply_mod
from darktable_bridge import darktable_cli, images
from darktable_bridge.errors import NothingToUndo
from server.app import create_app
from server.settings import Settings
from xmp.files import backups
from xmp.merge import Edit, append_edits
from xmp.sidecar import Sidecar

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"
EXAMPLE = ROOT / "tests" / "data" / "darktable-4.2" / "examples" / "exposure_plus1ev_v30jpg.xmp"


def retouchiq(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retouchiq", *args], cwd=ROOT, capture_output=True, text=True)


def edit(photo: Path, instruction: str) -> None:
    done = retouchiq("edit", str(photo), "-i", instruction, "--policy", "rules")
    assert done.returncode == 0, done.stderr
    time.sleep(1.05)  # each write's backup gets its own second (they also sort right within one)


def active(path: Path) -> list[tuple]:
    return [(h.operation, h.multi_priority, h.multi_name, h.params) for h in Sidecar.read(path).active_history()]


@pytest.fixture
def photo(tmp_path) -> Path:
    """A photographer's JPEG with their own +1 EV edit in its sidecar."""
    shutil.copy(PHOTO, tmp_path / "p.jpg")
    shutil.copy(EXAMPLE, tmp_path / "p.jpg.xmp")
    return tmp_path / "p.jpg"


def test_undo_takes_back_the_last_edit_then_the_one_before(photo):
    sidecar = photo.with_name("p.jpg.xmp")
    mine = active(sidecar)
    edit(photo, "warmer")
    warmer = active(sidecar)
    edit(photo, "brighter")
    assert len(active(sidecar)) > len(warmer)

    done = retouchiq("undo", str(photo))
    assert done.returncode == 0, done.stderr
    assert "exposure 'retouchiq brighter'" in done.stdout and "took back 1 history item(s)" in done.stdout
    assert active(sidecar) == warmer
    text = Sidecar.read(sidecar)
    assert len(text.history) == len(warmer) + 1  # the undone item stays above the end, for darktable's redo

    done = retouchiq("undo", str(photo), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["undone"] == [{"module": "channelmixerrgb", "instance": "retouchiq warmer"}]
    assert active(sidecar) == mine  # the photographer's own edit is as it was
    assert Path(doc["state_of"]).read_bytes() == EXAMPLE.read_bytes()

    before = sidecar.read_bytes()
    done = retouchiq("undo", str(photo))
    assert done.returncode == 4 and "nothing to undo" in done.stderr
    assert sidecar.read_bytes() == before  # nothing written, no backup made for nothing
    assert len(backups(sidecar)) == 4


def test_an_edit_after_an_undo_is_undone_on_its_own(photo):
    sidecar = photo.with_name("p.jpg.xmp")
    edit(photo, "warmer")
    warmer = active(sidecar)
    edit(photo, "brighter")
    assert retouchiq("undo", str(photo)).returncode == 0
    edit(photo, "more contrast")
    assert retouchiq("undo", str(photo)).returncode == 0
    assert active(sidecar) == warmer
    # the two undone edits wait above the end, the later one first in line
    names = [h.multi_name for h in Sidecar.read(sidecar).history[len(warmer) :]]
    assert names == ["retouchiq more contrast", "retouchiq brighter"]


def test_steps_after_the_agents_are_named_and_go_inactive_with_it(photo):
    """The photographer worked on after the agent's edit: the undo ends the history before the agent's edit,
    says so item by item, and keeps every item (they come back with one click in darktable)."""
    sidecar = photo.with_name("p.jpg.xmp")
    edit(photo, "warmer")
    current = Sidecar.read(sidecar)
    append_edits(current, [Edit("velvia", 2, {"strength": 30.0}, stack=True, multi_name="")])
    current.write(sidecar)
    undone = apply_mod.undo(Sidecar.read(sidecar), [Sidecar.read(b) for b in reversed(backups(sidecar))])
    assert [h.operation for h in undone.items] == ["channelmixerrgb", "velvia"]
    assert "velvia" in undone.summary and "color calibration 'retouchiq warmer'" in undone.summary
    assert len(undone.sidecar.history) == len(current.history)


def test_a_sidecar_that_does_not_follow_any_backup_is_refused(photo):
    sidecar = photo.with_name("p.jpg.xmp")
    edit(photo, "warmer")
    other = Sidecar.read(EXAMPLE.with_name("colorcalibration_cat16_D6500K.xmp"))
    with pytest.raises(NothingToUndo, match="nothing to undo"):
        apply_mod.undo(Sidecar.read(sidecar), [other, other])  # the backups show states it did not come from
    with pytest.raises(NothingToUndo):
        apply_mod.undo(Sidecar.read(EXAMPLE), [])  # no edit of the agent's at all


def test_the_server_takes_the_last_edit_back(photo):
    sidecar = photo.with_name("p.jpg.xmp")
    edit(photo, "warmer")
    edit(photo, "brighter")
    saved = [b.read_text() for b in reversed(backups(sidecar))]
    served = Served(create_app(Settings(policy="rules"), object()))
    try:
        with httpx.Client(base_url=served.url, timeout=30) as c:
            r = c.post("/v1/undo", data={"sidecar": sidecar.read_text(), "backups": saved})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["undone"] == [{"module": "exposure", "instance": "retouchiq brighter"}]
            assert body["backup_index"] == 0 and "inactive" in body["summary"]
            # the same sidecar the command line writes
            assert retouchiq("undo", str(photo)).returncode == 0
            assert body["xmp"] == sidecar.read_text()
            r = c.post("/v1/undo", data={"sidecar": EXAMPLE.read_text(), "backups": saved})
            assert r.status_code == 409 and "nothing to undo" in r.json()["detail"]
            r = c.post("/v1/undo", data={"sidecar": " "})
            assert r.status_code == 400 and "sidecar" in r.json()["detail"]
            r = c.post("/v1/undo", data={"sidecar": "<x:xmpmeta"})
            assert r.status_code == 400
    finally:
        served.close()


def mean_lab(png: Path) -> np.ndarray:
    return images.srgb_to_lab(images.read_image(png)).reshape(-1, 3).mean(0)


@pytest.mark.darktable
@pytest.mark.parametrize("kind", ["jpeg", "raw"])
def test_darktable_renders_the_photo_as_before_the_agents_edit(tmp_path, kind):
    """darktable-cli reads the undone sidecar's end: the photographer's own edit (a JPEG) or darktable's default
    raw rendering (a DNG with no sidecar before the agent) comes back, within rounding."""
    if kind == "raw":
        photo = make_dng(PHOTO, tmp_path / "field.dng", side=400)
        reference = None
    else:
        photo = tmp_path / "p.jpg"
        shutil.copy(PHOTO, photo)
        shutil.copy(EXAMPLE, tmp_path / "p.jpg.xmp")
        reference = tmp_path / "reference.xmp"
        shutil.copy(EXAMPLE, reference)
    sidecar = photo.with_name(photo.name + ".xmp")
    edit(photo, "much brighter and warmer")
    renders = {}
    for name, xmp in (("before", reference), ("edited", sidecar)):
        renders[name] = mean_lab(darktable_cli.render(photo, xmp, tmp_path / f"{name}.png", width=240).output)
    done = retouchiq("undo", str(photo))
    assert done.returncode == 0, done.stderr
    renders["undone"] = mean_lab(darktable_cli.render(photo, sidecar, tmp_path / "undone.png", width=240).output)
    assert renders["edited"][0] > renders["before"][0] + 3, renders
    assert np.abs(renders["undone"] - renders["before"]).max() < 0.5, renders
    if kind == "raw":  # darktable is still to apply its defaults under the (now inactive) agent's items
        assert not Sidecar.read(sidecar).auto_presets_applied and Sidecar.read(sidecar).history_end == 0
