"""The torch/ONNX renderer: agreement with darktable-cli, ONNX = torch, batches = one by one, clear refusals."""

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from darktable_bridge import fidelity
from darktable_bridge.apply import sidecar_of
from darktable_bridge.errors import RenderError
from darktable_bridge.modules import VOCABULARY
from darktable_bridge.render.modules import MODULES
from darktable_bridge.render.pipe import load_image
from darktable_bridge.render.renderer import render_torch

from conftest import SAMPLE

IMPLEMENTED = sorted(m for m in VOCABULARY if m in MODULES)


def sidecar(ops):
    s = sidecar_of(Path("photo.png"), ops)
    return s


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return fidelity.prepare_photo(SAMPLE, 160, tmp_path_factory.mktemp("photo"))


@pytest.fixture(scope="module")
def image(small):
    return torch.from_numpy(load_image(small))[None]


def stack_ops(rng, names=None):
    return [fidelity.random_operation(n, rng, mask_rate=0.0) for n in (names or IMPLEMENTED)]


def test_onnx_matches_torch(image):
    from darktable_bridge.render.onnx_export import render_onnx, session
    from darktable_bridge.render.pipe import Pipe, plan, tensors

    rng = random.Random(1)
    s = sidecar(
        stack_ops(rng)
        + [
            {
                "module": "exposure",
                "params": {"exposure": -0.5},
                "mask": {"type": "parametric", "channel": "lightness", "range": [30, 50, 70, 90]},
            }
        ]
    )
    pl = plan(s)
    inputs = tensors([pl])
    with torch.no_grad():
        lin_t, disp_t = Pipe(pl.steps)(image, *inputs)
    lin_o, disp_o = session(pl.steps, *image.shape[-2:])(image.numpy(), [t.numpy() for t in inputs])
    assert np.abs(lin_t.numpy() - lin_o).max() < 1e-4
    assert np.abs(disp_t.numpy() - disp_o).max() < 1e-4
    _, q = render_onnx(image.numpy(), [s])
    assert q.min() >= 0 and q.max() <= 255


def same_structure(ops, rng):
    """New random values for ``ops``, keeping their switches (choices) and curve nodes, so the batch shares one
    structure."""
    out = []
    for op in ops:
        fresh = fidelity.random_operation(op["module"], rng, mask_rate=0.0)
        module = VOCABULARY[op["module"]]
        for p in module.params:
            if p.kind in ("choice", "curve", "curves") and p.name in op["params"]:
                fresh["params"][p.name] = op["params"][p.name]
        out.append(fresh)
    return out


def test_batch_of_mixed_params_equals_one_by_one(image):
    rng = random.Random(2)
    base = stack_ops(rng)
    sidecars = [sidecar(base)] + [sidecar(same_structure(base, rng)) for _ in range(2)]
    batch = image.repeat(3, 1, 1, 1)
    lin_b, out_b = render_torch(batch, sidecars)
    for i, s in enumerate(sidecars):
        lin_1, out_1 = render_torch(image, [s])
        assert torch.allclose(lin_b[i], lin_1[0], atol=1e-5)
        # batched kernels may round differently in the last float bit: a pixel on a .5 boundary may flip
        assert (out_b[i] - out_1[0]).abs().max() <= 1
        assert (out_b[i] != out_1[0]).float().mean() < 1e-3


def test_unimplemented_or_unsupported_settings_are_named(image):
    from xmp.sidecar import HistoryItem

    s = sidecar([{"module": "exposure", "params": {"exposure": 0.2}}])
    s.history.append(HistoryItem.new("lowlight", 1, bytes(4), num=1))
    s.history_end = 2
    with pytest.raises(RenderError, match="'lowlight' is not implemented"):
        render_torch(image, [s])
    s = sidecar([{"module": "exposure", "params": {"exposure": 0.2}}])
    s.history[0].set("params", s.history[0].get("params")[:-8] + "01000000")  # compensate exposure bias on
    with pytest.raises(RenderError, match="exposure bias"):
        render_torch(image, [s])


def test_batches_must_share_a_structure(image):
    a = sidecar([{"module": "exposure", "params": {"exposure": 0.2}}])
    b = sidecar([{"module": "exposure", "params": {"exposure": 0.2}}, {"module": "exposure", "params": {}}])
    with pytest.raises(RenderError, match="structure"):
        render_torch(image.repeat(2, 1, 1, 1), [a, b])


@pytest.mark.darktable
@pytest.mark.parametrize("name", IMPLEMENTED)
def test_small_fidelity_run(name, tmp_path):
    photos = [SAMPLE] + sorted((Path(__file__).parent / "data" / "photos").glob("*.jpg"))
    results = fidelity.run([name], photos[:2], draws=2, width=256, seed=7)
    draws = results[name]
    assert all(not d.error for d in draws), [d.error for d in draws]
    for d in draws:
        assert d.mean_de <= fidelity.MEAN_DE and d.max_de <= fidelity.MAX_DE, (d.operation, d.mean_de, d.max_de)


@pytest.mark.darktable
def test_fidelity_keeps_failing_draws_to_look_into(tmp_path, monkeypatch):
    monkeypatch.setattr(fidelity, "MAX_DE", -1.0)  # every draw fails
    results = fidelity.run(["exposure"], [SAMPLE], draws=2, width=96, seed=3, failures=tmp_path / "kept")
    assert [d.passed for d in results["exposure"]] == [False, False]
    kept = tmp_path / "kept"
    lines = [json.loads(line) for line in (kept / "failures.jsonl").read_text().splitlines()]
    assert [r["draw"] for r in lines] == ["exposure-001", "exposure-002"]
    for r in lines:
        assert r["operation"]["module"] == "exposure" and r["max_de"] >= 0 and r["pixels_over_max"] > 0
        for suffix in (".xmp", "-darktable.png", "-renderer.png", "-compare.jpg"):
            assert (kept / f"{r['draw']}{suffix}").stat().st_size > 0
        assert (kept / r["photo"]).exists()
    assert results["exposure"][0].renders == ()  # nothing large stays in memory


def test_fidelity_command_refuses_a_used_failures_folder(tmp_path):
    import subprocess
    import sys

    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "old.txt").write_text("x")
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(SAMPLE.read_bytes())
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "retouchiq",
            "fidelity",
            "--modules",
            "exposure",
            "--photos",
            str(photos),
            "--keep-failures",
            str(tmp_path / "kept"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "not empty" in r.stderr
    assert (tmp_path / "kept" / "old.txt").read_text() == "x"


@pytest.mark.darktable
def test_render_engines_from_the_command_line(tmp_path, small):
    import subprocess
    import sys

    ops = [{"module": "exposure", "params": {"exposure": 0.4}}]
    s = sidecar(ops)
    s.write(tmp_path / "e.xmp")
    outs = {}
    for engine in ("darktable", "torch", "onnx"):
        out = tmp_path / f"{engine}.png"
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "retouchiq",
                "render",
                str(small),
                "--xmp",
                str(tmp_path / "e.xmp"),
                "-o",
                str(out),
                "--engine",
                engine,
            ],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        from PIL import Image

        outs[engine] = np.asarray(Image.open(out), dtype=float)
    assert np.abs(outs["torch"] - outs["darktable"]).max() <= 1
    assert np.abs(outs["onnx"] - outs["torch"]).max() <= 1
