"""Requests users found done wrong (issue 22), each on a photo of that kind, judged on darktable-cli's render:
done right now, or declined with the reason where no module is at hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.measure import directions, measure
from agent.policy import limits
from darktable_bridge import darktable_cli
from retouchiq.cli import main

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "retoucheval" / "photos"


def _small(src: Path, dst: Path) -> Path:
    with Image.open(src) as im:
        im = im.convert("RGB")
        im.thumbnail((480, 480))
        im.save(dst, quality=92)
    return dst


def _edit(capsys, photo: Path, instruction: str) -> dict:
    assert main(["edit", str(photo), "-i", instruction, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[0])


def _renders(photo: Path, tmp: Path) -> tuple[dict, dict]:
    before = darktable_cli.render(photo, None, tmp / "before.png", width=320, height=320)
    after = darktable_cli.render(photo, Path(str(photo) + ".xmp"), tmp / "after.png", width=320, height=320)
    out = []
    for r in (before, after):
        with Image.open(r.output) as im:
            out.append(measure(np.asarray(im.convert("RGB"))))
    return out[0], out[1]


def test_what_is_read_as_what():
    assert limits.why("remove the noise") and limits.why("it's too grainy") and limits.why("denoise it")
    assert limits.why("I want to see the grain of the rock") is None  # not a request about grain
    assert limits.why("make it warmer") is None
    assert limits.read_as("less saturated greens") == ("less saturated colours", ["greens"], [])
    assert limits.read_as("make the reds and the blues pop")[1] == ["the reds and the blues"]
    assert limits.read_as("make it more green")[0] == "make it more green"  # the tint, not a colour's saturation
    assert limits.read_as("brighten the dogs' faces") == ("brighten the subject", [], ["the dogs' faces"])
    assert limits.read_as("darken the sky")[0] == "darken the sky"
    assert limits.read_as("without touching the animals' fur")[0] == "without touching the subject fur"
    # darktable's colour adaptation (CAT) and compound nouns are not subjects
    for text in ("raise the cat temperature toward daylight", "the clock face looks yellow", "the rock face"):
        assert limits.read_as(text) == (text, [], [])


def test_remove_the_noise_is_declined_with_the_reason(tmp_path, capsys):
    photo = _small(PHOTOS / "plasma_misty_lake_blue_hour.jpg", tmp_path / "lake.jpg")
    doc = _edit(capsys, photo, "remove the noise")
    assert doc["operations"] == [] and "reduces or adds noise or grain" in doc["reasoning"]
    doc = _edit(capsys, photo, "warmer and remove the noise")
    assert [op["module"] for op in doc["operations"]] == ["channelmixerrgb"]
    assert 'cannot do "remove the noise"' in doc["reasoning"]


@pytest.mark.darktable
def test_less_saturated_greens_desaturates_without_a_tint(tmp_path, capsys):
    photo = _small(PHOTOS / "lxqt_wildflower_meadow.jpg", tmp_path / "meadow.jpg")
    doc = _edit(capsys, photo, "less saturated greens")
    assert 'cannot change "greens" alone' in doc["reasoning"]
    before, after = _renders(photo, tmp_path)
    assert directions(before, after, ["saturation"]) == {"saturation": -1}, doc["operations"]
    # it tinted the frame magenta before; a* of a green photo may only move towards neutral, not past it
    assert not any("tint" in op["params"] for op in doc["operations"])
    assert before["a_mean"] < 0 and after["a_mean"] <= 0.5, (before["a_mean"], after["a_mean"])


@pytest.mark.darktable
def test_brighten_the_dogs_faces_brightens_the_centre_not_the_frame(tmp_path, capsys):
    photo = _small(PHOTOS / "lomiri_dogs_in_window.jpg", tmp_path / "dogs.jpg")
    doc = _edit(capsys, photo, "brighten the dogs' faces")
    assert "cannot locate" in doc["reasoning"]
    before, after = _renders(photo, tmp_path)
    assert directions(before, after, ["brightness@center"]) == {"brightness@center": 1}, doc["operations"]
