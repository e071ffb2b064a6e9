"""The criteria catalogue: what a reward can measure on a render, batched in torch.

Every criterion is measured on two sRGB images of the same photo — the source (the photo as it was before the
edit) and the edited render — both [N, 3, H, W] in [0, 1]. Two kinds:

- **change** criteria: how far an attribute moved (render − source), in the attribute's own unit; a request says
  which way and how far it wants them moved (a reward model predicts that, and scores the miss);
- **quality** criteria: damage that is bad whatever was asked — highlights or shadows clipped that were not
  clipped, colours pushed out of the display's gamut, a colour cast added; a reward scores them on fixed scales.

Regions are those of ``agent.measure`` (thirds of the frame and the central ellipse); a region's change is taken
against the rest of the frame's, in EV and log2(R/B) of linear light, so a global edit is not a local one.
Halos and banding are not measured (at the thumbnail sizes rewards are computed on they are a pixel or less).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agent.measure import REGION_NAMES


@dataclass(frozen=True)
class Criterion:
    name: str
    kind: str  # "change" or "quality"
    label: str  # how the rubric names it
    unit: str
    scale: float  # change: a typical step of the unit (the reward model's outputs are in these steps);
    # quality: the amount of damage that scores 10·e^-1


CHANGE = (
    Criterion("brightness", "change", "overall brightness", "L*", 6.0),
    Criterion("shadows", "change", "shadows", "L*", 6.0),
    Criterion("highlights", "change", "highlights", "L*", 6.0),
    Criterion("contrast", "change", "contrast", "L* std", 3.0),
    Criterion("warmth", "change", "white balance (warm/cool)", "b*", 4.0),
    Criterion("tint", "change", "tint (magenta/green)", "a*", 3.0),
    Criterion("saturation", "change", "saturation", "chroma", 4.0),
    Criterion("detail", "change", "detail and sharpness", "log2 detail", 0.3),
    *(Criterion(f"brightness@{r}", "change", f"brightness of the {r}", "EV", 0.3) for r in REGION_NAMES),
    *(Criterion(f"warmth@{r}", "change", f"warmth of the {r}", "log2 R/B", 0.2) for r in REGION_NAMES),
)
QUALITY = (
    Criterion("clipping", "quality", "no clipped highlights or shadows added", "share of pixels", 0.03),
    Criterion("gamut", "quality", "no colours pushed out of gamut", "share of pixels", 0.05),
    Criterion("cast", "quality", "no colour cast added", "a*b* distance", 6.0),
)
CATALOGUE = CHANGE + QUALITY
NAMES = tuple(c.name for c in CATALOGUE)
N_CHANGE = len(CHANGE)
SCALES = torch.tensor([c.scale for c in CATALOGUE])

# absolute statistics of an image (what a reward model reads of the source photo)
STAT_NAMES = (
    "L_mean",
    "L_p10",
    "L_p90",
    "L_std",
    "a_mean",
    "b_mean",
    "chroma",
    "detail",
    "clipped",
    "out_of_gamut",
    *(f"ev@{r}" for r in REGION_NAMES),
    *(f"rb@{r}" for r in REGION_NAMES),
)

_M = torch.tensor(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])
_FLOOR = 1 / 256


def linear(srgb: torch.Tensor) -> torch.Tensor:
    return torch.where(srgb <= 0.04045, srgb / 12.92, ((srgb.clamp(min=0) + 0.055) / 1.055) ** 2.4)


def lab(srgb: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] sRGB in [0, 1] → [N, 3, H, W] CIE Lab (D65)."""
    xyz = torch.einsum("ij,njhw->nihw", _M.to(srgb), linear(srgb.clamp(0, 1))) / _WHITE.to(srgb)[None, :, None, None]
    d = 6 / 29
    f = torch.where(xyz > d**3, xyz.clamp(min=1e-12) ** (1 / 3), xyz / (3 * d * d) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def _regions(h: int, w: int) -> torch.Tensor:
    """[5, H, W] boolean masks of ``agent.measure``'s regions (a region with no pixel is the whole frame)."""
    y = (torch.arange(h) + 0.5)[:, None] / h
    x = (torch.arange(w) + 0.5)[None, :] / w
    masks = [y < 1 / 3, y >= 2 / 3, x < 1 / 3, x >= 2 / 3, ((x - 0.5) / 0.3) ** 2 + ((y - 0.5) / 0.3) ** 2 <= 1]
    masks = [m.expand(h, w) for m in masks]
    return torch.stack([m if m.any() else torch.ones(h, w, dtype=torch.bool) for m in masks])


def stats(srgb: torch.Tensor, raw: torch.Tensor | None = None) -> torch.Tensor:
    """[N, 3, H, W] sRGB in [0, 1] → [N, len(STAT_NAMES)]. ``raw``: the display values before clipping to
    [0, 1] (a render's), for the out-of-gamut share; without it a channel at 0 or 1 counts."""
    n, _, h, w = srgb.shape
    x = srgb.clamp(0, 1)
    lab_ = lab(x)
    L, a, b = lab_[:, 0].flatten(1), lab_[:, 1].flatten(1), lab_[:, 2].flatten(1)
    q = torch.quantile(L, torch.tensor([0.1, 0.9]).to(L), dim=1)
    Lg = lab_[:, 0]
    lap = (4 * Lg[:, 1:-1, 1:-1] - Lg[:, :-2, 1:-1] - Lg[:, 2:, 1:-1] - Lg[:, 1:-1, :-2] - Lg[:, 1:-1, 2:]).abs()
    detail = torch.log2(lap.flatten(1).mean(1) + 0.5) if h > 2 and w > 2 else torch.zeros(n).to(x)
    r = raw if raw is not None else x
    out_of_gamut = ((r <= 0.0) | (r >= 1.0)).any(1).flatten(1).float().mean(1)
    clipped = ((L > 98.0) | (L < 2.0)).float().mean(1)
    lin = linear(x).clamp(min=_FLOOR)
    ev = torch.log2(torch.einsum("c,nchw->nhw", _M[1].to(x), lin)).flatten(1)
    rb = torch.log2(lin[:, 0] / lin[:, 2]).flatten(1)
    masks = _regions(h, w).flatten(1).to(x)  # [5, HW]
    area = masks.sum(1)
    ev_r = ev @ masks.T / area
    rb_r = rb @ masks.T / area
    return torch.cat(
        [
            torch.stack(
                [L.mean(1), q[0], q[1], L.std(1), a.mean(1), b.mean(1), torch.hypot(a, b).mean(1), detail]
                + [clipped, out_of_gamut],
                1,
            ),
            ev_r,
            rb_r,
            # the rest of the frame (for region changes), kept after the named statistics
            (ev @ (1 - masks).T) / (1 - masks).sum(1).clamp(min=1),
            (rb @ (1 - masks).T) / (1 - masks).sum(1).clamp(min=1),
        ],
        1,
    )


def public(s: torch.Tensor) -> torch.Tensor:
    """The named statistics (``STAT_NAMES``) of a ``stats`` row, without the rest-of-frame columns."""
    return s[:, : len(STAT_NAMES)]


def measured(src: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``stats`` of the source and of the render → [N, len(CATALOGUE)]: each change criterion's change, each
    quality criterion's damage (≥ 0)."""
    i = {k: j for j, k in enumerate(STAT_NAMES)}
    k = len(REGION_NAMES)
    d = out - src
    base = len(STAT_NAMES)
    ev_rest, rb_rest = d[:, base : base + k], d[:, base + k : base + 2 * k]
    cast_src = torch.hypot(src[:, i["a_mean"]], src[:, i["b_mean"]])
    cast_out = torch.hypot(out[:, i["a_mean"]], out[:, i["b_mean"]])
    cols = [
        d[:, i["L_mean"]],
        d[:, i["L_p10"]],
        d[:, i["L_p90"]],
        d[:, i["L_std"]],
        d[:, i["b_mean"]],
        d[:, i["a_mean"]],
        d[:, i["chroma"]],
        d[:, i["detail"]],
        *(d[:, i[f"ev@{r}"]] - ev_rest[:, j] for j, r in enumerate(REGION_NAMES)),
        *(d[:, i[f"rb@{r}"]] - rb_rest[:, j] for j, r in enumerate(REGION_NAMES)),
        d[:, i["clipped"]].clamp(min=0),
        d[:, i["out_of_gamut"]].clamp(min=0),
        (cast_out - cast_src).clamp(min=0),
    ]
    return torch.stack(cols, 1)


def quality_scores(m: torch.Tensor) -> torch.Tensor:
    """The quality criteria's scores in [0, 10] from ``measured`` rows: 10 for no damage, 10·e^-1 at ``scale``."""
    return 10.0 * torch.exp(-m[:, N_CHANGE:] / SCALES[N_CHANGE:].to(m))
