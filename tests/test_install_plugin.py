"""`retouchiq install-plugin`: the plugin's files land in <config>/lua, luarc requires it once, luarc is backed up."""

import shlex
import shutil
import subprocess
from pathlib import Path

from retouchiq.cli import main

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ["retouchiq.lua", "retouchiq/json.lua", "retouchiq/client.lua"]


def install(config: Path, capsys) -> tuple[int, str]:
    rc = main(["install-plugin", "--config-dir", str(config)])
    out = capsys.readouterr()
    return rc, out.out + out.err


def test_fresh_config(tmp_path, capsys):
    config = tmp_path / "darktable"
    rc, out = install(config, capsys)
    assert rc == 0, out
    for rel in PLUGIN:
        assert (config / "lua" / rel).read_bytes() == (ROOT / "lua" / rel).read_bytes()
    assert (config / "luarc").read_text() == 'require "retouchiq"\n'
    assert f'added require "retouchiq" to {config / "luarc"}' in out


def test_again_changes_nothing(tmp_path, capsys):
    config = tmp_path / "darktable"
    install(config, capsys)
    before = sorted(p.relative_to(config) for p in config.rglob("*"))
    rc, out = install(config, capsys)
    assert rc == 0 and "already loads the plugin" in out and "copied" not in out
    assert sorted(p.relative_to(config) for p in config.rglob("*")) == before
    assert (config / "luarc").read_text().count("retouchiq") == 1


def test_existing_luarc_is_kept_and_backed_up(tmp_path, capsys):
    config = tmp_path / "darktable"
    config.mkdir()
    (config / "luarc").write_text('require "tools/script_manager"')  # no newline at the end
    (config / "lua" / "retouchiq").mkdir(parents=True)
    (config / "lua" / "retouchiq.lua").write_text("-- an older version")
    rc, out = install(config, capsys)
    assert rc == 0, out
    assert (config / "luarc").read_text() == 'require "tools/script_manager"\nrequire "retouchiq"\n'
    backups = list(config.glob("luarc.retouchiq-*.bak"))
    assert len(backups) == 1 and backups[0].read_text() == 'require "tools/script_manager"'
    assert f"previous luarc kept as {backups[0]}" in out
    assert f"copied {config / 'lua' / 'retouchiq.lua'}" in out  # the older plugin is replaced
    assert (config / "lua" / "retouchiq.lua").read_bytes() == (ROOT / "lua" / "retouchiq.lua").read_bytes()


def test_other_spellings_of_the_require_count(tmp_path, capsys):
    config = tmp_path / "darktable"
    config.mkdir()
    (config / "luarc").write_text("-- mine\n  require('retouchiq')\n")
    rc, out = install(config, capsys)
    assert rc == 0 and "already loads the plugin" in out
    assert (config / "luarc").read_text() == "-- mine\n  require('retouchiq')\n"
    assert not list(config.glob("luarc.*.bak"))


def test_config_dir_that_is_a_file(tmp_path, capsys):
    config = tmp_path / "darktable"
    config.write_text("not a folder")
    rc, out = install(config, capsys)
    assert rc == 2 and "not a folder" in out


def test_installed_plugin_loads_where_darktable_looks(tmp_path, capsys):
    """darktable puts <config>/lua/?.lua on package.path; the installed files must load from there alone."""
    config = tmp_path / "darktable"
    install(config, capsys)
    script = (
        f'package.path = "{config}/lua/?.lua;{ROOT}/lua/tests/?.lua"\n'
        'local dt = require("darktable_stub").new()\n'
        'local plugin = require("darktable_stub").load(dt)\n'
        'assert(type(plugin.apply) == "function" and dt.libs_registered[1][1] == "retouchiq")\n'
        'assert(package.searchpath("retouchiq.json", package.path):find("' + str(config) + '", 1, true))\n'
        'print(dt.defaults["retouchiq/server_command"])\n'
        'print("loaded")'
    )
    proc = subprocess.run(
        [shutil.which("lua5.4") or "lua5.4", "-e", script], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0 and proc.stdout.split("\n")[1:] == ["loaded", ""], proc.stdout + proc.stderr
    # auto-start runs this installation's server by its full path: darktable's PATH need not hold the venv
    command = proc.stdout.split("\n")[0]
    exe = shlex.split(command)[0]
    assert Path(exe).is_absolute() and command.endswith(" serve"), command
    ran = subprocess.run(shlex.split(command)[:-1] + ["--help"], capture_output=True, text=True, timeout=60, env={})
    assert ran.returncode == 0 and "retouchiq" in ran.stdout, ran.stderr
