"""Fidelity of the renderer against darktable-cli: random params per module, both renders, ΔE00 and PSNR.

Each draw: a photo from the folder, resized to the requested long side and saved as 8-bit PNG (so both
renderers see the same pixels at 1:1), a random operation for the module (every field uniform over its
documented range, sometimes a mask), rendered by darktable-cli (8-bit sRGB PNG and linear Rec2020 PFM) and by
the torch renderer. A draw passes at darktable's integration-test thresholds: mean ΔE00 ≤ 0.767, max ≤ 2.3.
"""

from __future__ import annotations

import json
import math
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import darktable_cli, images
from .apply import sidecar_of
from .modules import VOCABULARY
from .vocabulary import Module

MEAN_DE, MAX_DE = 2.3 / 3, 2.3
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}


def random_curve(rng: random.Random, n: int | None = None, flat: float | None = None) -> list:
    n = n or rng.randint(2, 6)
    xs = sorted(rng.sample(range(1, 99), n - 2))
    xs = [0.0] + [x / 100 for x in xs] + [1.0]
    if flat is not None:  # around a neutral level (colour zones: y = 0.5)
        return [[x, min(1.0, max(0.0, flat + rng.uniform(-0.25, 0.25)))] for x in xs]
    ys = sorted(min(1.0, max(0.0, x + rng.uniform(-0.15, 0.15))) for x in xs)
    return [[x, y] for x, y in zip(xs, ys)]


def random_params(module: Module, rng: random.Random) -> dict:
    out = {}
    for p in module.params:
        if p.kind == "number":
            out[p.name] = rng.uniform(p.min, p.max)
        elif p.kind == "integer":
            out[p.name] = rng.randint(int(p.min), int(p.max))
        elif p.kind == "choice":
            out[p.name] = rng.choice(p.choices)
        elif p.kind == "vector":
            out[p.name] = [rng.uniform(p.min, p.max) for _ in range(p.length)]
        elif p.kind == "curve":
            out[p.name] = random_curve(rng)
        elif p.kind == "curves":
            flat = 0.5 if module.name == "colorzones" else None
            out[p.name] = [random_curve(rng, flat=flat) for _ in range(3)]
    return out


def random_mask(rng: random.Random) -> dict:
    kind = rng.choice(["gradient", "ellipse", "circle", "parametric"])
    if kind == "gradient":
        return {
            "type": "gradient",
            "anchor": [rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)],
            "rotation": rng.uniform(-180, 180),
            "compression": rng.uniform(0.05, 0.8),
            "curvature": rng.uniform(-0.5, 0.5),
            "profile": rng.choice(["linear", "sigmoidal"]),
        }
    if kind == "ellipse":
        return {
            "type": "ellipse",
            "center": [rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)],
            "radius": [rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)],
            "rotation": rng.uniform(-180, 180),
            "border": rng.uniform(0.01, 0.3),
        }
    if kind == "circle":
        return {
            "type": "circle",
            "center": [rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)],
            "radius": rng.uniform(0.05, 0.4),
            "border": rng.uniform(0.01, 0.3),
        }
    channel, top = rng.choice([("lightness", 100.0), ("chroma", 120.0), ("hue", 360.0)])
    xs = sorted(rng.uniform(0, top) for _ in range(4))
    return {"type": "parametric", "channel": channel, "range": xs}


def random_operation(name: str, rng: random.Random, mask_rate: float = 0.3) -> dict:
    module = VOCABULARY[name]
    op = {"module": name, "params": random_params(module, rng)}
    if module.stack and rng.random() < mask_rate:
        op["mask"] = random_mask(rng)
    return op


@dataclass
class Draw:
    module: str
    photo: str
    operation: dict
    mean_de: float = math.nan
    p95_de: float = math.nan
    max_de: float = math.nan
    psnr: float = math.nan
    psnr_linear: float = math.nan
    error: str = ""
    renders: tuple = field(default=(), repr=False)

    @property
    def passed(self) -> bool:
        return not self.error and self.mean_de <= MEAN_DE and self.max_de <= MAX_DE


def prepare_photo(photo: Path, width: int, workdir: Path) -> Path:
    """The photo resized to ``width`` on the long side, as 8-bit sRGB PNG (what both renderers read)."""
    from PIL import Image, ImageOps

    out = workdir / f"{photo.stem}-{width}.png"
    if not out.exists():
        with Image.open(photo) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            if width:
                im.thumbnail((width, width), Image.LANCZOS)
            im.save(out)
    return out


def psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak**2 / mse)


BATCH = 25  # draws per darktable-cli run (its start-up costs more than a 1024 px render)


def _score(draw: Draw, photo_png: Path, xmp: Path, ref8: np.ndarray, ref_lin: np.ndarray, keep: bool) -> None:
    import torch

    from xmp.sidecar import Sidecar

    from .render.pipe import load_image
    from .render.renderer import render_torch

    image = torch.from_numpy(load_image(photo_png))[None]
    lin, out8 = render_torch(image, [Sidecar.read(xmp)])
    ours8 = out8[0].numpy().transpose(1, 2, 0)
    ours_lin = lin[0].numpy().transpose(1, 2, 0)
    de = images.delta_e_srgb(ref8 / 255.0, ours8 / 255.0)
    draw.mean_de, draw.p95_de, draw.max_de = float(de.mean()), float(np.percentile(de, 95)), float(de.max())
    draw.psnr = psnr(ref8, ours8, 255.0)
    draw.psnr_linear = psnr(np.clip(ref_lin, 0, 1), np.clip(ours_lin, 0, 1), 1.0)
    if keep:
        draw.renders = (ref8, ours8, de)


def keep_failure(draw: Draw, photo_png: Path, xmp: Path, folder: Path, number: int) -> None:
    """A failing draw, to look into: its photo (once per photo), sidecar, both 8-bit renders, the ΔE00 map
    side by side (``worst_case_png``) and a JSON line with the params and the worst pixel."""
    import shutil

    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / photo_png.name).exists():
        shutil.copy(photo_png, folder / photo_png.name)
    stem = f"{draw.module}-{number:03d}"
    shutil.copy(xmp, folder / f"{stem}.xmp")
    ref8, ours8, de = draw.renders
    Image.fromarray(ref8.astype(np.uint8)).save(folder / f"{stem}-darktable.png")
    Image.fromarray(ours8.astype(np.uint8)).save(folder / f"{stem}-renderer.png")
    worst_case_png(draw, folder / f"{stem}-compare.jpg")
    y, x = np.unravel_index(int(np.argmax(de)), de.shape)
    record = {
        "draw": stem,
        "photo": photo_png.name,
        "sidecar": f"{stem}.xmp",
        "operation": draw.operation,
        "mean_de": draw.mean_de,
        "max_de": draw.max_de,
        "pixels_over_max": int((de > MAX_DE).sum()),
        "worst_pixel": {"x": int(x), "y": int(y), "darktable": ref8[y, x].tolist(), "renderer": ours8[y, x].tolist()},
    }
    with open(folder / "failures.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


def run_draws(
    jobs: list[tuple[Path, dict]], workdir: Path, keep: bool = False, progress=None, failures: Path | None = None
) -> list[Draw]:
    """Each (photo PNG, operation): a sidecar, darktable-cli's 8-bit and linear renders (batched), ours, ΔE00.

    A draw the renderer refuses, or whose batch darktable-cli fails, is reported with its error, not fatal.
    ``failures``: a folder where each draw over the thresholds is kept (``keep_failure``)."""
    from xmp.sidecar import Sidecar

    from .render.pipe import plan

    draws, ready = [], []
    for k, (photo_png, op) in enumerate(jobs):
        draw = Draw(op["module"], photo_png.name, op)
        draws.append(draw)
        xmp = workdir / f"draw-{k:05d}.xmp"
        try:
            sidecar = sidecar_of(photo_png, [op])
            sidecar.write(xmp)
            plan(Sidecar.read(xmp))  # refuse what the renderer cannot do before spending darktable renders on it
            ready.append((draw, photo_png, xmp))
        except Exception as exc:
            draw.error = f"{type(exc).__name__}: {exc}"
    worst = None  # only the worst draw keeps its renders (pictures are large)
    kept = 0
    for i in range(0, len(ready), BATCH):
        chunk = ready[i : i + BATCH]
        pairs = [(photo, xmp) for _, photo, xmp in chunk]
        try:
            pngs = darktable_cli.render_batch(pairs, workdir / "dt", ".png")
            pfms = darktable_cli.render_batch(pairs, workdir / "dt", ".pfm")
        except Exception as exc:
            for draw, _, _ in chunk:
                draw.error = f"{type(exc).__name__}: {exc}"
            pngs = pfms = []
        for (draw, photo, xmp), png, pfm in zip(chunk, pngs, pfms):
            try:
                _score(
                    draw, photo, xmp, images.read_image(png) * 255.0, images.read_pfm(pfm), keep or failures is not None
                )
            except Exception as exc:
                draw.error = f"{type(exc).__name__}: {exc}"
            if failures is not None and draw.renders and not draw.passed:
                kept += 1
                keep_failure(draw, photo, xmp, failures, kept)
            if draw.renders:
                if worst is None or draw.max_de > worst.max_de:
                    if worst is not None:
                        worst.renders = ()
                    worst = draw
                else:
                    draw.renders = ()
            if progress:
                progress(draw)
    return draws


def worst_case_png(draw: Draw, path: Path) -> None:
    """darktable's render, ours, and the ΔE00 heat-map (0 … 2.3+) side by side."""
    from PIL import Image, ImageDraw

    ref8, ours8, de = draw.renders
    heat = np.clip(de / MAX_DE, 0, 1)
    heat_rgb = np.stack([heat, 1 - np.abs(heat - 0.5) * 2, 1 - heat], -1) * 255
    h, w = de.shape
    canvas = Image.new("RGB", (3 * w + 20, h + 24), "white")
    for i, (img, label) in enumerate(((ref8, "darktable-cli"), (ours8, "renderer"), (heat_rgb, "ΔE00 (red ≥ 2.3)"))):
        canvas.paste(Image.fromarray(img.astype(np.uint8)), (i * (w + 10), 24))
        ImageDraw.Draw(canvas).text((i * (w + 10) + 4, 4), label, fill="black")
    if canvas.width > 1600:  # keep the report light
        canvas = canvas.resize((1600, round(canvas.height * 1600 / canvas.width)), Image.LANCZOS)
    canvas.save(path, quality=85)


def photos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def run(
    modules: list[str],
    photos: list[Path],
    draws: int,
    width: int,
    seed: int = 0,
    out_dir: Path | None = None,
    progress=None,
    cycle: bool = False,
    module_done=None,
    failures: Path | None = None,
) -> dict[str, list[Draw]]:
    """``draws`` random operations per module and photo (``cycle``: ``draws`` in all, cycling the photos).

    ``module_done(results)`` is called after each module (long runs write their report as they go);
    ``failures``: a folder for every failing draw's photo, sidecar, renders and ΔE00 map."""
    rng = random.Random(seed)
    results: dict[str, list[Draw]] = {}
    with tempfile.TemporaryDirectory(prefix="retouchiq-fidelity-") as tmp:
        tmp = Path(tmp)
        for name in modules:
            total = draws if cycle else draws * len(photos)
            jobs = [
                (
                    prepare_photo(photos[k % len(photos)] if cycle else photos[k // draws], width, tmp),
                    random_operation(name, rng),
                )
                for k in range(total)
            ]
            count = iter(range(1, total + 1))
            keep = out_dir is not None
            results[name] = run_draws(
                jobs,
                tmp,
                keep=keep,
                progress=progress
                and (lambda draw, name=name, total=total, count=count: progress(name, next(count), total, draw)),
                failures=failures,
            )
            scored = [d for d in results[name] if not d.error]
            worst = max(scored, key=lambda d: d.max_de, default=None)
            if keep and worst is not None and worst.renders:
                out_dir.mkdir(parents=True, exist_ok=True)
                worst_case_png(worst, out_dir / f"worst-{name}.jpg")
            for d in results[name]:
                d.renders = ()
            if module_done:
                module_done(results)
    return results


def table(results: dict[str, list[Draw]]) -> str:
    rows = [
        "| module | draws | pass | mean ΔE00 | p95 ΔE00 | max ΔE00 | PSNR dB | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, draws in results.items():
        ok = [d for d in draws if not d.error]
        passed = sum(d.passed for d in draws)
        if ok:
            stats = (
                f"{np.mean([d.mean_de for d in ok]):.3f} | {np.mean([d.p95_de for d in ok]):.3f} | "
                f"{max(d.max_de for d in ok):.2f} | {np.median([min(d.psnr, 99) for d in ok]):.1f}"
            )
        else:
            stats = "— | — | — | —"
        errors = sorted(
            {d.error.split(":")[0] + ": " + d.error.split(":", 1)[-1].strip()[:60] for d in draws if d.error}
        )
        rows.append(
            f"| {name} | {len(draws)} | {100 * passed / len(draws):.0f}% | {stats} | "
            f"{len(draws) - len(ok)}{' (' + errors[0] + ')' if errors else ''} |"
        )
    return "\n".join(rows)


def write_report(results: dict[str, list[Draw]], args, path: Path, out_dir: Path | None) -> None:
    """docs/fidelity.md: the command, the table, modules under target with what failed, worst-case pictures."""
    import os
    import time

    lines = ["# Renderer fidelity against darktable-cli", ""]
    if len(results) < len(args.modules):
        lines += [f"*Run in progress: {len(results)} of {len(args.modules)} modules done.*", ""]
    lines += [
        f"Produced by `retouchiq fidelity --modules {' '.join(args.modules)} --draws {args.draws} "
        f"--width {args.width} --max-photos {args.max_photos} --seed {args.seed}"
        f"{' --out ' + str(args.out) if out_dir else ''} --report {path}` on "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} with darktable-cli {darktable_cli.version()}.",
        "",
        "Each draw: random params for the module (uniform over the vocabulary's documented ranges; 30 % of "
        "stacking modules' draws also get a random drawn or parametric mask), rendered by darktable-cli and "
        "by the torch renderer from the same 8-bit PNG at 1:1. ΔE00 as in darktable's integration tests "
        "(sRGB 8-bit → Lab → CIEDE2000); a draw passes at mean ≤ 0.767 and max ≤ 2.3. PSNR on the 8-bit "
        "renders (median of draws).",
        "",
        table(results),
        "",
    ]
    below = {n: d for n, d in results.items() if sum(x.passed for x in d) < 0.95 * len(d)}
    if below:
        lines += ["## Modules under the 95 % target", ""]
        for name, draws in below.items():
            errors = sorted({d.error for d in draws if d.error})
            worst = [d for d in draws if not d.passed and not d.error]
            lines.append(
                f"- **{name}**: {sum(x.passed for x in draws)}/{len(draws)} pass. "
                + (f"Not rendered: {'; '.join(e[:160] for e in errors)}. " if errors else "")
                + (
                    f"Worst draw: mean {max(d.mean_de for d in worst):.2f}, max "
                    f"{max(d.max_de for d in worst):.2f} ΔE00."
                    if worst
                    else ""
                )
            )
        lines.append("")
    if out_dir is not None:
        lines += ["## Worst case per module", "", "darktable-cli | renderer | ΔE00 heat-map (red ≥ 2.3)", ""]
        for name in results:
            png = out_dir / f"worst-{name}.jpg"
            if png.exists():
                lines += [f"### {name}", "", f"![{name}]({os.path.relpath(png, path.parent)})", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
