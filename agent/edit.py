"""Edit photos on disk: the photo as it looks now → ``agent.core`` → the photo's darktable sidecar.

``edit_photo`` handles one photo; ``roll`` a folder ("film roll"), optionally with one look for all frames:
``consistent_plan`` shares the style knobs (averaged over the frames) and matches exposure and white balance among
the frames of one scene only (scenes told apart by capture time and content), never across scenes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent import core
from agent.errors import RequestError
from agent.errors import instruction as checked_instruction
from agent.policy import EditResult, Policy
from darktable_bridge import apply, photos
from darktable_bridge.errors import PhotoError
from xmp import UserError, WriteError
from xmp.files import atomic_write, locked
from xmp.sidecar import Sidecar

# color calibration's temperature moves mean b* by about 0.15 per mired (1e6/K) on ordinary photos (measured
# with the torch renderer on the sample photos between 3500 and 8000 K)
B_PER_MIRED = 0.15
MAX_NORMALISE_EV = 1.5  # a frame far off the roll's level is only pulled this far (it may be dark on purpose)


@dataclass
class Edited:
    photo: Path
    outcome: core.Outcome
    sidecar: Path | None  # None when the policy changed nothing (no sidecar written)
    backup: Path | None
    preview: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def result(self) -> EditResult:
        return self.outcome.result

    def to_json(self) -> dict:
        return {
            "photo": str(self.photo),
            "sidecar": str(self.sidecar) if self.sidecar else None,
            "backup": str(self.backup) if self.backup else None,
            **self.result.to_json(),
        }


def current_look(
    photo: Path, sidecar: Sidecar | None, side: int = photos.PREVIEW_SIDE
) -> tuple[np.ndarray, str | None]:
    """The photo as the photographer sees it now (darktable-cli renders their edit), so the policy's edit, which
    stacks on top, is judged from there. If their edit cannot be rendered: the unedited photo, with a note."""
    if sidecar is None or not sidecar.active_history():
        return photos.preview(photo, side), None
    try:
        return photos.preview(photo, side, sidecar=photos.sidecar_path(photo)), None
    except PhotoError as exc:
        return photos.preview(photo, side), f"{exc}; judged on the unedited photo"


def write(
    photo: Path,
    outcome: core.Outcome,
    base: Sidecar | None,
    preview_out: str | os.PathLike | None = None,
    notes: list[str] | None = None,
    journal=None,
) -> Edited:
    """The outcome's sidecar next to the photo (previous one backed up, atomic; ``base``: the sidecar it was built
    on, which must still be the file's); optionally the edited photo rendered by darktable-cli to
    ``preview_out``."""
    notes = list(notes or [])
    if not outcome.changed:
        return Edited(
            photo,
            outcome,
            None,
            None,
            None,
            notes + ["nothing to change: no sidecar written" + (", no preview" if preview_out else "")],
        )
    path = photos.sidecar_path(photo)
    if journal is not None:  # a roll notes what it is about to write (see JOURNAL)
        journal(photo, outcome.text)
    saved = apply.write_sidecar(path, outcome.text, base)
    shown = None
    if preview_out is not None:
        shown = Path(preview_out)
        save_image(photos.preview(photo, photos.PREVIEW_SIDE, sidecar=path), shown)
        notes.append("preview rendered by darktable-cli")
    return Edited(photo, outcome, path, saved, shown, notes)


def save_image(image: np.ndarray, path: Path) -> Path:
    """An 8-bit RGB image to .jpg/.png/.tif, written atomically."""
    from PIL import Image

    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise RequestError(f"{path}: unknown image format (use .jpg, .png or .tif)")
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return atomic_write(path, buf.getvalue())


def edit_photo(
    photo: str | os.PathLike,
    instruction: str,
    policy: Policy,
    preview_out: str | os.PathLike | None = None,
    journal=None,
) -> Edited:
    photo = photos.check_photo(photo)
    with locked(photo):  # another edit of this photo waits for this one, and then builds on it
        base = apply.load_sidecar(photos.sidecar_path(photo))
        look, note = current_look(photo, base)
        outcome = core.edit(look, instruction, base, photo.name, policy)
        return write(photo, outcome, base, preview_out, [note] if note else [], journal)


# ---- rolls ----------------------------------------------------------------------------------------------------


def _y(L: float) -> float:
    """CIE L* → relative luminance Y."""
    f = (L + 16.0) / 116.0
    return f**3 if f > 6.0 / 29.0 else 3.0 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0)


SCENE_CELLS = 12  # a frame's layout: the ranks of the luminance of 12×12 cells
SAME_SCENE = 0.85  # rank correlation of two layouts from which frames are one scene
SCENE_GAP_S = 20 * 60  # frames taken further apart than this are different scenes, however alike
# (SAME_SCENE from 1,378 pairs of different photos, at most 0.90, 99 % under 0.80, and the same photos re-exposed
# by ±1.3 EV, re-balanced by ±30 % per channel or reframed by 4 %: 95 % above 0.91; the 58 of
# ../data/photos-kodak and photos/, 2026-12-07)


@functools.cache
def _linear_table() -> np.ndarray:
    from darktable_bridge.images import srgb_to_linear

    return srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0).astype(np.float32)


def _linear(rgb8: np.ndarray) -> np.ndarray:
    """uint8 sRGB → linear float32, looked up (the same values as ``srgb_to_linear`` of ``rgb8 / 255`` in float32,
    at a fraction of the cost on a 1024 px preview)."""
    return _linear_table()[rgb8]


def scene_signature(look: np.ndarray) -> np.ndarray:
    """A frame's layout of light and dark, blind to exposure, white balance and contrast: the ranks of the mean
    luminance of ``SCENE_CELLS``² cells, centred and scaled to length 1 (a dot product is a rank correlation)."""
    from PIL import Image

    y = _linear(look[..., :3]) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    cells = Image.fromarray(y.astype(np.float32), mode="F").resize((SCENE_CELLS, SCENE_CELLS), Image.BOX)
    v = np.asarray(cells, dtype=np.float64).ravel()
    ranks = np.argsort(np.argsort(v, kind="stable"), kind="stable").astype(np.float64)
    ranks -= ranks.mean()
    return ranks / (np.linalg.norm(ranks) + 1e-12)


def colour_thumb(look: np.ndarray, side: int = 64) -> np.ndarray:
    """A frame's small linear-sRGB copy (float32), on which a consistent roll works out what its exposure and
    white balance changes do to the frame's mean b*."""
    from PIL import Image

    thumb = Image.fromarray(np.ascontiguousarray(look[..., :3]))
    thumb.thumbnail((side, side))
    return _linear(np.asarray(thumb))


def mean_b(thumb: np.ndarray, ev: float = 0.0, mired: float = 0.0) -> float:
    """The mean b* of ``thumb`` after ``ev`` stops of exposure and a white balance ``mired`` warmer (color
    calibration's adaptation, taken as von Kries in linear sRGB from D50's white)."""
    from darktable_bridge.images import linear_to_srgb, srgb_to_lab
    from darktable_bridge.modules.channelmixerrgb import adaptation_gains

    neutral = 5003.0
    gains = adaptation_gains(1e6 / (1e6 / neutral - mired))  # the illuminant set warmer is adapted away
    linear = np.clip(thumb * (2.0**ev) * gains, 0.0, 1.0)
    return float(srgb_to_lab(linear_to_srgb(linear))[..., 2].mean())


def group_scenes(signatures: list, times: list | None = None) -> list[int]:
    """Scene number (0, 1, …) per frame in the roll's order: a frame joins the scene whose frames it resembles
    most (``SAME_SCENE``) unless its capture time, where known, is ``SCENE_GAP_S`` from all of them; else it starts
    a scene. A frame without a signature joins the first scene."""
    times = times or [None] * len(signatures)
    scenes: list[list[int]] = []
    out = []
    for k, sig in enumerate(signatures):
        best, best_sim = None, SAME_SCENE
        for s, members in enumerate(scenes):
            near = [
                j for j in members if times[k] is None or times[j] is None or abs(times[k] - times[j]) <= SCENE_GAP_S
            ]
            sims = [1.0 if sig is None or signatures[j] is None else float(sig @ signatures[j]) for j in near]
            if sims and max(sims) >= best_sim:
                best, best_sim = s, max(sims)
        if best is None:
            scenes.append([])
            best = len(scenes) - 1
        scenes[best].append(k)
        out.append(best)
    return out


@dataclass
class Framed:
    """One frame of a consistent roll: its slot values and what was matched."""

    values: dict[str, float]  # the roll's style, with this frame's scene's exposure and white balance
    scene: int  # 0, 1, … in the roll's order
    note: str  # one sentence for the reasoning


def balance_average(preds: list) -> dict[str, float]:
    """The white balance of a roll whose request asks to fix it: the mean of the frames' corrections (in mired and
    tint; a frame with no cast counts as no shift)."""
    from agent import slots as slots_mod

    neutral = slots_mod.BY_NAME["temperature"].neutral
    mired = np.mean([1e6 / p.balance.values.get("temperature", neutral) - slots_mod.MIRED_NEUTRAL for p in preds])
    tint = np.mean([p.balance.values.get("tint", 0.0) for p in preds])
    return slots_mod.slot_values({"temperature": float(mired), "tint": float(tint)})


def consistent_plan(preds: list, names: list[str], times: list | None = None) -> list[Framed]:
    """One look for a roll: the style knobs averaged over all frames (activation probability and value); then,
    within each scene, per frame the exposure that moves its median L* to the scene's mean and the white balance
    that moves its mean b* to the scene's mean (worked out on the frame's ``thumb`` at its new exposure), on top
    of the shared setting. Frames of different scenes keep their own light (a blue-hour frame is not lifted to the
    midday frames' level)."""
    from agent import slots as slots_mod
    from agent.policy.compact import BALANCE_SLOTS, FALLBACK, decode

    shared = decode(np.mean([p.prob for p in preds], axis=0), np.mean([p.mean for p in preds], axis=0), FALLBACK)
    if all(p.balance_applies() for p in preds):  # "fix the white balance": the frames' measured casts, averaged
        shared = {k: v for k, v in shared.items() if k not in BALANCE_SLOTS} | balance_average(preds)
    scenes = group_scenes([getattr(p, "scene", None) for p in preds], times)
    members = [[j for j, s in enumerate(scenes) if s == scenes[k]] for k in range(len(preds))]
    # exposure first: each frame to its scene's mean median L*
    target_l = [float(np.mean([preds[j].stats["L_p50"] for j in group])) for group in members]
    evs = []
    for p, level in zip(preds, target_l):
        ev = math.log2(max(_y(level), 1e-4) / max(_y(p.stats["L_p50"]), 1e-4))
        evs.append(max(-MAX_NORMALISE_EV, min(MAX_NORMALISE_EV, ev)) if abs(ev) >= 0.05 else 0.0)  # no 1/50 stop
    # then white balance, on the frames as that exposure leaves them (b* grows with lightness)
    thumbs = [getattr(p, "thumb", None) for p in preds]
    b_after = [p.stats["b_mean"] if t is None else mean_b(t, ev) for p, t, ev in zip(preds, thumbs, evs)]
    out = []
    for k, ev in enumerate(evs):
        target_b = float(np.mean([b_after[j] for j in members[k]]))
        values = dict(shared)
        values["exposure"] = round(slots_mod.clip("exposure", shared.get("exposure", 0.0) + ev), 3)
        kelvin = shared.get("temperature", slots_mod.BY_NAME["temperature"].neutral)
        if thumbs[k] is None:
            slope = B_PER_MIRED
        else:  # b* per mired warmer for this frame (dark or saturated frames move less or more)
            slope = max((mean_b(thumbs[k], ev, 10.0) - mean_b(thumbs[k], ev, -10.0)) / 20.0, 0.02)
        # warmer = fewer mired; a frame bluer than its scene (b* below target) needs warming
        shift = (target_b - b_after[k]) / slope
        mired = 1e6 / kelvin - (shift if abs(shift) >= 3.0 else 0.0)  # under 3 mired nobody sees it
        values["temperature"] = round(slots_mod.clip("temperature", 1e6 / max(mired, 1.0)), 1)
        others = [names[j] for j in members[k] if j != k]
        if others:
            listed = ", ".join(others[:4]) + (f" and {len(others) - 4} more" if len(others) > 4 else "")
            note = (
                f"Scene {scenes[k] + 1} of the roll, with {listed}: exposure matched to the scene's L* "
                f"{target_l[k]:.0f} ({ev:+.2f} EV here), white balance to its mean b* {target_b:+.0f}."
            )
        else:
            note = f"Scene {scenes[k] + 1} of the roll, alone in it: its own exposure and white balance kept."
        out.append(Framed(values, scenes[k], note))
    return out


def consistent_result(policy: Policy, pred, framed: Framed, instruction: str) -> EditResult:
    """The policy's answer for one frame of a consistent roll, the scene's matching said in its reasoning."""
    result = policy.result(pred, framed.values, instruction)
    result.reasoning = f"{result.reasoning} {framed.note}".strip()
    result.extra["scene"] = framed.scene + 1
    return result


def require_shared(policy: Policy) -> None:
    """A consistent roll needs the per-knob prediction only the compact policy gives."""
    if not hasattr(policy, "predict"):
        raise RequestError(
            f"a consistent roll needs the compact policy (the '{policy.name}' policy gives no per-knob "
            "prediction to share across the roll)"
        )


def predict(policy: Policy, looks: list[np.ndarray], instruction: str) -> list:
    """A consistent roll's first pass: the policy's per-knob prediction for each frame's current look, with the
    frame's ``scene_signature`` (``.scene``)."""
    from agent.policy.compact import work_image

    require_shared(policy)
    preds = policy.predict([work_image(look) for look in looks], [instruction] * len(looks))
    for pred, look in zip(preds, looks):
        pred.scene, pred.thumb = scene_signature(look), colour_thumb(look)
    return preds


# a roll's journal: one line per photo written, in the roll's folder, so that running a roll again (after it was
# killed, say) never gives a photo its edit twice. A line is written *before* the sidecar, with the sidecar's
# new checksum: a photo counts as done when its sidecar still has that checksum.
JOURNAL = ".retouchiq-rolls.jsonl"


@dataclass
class Skipped:
    """A photo an earlier run of the same roll already edited (``--resume``)."""

    photo: Path


def roll_key(instruction: str, policy: Policy, consistent: bool) -> str:
    return hashlib.sha256(f"{instruction}\0{policy.name}\0{consistent}".encode()).hexdigest()[:16]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def journal_done(folder: Path, key: str) -> set[str]:
    """The photos of ``folder`` whose sidecar is still the one this roll (``key``) wrote."""
    try:
        lines = (folder / JOURNAL).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise WriteError(f"{folder / JOURNAL}: cannot read the roll's journal: {exc.strerror or exc}") from None
    wrote: dict[str, str] = {}
    for line in lines:
        try:
            entry = json.loads(line)
            if entry["roll"] == key:
                wrote[entry["photo"]] = entry["sidecar"]
        except (json.JSONDecodeError, KeyError, TypeError):  # a line cut by a kill: that photo is not done
            continue
    done = set()
    for name, sha in wrote.items():
        side = photos.sidecar_path(folder / name)
        if side.exists() and _sha(side.read_bytes()) == sha:
            done.add(name)
    return done


def _journal(folder: Path, key: str, photo: Path, text: str) -> None:
    line = json.dumps({"roll": key, "photo": photo.name, "sidecar": _sha(text.encode("utf-8"))}) + "\n"
    try:
        fd = os.open(folder / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))  # one short write to an O_APPEND file: whole or not at all
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise WriteError(f"{folder / JOURNAL}: cannot write the roll's journal: {exc.strerror or exc}") from None


def roll(
    paths: list[Path],
    instruction: str,
    policy: Policy,
    consistent: bool = False,
    progress=None,
    batch: int = 16,
    resume: bool = False,
    again: bool = False,
) -> list[Edited | Skipped | UserError]:
    """Edit every photo; a photo that fails gives its error in the list, the others go on.

    ``consistent`` needs a policy that exposes its per-slot prediction (the compact policy). A roll run before on
    the same photos (same instruction, policy and ``consistent``; its journal says which sidecars it wrote) is
    refused unless ``resume`` (the photos it edited are skipped) or ``again`` (it is applied once more)."""
    instruction = checked_instruction(instruction)
    progress = progress or (lambda k, n, photo: None)
    key = roll_key(instruction, policy, consistent)
    done: set[Path] = set()
    if paths and not again:
        for folder in sorted({p.parent for p in paths}):
            names = journal_done(folder, key)
            done |= {p for p in paths if p.parent == folder and p.name in names}
        if done and not resume:
            raise RequestError(
                f"this roll was run here before: {len(done)} of {len(paths)} photo(s) already have its edit (a run "
                "that stopped?); --resume to edit the others, --again to apply it once more to every photo"
            )
    n = len(paths)
    out: list = [Skipped(p) if p in done else None for p in paths]
    todo = [k for k, p in enumerate(paths) if p not in done]

    def record(photo: Path, text: str) -> None:
        _journal(photo.parent, key, photo, text)

    if not consistent:
        for k in todo:
            try:
                out[k] = edit_photo(paths[k], instruction, policy, journal=record)
            except UserError as exc:
                out[k] = exc
            progress(k + 1, n, paths[k])
        return out
    require_shared(policy)
    preds, bases = {}, {}
    for start in range(0, len(todo), batch):  # predictions in batches; only the working copies are kept
        looks = {}
        for k in todo[start : start + batch]:
            try:
                photo = photos.check_photo(paths[k])
                bases[k] = apply.load_sidecar(photos.sidecar_path(photo))
                looks[k] = current_look(photo, bases[k])[0]
            except UserError as exc:
                out[k] = exc
            progress(k + 1, 2 * n, paths[k])
        if looks:
            preds.update(zip(looks, predict(policy, list(looks.values()), instruction)))
    order = sorted(preds)
    names = [paths[k].name for k in order]
    times = [photos.capture_time(paths[k]) for k in order]
    plan = consistent_plan([preds[k] for k in order], names, times) if order else []
    for k, framed in zip(order, plan):
        try:
            result = consistent_result(policy, preds[k], framed, instruction)
            with locked(paths[k]):
                outcome = core.merge(result, bases[k], paths[k].name, instruction)
                out[k] = write(paths[k], outcome, bases[k], journal=record)
        except UserError as exc:
            out[k] = exc
        progress(n + k + 1, 2 * n, paths[k])
    return out
