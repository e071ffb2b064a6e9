"""The renderer's torch.compile path (CPU inference): same output as the eager pipe, compiled stages cached and
reused, masked steps and other modules left eager inside it. Compiling costs ~20 s here, so one small stack."""
from pathlib import Path

import pytest
import torch

from darktable_bridge import operations
from darktable_bridge.apply import build_sidecar
from darktable_bridge.render import compiled
from darktable_bridge.render.renderer import render_torch


def sidecar(ops):
    return build_sidecar(Path("x.jpg"), operations.parse_operations({"operations": ops}), None)[0]


def test_compiled_pipe_matches_eager_and_is_reused():
    ops = [{"module": "exposure", "params": {"exposure": 0.4}},
           {"module": "vignette", "params": {"brightness": -0.3}},
           {"module": "exposure", "instance": "sky", "params": {"exposure": -0.5},  # blended: stays eager
            "mask": {"type": "gradient", "anchor": [0.5, 0.3], "rotation": 0, "compression": 0.5}}]
    torch.manual_seed(0)
    images = torch.rand(2, 3, 48, 64)
    eager = render_torch(images, [sidecar(ops)] * 2, compile="off")
    first = render_torch(images, [sidecar(ops)] * 2, compile="on")   # eager reference + compile + check
    entry = next(e for k, e in compiled.entries().items() if k[-1][0][0] == (2, 3, 48, 64))
    assert entry.ready and not entry.failed and max(entry.check["max_abs_diff"]) <= compiled.TOLERANCE
    stages = {k[0][1][0] for k, f in compiled._STAGES.items() if k[0][0] == "step" and f is not None}
    assert {"exposure", "vignette"} <= stages
    ops[0]["params"]["exposure"] = 0.8  # other values, same structure: the compiled stages serve it
    n = len(compiled._STAGES)
    again = render_torch(images, [sidecar(ops)] * 2, compile="on")
    ref = render_torch(images, [sidecar(ops)] * 2, compile="off")
    assert len(compiled._STAGES) == n
    for a, b in zip(eager + ref, first + again):
        assert float((a - b).abs().max()) <= 1e-4
    assert float((again[1] - first[1]).abs().max()) > 1  # it did render the new value


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="compile mode"):
        render_torch(torch.rand(1, 3, 8, 8), [sidecar([])], compile="sometimes")
