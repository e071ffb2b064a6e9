"""Writing files so that nothing is lost: atomic replacement and timestamped backups.

Every file this project writes for a user (sidecars, the plugin's luarc, exported data) goes through
``atomic_write``: a temporary file in the same folder, flushed to disk, renamed over the target, so a reader —
darktable, or the user after a crash — sees the old file or the new one, never half of one. ``backup`` keeps the
previous version as ``NAME.retouchiq-YYYYmmdd-HHMMSS.bak`` (UTC; the plugin names its backups the same way).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from .errors import WriteError

BACKUP_STAMP = "%Y%m%d-%H%M%S"  # in UTC, here and in lua/retouchiq/client.lua


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (mode kept, 0644 for a new file). A failure leaves the old file
    and no temporary file, and is a ``WriteError`` naming the path."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def backup(path: str | os.PathLike) -> Path:
    """Copy ``path`` aside as ``NAME.retouchiq-YYYYmmdd-HHMMSS.bak`` (UTC), never over an earlier backup."""
    path = Path(path)
    stamp = time.strftime(BACKUP_STAMP, time.gmtime())
    target, n = path.with_name(f"{path.name}.retouchiq-{stamp}.bak"), 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.retouchiq-{stamp}-{n}.bak"), n + 1
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WriteError(f"{path}: cannot read it to back it up: {exc.strerror or exc}") from None
    atomic_write(target, data)
    shutil.copystat(path, target)
    return target
