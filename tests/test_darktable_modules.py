"""Every vocabulary module, rendered by the real darktable-cli: the intended effect, and none at neutral."""

import numpy as np
import pytest

from darktable_bridge import images
from darktable_bridge.modules import VOCABULARY

pytestmark = pytest.mark.darktable


def lab(img):
    return images.rec2020_to_lab(np.clip(img, 0, None))


def chroma(img):
    L = lab(img)
    return np.hypot(L[..., 1], L[..., 2])


def luminance(img):
    return img @ np.array([0.2627, 0.6780, 0.0593])


def detail_energy(img):
    L = lab(img)[..., 0]
    blur = (L[:-2, 1:-1] + L[2:, 1:-1] + L[1:-1, :-2] + L[1:-1, 2:] + 4 * L[1:-1, 1:-1]) / 8
    return float(np.abs(L[1:-1, 1:-1] - blur).mean())


def dark_quarter(base):
    y = luminance(base)
    return y <= np.quantile(y, 0.25)


# module -> (agent params, check(noop, edited) -> bool, what it means)
EFFECTS = {
    "exposure": (
        {"exposure": 1.0},
        lambda a, b: abs(np.median(luminance(b)[luminance(a) > 0.01] / luminance(a)[luminance(a) > 0.01]) - 2) < 0.02,
        "+1 EV doubles linear values",
    ),
    "channelmixerrgb": (
        {"temperature": 6500.0},
        lambda a, b: b[..., 0].mean() / b[..., 2].mean() > 1.1 * a[..., 0].mean() / a[..., 2].mean(),
        "a warmer temperature raises R/B",
    ),
    "colorbalancergb": (
        {"saturation_global": -1.0},
        lambda a, b: chroma(b).mean() < 1.0,
        "saturation -100% leaves chroma < 1",
    ),
    "toneequal": (
        {"deep_blacks": 1.0, "blacks": 1.0, "shadows": 1.0},
        lambda a, b: luminance(b)[dark_quarter(a)].mean() > 1.3 * luminance(a)[dark_quarter(a)].mean(),
        "lifting the low bands brightens the darkest quarter",
    ),
    "rgbcurve": (
        {"curve_nodes": [[[0, 0], [0.25, 0.45], [1, 1]]]},
        lambda a, b: luminance(b).mean() > 1.2 * luminance(a).mean(),
        "a raised curve brightens",
    ),
    "tonecurve": (
        {"tonecurve": [[0, 0], [0.4, 0.55], [1, 1]]},
        lambda a, b: lab(b)[..., 0].mean() > lab(a)[..., 0].mean() + 3,
        "a raised L curve brightens",
    ),
    "colorzones": (
        {"curve": [[[0.25, 0.5], [0.75, 0.5]], [[0.25, 0.75], [0.75, 0.75]]], "strength": 0.0},
        lambda a, b: chroma(b).mean() > 1.2 * chroma(a).mean(),
        "a raised chroma curve saturates",
    ),
    "bilat": ({"detail": 1.5}, lambda a, b: detail_energy(b) > 1.2 * detail_energy(a), "more local contrast"),
    "hazeremoval": (
        {"strength": 0.8},
        lambda a, b: b.min(axis=2).mean() < 0.9 * a.min(axis=2).mean(),
        "dehazing lowers the dark channel",
    ),
    "sharpen": (
        {"amount": 2.0, "radius": 3.0},
        lambda a, b: detail_energy(b) > 1.1 * detail_energy(a),
        "sharpening adds fine detail",
    ),
    "shadhi": (
        {"shadows": 80.0, "highlights": 0.0},
        lambda a, b: luminance(b)[dark_quarter(a)].mean() > 1.2 * luminance(a)[dark_quarter(a)].mean(),
        "shadows +80 brightens the darkest quarter",
    ),
    "vignette": (
        {"brightness": -0.8, "saturation": 0.0, "scale": 30.0},
        lambda a, b: (
            b[:20, :20].mean() / a[:20, :20].mean() < 0.6
            and abs(b[80:100, 150:170].mean() / a[80:100, 150:170].mean() - 1) < 0.02
        ),
        "corners darker, centre unchanged",
    ),
    "graduatednd": (
        {"density": 2.0},
        lambda a, b: (
            luminance(b)[:30].mean() / luminance(a)[:30].mean()
            < 0.7 * luminance(b)[-30:].mean() / luminance(a)[-30:].mean()
        ),
        "the top is darkened more than the bottom",
    ),
    "velvia": ({"strength": 80.0}, lambda a, b: chroma(b).mean() > 1.1 * chroma(a).mean(), "more saturated"),
    "monochrome": ({}, lambda a, b: chroma(b).mean() < 1.0, "black and white"),
}
# tone mappers have no neutral setting: check that their contrast control does what it says
CONTRAST = {"sigmoid": "middle_grey_contrast", "filmicrgb": "contrast"}


def test_every_module_has_an_effect_check():
    assert set(EFFECTS) | set(CONTRAST) == set(VOCABULARY)


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_module_effect(dt, noop, name):
    params, check, meaning = EFFECTS[name]
    edited = dt.ops([{"module": name, "params": params}])
    assert np.abs(edited - noop).mean() > 1e-3, f"{name} did not change the render"
    assert check(noop, edited), f"{name}: expected '{meaning}'"


@pytest.mark.parametrize("name", sorted(n for n, m in VOCABULARY.items() if m.neutral is not None))
def test_module_neutral(dt, noop, name):
    edited = dt.ops([{"module": name, "params": VOCABULARY[name].neutral}])
    de = images.delta_e2000(lab(noop), lab(edited))
    assert de.mean() < 0.5, f"{name} at neutral settings moved the render by mean ΔE00 {de.mean():.3f}"


@pytest.mark.parametrize("name", sorted(CONTRAST))
def test_tone_mapper_contrast(dt, name):
    field = CONTRAST[name]
    lo = dt.ops([{"module": name, "params": {field: 0.8}}])
    hi = dt.ops([{"module": name, "params": {field: 2.5}}])
    assert lab(hi)[..., 0].std() > lab(lo)[..., 0].std() + 2


def test_tint_moves_towards_magenta(dt, noop):
    edited = dt.ops([{"module": "channelmixerrgb", "params": {"tint": 0.6}}])
    green = lambda img: img[..., 1].mean() / (img[..., 0].mean() + img[..., 2].mean())
    assert green(edited) < 0.95 * green(noop)
