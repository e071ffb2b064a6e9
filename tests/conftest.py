import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from darktable_bridge import apply as apply_mod, darktable_cli, images, operations

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg"
# validated darktable 4.2.1 sidecars and facts, copied from shared/reference/darktable-4.2
EXAMPLES = ROOT / "tests" / "data" / "darktable-4.2" / "examples"
RENDER_WIDTH = 320


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
        sidecar, _ = apply_mod.build_sidecar(photo, operations.parse_operations({"operations": ops}), None)
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
