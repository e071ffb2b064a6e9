"""Nothing is lost: processes killed at random points, writers at the same time, a full disk, hostile sidecars,
and a round of the sidecar fuzzer. The long parts are marked ``slow``:

    .venv/bin/python -m pytest tests/test_reliability.py -m slow      # 210 kill trials (docs/reliability.md)
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from xmp import SidecarError, codec
from xmp.files import backups
from xmp.sidecar import Sidecar

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"
USER_OPS = [
    {"module": "exposure", "instance": "mine", "params": {"exposure": 0.3}},
    {"module": "colorbalancergb", "instance": "mine", "params": {"vibrance": 0.2}},
]
AGENT_OPS = {"operations": [{"module": "channelmixerrgb", "params": {"temperature": 6200}}]}


def user_sidecar(photo: Path, ops: list[dict]) -> Sidecar:
    """A sidecar as the photographer's own: the operations' items, named "mine" instead of the agent's name."""
    from dataclasses import replace

    from darktable_bridge.apply import build_sidecar
    from darktable_bridge.operations import parse_operations

    edits = [replace(e, multi_name="mine") for e in parse_operations({"operations": ops})]
    return build_sidecar(photo, edits, None)[0]


def make_folder(folder: Path, n: int = 1) -> list[Path]:
    """``n`` small photos, each with the photographer's own sidecar."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    with Image.open(PHOTO) as im:
        im = im.convert("RGB")
        im.thumbnail((160, 160))
        for k in range(n):
            photo = folder / f"frame{k}.jpg"
            im.save(photo, quality=90)
            user_sidecar(photo, USER_OPS).write(folder / f"frame{k}.jpg.xmp")
            out.append(photo)
    return out


def user_rows(sidecar: Path) -> list[dict]:
    return [dict(h.attrs) for h in Sidecar.read(sidecar).history if h.multi_name == "mine"]


def agent_items(sidecar: Path) -> int:
    return sum(h.multi_name.startswith("retouchiq") for h in Sidecar.read(sidecar).history)


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def command(kind: str, folder: Path, photo: Path, ops: Path) -> list[str]:
    base = [sys.executable, "-m", "retouchiq"]
    if kind == "apply":
        return base + ["apply", str(photo), "--ops", str(ops)]
    if kind == "edit":
        return base + ["edit", str(photo), "-i", "warmer", "--policy", "rules"]
    return base + ["roll", str(folder), "-i", "warmer", "--policy", "rules"]


def kill_trial(kind: str, work: Path, rng: random.Random) -> None:
    """Start ``kind``, kill it (and what it started) at a random moment, check nothing was damaged, run the
    command again (a roll with --resume) and check the result holds exactly one agent edit per photo."""
    folder = work / f"{kind}-{rng.randrange(10**9)}"
    photos = make_folder(folder, 3 if kind == "roll" else 1)
    ops = folder.parent / "ops.json"
    ops.write_text(json.dumps(AGENT_OPS))
    before = {p: user_rows(Path(f"{p}.xmp")) for p in photos}
    scratch = work / "tmp"  # what a killed process cannot clean up stays in the test's folder, not in /tmp
    scratch.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        command(kind, folder, photos[0], ops),
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | {"TMPDIR": str(scratch)},
    )
    time.sleep(rng.uniform(0.05, 1.6))
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for p in photos:  # whatever the moment: a complete sidecar with the photographer's items as they were
        assert user_rows(Path(f"{p}.xmp")) == before[p], (kind, p)
        assert agent_items(Path(f"{p}.xmp")) <= 1
    again = command(kind, folder, photos[0], ops) + (["--resume"] if kind == "roll" else [])
    done = subprocess.run(again, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 or "run here before" not in done.stderr, done.stderr
    if kind == "roll":
        if done.returncode != 0:  # the first run finished before the kill: a plain rerun is refused, not doubled
            assert "--resume" in done.stderr
        for p in photos:
            assert agent_items(Path(f"{p}.xmp")) == 1, (kind, p)  # a roll re-run never doubles a layer
    else:
        assert done.returncode == 0, done.stderr
        assert 1 <= agent_items(Path(f"{photos[0]}.xmp")) <= 2
    for p in photos:
        assert user_rows(Path(f"{p}.xmp")) == before[p]
    assert temps(folder) == [], temps(folder)  # a killed writer's temporary file is removed by the next write


@pytest.mark.darktable
def test_killed_at_random_moments_nothing_is_lost(tmp_path):
    rng = random.Random(7)
    for kind in ("apply", "edit", "roll") * 8:
        kill_trial(kind, tmp_path, rng)


@pytest.mark.slow
@pytest.mark.darktable
def test_killed_at_random_moments_long(tmp_path):
    rng = random.Random(11)
    for kind in ("apply", "edit", "roll") * 70:
        kill_trial(kind, tmp_path, rng)


def test_writers_at_the_same_time_lose_nothing(tmp_path):
    """Six `retouchiq apply` on one photo at once: they take turns (a lock on the photo), all six edits land."""
    (photo,) = make_folder(tmp_path)
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps(AGENT_OPS))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "retouchiq", "apply", str(photo), "--ops", str(ops)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    assert [p.wait() for p in procs] == [0] * 6, [p.stderr.read() for p in procs]
    assert agent_items(Path(f"{photo}.xmp")) == 6 and len(user_rows(Path(f"{photo}.xmp"))) == 2


def test_a_write_meanwhile_is_not_overwritten(tmp_path, monkeypatch):
    """darktable does not take the lock: if it writes the sidecar while an edit is being made, the edit is refused
    (a clear error) and darktable's file stays."""
    from agent import edit as edit_mod
    from agent.policy import load_policy

    (photo,) = make_folder(tmp_path)
    side = Path(f"{photo}.xmp")
    theirs = user_sidecar(photo, USER_OPS + [{"module": "exposure", "params": {"exposure": -1.0}}]).to_string()
    rules = load_policy("rules")
    real = rules.edit

    def darktable_writes_meanwhile(*args, **kwargs):
        side.write_text(theirs)
        return real(*args, **kwargs)

    monkeypatch.setattr(rules, "edit", darktable_writes_meanwhile)
    with pytest.raises(SidecarError, match="changed while the edit was being made"):
        edit_mod.edit_photo(photo, "warmer", rules)
    assert side.read_text() == theirs and not backups(side)


def _in_tmpfs(folder: Path, size: str, script: str) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) with ``folder`` a tmpfs of ``size``: as root directly, else in a user namespace."""
    mount = f"mount -t tmpfs -o size={size} tmpfs {folder} && {script}; rc=$?; umount {folder}; exit $rc"
    cmd = ["sh", "-c", mount] if os.geteuid() == 0 else ["unshare", "-rm", "sh", "-c", mount]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def test_a_full_disk_is_one_line_and_leaves_everything_as_it_was(tmp_path):
    """On a tmpfs with room for the backup but not for the new sidecar: a one-line error naming the path, the old
    sidecar byte for byte, no backup left behind, no temporary file."""
    disk, src = tmp_path / "disk", tmp_path / "src"
    disk.mkdir()
    (photo,) = make_folder(src)
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps(AGENT_OPS))
    side_size = Path(f"{photo}.xmp").stat().st_size
    # tmpfs counts whole 4 KiB pages: photo + sidecar + its backup fit, the new sidecar does not
    script = (
        f"cp {photo} {photo}.xmp {disk}/ && "
        f"head -c $(( $(df --output=avail -B1 {disk} | tail -1) - {side_size} - 4096 )) /dev/zero > {disk}/fill ; "
        f"{sys.executable} -m retouchiq apply {disk / photo.name} --ops {ops}; echo rc=$?; "
        f"cmp {photo}.xmp {disk / photo.name}.xmp && echo same; ls -a {disk}"
    )
    out = _in_tmpfs(disk, "256k", script)
    assert "rc=7" in out.stdout, out.stdout + out.stderr
    error = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(error) == 1 and "no space left" in error[0] and str(disk / photo.name) in error[0], out.stderr
    assert "same" in out.stdout  # the old sidecar is intact
    listing = out.stdout.split("same", 1)[1].split()
    assert not [n for n in listing if n.endswith((".bak", ".tmp"))], listing


# runs `retouchiq ARGS` and writes its peak RSS (KiB) to the file named first: the process's own high-water mark
# (VmHWM), not the rusage of the child, which on Linux also counts the parent's pages from before the exec
PEAK = """import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    line = next(x for x in open("/proc/self/status") if x.startswith("VmHWM"))
    open(out, "w").write(line.split()[1])
atexit.register(peak)
runpy.run_module("retouchiq", run_name="__main__", alter_sys=True)
"""


def test_hostile_sidecars_are_refused_quickly_and_cheaply(tmp_path):
    """Blobs that inflate to 1 GiB (too long to be what the field can hold) or to 10 MB (short, but over the
    bound once inflated), in params, in blend params and in a module this tool does not know, and a non-ASCII
    character in a blob: each refused before the memory is spent (the CLI's peak RSS stays near its baseline)."""
    import base64
    import zlib

    def gz(size: int) -> str:  # compressed a mebibyte at a time: this process never holds the inflated blob
        pack, zeros = zlib.compressobj(9), bytes(1 << 20)
        packed = b"".join(pack.compress(zeros) for _ in range(size >> 20)) + pack.flush()
        return "gz99" + base64.b64encode(packed).decode()

    huge, small = gz(1 << 30), gz(10 << 20)
    assert len(huge) < 1_500_000 and len(small) < 20_000
    with pytest.raises(SidecarError, match="larger than"):
        codec.decode(huge, codec.PARAMS_LIMIT)
    with pytest.raises(SidecarError, match="inflates to more than"):
        codec.decode(small, codec.PARAMS_LIMIT)
    with pytest.raises(SidecarError, match="not base64"):
        codec.decode("gz10é" + "A" * 20, codec.PARAMS_LIMIT)
    (photo,) = make_folder(tmp_path)
    side = Path(f"{photo}.xmp")
    clean = side.read_text()
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps(AGENT_OPS))
    exposure = next(h for h in Sidecar.parse(clean).history if h.operation == "exposure")
    hostile = {
        "params": clean.replace(f'darktable:params="{exposure.get("params")}"', f'darktable:params="{huge}"', 1),
        "blendop_params": clean.replace(
            f'darktable:blendop_params="{exposure.get("blendop_params")}"', f'darktable:blendop_params="{huge}"', 1
        ),
        "unknown module": clean.replace('darktable:operation="exposure"', 'darktable:operation="liquify"', 1).replace(
            f'darktable:params="{exposure.get("params")}"', f'darktable:params="{small}"', 1
        ),
    }
    peak = tmp_path / "peak-kib"
    for what, text in hostile.items():
        side.write_text(text)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", PEAK, str(peak), "apply", str(photo), "--ops", str(ops)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        seconds, err = time.perf_counter() - start, proc.stderr.decode()
        assert proc.returncode == 4 and "is broken" in err, (what, err)
        assert ("inflates" if what == "unknown module" else "larger than") in err, (what, err)
        assert int(peak.read_text()) < 200 * 1024, (what, peak.read_text())  # KiB: no gigabyte was inflated
        assert seconds < 10, (what, seconds)
        assert side.read_text() == text  # refused before anything was written


def test_the_sidecar_fuzzer_finds_nothing(tmp_path):
    """A short round of tests/fuzz_sidecar.py (the long one is in docs/reliability.md)."""
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "fuzz_sidecar.py"),
            "-runs=3000",
            "-max_len=16384",
            str(tmp_path / "corpus"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0 and "Done 3000 runs" in out.stderr, out.stderr[-3000:]
