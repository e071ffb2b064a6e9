import atexit
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from darktable_bridge import apply as apply_mod
from darktable_bridge import darktable_cli, images

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg"
# sidecars darktable 4.2.1 itself wrote and read back (each was checked with darktable-cli 4.2.1)
EXAMPLES = ROOT / "tests" / "data" / "darktable-4.2" / "examples"
RENDER_WIDTH = 320


TEST_PHOTOS = [SAMPLE] + sorted((ROOT / "tests" / "data" / "photos").glob("*.jpg"))
_SPLIT_SET: list[Path] = []


def split_photo_set(n_train: int = 2, n_heldout: int = 2) -> list[Path]:
    """Copies of the bundled test photos under names that ``agent.data.split_of`` puts in each split (the split
    hashes the file name), so data tests need nothing outside the repository. Made once per session."""
    import tempfile

    from agent.data import split_of

    if not _SPLIT_SET:
        folder = Path(tempfile.mkdtemp(prefix="retouchiq-split-photos-"))
        atexit.register(shutil.rmtree, folder, True)  # gone when the test session ends
        want, i = {"train": n_train, "heldout": n_heldout}, 0
        picked: dict[str, list[Path]] = {"train": [], "heldout": []}
        while any(len(picked[k]) < n for k, n in want.items()):
            name = f"photo_{i:03d}.jpg"
            split = split_of(name)
            if len(picked[split]) < want[split]:
                shutil.copyfile(TEST_PHOTOS[i % len(TEST_PHOTOS)], folder / name)
                picked[split].append(folder / name)
            i += 1
        _SPLIT_SET.extend(picked["train"] + picked["heldout"])
    return list(_SPLIT_SET)


def pytest_collection_modifyitems(config, items):
    if shutil.which("darktable-cli"):
        return
    for item in items:
        if "darktable" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="darktable-cli is not installed"))


@pytest.fixture(scope="session")
def sample() -> Path:
    return SAMPLE


class Renderer:
    """Renders agent operations on the sample photo with darktable-cli, to linear Rec2020 floats."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.count = 0

    def sidecar(self, ops: list, photo: Path = SAMPLE) -> Path:
        self.count += 1
        path = self.tmp / f"edit{self.count}.xmp"
        sidecar = apply_mod.sidecar_of(photo, ops)
        sidecar.write(path)
        return path

    def xmp(self, xmp: Path | None, photo: Path = SAMPLE, fmt: str = "pfm", width: int = RENDER_WIDTH):
        self.count += 1
        out = self.tmp / f"render{self.count}.{fmt}"
        darktable_cli.render(photo, xmp, out, width=width, height=width)
        return images.read_pfm(out) if fmt == "pfm" else images.read_image(out)

    def ops(self, ops: list, **kw) -> np.ndarray:
        return self.xmp(self.sidecar(ops, kw.get("photo", SAMPLE)), **kw)


@pytest.fixture(scope="session")
def dt(tmp_path_factory) -> Renderer:
    return Renderer(tmp_path_factory.mktemp("dt"))


@pytest.fixture(scope="session")
def noop(dt) -> np.ndarray:
    return dt.ops([])


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


# -- a running `retouchiq serve` (the GUI and Lua tests talk to it) ----------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process ended early (rc {proc.returncode})" + steps(log))
        time.sleep(0.25)
    pytest.fail(f"{what}: nothing after {timeout:.0f} s" + steps(log))


def steps(log: Path | None) -> str:
    return f"; steps: {log.read_text() if log.exists() else 'none'}" if log else ""


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def server(tmp_path):
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "retouchiq", "serve", "--policy", "rules", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            with urllib.request.urlopen(url + "/v1/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_for(healthy, 90, "retouchiq serve", proc)
    yield url
    stop(proc)
    log.close()


# -- a fake OpenAI-compatible chat server (the remote policy's and the benchmark judge's tests) ------------------
def completion(content: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
    }


class Script:
    """What the fake server answers, one entry per request: (status, body) or ("sleep", seconds, then)."""

    def __init__(self):
        self.replies, self.requests = [], []


@pytest.fixture
def chat_server():
    """An OpenAI-compatible chat-completions server on loopback that answers from ``script.replies``."""
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            script.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            reply = script.replies.pop(0) if script.replies else (500, "script exhausted")
            if reply[0] == "sleep":
                time.sleep(reply[1])
                reply = reply[2]
            status, payload = reply
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield script
    httpd.shutdown()
    httpd.server_close()
