"""``retouchiq install-plugin``: put the darktable plugin into a darktable configuration folder.

Copies ``retouchiq.lua`` and ``retouchiq/*.lua`` into ``<config>/lua/`` (where darktable's ``require`` looks)
and adds ``require "retouchiq"`` to ``<config>/luarc`` once; an existing luarc is backed up first. Writes
``<config>/lua/retouchiq/installed.lua`` with the command that starts this installation's server, by its full
path: the plugin's "server command" preference defaults to it, so auto-start works whatever darktable's PATH is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path

from xmp import UserError, WriteError
from xmp.files import atomic_write, backup

REQUIRE = 'require "retouchiq"'
LOADED = re.compile(r"""^\s*require\s*\(?\s*["']retouchiq["']""", re.M)

EPILOG = """examples:
  retouchiq install-plugin                             # ~/.config/darktable (darktable's default)
  retouchiq install-plugin --config-dir ~/dt-test      # a darktable started with --configdir ~/dt-test
then start darktable: the RetouchIQ panel is in lighttable (right) and darkroom (left); run `retouchiq serve`.
"""


def default_config_dir() -> Path:
    """darktable's own choice: $XDG_CONFIG_HOME/darktable, else ~/.config/darktable."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "darktable"


def plugin_files() -> dict[str, bytes]:
    """The plugin's files (package data of the ``lua`` folder), by path relative to ``<config>/lua``."""
    import lua  # a namespace package: importlib.resources trips over editable installs' path hooks (3.11)

    root = next((Path(p) for p in lua.__path__ if (Path(p) / "retouchiq.lua").is_file()), None)
    if root is None:
        raise FileNotFoundError("the plugin's Lua files are missing from this installation of retouchiq")
    files = {"retouchiq.lua": (root / "retouchiq.lua").read_bytes()}
    for f in sorted((root / "retouchiq").glob("*.lua")):
        files[f"retouchiq/{f.name}"] = f.read_bytes()
    return files


def server_command() -> str:
    """The shell command that starts this installation's server from anywhere (no PATH needed)."""
    exe = Path(sys.executable).parent / "retouchiq"  # the venv's own script, next to its python
    if exe.is_file() and os.access(exe, os.X_OK):
        return f"{shlex.quote(str(exe))} serve"
    return f"{shlex.quote(sys.executable)} -m retouchiq serve"


def installed_lua() -> bytes:
    # a JSON string (no \u escapes) is a Lua string literal
    command = json.dumps(server_command(), ensure_ascii=False)
    return (
        "-- written by `retouchiq install-plugin`: the command that starts this installation's server, the\n"
        "-- default of the plugin's 'server command' preference\n"
        f"return {{server_command = {command}}}\n"
    ).encode()


def install(config: Path) -> list[str]:
    """Install into ``config``; returns what was done, one line each. Running it again only refreshes files."""
    if config.exists() and not config.is_dir():
        raise UserError(f"{config}: not a folder (give darktable's configuration folder)")
    done = []
    files = plugin_files()
    files["retouchiq/installed.lua"] = installed_lua()
    for rel, data in files.items():
        target = config / "lua" / rel
        if target.exists() and target.read_bytes() == data:
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteError(f"{target.parent}: cannot create the folder: {exc.strerror or exc}") from None
        atomic_write(target, data)
        done.append(f"copied {target}")
    luarc = config / "luarc"
    text = luarc.read_text(encoding="utf-8") if luarc.exists() else ""
    if LOADED.search(text):
        done.append(f"{luarc} already loads the plugin")
    else:
        if luarc.exists():
            done.append(f"previous luarc kept as {backup(luarc)}")
        sep = "" if not text or text.endswith("\n") else "\n"
        atomic_write(luarc, f"{text}{sep}{REQUIRE}\n".encode())
        done.append(f"added {REQUIRE} to {luarc}")
    return done


def _cmd_install_plugin(args) -> int:
    config = Path(args.config_dir).expanduser()
    lines = install(config)
    for line in lines or ["nothing to do"]:
        print(line)
    print(
        "restart darktable to load it; the plugin talks to `retouchiq serve` (http://127.0.0.1:8765); "
        f"with auto-start on (preferences > lua options) it runs: {server_command()}"
    )
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "install-plugin",
        help="install the darktable plugin (Lua) into darktable's config",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
        description="Copy the RetouchIQ Lua plugin into <config>/lua/ and add "
        f"'{REQUIRE}' to <config>/luarc once (an existing luarc is backed up "
        "as luarc.retouchiq-<time>.bak). Safe to run again, e.g. after an "
        "upgrade.",
    )
    p.add_argument(
        "--config-dir",
        default=str(default_config_dir()),
        help="darktable's configuration folder (default: %(default)s)",
    )
    p.set_defaults(func=_cmd_install_plugin)
