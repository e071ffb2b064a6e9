"""Edit photos on disk: the photo as it looks now → ``agent.core`` → the photo's darktable sidecar.

``edit_photo`` handles one photo; ``roll`` a folder ("film roll"), optionally with one look for all frames:
``consistent_values`` shares the style knobs (averaged over the frames) and gives each frame its own exposure and
white balance so that the frames end up at the roll's common brightness and colour balance.
"""

from __future__ import annotations

import io
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
from xmp import UserError
from xmp.files import atomic_write
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
    photo: Path, outcome: core.Outcome, preview_out: str | os.PathLike | None = None, notes: list[str] | None = None
) -> Edited:
    """The outcome's sidecar next to the photo (previous one backed up, atomic); optionally the edited photo
    rendered by darktable-cli to ``preview_out``."""
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
    saved = apply.write_sidecar(path, outcome.text)
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
    photo: str | os.PathLike, instruction: str, policy: Policy, preview_out: str | os.PathLike | None = None
) -> Edited:
    photo = photos.check_photo(photo)
    base = apply.load_sidecar(photos.sidecar_path(photo))
    look, note = current_look(photo, base)
    outcome = core.edit(look, instruction, base, photo.name, policy)
    return write(photo, outcome, preview_out, [note] if note else [])


# ---- rolls ----------------------------------------------------------------------------------------------------


def _y(L: float) -> float:
    """CIE L* → relative luminance Y."""
    f = (L + 16.0) / 116.0
    return f**3 if f > 6.0 / 29.0 else 3.0 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0)


def consistent_values(preds: list) -> list[dict[str, float]]:
    """One look for a roll: the style knobs averaged over the frames (activation probability and value), then
    per frame the exposure that moves its median L* to the roll's median, and the white balance that moves its
    mean b* to the roll's, each on top of the shared setting."""
    from agent import slots as slots_mod
    from agent.policy.compact import FALLBACK, decode

    shared = decode(np.mean([p.prob for p in preds], axis=0), np.mean([p.mean for p in preds], axis=0), FALLBACK)
    target_l = float(np.median([p.stats["L_p50"] for p in preds]))
    target_b = float(np.median([p.stats["b_mean"] for p in preds]))
    out = []
    for p in preds:
        values = dict(shared)
        ev = math.log2(max(_y(target_l), 1e-4) / max(_y(p.stats["L_p50"]), 1e-4))
        ev = max(-MAX_NORMALISE_EV, min(MAX_NORMALISE_EV, ev)) if abs(ev) >= 0.05 else 0.0  # no 1/50-stop noise
        values["exposure"] = round(slots_mod.clip("exposure", shared.get("exposure", 0.0) + ev), 3)
        kelvin = shared.get("temperature", slots_mod.BY_NAME["temperature"].neutral)
        # warmer = fewer mired; a frame bluer than the roll (b* below target) needs warming
        shift = (target_b - p.stats["b_mean"]) / B_PER_MIRED
        mired = 1e6 / kelvin - (shift if abs(shift) >= 3.0 else 0.0)  # under 3 mired nobody sees it
        values["temperature"] = round(slots_mod.clip("temperature", 1e6 / max(mired, 1.0)), 1)
        out.append(values)
    return out


def require_shared(policy: Policy) -> None:
    """A consistent roll needs the per-knob prediction only the compact policy gives."""
    if not hasattr(policy, "predict"):
        raise RequestError(
            f"a consistent roll needs the compact policy (the '{policy.name}' policy gives no per-knob "
            "prediction to share across the roll)"
        )


def predict(policy: Policy, looks: list[np.ndarray], instruction: str) -> list:
    """A consistent roll's first pass: the policy's per-knob prediction for each frame's current look."""
    from agent.policy.compact import work_image

    require_shared(policy)
    return policy.predict([work_image(look) for look in looks], [instruction] * len(looks))


def roll(
    paths: list[Path], instruction: str, policy: Policy, consistent: bool = False, progress=None, batch: int = 16
) -> list[Edited | UserError]:
    """Edit every photo; a photo that fails gives its error in the list, the others go on.

    ``consistent`` needs a policy that exposes its per-slot prediction (the compact policy)."""
    instruction = checked_instruction(instruction)
    progress = progress or (lambda k, n, photo: None)
    n = len(paths)
    out: list = [None] * n
    if not consistent:
        for k, photo in enumerate(paths):
            try:
                out[k] = edit_photo(photo, instruction, policy)
            except UserError as exc:
                out[k] = exc
            progress(k + 1, n, photo)
        return out
    require_shared(policy)
    preds, bases = {}, {}
    for start in range(0, n, batch):  # predictions in batches; only the working copies are kept
        looks = {}
        for k in range(start, min(n, start + batch)):
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
    for k, values in zip(order, consistent_values([preds[k] for k in order]) if order else []):
        try:
            result = policy.result(preds[k], values, instruction)
            out[k] = write(paths[k], core.merge(result, bases[k], paths[k].name))
        except UserError as exc:
            out[k] = exc
        progress(n + k + 1, 2 * n, paths[k])
    return out
