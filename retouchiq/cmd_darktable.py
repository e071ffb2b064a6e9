"""``retouchiq apply``, ``render``, ``fidelity``, ``fit`` and ``ops``: darktable_bridge's jobs (sidecars, renders,
the renderer held to darktable-cli, the vocabulary)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.errors import RequestError
from darktable_bridge import apply as apply_mod
from darktable_bridge import darktable_cli, operations, schema
from darktable_bridge.modules import VOCABULARY
from darktable_bridge.photos import check_photo, photos_in, sidecar_path
from xmp import SidecarError

from .progress import Bar

SAMPLES = Path(__file__).resolve().parents[1] / "agent" / "samples"  # the photos bundled with the package


def _cmd_apply(args) -> int:
    edits = operations.load_operations(args.ops)
    result = apply_mod.apply_edits(args.photo, edits, args.xmp)
    print(
        f"wrote {result.sidecar} ({len(result.items)} new history item(s) on top of "
        f"{'a new sidecar' if result.source_version == 'new' else 'the existing edit, ' + result.source_version})"
    )
    if result.backup:
        print(f"previous sidecar kept as {result.backup}")
    for item in result.items:
        print(f"  + {item.describe()}")
    return 0


def _cmd_render(args) -> int:
    xmp = None if args.original else (args.xmp or sidecar_path(args.photo))
    if xmp is not None and not Path(xmp).exists():
        raise SidecarError(f"{xmp}: sidecar not found")
    if args.engine == "darktable":
        out = darktable_cli.render(
            args.photo, xmp, args.output, width=args.width, height=args.height or args.width, timeout=args.timeout
        )
        print(f"rendered {out.output} with darktable-cli {darktable_cli.version()}")
        return 0
    from darktable_bridge.render.renderer import render_file

    if args.width or args.height:
        raise RequestError(
            "--width/--height: the torch and ONNX engines render at the photo's size (1:1); "
            "resize the photo first or use --engine darktable"
        )
    check_photo(args.photo)
    render_file(args.photo, xmp, args.output, engine=args.engine)
    print(f"rendered {args.output} with the {args.engine} renderer")
    return 0


def _cmd_fidelity(args) -> int:
    from darktable_bridge import fidelity

    photos = photos_in(args.photos, raw=False)
    if not photos:
        raise RequestError(f"{args.photos}: no photos (.jpg, .png, .tif, .webp) found")
    photos = photos[: args.max_photos] if args.max_photos else photos
    unknown = [m for m in args.modules if m not in VOCABULARY]
    if unknown:
        raise RequestError(f"unknown module(s) {unknown}; known: {', '.join(VOCABULARY)}")
    if args.keep_failures and args.keep_failures.exists() and any(args.keep_failures.iterdir()):
        raise RequestError(f"{args.keep_failures} is not empty: give --keep-failures a new folder")
    total = len(args.modules) * args.draws * len(photos)
    done, bar = [0], Bar()

    def progress(name, k, n, draw):
        done[0] += 1
        bar(done[0], total, f"{name} {'pass' if draw.passed else ('error' if draw.error else 'FAIL')}")

    def module_done(results):
        if args.report:
            fidelity.write_report(results, args, Path(args.report), args.out)

    results = fidelity.run(
        args.modules,
        photos,
        args.draws,
        args.width,
        args.seed,
        args.out,
        progress,
        module_done=module_done,
        failures=args.keep_failures,
    )
    print(fidelity.table(results))
    if args.report:
        print(f"report written to {args.report}", file=sys.stderr)
    if args.keep_failures:
        kept = args.keep_failures / "failures.jsonl"
        print(f"failing draws kept in {args.keep_failures}" if kept.exists() else "no draw failed", file=sys.stderr)
    return 0


def _cmd_fit(args) -> int:
    from darktable_bridge import fit as fit_mod

    for p in (args.before, args.after):
        check_photo(p)
    bar = Bar()

    def progress(k, n, loss):
        if k % 20 == 0 or k == n:
            bar(k, n, f"loss {loss:.4f}")

    try:
        result = fit_mod.fit(args.before, args.after, args.modules, size=args.size, steps=args.steps, progress=progress)
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    edits = operations.parse_operations({"operations": result.operations})
    written = apply_mod.apply_edits(args.before, edits, args.output)
    print(json.dumps({"operations": result.operations, "loss": result.loss}, indent=2))
    print(f"wrote {written.sidecar}", file=sys.stderr)
    return 0


def _cmd_ops(args) -> int:
    if args.json_schema:
        json.dump(schema.operations_schema(), sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    for m in VOCABULARY.values():
        kind = "stacks as a new instance" if m.stack else "edited in place"
        print(f"{m.name} ({m.gui_name}, v{m.struct.version}, {kind}): {m.doc}")
        for p in m.params:
            unit = f" {p.unit}" if p.unit else ""
            rng = f"[{p.min:g}, {p.max:g}]{unit}" if p.kind != "choice" else f"one of {list(p.choices)}"
            print(f"    {p.name:24s} {rng:22s} {p.doc}  — {p.gui}")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "apply",
        help="merge an operations file into a photo's darktable sidecar",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Add the operations of OPS.json as new darktable history items on top of the "
        "photo's sidecar (created if missing). The previous sidecar is kept as a "
        "timestamped .bak next to it; the write is atomic.",
        epilog="example:\n  retouchiq apply photo.jpg --ops ops.json\n\nOPS.json:\n"
        '  {"operations": [{"module": "exposure", "params": {"exposure": 0.5}},\n'
        '                  {"module": "channelmixerrgb", "params": {"temperature": 6000}}]}',
    )
    p.add_argument("photo", help="the photo (JPEG, PNG, TIFF or raw)")
    p.add_argument("--ops", required=True, help='JSON file: {"operations": [...]} (see `retouchiq ops`)')
    p.add_argument("--xmp", help="sidecar to write (default: PHOTO.<ext>.xmp, darktable's name)")
    p.set_defaults(func=_cmd_apply)

    p = sub.add_parser(
        "render",
        help="render a photo with a sidecar",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Render PHOTO with sidecar X. --engine darktable runs darktable-cli in a "
        "private configuration and fails if darktable drops any module of the sidecar. "
        "Output: .jpg/.png/.tif (8-bit sRGB) or .pfm (linear Rec2020 float).",
        epilog="example:\n  retouchiq render photo.jpg --xmp photo.jpg.xmp -o after.jpg --width 1024",
    )
    p.add_argument("photo")
    p.add_argument("--xmp", help="sidecar (default: PHOTO.<ext>.xmp)")
    p.add_argument("--original", action="store_true", help="ignore any sidecar: darktable's default rendering")
    p.add_argument("-o", "--output", required=True, help="output file (.jpg, .png, .tif or .pfm)")
    p.add_argument("--width", type=int, default=0, help="bound on the long side in pixels (0 = full size)")
    p.add_argument("--height", type=int, default=0, help="bound on the height (default: same as --width)")
    p.add_argument(
        "--engine",
        default="darktable",
        choices=["darktable", "torch", "onnx"],
        help="darktable-cli (ground truth, default), or the torch / ONNX re-implementation (non-raw photos, 1:1 size)",
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds before darktable-cli is stopped")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser(
        "fidelity",
        help="measure the torch renderer against darktable-cli (ΔE00, PSNR)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Random params per module (uniform over each field's documented range, "
        "sometimes a mask), rendered by darktable-cli and by the renderer at the same "
        "size; per module mean/p95/max ΔE00, PSNR and the pass rate at darktable's "
        "integration-test thresholds (mean ≤ 0.767, max ≤ 2.3).",
        epilog="example:\n  retouchiq fidelity --modules exposure sigmoid --draws 20 --width 1024 "
        "--out docs/img/fidelity --report docs/fidelity.md",
    )
    p.add_argument("--modules", nargs="+", default=list(VOCABULARY), help="modules (default: all)")
    p.add_argument(
        "--photos",
        type=Path,
        default=SAMPLES,
        help="folder of photos (default: the sample photos bundled with the package)",
    )
    p.add_argument("--max-photos", type=int, default=5, help="use the first N photos (default 5, 0 = all)")
    p.add_argument("--draws", type=int, default=20, help="draws per module and photo")
    p.add_argument("--width", type=int, default=1024, help="long side of the renders")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="folder for the worst case per module (PNG)")
    p.add_argument("--report", help="write a Markdown report (e.g. docs/fidelity.md)")
    p.add_argument(
        "--keep-failures",
        type=Path,
        metavar="DIR",
        help="keep every draw over the thresholds in DIR: photo, sidecar, both renders, ΔE00 map, "
        "failures.jsonl (params, worst pixel)",
    )
    p.set_defaults(func=_cmd_fidelity)

    p = sub.add_parser(
        "fit",
        help="find darktable params that turn BEFORE into AFTER (match a look)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Gradient descent through the torch renderer on the chosen modules' params, "
        "then the result is written as darktable history for BEFORE.",
        epilog="example:\n  retouchiq fit before.jpg graded.jpg -o before.jpg.xmp",
    )
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument(
        "--modules", nargs="+", help="modules to fit (default: exposure channelmixerrgb colorbalancergb toneequal)"
    )
    p.add_argument("-o", "--output", help="sidecar to write (default BEFORE.<ext>.xmp)")
    p.add_argument("--size", type=int, default=256, help="long side used while fitting")
    p.add_argument("--steps", type=int, default=200)
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser(
        "ops",
        help="list the vocabulary (modules, fields, ranges) or print its JSON Schema",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The operations the agent speaks: darktable module names, params struct "
        "fields in darktable's stored units, their ranges and GUI equivalents.",
        epilog="example:\n  retouchiq ops --json-schema > ops.schema.json",
    )
    p.add_argument("--json-schema", action="store_true", help="print the JSON Schema instead of the table")
    p.set_defaults(func=_cmd_ops)
