"""Instruction → reasoning → edit training data (``retouchiq data synth``) and its held-out split.

The split is by source photo, never by sample: a photo is held out iff a stable hash of its file name says so,
so the same photo lands on the same side in every synthesis run, on every machine, whatever folder it sits in.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from agent.errors import RequestError

HELDOUT_PERCENT = 20


def split_of(path: str | os.PathLike) -> str:
    """"heldout" for ~20 % of photos (by file name, not content or folder), else "train"."""
    digest = hashlib.sha256(Path(path).name.encode("utf-8")).hexdigest()
    return "heldout" if int(digest[:8], 16) % 100 < HELDOUT_PERCENT else "train"


def read_samples(folders: str | os.PathLike | list, split: str | None = None, max_samples: int = 0) -> list[dict]:
    """The samples of ``retouchiq data synth`` folders (``split``: only that split), the first ``max_samples``
    (0: all). A folder without samples.jsonl is a ``RequestError``."""
    folders = [folders] if isinstance(folders, (str, os.PathLike)) else list(folders)
    samples = []
    for data in map(Path, folders):
        index = data / "samples.jsonl"
        if not index.is_file():
            raise RequestError(f"{index}: not found (make one with `retouchiq data synth --out {data}`)")
        with open(index, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        samples += [s for s in rows if split is None or s.get("split", "train") == split]
    return samples[:max_samples] if max_samples else samples
