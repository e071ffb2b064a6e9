"""Photos as darktable sees them: which files are photos, their sidecar's name, and previews to judge them by.

One place for the file extensions, for finding the photos of a folder, for checking that a photo can be read and
for turning a photo (or uploaded preview bytes) into the 8-bit sRGB preview the policies look at. A raw file's
preview is darktable's own rendering of it (darktable-cli): the policy needs a rendered image, not sensor data.
"""

from __future__ import annotations

import io
import mmap
import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

from .errors import DarktableError, PhotoError

RAW_EXTENSIONS = frozenset(
    {
        ".3fr",
        ".ari",
        ".arw",
        ".cr2",
        ".cr3",
        ".crw",
        ".dcr",
        ".dng",
        ".erf",
        ".iiq",
        ".k25",
        ".kdc",
        ".mef",
        ".mos",
        ".mrw",
        ".nef",
        ".nrw",
        ".orf",
        ".pef",
        ".raf",
        ".raw",
        ".rw2",
        ".rwl",
        ".sr2",
        ".srf",
        ".srw",
        ".x3f",
    }
)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"})  # read here without darktable
PHOTO_EXTENSIONS = IMAGE_EXTENSIONS | RAW_EXTENSIONS
PREVIEW_SIDE = 1024  # long side of the preview the policies judge a photo by
MIN_SIDE = 8  # smaller than this there is nothing to judge
MAGIC = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n"}


def is_raw(photo: str | os.PathLike) -> bool:
    return Path(photo).suffix.lower() in RAW_EXTENSIONS


def sidecar_path(photo: str | os.PathLike) -> Path:
    """darktable's name for a photo's sidecar: the full file name plus ``.xmp``."""
    photo = Path(photo)
    return photo.with_name(photo.name + ".xmp")


def check_photo(photo: str | os.PathLike) -> Path:
    """The photo's path if it is a readable file, else a ``PhotoError`` that says why."""
    photo = Path(photo)
    if not photo.exists():
        raise PhotoError(f"{photo}: photo not found")
    if not photo.is_file():
        raise PhotoError(f"{photo}: not a file")
    try:
        with open(photo, "rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        raise PhotoError(f"{photo}: cannot read photo: {exc.strerror or exc}") from None
    if head == b"\xff\xd8":  # a JPEG: darktable 4.2's reader takes greyscale and RGB ones only
        from PIL import Image

        try:
            with Image.open(photo, formats=["JPEG"]) as im:
                mode = im.mode
        except (OSError, SyntaxError, ValueError):  # a damaged one is reported where it is decoded
            mode = None
        if mode == "CMYK":
            raise PhotoError(
                f"{photo}: a CMYK JPEG, which darktable cannot open; convert it to RGB first (e.g. "
                "`convert in.jpg -colorspace sRGB out.jpg`); nothing was written"
            )
    return photo


def photos_in(folder: str | os.PathLike, raw: bool = True) -> list[Path]:
    """The photos of a folder (not recursive, hidden files left out), sorted by name so that a seed or a roll
    means the same order everywhere. ``raw=False``: only the formats read without darktable."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PhotoError(f"{folder}: not a folder")
    kinds = PHOTO_EXTENSIONS if raw else IMAGE_EXTENSIONS
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in kinds and not p.name.startswith(".")
    )


def capture_time(photo: str | os.PathLike) -> float | None:
    """When the photo was taken (EXIF DateTimeOriginal, else DateTime) in seconds on the camera's clock, or
    None where the file does not say (or cannot be read here: most raws). Only differences between a roll's
    frames are used."""
    import datetime

    from PIL import Image

    try:
        with Image.open(photo) as im:
            exif = im.getexif()
            text = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
        stamp = datetime.datetime.strptime(str(text).strip("\0 ")[:19], "%Y:%m:%d %H:%M:%S")
    except (OSError, ValueError, TypeError, SyntaxError, Image.DecompressionBombError):  # unknown, not an error
        return None
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def to_rgb8(im) -> np.ndarray:
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


def decode(
    source: bytes | str | os.PathLike, side: int = PREVIEW_SIDE, max_pixels: int | None = None, what: str | None = None
) -> np.ndarray:
    """An image file or uploaded bytes → uint8 sRGB [H, W, 3] with long side ≤ ``side``, upright as its EXIF says.

    Bytes must be a JPEG or PNG (an upload is a preview, not a photo); ``max_pixels`` refuses larger ones before
    they are decoded. ``what`` names the source in messages (default: the path, or "preview")."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    damaged = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, zlib.error)
    if isinstance(source, bytes):
        what = what or "preview"
        kind = next((k for k, magic in MAGIC.items() if source.startswith(magic)), None)
        if kind is None:
            raise PhotoError(f"{what}: not a JPEG or PNG image" + ("" if source else " (the upload is empty)"))
        opener, formats = io.BytesIO(source), [kind]
    else:
        what = what or str(source)
        opener, formats = check_photo(source), None
        kind = "image"
    try:
        with Image.open(opener, formats=formats) as im:
            w, h = im.size
            if min(w, h) < MIN_SIDE:
                raise PhotoError(f"{what}: {w}×{h} pixels is too small to edit (at least {MIN_SIDE} px a side)")
            if max_pixels is not None and w * h > max_pixels:
                raise PhotoError(
                    f"{what}: {w}×{h} pixels is more than the {max_pixels / 1e6:g} MP limit; a {side} "
                    "px preview is all the policy uses"
                )
            im.draft("RGB", (side, side))  # JPEG: decode at a reduced scale, so a 50 MP photo stays cheap
            im = ImageOps.exif_transpose(im)
            if max(im.size) > side:
                im.thumbnail((side, side), Image.BILINEAR, reducing_gap=2.0)
            return to_rgb8(im)
    except Image.DecompressionBombError as exc:
        raise PhotoError(f"{what}: {exc}") from None
    except UnidentifiedImageError:
        raise PhotoError(
            f"{what}: not an image this tool can read (JPEG, PNG, TIFF, WebP; raw files through darktable-cli)"
        ) from None
    except damaged as exc:
        raise PhotoError(f"{what}: damaged or truncated {kind} ({exc})") from None


GUESSED_COLOURS = "unsupported input profile has been replaced"  # darktable's log: no matrix for this raw
NO_MATRIX = (
    "darktable has no colour matrix for this raw (a DNG without ColorMatrix1, or a camera darktable does not know) "
    "and would guess its colours"
)
_COLOR_MATRIX_1, _SUB_IFDS, _PHOTOMETRIC, _SAMPLES = 50721, 330, 262, 277
_CFA, _LINEAR_RAW = 32803, 34892  # photometric interpretations of a colour raw


def _ifds(data: bytes | mmap.mmap) -> list[dict[int, tuple[int, int, int]]]:
    """A TIFF's image file directories (the main chain and SubIFDs): tag → (type, count, value or offset)."""
    if data[:4] not in (b"II*\0", b"MM\0*"):
        return []
    end = "<" if data[:2] == b"II" else ">"
    todo, seen, out = [struct.unpack(end + "I", data[4:8])[0]], set(), []
    while todo and len(out) < 64:
        at = todo.pop()
        if not at or at in seen or at + 2 > len(data):
            continue
        seen.add(at)
        (n,) = struct.unpack(end + "H", data[at : at + 2])
        ifd = {}
        for i in range(min(n, (len(data) - at - 2) // 12)):
            tag, kind, count, value = struct.unpack(end + "HHII", data[at + 2 + 12 * i : at + 14 + 12 * i])
            if kind == 3 and count == 1:  # a SHORT sits in the first two bytes of the value field
                value = struct.unpack(end + "H", data[at + 10 + 12 * i : at + 12 + 12 * i])[0]
            ifd[tag] = (kind, count, value)
        out.append(ifd)
        tail = at + 2 + 12 * n  # the offset of the next IFD of the chain (0: the last)
        if tail + 4 <= len(data):
            todo.append(struct.unpack(end + "I", data[tail : tail + 4])[0])
        if _SUB_IFDS in ifd:
            _, count, value = ifd[_SUB_IFDS]
            if count == 1:
                todo.append(value)
            elif value + 4 * count <= len(data):
                todo += struct.unpack(f"{end}{count}I", data[value : value + 4 * count])
    return out


def lacks_colour_matrix(photo: str | os.PathLike) -> bool:
    """Whether a DNG holds colour raw data but no ColorMatrix1, which the DNG specification requires of every
    colour DNG: darktable would guess its colours (darktable 4.2 does so without a word in some builds)."""
    if Path(photo).suffix.lower() != ".dng" or not os.path.getsize(photo):
        return False
    with open(photo, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:  # not read whole
        ifds = _ifds(data)

    def colour(ifd: dict) -> bool:
        kind = ifd.get(_PHOTOMETRIC, (0, 0, 0))[2]
        return kind == _CFA or (kind == _LINEAR_RAW and ifd.get(_SAMPLES, (0, 0, 1))[2] == 3)

    return bool(ifds) and any(map(colour, ifds)) and _COLOR_MATRIX_1 not in ifds[0]


def preview(
    photo: str | os.PathLike, side: int = PREVIEW_SIDE, sidecar: str | os.PathLike | None = None, timeout: float = 300.0
) -> np.ndarray:
    """The photo as the photographer sees it in darktable, uint8 sRGB with long side ≤ ``side``.

    With a ``sidecar`` (the current edit) or for a raw file, darktable-cli renders it — the only renderer that
    reads every sidecar darktable writes and every raw; otherwise the file is decoded here."""
    from PIL import Image

    from . import darktable_cli

    photo = check_photo(photo)
    if sidecar is None and not is_raw(photo):
        return decode(photo, side)
    try:
        if lacks_colour_matrix(photo):
            raise PhotoError(f"{photo}: {NO_MATRIX}")
        with tempfile.TemporaryDirectory(prefix="retouchiq-preview-") as tmp:
            out = darktable_cli.render(
                photo, sidecar, Path(tmp) / "preview.png", width=side, height=side, timeout=timeout
            )
            if is_raw(photo) and GUESSED_COLOURS in out.log:
                raise PhotoError(f"{photo}: {NO_MATRIX}")
            with Image.open(out.output) as im:
                return to_rgb8(im)
    except PhotoError as exc:  # darktable's raw decoder refused it, or would guess its colours
        raise PhotoError(f"{exc}; nothing was written") from None
    except DarktableError as exc:
        why = "its current edit" if sidecar is not None else "a raw file"
        raise PhotoError(f"{photo}: darktable-cli could not render {why} for the policy to judge ({exc})") from None
