"""Sidecar speed: write a 20-operation agent sidecar, parse a 200-item history (median of repeated runs), and
hostile sidecars: a 60 000-item history merged by `retouchiq apply`, decompression bombs refused by it and by the
server (wall time and peak RSS of each process, medians).

    .venv/bin/python benchmarks/xmp_io.py [--repeat 200] [--hostile-repeat 5]

Targets (issue 2): write < 5 ms, parse < 20 ms. Issue 24: a 60 k-item sidecar merged < 5 s; a bomb refused in
< 0.5 s and < 100 MB RSS (the refusal itself; the process's start-up and imports are the rest of its time and
memory, shown by `apply` on an ordinary sidecar beside it). darktable-cli's own load+render of the same
20-operation sidecar is timed once for scale (the sidecar step is a small part of an edit).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from darktable_bridge import apply as apply_mod
from darktable_bridge import darktable_cli, operations
from xmp.sidecar import HistoryItem, Sidecar

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg"

OPS = [
    {"module": "exposure", "params": {"exposure": 0.3}},
    {"module": "channelmixerrgb", "params": {"temperature": 5800, "tint": 0.1}},
    {"module": "colorbalancergb", "params": {"vibrance": 0.2, "contrast": 0.1}},
    {"module": "toneequal", "params": {"shadows": 0.5, "blacks": 0.4}},
    {"module": "rgbcurve", "params": {"curve_nodes": [[[0, 0], [0.3, 0.35], [1, 1]]]}},
    {
        "module": "exposure",
        "instance": "sky",
        "params": {"exposure": -0.5},
        "mask": {"type": "gradient", "anchor": [0.5, 0.3]},
    },
    {
        "module": "exposure",
        "instance": "subject",
        "params": {"exposure": 0.3},
        "mask": {"type": "ellipse", "center": [0.4, 0.5], "radius": [0.2, 0.25]},
    },
    {"module": "bilat", "params": {"detail": 0.3}},
    {"module": "vignette", "params": {"brightness": -0.3}},
    {"module": "sigmoid", "params": {"middle_grey_contrast": 1.6}},
] * 2


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# `retouchiq ARGS` in a fresh process that writes its own peak RSS (VmHWM, KiB) to the file named first. The
# rusage of a child would not do: on Linux it also counts the pages this (larger) process had before the exec.
RETOUCHIQ_WITH_PEAK = """import atexit, runpy, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(
    next(x for x in open("/proc/self/status") if x.startswith("VmHWM")).split()[1]))
runpy.run_module("retouchiq", run_name="__main__", alter_sys=True)
"""


def run(args: list[str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, exit code) of one `retouchiq ARGS` process."""
    with tempfile.NamedTemporaryFile() as peak:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", RETOUCHIQ_WITH_PEAK, peak.name, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        return wall, int(Path(peak.name).read_text() or 0) / 1024, proc.returncode


def gz_bomb(size: int) -> str:
    pack, zeros = zlib.compressobj(9), bytes(1 << 20)
    packed = b"".join(pack.compress(zeros) for _ in range(size >> 20)) + pack.flush()
    return "gz99" + base64.b64encode(packed).decode()


def server_bomb(photo: Path, sidecar: str) -> tuple[float, float, int]:
    """`retouchiq serve`'s answer to an upload whose sidecar is a bomb: (seconds, growth of the server's peak
    RSS in MB, HTTP status)."""
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "retouchiq", "serve", "--policy", "rules", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)

        def hwm() -> float:
            line = next(x for x in Path(f"/proc/{proc.pid}/status").read_text().splitlines() if x.startswith("VmHWM"))
            return int(line.split()[1]) / 1024

        before = hwm()
        start = time.perf_counter()
        r = httpx.post(
            url + "/v1/edit",
            files={"preview": ("p.jpg", photo.read_bytes(), "image/jpeg")},
            data={"instruction": "warmer", "sidecar": sidecar},
            timeout=120,
        )
        return time.perf_counter() - start, hwm() - before, r.status_code
    finally:
        proc.terminate()
        proc.wait(20)


def hostile_rows(tmp: Path, repeat: int) -> dict[str, tuple[float, float, int]]:
    """Medians over ``repeat`` fresh processes of `retouchiq apply` on hostile sidecars, and of the server's
    answer to a bomb (its process's peak RSS before and after)."""
    photo = tmp / "p.jpg"
    photo.write_bytes(PHOTO.read_bytes())
    ops = tmp / "ops.json"
    ops.write_text(json.dumps({"operations": [{"module": "exposure", "params": {"exposure": 0.3}}]}))
    user = apply_mod.sidecar_of(photo, [{"module": "exposure", "params": {"exposure": 0.1}}])
    item = user.history[0]
    plain = user.to_string()
    # darktable's items without blending (as exposure_no_blendop.xmp): 60 000 of them fit the 16 MiB sidecar limit
    bare = {k: v for k, v in item.attrs.items() if not k.endswith(("blendop_params", "blendop_version"))}
    bare["{http://darktable.sf.net/}multi_name"] = ""  # the photographer's own items are unnamed
    user.history = [HistoryItem({**bare, "{http://darktable.sf.net/}num": str(i)}) for i in range(60_000)]
    user.history_end = 60_000
    big = user.to_string()
    bomb = plain.replace(
        f'darktable:blendop_params="{item.get("blendop_params")}"', f'darktable:blendop_params="{gz_bomb(1 << 30)}"'
    )
    small = plain.replace('darktable:operation="exposure"', 'darktable:operation="liquify"').replace(
        f'darktable:params="{item.get("params")}"', f'darktable:params="{gz_bomb(64 << 20)}"'
    )
    cases = {
        "apply on an ordinary sidecar (start-up and imports)": plain,
        f"apply on a 60 000-item sidecar ({len(big) / 1e6:.1f} MB): merged": big,
        "apply on a 1 GiB bomb in blend params: refused": bomb,
        "apply on a 64 MiB bomb in an unknown module's params: refused": small,
    }
    out = {"server: /v1/edit with the 1 GiB bomb as its sidecar: 400": server_bomb(photo, bomb)}
    side = tmp / "p.jpg.xmp"
    for name, text in cases.items():
        samples = []
        for _ in range(repeat):
            side.write_text(text)
            samples.append(run(["apply", str(photo), "--ops", str(ops)]))
        out[name] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), samples[-1][2])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--hostile-repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        edits = operations.parse_operations({"operations": OPS})

        def write20():
            sidecar = apply_mod.sidecar_of(PHOTO, OPS)
            sidecar.write(tmp / "w.xmp")

        big, _ = apply_mod.build_sidecar(PHOTO, edits, None)
        for _ in range(9):  # ten agent sessions on the same photo: a 200-item history
            apply_mod.build_sidecar(PHOTO, edits, big)
        assert len(big.history) == 200
        big.write(tmp / "big.xmp")

        def parse200():
            s = Sidecar.read(tmp / "big.xmp")
            for item in s.history:
                item.decoded()

        write_ms = median_ms(write20, args.repeat)
        parse_ms = median_ms(parse200, args.repeat)
        write20()
        t = time.perf_counter()
        try:
            darktable_cli.render(PHOTO, tmp / "w.xmp", tmp / "out.png", width=1024, height=1024)
            dt_ms = f"{(time.perf_counter() - t) * 1000:.0f}"
        except darktable_cli.DarktableError as exc:
            dt_ms = f"n/a ({exc})"
        hostile = hostile_rows(tmp, args.hostile_repeat)
    print("| task | median ms | target |\n|---|---|---|")
    print(f"| write a 20-operation sidecar (validate, merge, encode, atomic write) | {write_ms:.2f} | < 5 |")
    print(f"| parse a 200-item history and decode every params struct | {parse_ms:.2f} | < 20 |")
    print(f"| darktable-cli: load that sidecar and render 1024 px (once, for scale) | {dt_ms} | — |")
    print()
    print("| hostile input (fresh process each) | wall s | peak RSS MB | exit |\n|---|---|---|---|")
    for name, (wall, rss, code) in hostile.items():
        print(f"| {name} | {wall:.2f} | {rss:.0f} | {code} |")


if __name__ == "__main__":
    main()
