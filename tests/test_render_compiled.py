"""The renderer's torch.compile path (CPU inference): same output as the eager pipe, compiled stages cached and
reused, masked steps and other modules left eager inside it. Compiling costs ~20 s here, so one small stack."""

from pathlib import Path

import pytest
import torch

from darktable_bridge.apply import sidecar_of
from darktable_bridge.render import compiled
from darktable_bridge.render.renderer import render_torch


def sidecar(ops):
    return sidecar_of(Path("x.jpg"), ops)


def test_compiled_pipe_matches_eager_and_is_reused():
    ops = [
        {"module": "exposure", "params": {"exposure": 0.4}},
        {"module": "vignette", "params": {"brightness": -0.3}},
        {
            "module": "exposure",
            "instance": "sky",
            "params": {"exposure": -0.5},  # blended: stays eager
            "mask": {"type": "gradient", "anchor": [0.5, 0.3], "rotation": 0, "compression": 0.5},
        },
    ]
    torch.manual_seed(0)
    images = torch.rand(2, 3, 48, 64)
    eager = render_torch(images, [sidecar(ops)] * 2, compile="off")
    first = render_torch(images, [sidecar(ops)] * 2, compile="on")  # eager reference + compile + check
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


def test_sigmoid_stays_eager_on_a_gpu():
    """On CUDA the sigmoid stage runs eagerly between compiled stages (Triton's differed by 1.7e-3 from eager on an
    H100); no compiled stage is even built for it. The CPU compiles it (the benchmark test below)."""

    class OnGpu:  # only what the runner asks of its first tensor
        is_cuda = True
        shape, dtype, device = (1, 3, 8, 8), torch.float32, "cuda:0"

    key = ("step", ("sigmoid", 0, (), None), (), "rgb", 8, 8)
    before = dict(compiled._STAGES)
    assert compiled._compiled_runner(key, lambda *t: "eager", OnGpu()) == "eager"
    assert compiled._STAGES == before


def test_benchmark_stack_compiled_matches_eager_for_other_values():
    """The six modules the speed benchmark compiles (per-image maths split from the pixel loops, exp2/log2 powers,
    channel matrices as fused sums): compiled once, then rendered with other values of every module, each compared
    with the eager pipe. k = 0 leaves color balance rgb's 4 ways and zones neutral (its compiled graph skips them),
    k = 1 uses them, k = 2 also sets vibrance and contrast to 0."""

    def stack(k):
        if k == 2:
            ops = stack(0)
            ops[2]["params"].update(vibrance=0.0, contrast=0.0)
            return ops
        return [
            {"module": "exposure", "params": {"exposure": 0.4 - 0.9 * k, "black": 0.01 * k}},
            {"module": "channelmixerrgb", "params": {"temperature": 5800 + 2500 * k, "tint": 0.2 * k}},
            {
                "module": "colorbalancergb",
                "params": {
                    "vibrance": 0.2 - 0.5 * k,
                    "contrast": 0.15 + 0.2 * k,
                    "saturation_global": 0.1 + 0.3 * k,
                    "hue_angle": 20.0 * k,
                    "shadows_C": 0.2 * k,
                    "shadows_H": 200.0,
                },
            },
            {"module": "sigmoid", "params": {"middle_grey_contrast": 1.6 + 0.5 * k, "contrast_skewness": 0.3 * k}},
            {"module": "toneequal", "params": {"shadows": 0.5 - k, "blacks": 0.4, "highlights": -0.3 + 0.6 * k}},
            {"module": "vignette", "params": {"brightness": -0.3 + 0.5 * k, "saturation": 0.2 * k}},
        ]

    torch.manual_seed(1)
    images = torch.rand(2, 3, 40, 56)
    images[1, :, :8] = 0.0  # black and grey pixels: zero bases of the powers, hue-less colours
    images[1, :, 8:16] = 0.5
    render_torch(images, [sidecar(stack(0))] * 2, compile="on")  # compile + check
    for k in (0, 1, 2):
        eager = render_torch(images, [sidecar(stack(k))] * 2, compile="off")
        fast = render_torch(images, [sidecar(stack(k))] * 2, compile="on")
        assert compiled.deviation(eager[0], fast[0]) <= compiled.TOLERANCE
        assert torch.equal(torch.isnan(eager[0]), torch.isnan(fast[0]))
        assert float((eager[1] - fast[1]).abs().max()) <= 1.0  # 8-bit: at most one level, at rounding edges
        assert float((eager[1] != fast[1]).float().mean()) < 1e-3
    assert all(not e.failed for e in compiled.entries().values())


def test_colorbalancergb_hints_name_the_neutral_parts():
    from darktable_bridge.render.base import Context
    from darktable_bridge.render.modules import MODULES
    from darktable_bridge.render.pipe import Params, module_struct, plan, tensors

    def hints(params):
        pl = plan(sidecar([{"module": "colorbalancergb", "params": params}]))
        flat = tensors([pl])[0]
        return MODULES["colorbalancergb"].hints(
            Params(module_struct("colorbalancergb"), flat, pl.steps[0].static), Context(width=8, height=8)
        )

    assert hints({"saturation_global": 0.2}) == {
        "four_ways": False,
        "masks": False,
        "vibrance": False,
        "contrast": False,
    }
    assert hints({"vibrance": 0.2, "chroma_shadows": 0.1}) == {
        "four_ways": False,
        "masks": True,
        "vibrance": True,
        "contrast": False,
    }
    assert hints({"midtones_Y": 0.1, "contrast": 0.2})["four_ways"] is True


def test_sigmoid_hint_says_when_the_paper_power_is_one():
    """No skew anywhere in the batch: the paper power is exactly 1 and the compiled curve leaves out its power
    (rendered both ways in test_benchmark_stack_compiled_matches_eager_for_other_values)."""
    from darktable_bridge.render.base import Context
    from darktable_bridge.render.modules import MODULES
    from darktable_bridge.render.modules.sigmoid import derived
    from darktable_bridge.render.pipe import Params, module_struct, plan, tensors

    def params(skews):
        plans = [plan(sidecar([{"module": "sigmoid", "params": {"contrast_skewness": s}}])) for s in skews]
        return Params(module_struct("sigmoid"), tensors(plans)[0], plans[0].steps[0].static)

    hint = lambda skews: MODULES["sigmoid"].hints(params(skews), Context(width=8, height=8))
    assert hint([0.0, 0.0]) == {"unit_paper_power": True}
    assert hint([0.0, 0.3]) == {"unit_paper_power": False}
    assert torch.equal(derived(params([0.0]))[5], torch.ones(1))


def test_allocator_tuning_is_applied_once_and_can_be_turned_off():
    """CPU renders keep freed image buffers in the process (render/memory.py); the switch turns that off."""
    import os
    import subprocess
    import sys

    from darktable_bridge.render import memory

    render_torch(torch.rand(1, 3, 8, 8), [sidecar([])], compile="off")
    assert memory.tune_allocator() is True  # this project's machines: Linux with glibc
    assert "trim threshold 256 MB" in memory.describe()
    code = "from darktable_bridge.render import memory; print(memory.tune_allocator(), memory.describe())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "RETOUCHIQ_MALLOC_TUNING": "0"},
    ).stdout
    assert out.startswith("False") and "turned off" in out
