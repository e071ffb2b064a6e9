"""The ``retouchiq`` command: help, apply, ops, and bad input (clear one-line error, nothing written)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, SAMPLE, write_json

EXE = [sys.executable, "-m", "retouchiq"]


def run(*args, cwd=None):
    return subprocess.run(
        EXE + [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )


@pytest.mark.parametrize("sub", ["", "apply", "render", "ops"])
def test_help_has_examples(sub):
    out = run(*([sub] if sub else []), "--help")
    assert out.returncode == 0
    assert "example" in out.stdout


def test_ops_table_and_schema():
    table = run("ops")
    assert table.returncode == 0 and "toneequal" in table.stdout and "temperature" in table.stdout
    schema = json.loads(run("ops", "--json-schema").stdout)
    assert schema["properties"]["operations"]["type"] == "array"


def test_apply_writes_next_to_the_photo_and_backs_up(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(SAMPLE.read_bytes())
    ops = write_json(tmp_path / "ops.json", {"operations": [{"module": "exposure", "params": {"exposure": 0.5}}]})
    first = run("apply", photo, "--ops", ops)
    assert first.returncode == 0, first.stderr
    sidecar = tmp_path / "photo.jpg.xmp"
    v1 = sidecar.read_bytes()
    second = run("apply", photo, "--ops", ops)
    assert second.returncode == 0 and "kept as" in second.stdout
    backups = list(tmp_path.glob("photo.jpg.xmp.retouchiq-*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == v1
    custom = run("apply", photo, "--ops", ops, "--xmp", tmp_path / "other.xmp")
    assert custom.returncode == 0 and (tmp_path / "other.xmp").exists()


def _bad_cases(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(SAMPLE.read_bytes())
    good = {"operations": [{"module": "exposure", "params": {"exposure": 0.5}}]}
    ops = write_json(tmp_path / "good.json", good)
    return (
        photo,
        ops,
        {
            "malformed sidecar": ("<x:xmpmeta", ops, "malformed XML"),
            "xxe sidecar": (
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                '<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>',
                ops,
                "DTD",
            ),
            "billion laughs": (
                '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                '<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>',
                ops,
                "DTD",
            ),
            "wrong params size": (
                (EXAMPLES / "exposure_plus1ev_v30jpg.xmp")
                .read_text()
                .replace("00000000000000000000803f00004842000080c000000000", "00000000000000000000803f00004842"),
                ops,
                "must be 24 bytes",
            ),
            "unknown module": (
                None,
                write_json(tmp_path / "m.json", {"operations": [{"module": "frobnicate"}]}),
                "unknown module",
            ),
            "unknown field": (
                None,
                write_json(tmp_path / "f.json", {"operations": [{"module": "exposure", "params": {"gain": 1}}]}),
                "no field 'gain'",
            ),
            "out of range": (
                None,
                write_json(tmp_path / "r.json", {"operations": [{"module": "exposure", "params": {"exposure": 40}}]}),
                "out of range",
            ),
            "ops not json": (None, write_json(tmp_path / "j.json", "x").with_suffix(".json"), "expected"),
        },
    )


@pytest.mark.parametrize(
    "case",
    [
        "malformed sidecar",
        "xxe sidecar",
        "billion laughs",
        "wrong params size",
        "unknown module",
        "unknown field",
        "out of range",
        "ops not json",
    ],
)
def test_bad_input_changes_nothing(tmp_path, case):
    photo, _, cases = _bad_cases(tmp_path)
    existing, ops, message = cases[case]
    sidecar = tmp_path / "photo.jpg.xmp"
    if existing is not None:
        sidecar.write_text(existing)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    out = run("apply", photo, "--ops", ops)
    assert out.returncode != 0
    assert message in out.stderr and out.stderr.count("\n") == 1 and out.stderr.startswith("retouchiq: error:")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_missing_or_unreadable_photo(tmp_path):
    ops = write_json(tmp_path / "ops.json", {"operations": []})
    for photo, message in ((tmp_path / "nope.jpg", "photo not found"), (tmp_path, "not a file")):
        out = run("apply", photo, "--ops", ops)
        assert out.returncode != 0 and message in out.stderr
    (tmp_path / "link.jpg").symlink_to(tmp_path / "gone.jpg")
    out = run("apply", tmp_path / "link.jpg", "--ops", ops)
    assert out.returncode != 0 and "not found" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jpg", "ops.json"]


def test_missing_ops_file(tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(SAMPLE.read_bytes())
    out = run("apply", photo, "--ops", tmp_path / "none.json")
    assert out.returncode != 0 and "cannot read operations file" in out.stderr


@pytest.mark.darktable
def test_render_command(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(SAMPLE.read_bytes())
    ops = write_json(tmp_path / "ops.json", {"operations": [{"module": "exposure", "params": {"exposure": 0.5}}]})
    assert run("apply", photo, "--ops", ops).returncode == 0
    out = run("render", photo, "-o", tmp_path / "out.jpg", "--width", 200)
    assert out.returncode == 0, out.stderr
    from PIL import Image

    assert max(Image.open(tmp_path / "out.jpg").size) == 200
    original = run("render", photo, "--original", "-o", tmp_path / "orig.png", "--width", 200)
    edited = run("render", photo, "-o", tmp_path / "edit.png", "--width", 200)
    assert original.returncode == 0 and edited.returncode == 0
    import numpy as np

    a, b = (np.asarray(Image.open(tmp_path / n), float) for n in ("orig.png", "edit.png"))
    assert b.mean() > a.mean() + 5  # the sidecar next to the photo is ignored by --original, used otherwise
    missing = run("render", photo, "--xmp", tmp_path / "none.xmp", "-o", tmp_path / "x.jpg")
    assert missing.returncode != 0 and "sidecar not found" in missing.stderr


@pytest.mark.darktable
def test_render_fails_loudly_when_darktable_drops_a_module(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(SAMPLE.read_bytes())
    bad = tmp_path / "bad.xmp"
    bad.write_text(
        (EXAMPLES / "exposure_plus1ev_v30jpg.xmp")
        .read_text()
        .replace('darktable:modversion="6"', 'darktable:modversion="9"')
    )
    out = run("render", photo, "--xmp", bad, "-o", tmp_path / "x.png", "--width", 100)
    assert out.returncode != 0 and "exposure" in out.stderr
    assert not (tmp_path / "x.png").exists()
    upper = tmp_path / "upper.xmp"  # darktable drops params in uppercase hex without a word
    upper.write_text(
        (EXAMPLES / "exposure_plus1ev_v30jpg.xmp")
        .read_text()
        .replace("00000000000000000000803f00004842000080c000000000", "00000000000000000000803F00004842000080C000000000")
    )
    out = run("render", photo, "--xmp", upper, "-o", tmp_path / "y.png", "--width", 100)
    assert out.returncode != 0 and "params (v6) of module 'exposure'" in out.stderr
