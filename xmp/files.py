"""Writing files so that nothing is lost: atomic replacement, timestamped backups, a lock per photo.

Every file this project writes for a user (sidecars, the plugin's luarc, exported data) goes through
``atomic_write``: a temporary file in the same folder (named for the writing process, so one left by a killed
process is recognised and removed by the next write), flushed to disk, given the old file's mode and owner,
renamed over the target, and the folder flushed too; a symbolic link is followed, not replaced. A reader —
darktable, or the user after a crash — sees the old file or the new one, never half of one. ``backup`` keeps the
previous version as ``NAME.retouchiq-YYYYmmdd-HHMMSS.bak`` (UTC; the plugin names its backups the same way) and
the newest ``keep_backups()`` of them. ``locked`` serialises the writers of one photo's sidecar.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import time
from pathlib import Path

from .errors import WriteError

BACKUP_STAMP = "%Y%m%d-%H%M%S"  # in UTC, here and in lua/retouchiq/client.lua
KEEP_BACKUPS = 10  # per file; RETOUCHIQ_KEEP_BACKUPS overrides (0 keeps them all)
_TEMP = re.compile(r"^\.(?P<name>.+)\.retouchiq-(?P<pid>\d+)\.tmp$")


def keep_backups() -> int:
    value = os.environ.get("RETOUCHIQ_KEEP_BACKUPS", "")
    return int(value) if value.isdigit() else KEEP_BACKUPS


def _fail(path: Path, exc: OSError, doing: str = "cannot write") -> WriteError:
    why = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        why = "no space left on the device"
    return WriteError(f"{path}: {doing}: {why}; the previous file is unchanged")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clean_temps(path: Path) -> None:
    """Remove the temporary files a killed writer of ``path`` left behind."""
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        m = _TEMP.match(sibling.name)
        if m and m.group("name") == path.name and not _alive(int(m.group("pid"))):
            with contextlib.suppress(OSError):
                sibling.unlink()


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (a link is followed; mode and owner kept, 0644 for a new file).
    A failure leaves the old file and no temporary file, and is a ``WriteError`` naming the path."""
    path = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    clean_temps(path)
    tmp = directory / f".{path.name}.retouchiq-{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            old = path.stat()
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        else:
            os.chmod(tmp, old.st_mode & 0o7777)
            if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                with contextlib.suppress(PermissionError):  # only root may give files away
                    os.chown(tmp, old.st_uid, old.st_gid)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _fail(path, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _sync_dir(directory)
    return path


def _stamped(path: Path) -> list[tuple[str, int, Path]]:
    """(stamp, n, backup) for each backup of ``path``: ``NAME.retouchiq-STAMP.bak`` is n = 0,
    ``NAME.retouchiq-STAMP-n.bak`` (several in one second) n."""
    pattern = re.compile(rf"^{re.escape(path.name)}\.retouchiq-(\d{{8}}-\d{{6}})(?:-(\d+))?\.bak$")
    try:
        names = [(pattern.match(p.name), p) for p in path.parent.iterdir()]
    except OSError:
        return []
    return sorted((m.group(1), int(m.group(2) or 0), p) for m, p in names if m)


def backups(path: Path) -> list[Path]:
    """The backups of ``path``, oldest first."""
    return [p for _, _, p in _stamped(path)]


def backup(path: str | os.PathLike, keep: int | None = None) -> Path:
    """Copy ``path`` aside as ``NAME.retouchiq-YYYYmmdd-HHMMSS.bak`` (UTC; ``-1``, ``-2`` … after the stamp for
    more in the same second), never over an earlier backup; then only the newest ``keep`` (default
    ``keep_backups()``; 0 keeps all) of its backups are kept."""
    path = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    stamp = time.strftime(BACKUP_STAMP, time.gmtime())
    same = [n for s, n, _ in _stamped(path) if s == stamp]
    n = max(same) + 1 if same else 0
    target = path.with_name(f"{path.name}.retouchiq-{stamp}{f'-{n}' if n else ''}.bak")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(path, exc, "cannot read it to back it up") from None
    atomic_write(target, data)
    with contextlib.suppress(OSError):
        shutil.copystat(path, target)
    keep = keep_backups() if keep is None else keep
    if keep:
        for old in backups(path)[:-keep]:
            with contextlib.suppress(OSError):
                old.unlink()
    return target


@contextlib.contextmanager
def locked(photo: str | os.PathLike):
    """Hold an exclusive advisory lock on ``photo`` (the photo file itself, which is only read), so that two
    writers of its sidecar — two ``retouchiq`` processes, a roll and an edit — take turns instead of one
    losing the other's edit."""
    try:
        fd = os.open(photo, os.O_RDONLY)
    except OSError as exc:
        raise WriteError(f"{photo}: cannot open it to lock its sidecar: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
