"""The compact policy's render term: slot values rendered differentiably, as the sidecar they write renders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from agent import slots
from agent.policy import compact
from agent.train import render_loss
from darktable_bridge import operations
from darktable_bridge.apply import build_sidecar
from darktable_bridge.render.renderer import render_torch

PHOTO = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"


@pytest.fixture(scope="module")
def renderer():
    return render_loss.SlotRenderer()


@pytest.fixture(scope="module")
def thumb():
    with Image.open(PHOTO) as im:
        return render_loss.thumbnail(np.asarray(im.convert("RGB")), 24)[None]


def row(values: dict) -> torch.Tensor:
    return torch.tensor([[values.get(n, slots.BY_NAME[n].neutral) for n in compact.SLOT_NAMES]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_renders_as_the_sidecar_the_values_write(renderer, thumb, seed):
    rng = np.random.default_rng(seed)
    values = {
        s.name: float(rng.uniform(s.lo, s.hi))
        for s in slots.SLOTS
        if s.module not in render_loss.SKIP and (rng.random() < 0.6 or s.module == "toneequal")
    }
    values.setdefault("tint", 0.3)
    sidecar, _ = build_sidecar(
        Path("t.png"), operations.parse_operations({"operations": slots.to_operations(values)}), None
    )
    want_linear, want8 = render_torch(thumb, [sidecar])
    linear, display = renderer.pipe(thumb, *renderer.inputs(row(values)))
    assert float((linear - want_linear).abs().max()) < 5e-3
    assert float((display.clamp(0, 1) * 255 - want8).abs().mean()) < 0.5  # 8-bit levels
    # and the edit shows: far from the unedited thumbnail
    assert float((display.clamp(0, 1) - thumb).abs().mean()) > 0.02


def test_neutral_values_leave_the_photo(renderer, thumb):
    display = renderer(thumb, renderer.neutral)
    # the tone equalizer's 8 gaussians fitted to 9 zero bands ripple by ~1 %: that is darktable's module at 0
    assert float((display.clamp(0, 1) - thumb).abs().max()) < 0.02


def test_tinted_illuminant_is_the_same_on_numbers_and_tensors():
    """One formula for the sidecar (numbers) and the differentiable renderer (tensors, with gradients)."""
    from darktable_bridge.modules.channelmixerrgb import tinted_xy

    for t, tint in [(3200.0, 0.4), (5003.0, 0.0), (6500.0, -0.5), (8800.0, 1.0)]:
        tt = torch.tensor([t], dtype=torch.float64, requires_grad=True)
        x, y = tinted_xy(tt, torch.tensor([tint], dtype=torch.float64))
        assert (float(x), float(y)) == pytest.approx(tuple(float(c) for c in tinted_xy(t, tint)), abs=1e-12)
        (x + y).sum().backward()
        assert torch.isfinite(tt.grad).all()


def test_gradient_points_to_the_target(renderer, thumb):
    """A used knob whose value falls short of the target's: the render term pushes the value towards it, and
    a knob the target uses but the prediction leaves off gets its probability pushed up."""
    from agent.train.sft_compact import Tensors, render_term

    names = compact.SLOT_NAMES
    k = len(names)
    e, w = names.index("exposure"), names.index("temperature@left")
    active = torch.zeros(1, k)
    active[0, [e, w]] = 1
    unit = torch.tensor([[compact.to_unit(n, slots.BY_NAME[n].neutral) for n in names]])
    unit[0, e] = compact.to_unit("exposure", 1.0)
    unit[0, w] = compact.to_unit("temperature@left", 7000.0)
    target = renderer(thumb, render_loss.gated(active, unit, renderer)).clamp(0, 1)
    empty = torch.zeros(0)
    b = Tensors(empty, empty, active, unit, empty, empty, empty, empty, torch.tensor([0]), target, thumb)
    logit = torch.full((1, k), -4.0)
    logit[0, e] = 4.0
    logit = logit.requires_grad_(True)
    mean = unit.clone()
    mean[0, e] = compact.to_unit("exposure", 0.3)
    mean = mean.requires_grad_(True)
    loss = render_term(logit, mean, b)
    loss.backward()
    assert float(loss.detach()) > 1.0
    assert float(mean.grad[0, e]) < 0  # raising the exposure lowers the loss
    assert torch.isfinite(mean.grad).all() and torch.isfinite(logit.grad).all()
    # the exposure right, the left warm-up off: turning it on lowers the term
    logit.grad = None
    loss = render_term(logit, unit, b)
    loss.backward()
    assert float(loss.detach()) > 0.2
    assert float(logit.grad[0, w]) < 0
    # at the target values the term is ~0
    assert float(render_term(torch.where(active > 0, 4.0, -4.0), unit, b)) < 1e-3
