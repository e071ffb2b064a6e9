"""Sidecar speed: write a 20-operation agent sidecar, parse a 200-item history (median of repeated runs).

    .venv/bin/python benchmarks/xmp_io.py [--repeat 200]

Targets (issue 2): write < 5 ms, parse < 20 ms. darktable-cli's own load+render of the same 20-operation sidecar
is timed once for scale (the sidecar step is a small part of an edit).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from darktable_bridge import apply as apply_mod
from darktable_bridge import darktable_cli, operations
from xmp.sidecar import Sidecar

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=200)
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
    print("| task | median ms | target |\n|---|---|---|")
    print(f"| write a 20-operation sidecar (validate, merge, encode, atomic write) | {write_ms:.2f} | < 5 |")
    print(f"| parse a 200-item history and decode every params struct | {parse_ms:.2f} | < 20 |")
    print(f"| darktable-cli: load that sidecar and render 1024 px (once, for scale) | {dt_ms} | — |")


if __name__ == "__main__":
    main()
