"""``retouchiq data synth`` and ``retouchiq eval``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.data import read_samples, split_of
from agent.errors import RequestError
from darktable_bridge.photos import photos_in

from .progress import Bar


def _cmd_synth(args) -> int:
    from agent.data import synth

    photos = sorted(
        {p.name: p for folder in args.photos for p in photos_in(folder, raw=False)}.values(), key=lambda p: p.name
    )
    if args.split:
        photos = [p for p in photos if split_of(p) == args.split]
    bar = Bar()
    try:
        summary = synth.synth(
            photos,
            args.n,
            args.out,
            seed=args.seed,
            size=args.size,
            progress=lambda k, n: bar(k, n, "samples"),
            fast=args.fast,
        )
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    print(
        f"wrote {args.n} samples from {len(photos)} photos to {args.out / 'samples.jsonl'} "
        f"in {summary['seconds']:.1f} s"
    )
    if summary["unused_slots"]:
        print(f"slots left out (their module is not in the torch renderer): {', '.join(summary['unused_slots'])}")
    for key, count in summary["counts"].items():
        print(f"  {key}: {count}")
    return 0


def _cmd_eval(args) -> int:
    from agent import eval as eval_mod

    samples = read_samples(args.data, args.split, args.max)
    if not samples:
        raise RequestError(f"{args.data}: no {args.split} samples")
    if any(s["target"] is None for s in samples):
        print(
            f"{args.data}: made by `retouchiq data synth --fast` (no target images): each target is its operations "
            f"rendered by the {args.engine} engine, and style and local samples were not checked",
            file=sys.stderr,
        )
    specs = [s.strip() for s in args.policies.split(",") if s.strip()]
    report = eval_mod.evaluate(samples, args.data, specs, args.engine, progress=Bar())
    if args.json:
        json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print(eval_mod.markdown(report))
    if args.report:
        eval_mod.write_json(report, args.report)
        print(f"per-sample results written to {args.report}", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "data",
        help="training data: instruction → reasoning → edit samples",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Synthesise training data in three task families (enhance, style, local).",
        epilog="example:\n  retouchiq data synth --photos ~/Pictures/roll --n 2000 --out data/train",
    )
    dsub = p.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    s = dsub.add_parser(
        "synth",
        help="write OUT/samples.jsonl, OUT/images, OUT/targets",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Draw N samples from a folder of photos: instruction, reasoning from the photo's "
        "measurements, target slot values and operations, requested directions; input "
        "and target images rendered by the torch renderer. Deterministic by seed; a "
        "photo's split (train / heldout) depends on its file name only.",
        epilog="example:\n  retouchiq data synth --photos ~/Pictures/roll --n 500 --out data/mine --seed 1",
    )
    s.add_argument(
        "--photos",
        type=Path,
        nargs="+",
        required=True,
        metavar="DIR",
        help="folder(s) of .jpg/.png/.tif/.webp photos; several folders are used together, ordered by file name",
    )
    s.add_argument(
        "--split",
        choices=["train", "heldout"],
        help="only the photos of this split (by file name, as every sample's `split`); default: all",
    )
    s.add_argument("--n", type=int, default=1000, help="number of samples (default 1000)")
    s.add_argument("--out", type=Path, required=True, help="output folder")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--size", type=int, default=384, help="long side of the images in pixels (default 384)")
    s.add_argument(
        "--fast",
        action="store_true",
        help="training data for the compact policy: no target images (target null), style and local "
        "inputs share their photo's image, only enhance samples checked; use with --size 128",
    )
    s.set_defaults(func=_cmd_synth)

    p = sub.add_parser(
        "eval",
        help="policies on held-out samples: direction accuracy, ΔE00 and SSIM to target",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Each sample's input gets the policy's operations as a darktable sidecar, "
        "rendered by darktable-cli (or --engine torch). Reported per task family, "
        "overall, and apart for the banks' wordings and the 50 unseen paraphrases. "
        "Built-in policies: noop (no edit) and target (the sample's own operations).",
        epilog="example:\n  retouchiq eval --split heldout --data data/train --policies compact,rules,noop --max 100",
    )
    p.add_argument("--data", type=Path, required=True, help="a folder written by `retouchiq data synth`")
    p.add_argument("--split", default="heldout", choices=["heldout", "train"])
    p.add_argument("--policies", default="compact,rules,noop", help="comma-separated policy specs")
    p.add_argument("--max", type=int, default=0, help="first N samples of the split (0 = all)")
    p.add_argument("--engine", default="darktable", choices=["darktable", "torch"])
    p.add_argument("--json", action="store_true", help="print the summary and per-sample results as JSON")
    p.add_argument("--report", type=Path, help="also write the JSON report to this file")
    p.set_defaults(func=_cmd_eval)
