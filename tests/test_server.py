"""The local server: real uvicorn on loopback ports, the rules policy, and the abuse a network service gets."""

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image

from agent.policy import EditResult, load_policy
from darktable_bridge import apply as apply_mod
from darktable_bridge import operations
from server.app import create_app
from server.settings import MB, Settings, SettingsError
from xmp.sidecar import Sidecar

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "data" / "darktable-4.2" / "examples"
TOKEN = "t0ken-for-the-tests-only"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jpeg(w: int = 256, h: int = 170, seed: int = 0, quality: int = 90) -> bytes:
    """A smooth gradient with a little noise: compresses like a photo, decodes like one."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x / w * 200, y / h * 180, (x + y) / (w + h) * 120], -1) + rng.normal(0, 6, (h, w, 3)) + 30
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


class Served:
    """uvicorn serving ``app`` in a thread on a free loopback port."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, timeout_graceful_shutdown=2
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            assert time.time() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)

    def close(self):
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Slow:
    """The rules policy slowed down so calls overlap; records what it was asked and how many ran at once."""

    def __init__(self, inner, seconds: float):
        self.inner, self.seconds, self.name = inner, seconds, inner.name
        self.lock = threading.Lock()
        self.seen: list[str] = []
        self.running = self.max_running = 0

    def edit(self, image, instruction, history=None):
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            time.sleep(self.seconds)
            return self.inner.edit(image, instruction, history)
        finally:
            with self.lock:
                self.running -= 1
                self.seen.append(instruction)


@pytest.fixture(scope="module")
def rules():
    return load_policy("rules")


@pytest.fixture(scope="module")
def served(rules):
    s = Served(create_app(Settings(policy="rules", max_queue=16), rules))
    yield s
    s.close()


@pytest.fixture()
def client(served):
    with httpx.Client(base_url=served.url, timeout=60) as c:
        yield c


def post_edit(c, data: bytes, instruction="brighter and warmer", sidecar=None, options=None, name="p.jpg"):
    form = {"instruction": instruction}
    if sidecar is not None:
        form["sidecar"] = sidecar
    if options is not None:
        form["options"] = options if isinstance(options, str) else json.dumps(options)
    return c.post("/v1/edit", files={"preview": (name, data, "image/jpeg")}, data=form)


def test_edit_merges_like_retouchiq_apply(client, tmp_path):
    """The returned sidecar is byte for byte what `retouchiq apply` writes next to the photo."""
    base = (EXAMPLES / "exposure_plus1ev_v30jpg.xmp").read_text()
    r = post_edit(
        client,
        jpeg(1024, 683),
        "make it brighter and warmer",
        sidecar=base,
        options={"filename": "IMG_7.jpg", "policy": "rules"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reasoning"] and body["operations"]
    assert "median L*" in body["reasoning"] and body["summary"] and "L*" not in body["summary"]  # plain words too
    assert {"exposure", "channelmixerrgb"} <= {op["module"] for op in body["operations"]}
    photo = tmp_path / "IMG_7.jpg"
    photo.write_bytes(jpeg(64, 48))
    (tmp_path / "IMG_7.jpg.xmp").write_text(base)
    label = operations.instance_label("make it brighter and warmer")  # the server names instances by the request
    apply_mod.apply_edits(photo, operations.parse_operations({"operations": body["operations"]}, label))
    assert body["xmp"] == (tmp_path / "IMG_7.jpg.xmp").read_text()
    as_file = client.post(
        "/v1/edit",
        files={
            "preview": ("p.jpg", jpeg(1024, 683), "image/jpeg"),
            "sidecar": ("IMG_7.jpg.xmp", base.encode(), "application/rdf+xml"),
        },
        data={"instruction": "make it brighter and warmer", "options": '{"filename": "IMG_7.jpg"}'},
    )
    assert as_file.json()["xmp"] == body["xmp"]  # curl -F sidecar=@IMG_7.jpg.xmp works as well as the text
    merged, before = Sidecar.parse(body["xmp"]), Sidecar.parse(base)
    assert len(merged.history) == len(before.history) + len(body["operations"])
    assert [h.attrs for h in merged.history[: len(before.history)]] == [h.attrs for h in before.history]


def test_new_sidecar_follows_the_photo_name(client):
    """No sidecar: a new one, in the module order darktable uses for that kind of file."""
    jpg = Sidecar.parse(post_edit(client, jpeg(), "brighter").json()["xmp"])
    raw = Sidecar.parse(post_edit(client, jpeg(), "brighter", options={"filename": "IMG_1.CR2"}).json()["xmp"])
    assert jpg.iop_order_version == 3 and jpg.auto_presets_applied
    # a raw darktable has not developed: its v3.0 RAW order (with the agent's instance 1 listed), its defaults
    # left for darktable to apply under the agent's items
    assert raw.iop_order_list[:3] == [("rawprepare", 0), ("invert", 0), ("temperature", 0)]
    assert not raw.auto_presets_applied and ("exposure", 1) in raw.iop_order_list
    assert raw.description.get("{http://ns.adobe.com/xap/1.0/mm/}DerivedFrom") == "IMG_1.CR2"
    assert jpg.description.get("{http://ns.adobe.com/xap/1.0/mm/}DerivedFrom") == "preview.jpg"


def test_odd_but_valid_previews_are_accepted(client):
    """Greyscale, 16-bit and palette PNGs and a 4000 px JPEG are previews too (converted, downscaled)."""

    def png(img, **kw):
        buf = io.BytesIO()
        img.save(buf, "PNG", **kw)
        return buf.getvalue()

    grad = np.linspace(0, 65535, 200 * 300, dtype=np.uint32).reshape(200, 300)
    for data in (
        png(Image.fromarray(grad.astype(np.uint16))),
        png(Image.fromarray((grad >> 8).astype(np.uint8)).convert("P")),
        png(Image.fromarray((grad >> 8).astype(np.uint8))),
        jpeg(4000, 2600, quality=60),
    ):
        r = post_edit(client, data, "brighter")
        assert r.status_code == 200, r.text


BAD = [
    ("not an image", lambda: dict(data=b"%PDF-1.7 this is not a picture"), 400, "preview: not a JPEG or PNG"),
    ("empty upload", lambda: dict(data=b""), 400, "upload is empty"),
    ("truncated JPEG", lambda: dict(data=jpeg(512, 400)[:3000]), 400, "preview: damaged or truncated JPEG"),
    ("malformed sidecar", lambda: dict(data=jpeg(), sidecar="<x:xmpmeta><rdf:RDF>"), 400, "sidecar: malformed"),
    ("foreign XML sidecar", lambda: dict(data=jpeg(), sidecar="<a/>"), 400, "sidecar: not an XMP packet"),
    (
        "entity bomb sidecar",
        lambda: dict(data=jpeg(), sidecar='<!DOCTYPE x [<!ENTITY a "aaa">]><x/>'),
        400,
        "sidecar declares a DTD",
    ),
    ("dot-dot filename", lambda: dict(data=jpeg(), options={"filename": "../../.bashrc"}), 422, "no '..'"),
    ("folder in filename", lambda: dict(data=jpeg(), options={"filename": "/etc/IMG.jpg"}), 422, "plain file name"),
    ("options not JSON", lambda: dict(data=jpeg(), options="{filename: x"), 422, "options: Invalid JSON"),
    ("unknown option", lambda: dict(data=jpeg(), options={"path": "x"}), 422, "options.path"),
    ("other policy", lambda: dict(data=jpeg(), options={"policy": "vlm:/x"}), 422, "runs the 'rules' policy"),
    ("empty instruction", lambda: dict(data=jpeg(), instruction="   "), 422, "empty instruction"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_a_clear_4xx_and_the_server_keeps_serving(client, case):
    _, make, status, message = case
    r = post_edit(client, **make())
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    assert post_edit(client, jpeg(), "brighter").status_code == 200


def test_missing_fields_name_the_field(client):
    r = client.post("/v1/edit", data={"instruction": "brighter"})
    assert (r.status_code, r.json()["detail"]) == (422, "preview: Field required")


def test_a_policy_that_fails_is_a_422(rules):
    class Wild:
        name = "wild"

        def edit(self, image, instruction, history=None):
            return EditResult("too much", [{"module": "exposure", "params": {"exposure": 99.0}}])

    c = TestClient(create_app(Settings(policy="wild"), Wild()), base_url="http://127.0.0.1")
    r = c.post("/v1/edit", files={"preview": ("a.jpg", jpeg(), "image/jpeg")}, data={"instruction": "x"})
    assert r.status_code == 422
    assert "could not produce a valid edit" in r.json()["detail"] and "exposure" in r.json()["detail"]

    class Broken:
        name = "broken"

        def edit(self, image, instruction, history=None):
            raise ZeroDivisionError("a bug")

    c = TestClient(
        create_app(Settings(policy="broken"), Broken()), base_url="http://127.0.0.1", raise_server_exceptions=False
    )
    r = c.post("/v1/edit", files={"preview": ("a.jpg", jpeg(), "image/jpeg")}, data={"instruction": "x"})
    assert (r.status_code, r.json()["detail"]) == (500, "internal error: ZeroDivisionError: a bug")
    assert c.get("/v1/health").json()["queue_depth"] == 0  # the failed call gave its queue slot back


def test_token(rules):
    with pytest.raises(SettingsError, match="token is required"):
        Settings(host="0.0.0.0", policy="rules")
    with pytest.raises(SettingsError, match="at least 16"):
        Settings(host="0.0.0.0", token="short")
    c = TestClient(
        create_app(Settings(host="0.0.0.0", policy="rules", token=TOKEN), rules), base_url="http://127.0.0.1"
    )
    assert c.get("/v1/health").status_code == 401
    assert c.get("/v1/health", headers={"Authorization": "Bearer wrong-token-of-some-length"}).status_code == 401
    r = c.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["policy"] == "rules"
    assert c.get("/openapi.json").status_code == 200  # the spec is no secret


def test_health_ops_and_docs(client):
    h = client.get("/v1/health").json()
    assert h["status"] == "ok" and h["policy"] == "rules" and h["queue_bound"] == 16 and h["version"]
    ops = client.get("/v1/ops").json()
    assert "exposure" in json.dumps(ops) and ops.get("$schema", "").startswith("http")
    spec = client.get("/openapi.json").json()
    assert {"/v1/edit", "/v1/rolls", "/v1/rolls/{roll_id}", "/v1/health", "/v1/ops"} <= set(spec["paths"])
    assert "swagger" in client.get("/docs").text.lower()


def wait_roll(c, roll_id, until, timeout=60):
    deadline = time.time() + timeout
    while True:
        status = c.get(f"/v1/rolls/{roll_id}").json()
        if until(status) or time.time() > deadline:
            return status
        time.sleep(0.05)


def test_roll_runs_every_photo_and_reports_each(client):
    base = (EXAMPLES / "exposure_plus1ev_v30jpg.xmp").read_text()
    previews = [("previews", (f"{i}.jpg", b"not a jpeg" if i == 2 else jpeg(seed=i), "image/jpeg")) for i in range(5)]
    form = {
        "instruction": "brighter",
        "sidecars": ["", base, "", "", ""],
        "options": json.dumps({"filenames": [f"IMG_{i}.jpg" for i in range(5)]}),
    }
    r = client.post("/v1/rolls", files=previews, data=form)
    assert r.status_code == 202, r.text
    status = wait_roll(client, r.json()["id"], lambda s: s["state"] == "done")
    assert (status["state"], status["total"], status["done"], status["failed"]) == ("done", 5, 4, 1)
    photos = status["photos"]
    assert [p["filename"] for p in photos] == [f"IMG_{i}.jpg" for i in range(5)]
    assert "preview: not a JPEG or PNG" in photos[2]["error"]
    assert len(Sidecar.parse(photos[1]["xmp"]).history) == len(Sidecar.parse(base).history) + len(
        photos[1]["operations"]
    )
    assert all(p["operations"] and Sidecar.parse(p["xmp"]) for p in photos if p["state"] == "done")


def test_consistent_roll_shares_one_look(tmp_path):
    """agent.edit's consistency: shared style knobs, each frame's exposure pulled to the roll's level. The
    compact network is randomly initialised here (the shipped weights are not what is tested)."""
    import torch

    from agent.policy import compact
    from agent.policy.compact_net import CompactNet, Config, save

    torch.manual_seed(0)
    net = CompactNet(Config(n_stats=len(compact.STATS), hidden=32))
    policy = compact.load(str(save(tmp_path / "random.onnx", net, list(compact.STATS), {})))
    frame, darker = jpeg(seed=1), io.BytesIO()
    Image.fromarray((np.asarray(Image.open(io.BytesIO(frame))) * 0.35).astype(np.uint8)).save(darker, "JPEG")
    files = [
        ("previews", (f"{i}.jpg", data, "image/jpeg"))
        for i, data in enumerate([frame, darker.getvalue(), frame, b"broken"])
    ]
    with TestClient(
        create_app(Settings(policy="compact"), policy), base_url="http://127.0.0.1"
    ) as c:  # keeps the loop the roll runs on
        r = c.post("/v1/rolls", files=files, data={"instruction": "give the roll a warm film look", "consistent": "1"})
        assert r.status_code == 202, r.text
        status = wait_roll(c, r.json()["id"], lambda s: s["state"] == "done")
    assert [p["state"] for p in status["photos"]] == ["done", "done", "done", "failed"]
    ops = [
        {(o["module"], json.dumps(o["params"], sort_keys=True)) for o in p["operations"]} for p in status["photos"][:3]
    ]
    exposure = [
        next(o["params"]["exposure"] for o in p["operations"] if o["module"] == "exposure")
        for p in status["photos"][:3]
    ]
    assert ops[0] == ops[2]  # the same frame gets the same edit
    assert exposure[1] > exposure[0] + 0.5  # the darker frame is lifted to the roll's level
    style = {m for m, _ in ops[0] if m not in ("exposure", "channelmixerrgb")}
    assert all({m for m, _ in o if m in style} == style for o in ops)  # one look: the same style modules


def test_consistent_roll_needs_a_predicting_policy(client):
    files = [("previews", ("a.jpg", jpeg(), "image/jpeg"))]
    r = client.post("/v1/rolls", files=files, data={"instruction": "warmer", "consistent": "true"})
    assert r.status_code == 422 and "needs the compact policy" in r.json()["detail"]


def test_roll_input_errors(client):
    files = [("previews", ("a.jpg", jpeg(), "image/jpeg"))] * 2
    r = client.post("/v1/rolls", files=files, data={"instruction": "x", "sidecars": ["", "", ""]})
    assert r.status_code == 400 and "3 given for 2 previews" in r.json()["detail"]
    r = client.post("/v1/rolls", files=files, data={"instruction": "x", "options": '{"filenames": ["a", "../b"]}'})
    assert r.status_code == 422 and "no '..'" in r.json()["detail"]
    r = client.get("/v1/rolls/nope")
    assert r.status_code == 404 and "no roll 'nope'" in r.json()["detail"]


@pytest.fixture(scope="module")
def slow(rules):
    policy = Slow(rules, 0.2)
    s = Served(create_app(Settings(policy="rules", max_queue=4, workers=2), policy))
    s.policy = policy
    yield s
    s.close()


def test_roll_progress_and_cancel(slow):
    with httpx.Client(base_url=slow.url, timeout=60) as c:
        files = [("previews", (f"{i}.jpg", jpeg(seed=i), "image/jpeg")) for i in range(30)]
        r = c.post("/v1/rolls", files=files, data={"instruction": "cooler"})
        assert r.status_code == 202 and r.json()["total"] == 30
        roll_id = r.json()["id"]
        status = wait_roll(c, roll_id, lambda s: s["done"] >= 2)
        assert status["state"] == "running" and 2 <= status["done"] < 30
        assert c.get("/v1/health").json()["rolls_active"] == 1
        r = c.delete(f"/v1/rolls/{roll_id}")
        final = r.json()
        assert r.status_code == 200 and final["state"] == "cancelled" and final["finished"]
        assert final["done"] >= 2 and final["cancelled"] >= 1 and final["done"] + final["cancelled"] == 30
        assert all(p["state"] == "cancelled" for p in final["photos"][final["done"] :])
        assert c.get(f"/v1/rolls/{roll_id}").status_code == 404
        h = c.get("/v1/health").json()
        assert (h["queue_depth"], h["rolls_active"]) == (0, 0)  # the roll's queue slot came back


def test_50_simultaneous_edits_every_one_answered_bound_honoured(slow):
    bound, policy = 4, slow.policy
    before = len(policy.seen)
    preview = jpeg(320, 213)
    depths = []

    async def burst():
        async with httpx.AsyncClient(base_url=slow.url, timeout=60, limits=httpx.Limits(max_connections=60)) as c:

            async def one(i):
                return i, await c.post(
                    "/v1/edit",
                    files={"preview": ("p.jpg", preview, "image/jpeg")},
                    data={"instruction": f"brighter #{i}"},
                )

            async def watch():
                for _ in range(40):
                    depths.append((await c.get("/v1/health")).json()["queue_depth"])
                    await asyncio.sleep(0.02)

            results, _ = await asyncio.gather(asyncio.gather(*(one(i) for i in range(50))), watch())
            return results

    results = asyncio.run(burst())
    codes = {i: r.status_code for i, r in results}
    assert len(codes) == 50 and set(codes.values()) <= {200, 503}
    ok = {i for i, code in codes.items() if code == 200}
    busy = [r for _, r in results if r.status_code == 503]
    assert len(ok) >= bound and busy, codes
    assert all(int(r.headers["Retry-After"]) >= 1 and "busy" in r.json()["detail"] for r in busy)
    for i, r in results:
        if i in ok:
            assert r.json()["operations"] and Sidecar.parse(r.json()["xmp"])
    # none lost: exactly the answered requests reached the policy, each once
    assert sorted(policy.seen[before:]) == sorted(f"brighter #{i}" for i in ok)
    assert max(depths) <= bound and slow.server.config.app.state.queue.peak <= bound
    assert policy.max_running <= 2  # --workers
    with httpx.Client(base_url=slow.url) as c:
        assert c.get("/v1/health").json()["queue_depth"] == 0
        assert post_edit(c, preview).status_code == 200


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory):
    """`retouchiq serve` as a user starts it, in its own process (its memory is measured)."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "retouchiq", "serve", "--policy", "rules", "--port", str(port), "--max-queue", "4"],
            cwd=ROOT,
            stderr=err,
            stdout=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(url + "/v1/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.time() < deadline, log.read_text()
        time.sleep(0.1)
    yield proc, url, log
    proc.terminate()
    assert proc.wait(20) == -signal.SIGTERM  # uvicorn shuts down, then lets the signal end the process
    assert "Application shutdown complete." in log.read_text()


def memory(pid: int) -> dict[str, int]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: int(v.split()[0]) * 1024 for k, v in (row.split(":", 1) for row in lines) if k in ("VmRSS", "VmHWM")}


def test_100mb_upload_is_refused_without_being_read(cli_server):
    proc, url, _ = cli_server
    host, port = "127.0.0.1", int(url.rsplit(":", 1)[1])
    # a client announcing 100 MB and sending 64 KB is answered at once: the server does not wait for the body
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(
            b"POST /v1/edit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 104857600\r\n\r\n" + b"\0" * 65536
        )
        answer = s.makefile("rb")
        status = answer.readline()
        headers = dict(line.rstrip().lower().split(b": ", 1) for line in iter(answer.readline, b"\r\n"))
        length = int(headers[b"content-length"])
        detail = json.loads(answer.read(length))["detail"]
    assert status.startswith(b"HTTP/1.1 413") and detail == "request body too large: /v1/edit accepts at most 32 MB"
    before = memory(proc.pid)
    head, chunk = b'--b\r\nContent-Disposition: form-data; name="preview"; filename="big.jpg"\r\n\r\n', b"\0" * MB

    def body():
        yield head
        for _ in range(100):
            yield chunk

    with httpx.Client(base_url=url, timeout=60) as c:
        headers = {"Content-Type": "multipart/form-data; boundary=b"}
        sized = c.post("/v1/edit", content=body(), headers=headers | {"Content-Length": str(100 * MB + len(head))})
        streamed = c.post("/v1/edit", content=body(), headers=headers)  # chunked: no length to go by
        for r in (sized, streamed):
            assert r.status_code == 413 and "accepts at most 32 MB" in r.json()["detail"]
        assert c.get("/v1/health").status_code == 200
    after = memory(proc.pid)
    assert after["VmHWM"] - max(before["VmHWM"], before["VmRSS"]) < 30 * MB, (before, after)


def test_cli_serve_logs_json_and_refuses_an_open_host_without_token(cli_server):
    proc, url, log = cli_server
    httpx.get(url + "/v1/health")
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(e["msg"] == "ready" and e["policy"] == "rules" for e in lines)
    assert any(e["msg"] == "request" and e["path"] == "/v1/health" and e["status"] == 200 for e in lines)
    env = {k: v for k, v in os.environ.items() if k != "RETOUCHIQ_TOKEN"}
    out = subprocess.run(
        [sys.executable, "-m", "retouchiq", "serve", "--host", "0.0.0.0", "--policy", "rules"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "a token is required" in out.stderr


def test_only_loopback_callers_and_no_web_pages(cli_server):
    """DNS rebinding: a page on attacker.example that points its name at 127.0.0.1 sends Host: attacker.example
    (and its Origin); both are refused before anything is done. The plugin (curl) sends neither."""
    _, url, _ = cli_server
    port = url.rsplit(":", 1)[1]
    assert httpx.get(url + "/v1/health").status_code == 200
    for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert httpx.get(url + "/v1/health", headers={"Host": host}).status_code == 200, host
    for headers, says in (
        ({"Host": "attacker.example"}, "Host"),
        ({"Host": f"attacker.example:{port}"}, "Host"),
        ({"Origin": "http://attacker.example"}, "web pages"),
        ({"Origin": "null"}, "web pages"),
    ):
        r = httpx.post(
            url + "/v1/edit",
            headers=headers,
            files={"preview": ("a.jpg", jpeg(), "image/jpeg")},
            data={"instruction": "warmer"},
        )
        assert r.status_code == 403 and says in r.json()["detail"], (headers, r.text)
    assert httpx.get(url + "/v1/health", headers={"Origin": url}).status_code == 200  # its own docs page


def test_an_unauthenticated_upload_is_refused_before_it_is_read(rules):
    """With a token, a request without it is answered 401 at once: the server does not wait for its body."""
    with Served(create_app(Settings(host="0.0.0.0", policy="rules", token=TOKEN), rules)) as served:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
            s.sendall(
                b"POST /v1/edit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 30000000\r\n\r\n" + b"\0" * 1024
            )
            answer = s.makefile("rb")
            status = answer.readline()
            headers = dict(line.rstrip().lower().split(b": ", 1) for line in iter(answer.readline, b"\r\n"))
            detail = json.loads(answer.read(int(headers[b"content-length"])))["detail"]
        assert status.startswith(b"HTTP/1.1 401") and "token" in detail


def test_a_busy_port_is_one_line_and_no_start():
    """`retouchiq serve` on a port another program listens on: one line saying so, exit 2, never 'ready'."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "retouchiq", "serve", "--policy", "rules", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0], proc.stderr
    assert "ready" not in proc.stderr


def test_the_docs_page_works_offline(rules):
    """/docs needs nothing from the internet: every script, style and icon it names is served here, also when the
    server runs with a token (the API's description is public; the API is not)."""
    import re

    c = TestClient(
        create_app(Settings(policy="rules", token="s3cret-s3cret-s3cret"), rules), base_url="http://127.0.0.1"
    )
    page = c.get("/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    links = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', page.text) + re.findall(r"url: *'([^']+)'", page.text)
    assert links and not [u for u in links if "://" in u or u.startswith("//")], links
    for url in links:
        r = c.get(url)
        assert r.status_code == 200 and len(r.content) > 100, url
    assert c.get("/redoc").status_code in (401, 404)  # no second page that would load from a CDN
    assert c.get("/v1/health").status_code == 401
