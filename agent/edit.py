"""Edit photos with a policy: preview → policy → validated operations → the photo's darktable sidecar.

``edit_photo`` handles one photo; ``roll`` a folder ("film roll"), optionally with one look for all frames:
``consistent_values`` shares the style knobs (averaged over the frames) and gives each frame its own exposure and
white balance so that the frames end up at the roll's common brightness and colour balance.
"""
from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent.policy import EditResult, Policy, PolicyError, validate
from darktable_bridge import apply as apply_mod, darktable_cli, operations
from darktable_bridge.render.errors import RenderError
from xmp import SidecarError
from xmp.sidecar import Sidecar

PREVIEW_SIDE = 1024
PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"} | apply_mod.RAW_EXTENSIONS
# color calibration's temperature moves mean b* by about 0.15 per mired (1e6/K) on ordinary photos (measured
# with the torch renderer on the sample photos between 3500 and 8000 K)
B_PER_MIRED = 0.15
MAX_NORMALISE_EV = 1.5  # a frame far off the roll's level is only pulled this far (it may be dark on purpose)


class PhotoError(SidecarError):
    """A photo could not be read or previewed (the message says why); its sidecar is untouched."""


@dataclass
class Edited:
    photo: Path
    sidecar: Path | None        # None when the policy changed nothing (no sidecar written)
    backup: Path | None
    result: EditResult
    preview: Path | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"photo": str(self.photo), "sidecar": str(self.sidecar) if self.sidecar else None,
                "backup": str(self.backup) if self.backup else None, **self.result.to_json()}


# ---- previews -------------------------------------------------------------------------------------------------

def _to_rgb8(im) -> np.ndarray:
    """Any PIL mode (16-bit, greyscale, palette, CMYK, alpha) → uint8 RGB [H, W, 3]."""
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.float64)
        arr = arr / (65535.0 if arr.max(initial=0) > 255 or im.mode.startswith("I;16") else 255.0)
        g = (arr.clip(0, 1) * 255.0 + 0.5).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if im.mode == "F":
        g = (np.asarray(im, dtype=np.float64).clip(0, 1) * 255.0 + 0.5).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))  # transparency shown on white, as viewers do
        im = Image.alpha_composite(bg, im)
    return np.asarray(im.convert("RGB"))


def load_preview(photo: str | os.PathLike, side: int = PREVIEW_SIDE) -> np.ndarray:
    """The photo as uint8 sRGB with long side ≤ ``side`` (upright as EXIF says). Raw files are exported by
    darktable-cli first: the policy needs a rendered preview, not sensor data."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    photo = Path(photo)
    apply_mod.check_photo(photo)
    if photo.suffix.lower() in apply_mod.RAW_EXTENSIONS:
        return _raw_preview(photo, side)
    try:
        with Image.open(photo) as im:
            im.draft("RGB", (side, side))  # JPEG: decode at a reduced scale, so a 50 MP photo stays cheap
            im = ImageOps.exif_transpose(im)
            if max(im.size) > side:
                im.thumbnail((side, side), Image.BILINEAR, reducing_gap=2.0)
            arr = _to_rgb8(im)
    except UnidentifiedImageError:
        raise PhotoError(f"{photo}: not an image this tool can read (JPEG, PNG, TIFF, WebP; raw files through "
                         "darktable-cli)") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"{photo}: cannot read the image: {exc}") from None
    if min(arr.shape[:2]) < 8:
        raise PhotoError(f"{photo}: {arr.shape[1]}×{arr.shape[0]} pixels is too small to edit")
    return arr


def _raw_preview(photo: Path, side: int) -> np.ndarray:
    from PIL import Image

    try:
        with tempfile.TemporaryDirectory(prefix="retouchiq-preview-") as tmp:
            out = darktable_cli.render(photo, None, Path(tmp) / "preview.jpg", width=side, height=side)
            with Image.open(out.output) as im:
                return np.asarray(im.convert("RGB"))
    except darktable_cli.DarktableError as exc:
        raise PhotoError(f"{photo}: a raw file needs a rendered preview for the policy, and darktable-cli could "
                         f"not make one ({exc}); export a JPEG next to it and edit that") from None


def current_look(preview: np.ndarray, sidecar: Sidecar | None) -> tuple[np.ndarray, str | None]:
    """The preview as the photographer sees it now (their sidecar rendered by the torch renderer), so the
    policy's edit, which stacks on top, is judged from there. Falls back to the unedited preview with a note."""
    if sidecar is None or not sidecar.history:
        return preview, None
    import torch

    from darktable_bridge.render.renderer import render_torch

    try:
        x = torch.from_numpy(preview.astype(np.float32).transpose(2, 0, 1) / 255.0)[None]
        _, display8 = render_torch(x, [sidecar])
        return display8[0].numpy().transpose(1, 2, 0).astype(np.uint8), None
    except (RenderError, SidecarError) as exc:
        return preview, f"the existing edit could not be previewed ({exc}); judged on the unedited photo"


def render_preview(photo: Path, preview: np.ndarray, sidecar_path: Path, out: Path) -> str:
    """Render the edited photo to ``out``: torch renderer on the preview, darktable-cli when it cannot."""
    import torch
    from PIL import Image

    from darktable_bridge.render.renderer import render_torch

    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if photo.suffix.lower() in apply_mod.RAW_EXTENSIONS:
            raise RenderError("raw photo")
        x = torch.from_numpy(preview.astype(np.float32).transpose(2, 0, 1) / 255.0)[None]
        _, display8 = render_torch(x, [Sidecar.read(sidecar_path)])
        tmp = out.with_name(f".{out.name}.tmp{out.suffix}")
        Image.fromarray(display8[0].numpy().transpose(1, 2, 0).astype(np.uint8)).save(tmp)
        os.replace(tmp, out)
        return "torch"
    except RenderError:
        side = max(preview.shape[:2])
        darktable_cli.render(photo, sidecar_path, out, width=side, height=side)
        return "darktable-cli"


# ---- editing --------------------------------------------------------------------------------------------------

def read_history(photo: Path) -> Sidecar | None:
    path = apply_mod.sidecar_path(photo)
    return Sidecar.read(path) if path.exists() else None


def write(photo: Path, result: EditResult, preview: np.ndarray | None = None,
          preview_out: str | os.PathLike | None = None, notes: list[str] | None = None) -> Edited:
    """Validated operations → the photo's sidecar (merged, backed up, atomic); optionally a rendered preview."""
    validate(result)
    notes = list(notes or [])
    if not result.operations:
        return Edited(photo, None, None, result, None, notes + ["nothing to change: no sidecar written"
                                                                + (", no preview" if preview_out else "")])
    edits = operations.parse_operations({"operations": result.operations})
    written = apply_mod.apply_edits(photo, edits)
    shown = None
    if preview_out is not None:
        shown = Path(preview_out)
        engine = render_preview(photo, preview if preview is not None else load_preview(photo), written.sidecar,
                                shown)
        notes.append(f"preview rendered by {engine}")
    return Edited(photo, written.sidecar, written.backup, result, shown, notes)


def edit_photo(photo: str | os.PathLike, instruction: str, policy: Policy,
               preview_out: str | os.PathLike | None = None) -> Edited:
    photo = Path(photo)
    preview = load_preview(photo)
    history = read_history(photo)
    look, note = current_look(preview, history)
    result = policy.edit(look, instruction, history)
    return write(photo, result, look, preview_out, [note] if note else [])


# ---- rolls ----------------------------------------------------------------------------------------------------

def photos_in(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise PhotoError(f"{folder}: not a folder")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in PHOTO_EXTENSIONS and not p.name.startswith("."))


def _y(L: float) -> float:
    """CIE L* → relative luminance Y."""
    f = (L + 16.0) / 116.0
    return f ** 3 if f > 6.0 / 29.0 else 3.0 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0)


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


def roll(photos: list[Path], instruction: str, policy: Policy, consistent: bool = False, progress=None,
         batch: int = 16) -> list[Edited | Exception]:
    """Edit every photo; a photo that fails gives its exception in the list, the others go on.

    ``consistent`` needs a policy that exposes its per-slot prediction (the compact policy)."""
    if not instruction or not instruction.strip():
        raise PolicyError("empty instruction: say what to change, e.g. -i \"warmer, lift the shadows\"")
    progress = progress or (lambda k, n, photo: None)
    n = len(photos)
    if not consistent:
        out = []
        for k, photo in enumerate(photos):
            try:
                out.append(edit_photo(photo, instruction, policy))
            except (SidecarError, PolicyError, RenderError, darktable_cli.DarktableError, OSError) as exc:
                out.append(exc)
            progress(k + 1, n, photo)
        return out
    if not hasattr(policy, "predict"):
        raise PolicyError(f"--consistent needs the compact policy (the '{policy.name}' policy gives no per-knob "
                          "prediction to share across the roll)")
    looks: dict[int, np.ndarray] = {}
    preds: dict[int, object] = {}
    out: list = [None] * n
    from agent.policy.compact import work_image

    for start in range(0, n, batch):  # predictions in batches; only the 256 px working copies are kept
        idx = []
        for k in range(start, min(n, start + batch)):
            try:
                look, _ = current_look(load_preview(photos[k]), read_history(photos[k]))
                looks[k] = work_image(look)
                idx.append(k)
            except (SidecarError, PolicyError, RenderError, darktable_cli.DarktableError, OSError) as exc:
                out[k] = exc
            progress(k + 1, 2 * n, photos[k])
        if idx:
            for k, p in zip(idx, policy.predict([looks[k] for k in idx], [instruction] * len(idx))):
                preds[k] = p
    if preds:
        order = sorted(preds)
        for k, values in zip(order, consistent_values([preds[k] for k in order])):
            try:
                out[k] = write(photos[k], policy.result(preds[k], values, instruction))
            except (SidecarError, PolicyError, RenderError, darktable_cli.DarktableError, OSError) as exc:
                out[k] = exc
            progress(n + k + 1, 2 * n, photos[k])
    return out
