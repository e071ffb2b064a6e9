"""Ground truth: darktable-cli renders a photo with a sidecar, in a private config, and we read its log.

darktable silently drops a history item whose params it cannot read (wrong size or version); the runner
asks darktable for its history-loading diagnostics (``-d params``) and raises an error naming every module
that was not loaded, instead of passing a wrong render on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xmp import iop_order
from xmp.sidecar import Sidecar

from .errors import DarktableError, PhotoError

FORMATS = {".png": "SRGB", ".jpg": "SRGB", ".jpeg": "SRGB", ".tif": "SRGB", ".tiff": "SRGB", ".pfm": "LIN_REC2020"}
_LOADED = re.compile(r"successfully loaded module (\S+) from history")
_MISMATCH = re.compile(r"module `([^']+)' version mismatch")
_CHECK = re.compile(r"^\s*(params|blendop) v\. (\d+):\s+version (ok|WRONG)\s+params (ok|WRONG)")


def find_darktable_cli() -> str:
    exe = shutil.which("darktable-cli")
    if exe is None:
        raise DarktableError("darktable-cli not found: install darktable (apt-get install darktable)")
    return exe


@lru_cache(maxsize=1)
def version() -> str:
    out = subprocess.run([find_darktable_cli(), "--version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"darktable-cli (\S+)", out.stdout)
    return m.group(1) if m else out.stdout.strip().splitlines()[0]


@dataclass
class RenderResult:
    output: Path
    log: str
    loaded: Counter


def check_log(log: str, sidecar: Sidecar | None) -> Counter:
    """Modules darktable loaded from the history; raise if one of the sidecar's was dropped or unreadable."""
    problems, loaded, current = [], Counter(), None
    for line in log.splitlines():
        m = _LOADED.search(line)
        if m:
            current = m.group(1)
            loaded[current] += 1
            continue
        m = _MISMATCH.search(line)
        if m:
            problems.append(
                f"darktable could not read the params of module '{m.group(1)}' "
                f"({line.split('version mismatch:')[-1].strip()})"
            )
            continue
        m = _CHECK.match(line)
        if m and current is not None:
            kind, ver, vok, pok = m.groups()
            if kind == "blendop" and ver in ("0", "1"):
                continue  # no blend params in the history item: darktable uses the module's default blending
            if "WRONG" in (vok, pok):
                problems.append(f"darktable rejected the {kind} (v{ver}) of module '{current}'")
    if sidecar is not None:
        wanted = Counter(h.operation for h in sidecar.active_history())
        for op, n in wanted.items():
            if loaded[op] < n:
                problems.append(f"darktable dropped module '{op}' ({loaded[op]} of {n} history items loaded)")
    if problems:
        raise DarktableError("; ".join(dict.fromkeys(problems)))
    return loaded


def _run(
    cmd: list[str], suffix: str, configdir: Path, timeout: float, what: str, outputs: list[Path], hq: bool = True
) -> str:
    """Run darktable-cli with the options every render here uses; its log, or DarktableError. ``hq=False``: the
    pipe runs at the output's size, not the photo's (much faster for small renders; less exact)."""
    cmd = cmd + [
        "--hq",
        "true" if hq else "false",
        "--apply-custom-presets",
        "false",
        "--icc-type",
        FORMATS[suffix],
        "--core",
        "--configdir",
        str(configdir),
        "--disable-opencl",
        "-d",
        "params",
        "--conf",
        "plugins/darkroom/workflow=scene-referred",
        "--conf",
        "write_sidecar_files=never",
    ]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="replace",
            env=os.environ | {"OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "2")},
        )
    except subprocess.TimeoutExpired:
        raise DarktableError(f"darktable-cli took longer than {timeout:g} s on {what}") from None
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 or not all(o.exists() for o in outputs):
        decoder = [m.group(1) for m in map(RAWSPEED_ERROR.search, log.splitlines()) if m]
        if decoder:  # the raw decoder refused the file: the photo is at fault, and its reason says it all
            raise PhotoError(f"darktable cannot read {what}: {decoder[-1]}")
        tail = "\n".join(line for line in log.splitlines()[-8:] if line.strip())
        raise DarktableError(f"darktable-cli failed on {what} (exit {proc.returncode}): {tail}")
    return log


# "[rawspeed] (IMG.dng) rawspeed::... line 294: ... line 182: Buffer overflow: image file may be truncated"
RAWSPEED_ERROR = re.compile(r"^\[rawspeed\].*line \d+: (?!.*line \d+: )(.+)$")


def _needs_order_list(sidecar: Sidecar) -> bool:
    """A sidecar in darktable 5's v5.0 module order by number only, for a darktable older than 5.0 (4.2 does
    not know the number and would run the pipe in another order)."""
    if sidecar.iop_order_list is not None or sidecar.iop_order_version not in (iop_order.V50_RAW, iop_order.V50_JPG):
        return False
    major = re.match(r"(\d+)", version())
    return major is not None and int(major.group(1)) < 5


def _with_order_list(sidecar: Sidecar) -> Sidecar:
    """A copy with the v5.0 order written out as a list, which darktable 4.2 reads (it passes over the names of
    modules it does not know)."""
    copy = Sidecar.parse(sidecar.to_string())
    copy.iop_order_list = iop_order.default_order(sidecar.iop_order_version)
    copy.iop_order_version = iop_order.CUSTOM
    return copy


def render(
    photo: str | os.PathLike,
    xmp: str | os.PathLike | None,
    output: str | os.PathLike,
    *,
    width: int = 0,
    height: int = 0,
    timeout: float = 300.0,
    configdir: str | os.PathLike | None = None,
    check: bool = True,
) -> RenderResult:
    """Render ``photo`` with sidecar ``xmp`` to ``output`` (.png/.jpg/.tif 8-bit sRGB, .pfm linear Rec2020).

    ``xmp=None`` renders darktable's defaults (an empty history), whatever sidecar lies next to the photo.

    ``width``/``height`` bound the export size (0 = full size). The output is replaced atomically.
    """
    photo, output = Path(photo), Path(output)
    if not photo.is_file():
        raise DarktableError(f"{photo}: photo not found")
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise DarktableError(f"{output}: unsupported output format {suffix!r} (use {', '.join(FORMATS)})")
    sidecar = Sidecar.read(xmp) if xmp is not None and check else None
    exe = find_darktable_cli()
    with tempfile.TemporaryDirectory(prefix="retouchiq-dt-") as tmp:
        target = Path(tmp) / f"out{suffix}"
        if xmp is None:  # darktable-cli would pick up PHOTO.xmp by itself: give it an empty history instead
            xmp = Sidecar.new(photo.name).write(Path(tmp) / "original.xmp")
        elif sidecar is not None and _needs_order_list(sidecar):
            xmp = _with_order_list(sidecar).write(Path(tmp) / "v50.xmp")
        cfg = Path(configdir) if configdir else Path(tmp) / "config"
        size = ["--width", str(width), "--height", str(height)] if width or height else []
        log = _run([exe, str(photo), str(xmp), str(target)] + size, suffix, cfg, timeout, str(photo), [target])
        loaded = check_log(log, sidecar) if check else Counter()
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), str(output.with_name(f".{output.name}.tmp")))
        os.replace(output.with_name(f".{output.name}.tmp"), output)
    return RenderResult(output, log, loaded)


def render_batch(
    jobs: list[tuple[Path, Path]],
    out_dir: str | os.PathLike,
    suffix: str,
    *,
    width: int = 0,
    height: int = 0,
    timeout: float = 600.0,
    hq: bool = True,
) -> list[Path]:
    """Render many (photo, sidecar) pairs in one darktable-cli run (its start-up dominates small renders).

    darktable-cli imports a folder where each photo carries its own sidecar; outputs are ``out_dir/<k><suffix>``
    in the order of ``jobs``. The log check is done over the whole batch: every sidecar's modules must load."""
    suffix = suffix.lower()
    if suffix not in FORMATS:
        raise DarktableError(f"unsupported output format {suffix!r} (use {', '.join(FORMATS)})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted: Counter = Counter()
    exe = find_darktable_cli()
    with tempfile.TemporaryDirectory(prefix="retouchiq-dt-batch-") as tmp:
        folder, staged = Path(tmp) / "in", Path(tmp) / "out"
        folder.mkdir()
        for k, (photo, xmp) in enumerate(jobs):
            name = f"{k:05d}{Path(photo).suffix.lower()}"
            shutil.copyfile(photo, folder / name)
            shutil.copyfile(xmp, folder / f"{name}.xmp")
            wanted.update(h.operation for h in Sidecar.read(xmp).active_history())
        outputs = [staged / f"{k:05d}{suffix}" for k in range(len(jobs))]
        size = ["--width", str(width), "--height", str(height)] if width or height else []
        log = _run(
            [exe, str(folder), str(staged / "$(FILE_NAME)"), "--out-ext", suffix.lstrip(".")] + size,
            suffix,
            Path(tmp) / "config",
            timeout,
            f"a batch of {len(jobs)}",
            outputs,
            hq,
        )
        loaded = check_log(log, None)
        dropped = [f"'{op}' ({loaded[op]} of {n})" for op, n in wanted.items() if loaded[op] < n]
        if dropped:
            raise DarktableError(f"darktable dropped module(s) {', '.join(dropped)} in a batch render")
        results = []
        for k, o in enumerate(outputs):
            target = out_dir / f"{k:05d}{suffix}"
            shutil.move(str(o), str(target))
            results.append(target)
    return results
