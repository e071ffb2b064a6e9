"""``retouchiq``: darktable edits from the command line.

Each room's jobs are subcommands registered by a ``cmd_*`` module here; every error a user can act on is an
``xmp.UserError`` whose ``exit_code`` the process exits with (docs/architecture.md lists them): one line on
stderr, no traceback.
"""

from __future__ import annotations

import argparse
import sys

from xmp import UserError

from . import cmd_bench, cmd_darktable, cmd_data, cmd_edit, cmd_plugin, cmd_serve, cmd_train

EPILOG = """examples:
  retouchiq edit photo.jpg -i "warmer, lift the shadows"   # writes photo.jpg.xmp (previous one backed up)
  retouchiq undo photo.jpg                                 # take the agent's last edit back
  retouchiq serve                                          # the API the darktable plugin talks to
  retouchiq apply photo.jpg --ops warm.json                # operations you wrote yourself
  retouchiq render photo.jpg -o preview.jpg --width 1024   # darktable-cli renders the photo with its sidecar
  retouchiq ops                                            # the modules and fields the agent may set

exit status: 0 done, 1 some photos failed, 2 bad request or arguments, 3 photo, 4 sidecar, 5 policy,
6 darktable-cli or renderer, 7 cannot write a file, 130 interrupted.
"""
COMMANDS = (cmd_edit, cmd_serve, cmd_bench, cmd_darktable, cmd_data, cmd_train, cmd_plugin)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retouchiq",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
        description="AI retouching for darktable: edits become ordinary darktable history items in the "
        "photo's XMP sidecar.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"retouchiq: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("retouchiq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
