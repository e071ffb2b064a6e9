"""Instruction → reasoning → edit training data (``retouchiq data synth``) and its held-out split.

The split is by source photo, never by sample: a photo is held out iff a stable hash of its file name says so,
so the same photo lands on the same side in every synthesis run, on every machine, whatever folder it sits in.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

HELDOUT_PERCENT = 20
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
DEFAULT_PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos"


def split_of(path: str | os.PathLike) -> str:
    """"heldout" for ~20 % of photos (by file name, not content or folder), else "train"."""
    digest = hashlib.sha256(Path(path).name.encode("utf-8")).hexdigest()
    return "heldout" if int(digest[:8], 16) % 100 < HELDOUT_PERCENT else "train"


def photos_in(folder: str | os.PathLike) -> list[Path]:
    """The photos of a folder (not recursive), sorted by name so that a seed means the same draws everywhere."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of photos")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_EXTENSIONS)
