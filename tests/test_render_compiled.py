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
    assert entry.ready and not entry.failed and max(entry.check["max_deviation"]) <= compiled.TOLERANCE
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


def test_benchmark_stack_compiled_matches_eager_for_other_values():
    """The six modules the speed benchmark compiles (per-image maths split from the pixel loops, exp2/log2 powers,
    channel matrices as fused sums): compiled once, then rendered with other values of every module, each compared
    with the eager pipe."""
    def stack(k):
        return [{"module": "exposure", "params": {"exposure": 0.4 - 0.9 * k, "black": 0.01 * k}},
                {"module": "channelmixerrgb", "params": {"temperature": 5800 + 2500 * k, "tint": 0.2 * k}},
                {"module": "colorbalancergb", "params": {"vibrance": 0.2 - 0.5 * k, "contrast": 0.15 + 0.2 * k,
                                                         "saturation_global": 0.1 + 0.3 * k, "hue_angle": 20.0 * k,
                                                         "shadows_C": 0.2 * k, "shadows_H": 200.0}},
                {"module": "sigmoid", "params": {"middle_grey_contrast": 1.6 + 0.5 * k, "contrast_skewness": 0.3 * k}},
                {"module": "toneequal", "params": {"shadows": 0.5 - k, "blacks": 0.4, "highlights": -0.3 + 0.6 * k}},
                {"module": "vignette", "params": {"brightness": -0.3 + 0.5 * k, "saturation": 0.2 * k}}]
    torch.manual_seed(1)
    images = torch.rand(2, 3, 40, 56)
    images[1, :, :8] = 0.0  # black and grey pixels: zero bases of the powers, hue-less colours
    images[1, :, 8:16] = 0.5
    render_torch(images, [sidecar(stack(0))] * 2, compile="on")  # compile + check
    for k in (0, 1):
        eager = render_torch(images, [sidecar(stack(k))] * 2, compile="off")
        fast = render_torch(images, [sidecar(stack(k))] * 2, compile="on")
        assert compiled.deviation(eager[0], fast[0]) <= compiled.TOLERANCE
        assert torch.equal(torch.isnan(eager[0]), torch.isnan(fast[0]))
        assert float((eager[1] - fast[1]).abs().max()) <= 1.0  # 8-bit: at most one level, at rounding edges
        assert float((eager[1] != fast[1]).float().mean()) < 1e-3
    assert all(not e.failed for e in compiled.entries().values())
