"""The plugin's Lua tests (lua/tests/*.lua), run by lua5.4 as darktable 4.2 runs the plugin (Lua 5.4).

test_client/test_plugin use a stub of darktable's Lua API; test_live drives the plugin with real curl against
a real `retouchiq serve --policy rules`.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LUA = shutil.which("lua5.4")


def run_lua(name: str, **env: str) -> str:
    assert LUA, "lua5.4 is not installed (apt-get install lua5.4; .ci/run does)"
    proc = subprocess.run(
        [LUA, "lua/tests/run.lua", f"lua/tests/{name}.lua"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **env),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    passed = re.search(r"(\d+) passed, 0 failed", out)
    assert passed and int(passed.group(1)) >= 3, out
    return out


@pytest.mark.parametrize("name", ["test_client", "test_plugin"])
def test_lua_unit(name):
    run_lua(name)


def test_lua_against_the_server(server):
    run_lua("test_live", RETOUCHIQ_TEST_URL=server)
