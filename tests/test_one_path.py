"""One request, one path: the command line and the server answer the same request with the same sidecar bytes
(the plugin's part, writing the server's bytes unaltered, is checked under darktable in test_gui.py)."""

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from agent.policy import load_policy
from darktable_bridge import photos
from retouchiq.cli import main
from server.app import create_app
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(Settings(policy="compact"), load_policy("compact")), base_url="http://127.0.0.1") as c:
        yield c


def ask(client, preview: bytes, instruction: str, sidecar: str | None, filename: str) -> dict:
    data = {"instruction": instruction, "options": f'{{"filename": "{filename}"}}'}
    if sidecar is not None:
        data["sidecar"] = sidecar
    r = client.post("/v1/edit", files={"preview": (filename, preview, "image/jpeg")}, data=data)
    assert r.status_code == 200, r.text
    return r.json()


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.darktable
def test_cli_and_server_write_the_same_sidecar(client, tmp_path, capsys):
    photo = Path(shutil.copy(PHOTO, tmp_path / "peaks.jpg"))
    side = photos.sidecar_path(photo)
    # a photo without an edit: the server gets the photo's own bytes as the preview
    assert main(["edit", str(photo), "-i", "lift the shadows and make it warmer"]) == 0
    first = side.read_text()
    answer = ask(client, PHOTO.read_bytes(), "lift the shadows and make it warmer", None, photo.name)
    assert answer["xmp"] == first
    # on top of that edit: the server gets what the plugin sends, the current look (rendered here as the CLI
    # renders it) and the current sidecar
    look = photos.preview(photo, sidecar=side)
    assert main(["edit", str(photo), "-i", "a bit darker"]) == 0
    answer = ask(client, png(look), "a bit darker", first, photo.name)
    assert answer["xmp"] == side.read_text() and answer["xmp"] != first
    # nothing to change: the CLI writes nothing and the server answers no sidecar
    before = side.read_bytes()
    assert main(["edit", str(photo), "-i", "leave it as it is"]) == 0
    assert side.read_bytes() == before and "nothing to change" in capsys.readouterr().out
    assert ask(client, png(look), "leave it as it is", first, photo.name)["xmp"] is None
