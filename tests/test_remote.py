"""The OpenAI-compatible remote policy against a real HTTP server on loopback, started here, that speaks the
chat-completions format: valid replies, malformed JSON, out-of-range values, 500s, timeouts, refusals."""

import base64
import io
import json
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

from agent.errors import PolicyError
from agent.policy import load_policy
from darktable_bridge import apply as apply_mod
from darktable_bridge.photos import preview as load_preview
from retouchiq.cli import main
from xmp.sidecar import Sidecar

from conftest import completion

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"
VALID = (
    'The frame is a little dark and cool.\n```json\n{"operations": [{"module": "exposure", "params": '
    '{"exposure": 0.4}}, {"module": "channelmixerrgb", "params": {"temperature": 6000}}]}\n```'
)


@pytest.fixture
def fast_env(monkeypatch):
    monkeypatch.setenv("RETOUCHIQ_REMOTE_TIMEOUT", "1")
    monkeypatch.setenv("RETOUCHIQ_REMOTE_RETRIES", "2")
    monkeypatch.setenv("RETOUCHIQ_API_KEY", "sekret")
    monkeypatch.setattr("agent.policy.remote.MAX_BACKOFF", 0.05)


def test_a_valid_reply_becomes_a_sidecar(chat_server, fast_env, tmp_path, capsys):
    chat_server.replies = [(200, completion(VALID))]
    photo = tmp_path / "p.jpg"
    shutil.copyfile(PHOTO, photo)
    assert (
        main(
            [
                "edit",
                str(photo),
                "-i",
                "brighter and warmer",
                "--policy",
                f"openai:{chat_server.url}#qwen2.5vl:7b",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["reasoning"] == "The frame is a little dark and cool."
    ops = [h.operation for h in Sidecar.read(apply_mod.sidecar_path(photo)).history]
    assert "exposure" in ops and "channelmixerrgb" in ops
    (req,) = chat_server.requests
    assert req["path"] == "/v1/chat/completions" and req["headers"]["Authorization"] == "Bearer sekret"
    body = req["json"]
    assert body["model"] == "qwen2.5vl:7b" and body["messages"][0]["role"] == "system"
    assert "colorbalancergb" in body["messages"][0]["content"]
    image_part, text_part = body["messages"][1]["content"]
    assert text_part["text"].endswith("Instruction: brighter and warmer")
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as im:
        assert im.format == "JPEG" and max(im.size) <= 768


def test_malformed_json_gets_a_repair_round(chat_server, fast_env):
    chat_server.replies = [
        (200, completion('Sure! {"operations": [{"module": "exposure", "params": {"exposure": 0.4}')),
        (200, completion(VALID)),
    ]
    res = load_policy(f"openai:{chat_server.url}#m").edit(load_preview(PHOTO), "brighter")
    assert res.extra["attempts"] == 2 and len(chat_server.requests) == 2
    repair = chat_server.requests[1]["json"]["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-2]["content"].startswith("Sure!")
    assert "not a valid edit" in repair[-1]["content"] and "no JSON object" in repair[-1]["content"]


def test_out_of_range_twice_is_a_clear_error_and_nothing_is_written(chat_server, fast_env, tmp_path, capsys):
    bad = completion('```json\n{"operations": [{"module": "exposure", "params": {"exposure": 12}}]}\n```')
    chat_server.replies = [(200, bad), (200, bad)]
    photo = tmp_path / "p.jpg"
    shutil.copyfile(PHOTO, photo)
    assert (
        main(["edit", str(photo), "-i", "much brighter", "--policy", f"openai:{chat_server.url}#m"]) == 5
    )  # a policy that cannot produce a valid edit
    err = capsys.readouterr().err
    assert "could not produce a valid edit" in err and "exposure.exposure" in err and "out of range" in err
    assert "out of range [-4, 4]" in chat_server.requests[1]["json"]["messages"][-1]["content"]
    assert not apply_mod.sidecar_path(photo).exists()


def test_server_errors_are_retried_then_reported(chat_server, fast_env):
    chat_server.replies = [(500, "boom"), (503, "busy"), (200, completion(VALID))]
    assert load_policy(f"openai:{chat_server.url}#m").edit(load_preview(PHOTO), "brighter").operations
    chat_server.replies, chat_server.requests[:] = [(500, "boom")] * 3, []
    with pytest.raises(PolicyError, match=r"failed 3 time\(s\): HTTP 500: boom"):
        load_policy(f"openai:{chat_server.url}#m").edit(load_preview(PHOTO), "brighter")
    assert len(chat_server.requests) == 3


def test_a_timeout_is_retried_then_reported(chat_server, fast_env, monkeypatch):
    monkeypatch.setenv("RETOUCHIQ_REMOTE_RETRIES", "1")
    chat_server.replies = [("sleep", 1.6, (200, completion(VALID)))] * 2
    t0 = time.perf_counter()
    with pytest.raises(PolicyError, match=r"failed 2 time\(s\): no answer within 1 s"):
        load_policy(f"openai:{chat_server.url}#m").edit(load_preview(PHOTO), "brighter")
    assert time.perf_counter() - t0 < 6


@pytest.mark.parametrize(
    "reply, says",
    [
        ((401, {"error": "bad key"}), "RETOUCHIQ_API_KEY"),
        ((404, {"error": "model 'm' not found"}), "model name"),
        ((200, {"nothing": "here"}), "not an OpenAI chat completion"),
        ((200, "<html>proxy page</html>"), "not an OpenAI chat completion"),
    ],
)
def test_refusals_and_foreign_answers_are_clear_errors_without_retry(chat_server, fast_env, reply, says):
    chat_server.replies = [reply]
    with pytest.raises(PolicyError, match=says):
        load_policy(f"openai:{chat_server.url}#m").edit(load_preview(PHOTO), "brighter")
    assert len(chat_server.requests) == 1


def test_nothing_listening_and_bad_specs(fast_env, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("RETOUCHIQ_REMOTE_RETRIES", "0")
    with pytest.raises(PolicyError, match="cannot connect"):
        load_policy(f"openai:http://127.0.0.1:{port}/v1#m").edit(load_preview(PHOTO), "brighter")
    with pytest.raises(PolicyError, match="name the model"):
        load_policy("openai:http://127.0.0.1:1/v1")
    with pytest.raises(PolicyError, match="http:// or https://"):
        load_policy("openai:ftp://x#m")
    monkeypatch.setenv("RETOUCHIQ_REMOTE_TIMEOUT", "soon")
    with pytest.raises(PolicyError, match="expected a number"):
        load_policy("openai:http://127.0.0.1:1/v1#m")


def test_the_server_can_run_the_remote_policy(chat_server, fast_env):
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import Settings

    spec = f"openai:{chat_server.url}#m"
    chat_server.replies = [(200, completion(VALID))]
    with TestClient(create_app(Settings(policy=spec)), base_url="http://127.0.0.1") as client:
        data = PHOTO.read_bytes()
        r = client.post(
            "/v1/edit",
            files={"preview": ("p.jpg", data, "image/jpeg")},
            data={"instruction": "brighter and warmer", "options": json.dumps({"policy": spec})},
        )
        assert r.status_code == 200, r.text
        assert [op["module"] for op in r.json()["operations"]] == ["exposure", "channelmixerrgb"]
        assert client.get("/v1/health").json()["policy"] == spec
