"""`retouchiq edit` of one photo beside darktable-cli rendering the same photo, turn about, in fresh processes.

    .venv/bin/python benchmarks/edit.py [--photo PHOTO] [--runs 5]

Each turn runs, one after the other: darktable-cli exporting the photo at full size (its private configuration,
as `retouchiq render` runs it); `retouchiq edit` on a fresh copy (no sidecar yet); `retouchiq edit` again on that
copy, now with the sidecar the first edit wrote (the current look is rendered by darktable-cli first, at the
preview's 1024 px). Wall time and peak RSS of each process (its own rusage), medians over the turns, and the
ratio to darktable-cli's median. The target (issue 25): the first edit ≤ 1.2× darktable-cli, ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg"
INSTRUCTION = "lift the shadows and make it warmer"


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed: {err[-500:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photo", type=Path, default=PHOTO)
    ap.add_argument("--runs", type=int, default=5, help="turns (medians over them)")
    args = ap.parse_args()
    exe = shutil.which("darktable-cli") or sys.exit("darktable-cli not found")
    retouchiq = [sys.executable, "-m", "retouchiq", "edit"]
    rows: dict[str, list[tuple[float, float]]] = {"darktable-cli": [], "edit": [], "edit, sidecar": []}
    with tempfile.TemporaryDirectory(prefix="retouchiq-bench-edit-") as tmp:
        tmp = Path(tmp)
        config = tmp / "darktable-config"
        for turn in range(args.runs + 1):  # the first turn warms the disk cache and darktable's config
            photo = tmp / f"turn{turn}{args.photo.suffix}"
            shutil.copyfile(args.photo, photo)
            out = tmp / f"turn{turn}-dt.jpg"
            samples = {
                "darktable-cli": timed(
                    [
                        exe,
                        str(args.photo),
                        str(out),
                        "--apply-custom-presets",
                        "false",
                        "--core",
                        "--configdir",
                        str(config),
                        "--disable-opencl",
                    ]
                ),
                "edit": timed(retouchiq + [str(photo), "-i", INSTRUCTION]),
                "edit, sidecar": timed(retouchiq + [str(photo), "-i", "a bit brighter"]),
            }
            if turn:
                for name, sample in samples.items():
                    rows[name].append(sample)
    base = statistics.median(w for w, _ in rows["darktable-cli"])
    print(f"`retouchiq edit` beside darktable-cli on {args.photo.name}, {args.runs} turns, medians")
    print("| process | wall | × darktable-cli | peak RSS |")
    print("|---|---:|---:|---:|")
    for name, samples in rows.items():
        wall = statistics.median(w for w, _ in samples)
        rss = statistics.median(r for _, r in samples)
        print(f"| {name} | {wall:.2f} s | {wall / base:.2f} | {rss:.0f} MB |")


if __name__ == "__main__":
    main()
