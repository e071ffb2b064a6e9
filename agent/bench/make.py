"""How the benchmark's cases were made: flawed sources for the enhance family, target edits, sidecars, checks.

Enhance cases start from a clean photo of ``photos/`` made flawed the way cameras and raw converters fail, in
linear light: exposure off by a stop or more (with the sensor noise an underexposure carries, and clipped
highlights for an overexposure), a white balance set for the wrong light, a flat rendering (lifted blacks, rolled
highlights, muted colour — a raw's neutral default or a camera's "flat" profile), atmospheric haze, or two of
these; then saved as a camera would, 8-bit JPEG. The target edit is the one that brings the flawed source back
to the clean photo: fitted through the torch renderer (``darktable_bridge.fit``) with the modules a retoucher
would reach for. Style and local targets are written by hand (``retoucheval/authoring/``).

Every case is checked by darktable-cli itself: the target sidecar renders, and moves every attribute the
request names the named way (so ``target`` scores 100 % direction accuracy).
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np

from agent.bench.cases import DEFAULT_FOLDER, FIELDS, VARIANTS, Case, CaseError, bank_overlap
from agent.bench.cases import check as check_case
from agent.errors import RequestError
from darktable_bridge.apply import sidecar_of
from darktable_bridge.images import linear_to_srgb, srgb_to_linear
from xmp import UserError

# the fitted modules, and the fields each flaw's repair may touch
REPAIR = {
    "exposure": ("exposure",),  # the black level too made the colour balance's gradients NaN (torch renderer)
    "channelmixerrgb": ("temperature",),
    "colorbalancergb": ("contrast", "saturation_global", "chroma_global", "shadows_Y", "highlights_Y"),
}
# white balance set for the wrong light: linear RGB gains (G = 1) the scene gets
CASTS = {
    "tungsten": (1.0, 0.86, 0.58),  # daylight white balance under incandescent light: orange
    "shade": (0.82, 0.93, 1.22),  # tungsten white balance in daylight shade: blue
    "dusk": (0.88, 0.95, 1.12),  # a cool blue-hour cast
    "sodium": (1.0, 0.9, 0.7),  # warm street light
}


def _flat(y: np.ndarray, amount: float) -> np.ndarray:
    """A flat rendering of encoded values: blacks lifted, highlights rolled off, colour muted."""
    black, white = 0.16 * amount, 1.0 - 0.12 * amount
    y = black + (white - black) * y
    grey = y.mean(axis=2, keepdims=True)
    return grey + (1.0 - 0.35 * amount) * (y - grey)


def degrade(image: np.ndarray, flaw: dict, seed: int) -> np.ndarray:
    """uint8 sRGB → the same scene with ``flaw`` (keys below, each optional), uint8 sRGB.

    ``ev`` exposure error in stops (clips at white, as a sensor does); ``cast`` a name of ``CASTS``; ``flat``
    0–1; ``haze`` 0–1 (transmission 1 − haze at the bottom, less at the top, towards a pale blue airlight);
    ``noise`` the read noise's standard deviation in linear units (shot noise scales with it)."""
    rng = np.random.default_rng(seed)
    x = srgb_to_linear(image.astype(np.float64) / 255.0)
    if "cast" in flaw:
        x = x * np.array(CASTS[flaw["cast"]])
    if "haze" in flaw:
        h = x.shape[0]
        depth = np.linspace(1.0, 0.45, h)[:, None, None]  # the top of the frame is further away
        t = 1.0 - flaw["haze"] * depth
        x = x * t + np.array([0.62, 0.68, 0.76]) * (1.0 - t)
    x = x * 2.0 ** flaw.get("ev", 0.0)
    if flaw.get("noise"):
        read = flaw["noise"]
        x = x + rng.normal(0.0, 1.0, x.shape) * np.sqrt(read**2 + 0.25 * read * np.clip(x, 0, None))
    y = linear_to_srgb(np.clip(x, 0.0, 1.0))
    if flaw.get("flat"):
        y = _flat(y, flaw["flat"])
    return (np.clip(y, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_jpeg(image: np.ndarray, path: Path, quality: int = 85) -> Path:
    from PIL import Image

    from xmp.files import atomic_write

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality, subsampling=2, optimize=True)
    return atomic_write(path, buf.getvalue())


def tidy(ops: list[dict]) -> list[dict]:
    """Fitted operations without the fields left at (or within a hair of) their neutral values."""
    from darktable_bridge.fit import _neutral_value

    out = []
    for op in ops:
        params = {k: round(v, 3) for k, v in op["params"].items() if abs(v - _neutral_value(op["module"], k)) > 0.01}
        if params:
            out.append({"module": op["module"], "params": params})
    return out


def fit_target(source: Path, clean: Path, steps: int = 150) -> list[dict]:
    """The edit that turns the flawed source back into the clean photo, as tidy operations."""
    from darktable_bridge import fit

    return tidy(fit.fit(source, clean, size=128, steps=steps, which=REPAIR).operations)


def write_sidecar(folder: Path, case: dict) -> None:
    """``targets/<id>.xmp``: the target operations as darktable's sidecar for the case's photo."""
    path = folder / "targets" / f"{case['id']}.xmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    sidecar_of(folder / case["photo"], case["operations"]).write(path)
    case["sidecar"] = f"targets/{case['id']}.xmp"


def prepare(folder: Path, raw: list[dict]) -> list[Case]:
    """Authored cases (``authoring/*.json``: the case fields but ``sidecar``) → checked cases, their target
    sidecars written to ``targets/<id>.xmp``."""
    out = []
    for k, case in enumerate(raw):
        where = f"authored case {k + 1} ({case.get('id', '?') if isinstance(case, dict) else '?'})"
        if not isinstance(case, dict) or "photo" not in case or "operations" not in case:
            raise CaseError(f"{where}: needs at least id, photo and operations")
        try:
            write_sidecar(folder, case)  # also sets the case's "sidecar"
        except (OSError, UserError, KeyError, TypeError) as exc:
            raise CaseError(f"{where}: {exc}") from None
        out.append(check_case(case, where, folder))
    return out


def problems(cases: list[Case], size: int = 384, sheet: Path | None = None) -> list[str]:
    """What is wrong with cases: wordings that share a run with the banks, sidecars that are not their
    operations', targets whose darktable-cli render does not move an attribute the named way. ``sheet``: a
    contact sheet (photo | target, what moved) to look at."""
    from agent.bench.run import render_darktable
    from agent.measure import directions

    found = []
    for case in cases:
        for name in VARIANTS:
            shared = bank_overlap(case.variants[name])
            if shared:
                found.append(f"{case.id} {name}: shares {shared} with the synthesis banks")
        if case.sidecar.read_text() != sidecar_of(case.photo, case.operations).to_string():
            found.append(f"{case.id}: {case.sidecar.name} is not the sidecar of its operations")
    jobs = [(c.photo, t) for c in cases for t in (None, c.sidecar.read_text())]
    renders = render_darktable(jobs, size)
    rows = []
    for k, case in enumerate(cases):
        before, after = renders[2 * k], renders[2 * k + 1]
        moved = directions(before, after, list(case.attributes))
        wrong = {a: moved[a] for a, s in case.attributes.items() if moved[a] != s}
        if wrong:
            found.append(f"{case.id}: the target moves {wrong}, the case asks {case.attributes}")
        rows.append((case, before, after, moved))
    if sheet is not None:
        contact_sheet(rows, sheet)
    return found


def contact_sheet(rows, path: Path, side: int = 320) -> None:
    from PIL import Image, ImageDraw

    tiles = []
    for case, before, after, moved in rows:
        pair = [Image.fromarray(im) for im in (before, after)]
        for im in pair:
            im.thumbnail((side, side))
        h = max(im.size[1] for im in pair)
        tile = Image.new("RGB", (2 * side + 10, h + 30), "white")
        for i, im in enumerate(pair):
            tile.paste(im, (i * (side + 10), 30))
        ok = all(moved[a] == s for a, s in case.attributes.items())
        text = f"{case.id} {'ok' if ok else 'WRONG'} asks {case.attributes} moved {moved}"
        ImageDraw.Draw(tile).text((2, 2), text[:110], fill="black" if ok else "red")
        ImageDraw.Draw(tile).text((2, 15), case.variants["short"][:110], fill="blue")
        tiles.append(tile)
    width = 2 * (2 * side + 10)
    height = sum(max(t.size[1] for t in tiles[i : i + 2]) for i in range(0, len(tiles), 2))
    canvas = Image.new("RGB", (width, max(height, 1)), "white")
    y = 0
    for i in range(0, len(tiles), 2):
        for j, t in enumerate(tiles[i : i + 2]):
            canvas.paste(t, (j * (2 * side + 10), y))
        y += max(t.size[1] for t in tiles[i : i + 2])
    canvas.save(path)


def write_cases(folder: Path, cases: list[dict]) -> Path:
    """``cases.jsonl``, one case a line, in id order, fields in a fixed order."""
    from xmp.files import atomic_write

    order = ["id", "family", "photo", "origin", "flaw", "variants", "operations", "sidecar", "attributes", "notes"]
    assert set(order) == FIELDS
    lines = []
    for case in sorted(cases, key=lambda c: (("enhance", "style", "local").index(c["family"]), c["id"])):
        lines.append(json.dumps({k: case[k] for k in order if k in case}, ensure_ascii=False))
    return atomic_write(folder / "cases.jsonl", ("\n".join(lines) + "\n").encode("utf-8"))


def enhance_plan(photos: list[str], n: int, seed: int = 0) -> list[dict]:
    """``n`` (photo, flaw) pairs: every flaw kind about equally often, spread over the photos."""
    rng = random.Random(seed)
    kinds = [
        lambda: {"ev": round(rng.uniform(-2.2, -1.2), 2), "noise": round(rng.uniform(0.002, 0.006), 4)},
        lambda: {"ev": round(rng.uniform(0.8, 1.5), 2)},
        lambda: {"cast": rng.choice(["tungsten", "sodium"])},
        lambda: {"cast": rng.choice(["shade", "dusk"])},
        lambda: {"flat": round(rng.uniform(0.6, 1.0), 2)},
        lambda: {"haze": round(rng.uniform(0.35, 0.55), 2)},
        lambda: {"ev": round(rng.uniform(-1.8, -1.0), 2), "cast": rng.choice(list(CASTS)), "noise": 0.003},
        lambda: {"flat": round(rng.uniform(0.5, 0.8), 2), "ev": round(rng.uniform(-1.2, -0.7), 2)},
        lambda: {"haze": round(rng.uniform(0.3, 0.45), 2), "cast": rng.choice(["shade", "dusk"])},
    ]
    order = list(photos)
    rng.shuffle(order)
    plan = []
    for k in range(n):
        flaw = kinds[k % len(kinds)]()
        plan.append(
            {
                "id": f"enhance-{k + 1:03d}",
                "family": "enhance",
                "origin": f"photos/{order[k % len(order)]}",
                "flaw": flaw,
            }
        )
    return plan


def candidates(flaw: dict) -> dict[str, int]:
    """The attributes a repair of ``flaw`` may move: the opposite of what the flaw did. Which of them a request
    about the photo can be held to is what the target's darktable-cli render moves (``settle``): brightening a
    warm subject raises its b* even as the white balance cools it."""
    out: dict[str, int] = {}
    ev = flaw.get("ev", 0.0)
    if ev < 0:
        out |= {"brightness": 1, "shadows": 1}
    elif ev > 0:
        out |= {"brightness": -1, "highlights": -1}
    if flaw.get("cast") in ("tungsten", "sodium"):
        out["warmth"] = -1
    elif flaw.get("cast") in ("shade", "dusk"):
        out["warmth"] = 1
    if flaw.get("flat") or flaw.get("haze"):
        out |= {"contrast": 1, "saturation": 1}
    return out


def settle(folder: Path, cases: list[dict], size: int = 384) -> list[str]:
    """Each enhance case's attributes: its flaw's candidates that the target's render moves the named way.
    Returns the ids of the cases to rebuild: left with no attribute (the target repairs nothing measurable), or
    whose target's render is not at least a third closer (ΔE00) to the clean photo than the flawed one is (the
    fit failed on this photo)."""
    from agent.bench.run import render_darktable
    from agent.measure import directions
    from agent.metrics import delta_e

    jobs = [
        (folder / c[key], text)
        for c in cases
        for key, text in (("photo", None), ("photo", (folder / c["sidecar"]).read_text()), ("origin", None))
    ]
    renders = render_darktable(jobs, size)
    redo = []
    for k, case in enumerate(cases):
        source, target, clean = renders[3 * k : 3 * k + 3]
        want = candidates(case["flaw"])
        moved = directions(source, target, list(want))
        case["attributes"] = {a: s for a, s in want.items() if moved[a] == s}
        h, w = min(source.shape[0], clean.shape[0]), min(source.shape[1], clean.shape[1])
        before, after = delta_e(source[:h, :w], clean[:h, :w]), delta_e(target[:h, :w], clean[:h, :w])
        if not case["attributes"] or after > 0.67 * before:
            redo.append(case["id"])
    return redo


def make_enhance(folder: Path, case: dict, seed: int) -> dict:
    """One enhance case from its ``origin`` and ``flaw``: the flawed source, the fitted target, its sidecar."""
    from darktable_bridge.photos import decode

    clean = folder / case["origin"]
    source = folder / "sources" / f"{case['id']}.jpg"
    source.parent.mkdir(parents=True, exist_ok=True)
    save_jpeg(degrade(decode(clean, 4096), case["flaw"], seed), source, quality=85)
    case["photo"] = f"sources/{case['id']}.jpg"
    case["operations"] = fit_target(source, clean)
    write_sidecar(folder, case)
    return case


def build_enhance(folder: Path = DEFAULT_FOLDER, n: int = 100, seed: int = 0, progress=None) -> list[dict]:
    """The enhance cases' sources (``sources/<id>.jpg``), fitted targets, sidecars and attributes (the wordings
    are written afterwards, ``authoring/enhance.json``). A photo too dark, too uniform or too colourless for a
    flaw to be measurably repaired (``settle`` finds no attribute) is swapped for the next one."""
    photos = sorted(p.name for p in (folder / "photos").glob("*.jpg"))
    if not photos:
        raise RequestError(f"{folder / 'photos'}: no photos")
    cases = []
    for k, case in enumerate(enhance_plan(photos, n, seed)):
        cases.append(make_enhance(folder, case, seed + k))
        if progress:
            progress(k + 1, n, case["id"])
    spare = iter(photos[k % len(photos)] for k in range(7, 7 + 10 * len(photos), 7))
    return resettle(folder, cases, spare, seed)


def resettle(folder: Path, cases: list[dict], spare, seed: int = 0, rounds: int = 5) -> list[dict]:
    """``settle``, rebuilding the cases it rejects on photos from ``spare`` until none is left."""
    for _ in range(rounds):
        redo = set(settle(folder, cases))
        if not redo:
            return cases
        for k, case in enumerate(cases):
            if case["id"] in redo:
                case["origin"] = f"photos/{next(spare)}"
                make_enhance(folder, case, seed + 1000 + k)
    raise RequestError(f"enhance cases {sorted(redo)}: no photo tried gave a target that repairs the flaw")
