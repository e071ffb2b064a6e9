"""``retouchiq``: darktable edits from the command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from darktable_bridge import apply as apply_mod, darktable_cli, operations, schema
from darktable_bridge.modules import VOCABULARY
from xmp import SidecarError

EPILOG_MAIN = """examples:
  retouchiq apply photo.jpg --ops warm.json          # writes photo.jpg.xmp (merged, previous one backed up)
  retouchiq render photo.jpg --xmp photo.jpg.xmp -o preview.jpg --width 1024
  retouchiq ops                                      # the modules and fields the agent may set
  retouchiq ops --json-schema > ops.schema.json
"""


def _cmd_apply(args) -> int:
    edits = operations.load_operations(args.ops)
    result = apply_mod.apply_edits(args.photo, edits, args.xmp)
    print(f"wrote {result.sidecar} ({len(result.items)} new history item(s) on top of "
          f"{'a new sidecar' if result.source_version == 'new' else 'the existing edit, ' + result.source_version})")
    if result.backup:
        print(f"previous sidecar kept as {result.backup}")
    for item in result.items:
        print(f"  + {item.describe()}")
    return 0


def _cmd_render(args) -> int:
    if args.engine != "darktable":
        raise SidecarError(f"engine {args.engine!r} is not available yet; use --engine darktable")
    xmp = None if args.original else (args.xmp or apply_mod.sidecar_path(args.photo))
    if xmp is not None and not Path(xmp).exists():
        raise SidecarError(f"{xmp}: sidecar not found")
    out = darktable_cli.render(args.photo, xmp, args.output, width=args.width, height=args.height or args.width,
                               timeout=args.timeout)
    print(f"rendered {out.output} with darktable-cli {darktable_cli.version()}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retouchiq", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG_MAIN,
        description="AI retouching for darktable: edits become ordinary darktable history items in the "
                    "photo's XMP sidecar.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("apply", help="merge an operations file into a photo's darktable sidecar",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Add the operations of OPS.json as new darktable history items on top of the "
                                   "photo's sidecar (created if missing). The previous sidecar is kept as a "
                                   "timestamped .bak next to it; the write is atomic.",
                       epilog='example:\n  retouchiq apply photo.jpg --ops ops.json\n\nOPS.json:\n'
                              '  {"operations": [{"module": "exposure", "params": {"exposure": 0.5}},\n'
                              '                  {"module": "channelmixerrgb", "params": {"temperature": 6000}}]}')
    p.add_argument("photo", help="the photo (JPEG, PNG, TIFF or raw)")
    p.add_argument("--ops", required=True, help='JSON file: {"operations": [...]} (see `retouchiq ops`)')
    p.add_argument("--xmp", help="sidecar to write (default: PHOTO.<ext>.xmp, darktable's name)")
    p.set_defaults(func=_cmd_apply)

    p = sub.add_parser("render", help="render a photo with a sidecar",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Render PHOTO with sidecar X. --engine darktable runs darktable-cli in a "
                                   "private configuration and fails if darktable drops any module of the sidecar. "
                                   "Output: .jpg/.png/.tif (8-bit sRGB) or .pfm (linear Rec2020 float).",
                       epilog="example:\n  retouchiq render photo.jpg --xmp photo.jpg.xmp -o after.jpg --width 1024")
    p.add_argument("photo")
    p.add_argument("--xmp", help="sidecar (default: PHOTO.<ext>.xmp)")
    p.add_argument("--original", action="store_true", help="ignore any sidecar: darktable's default rendering")
    p.add_argument("-o", "--output", required=True, help="output file (.jpg, .png, .tif or .pfm)")
    p.add_argument("--width", type=int, default=0, help="bound on the long side in pixels (0 = full size)")
    p.add_argument("--height", type=int, default=0, help="bound on the height (default: same as --width)")
    p.add_argument("--engine", default="darktable", choices=["darktable"], help="renderer (default darktable)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds before darktable-cli is stopped")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser("ops", help="list the vocabulary (modules, fields, ranges) or print its JSON Schema",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="The operations the agent speaks: darktable module names, params struct "
                                   "fields in darktable's stored units, their ranges and GUI equivalents.",
                       epilog="example:\n  retouchiq ops --json-schema > ops.schema.json")
    p.add_argument("--json-schema", action="store_true", help="print the JSON Schema instead of the table")
    p.set_defaults(func=_cmd_ops)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SidecarError, darktable_cli.DarktableError) as exc:
        print(f"retouchiq: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("retouchiq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
