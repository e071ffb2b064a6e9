"""Coverage-guided fuzzing of the sidecar path: read → check → merge an edit → write → read again.

    .venv/bin/python tests/fuzz_sidecar.py -runs=1000000 -max_len=65536 CORPUS_DIR

atheris (libFuzzer for Python) mutates the corpus — darktable's own sidecars (tests/data/darktable-4.2/examples)
and ones this tool wrote, copied into CORPUS_DIR on the first run — towards new code paths. Every input must end
in one of two ways: refused with the project's own error (``xmp.UserError``), or merged into a sidecar that reads
back with the photographer's active items unchanged, byte for byte, and the agent's items after them. Anything
else — another exception, a changed user item — is a crash that libFuzzer reports with the input that made it.
``tests/test_reliability.py`` runs a short round of it in CI; docs/reliability.md has the long run's result.
"""

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["xmp", "darktable_bridge.apply", "darktable_bridge.operations"]):
    from darktable_bridge.apply import check_known_items, merge
    from darktable_bridge.operations import parse_operations
    from xmp import UserError
    from xmp.sidecar import Sidecar

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "tests" / "data" / "darktable-4.2" / "examples").glob("*.xmp"))
EDITS = parse_operations(
    {
        "operations": [
            {"module": "exposure", "params": {"exposure": 0.5}},
            {"module": "sigmoid", "params": {"middle_grey_contrast": 1.6}},
            {
                "module": "exposure",
                "instance": "sky",
                "params": {"exposure": -0.4},
                "mask": {"type": "gradient", "anchor": [0.5, 0.4], "rotation": 0, "compression": 0.3},
            },
        ]
    }
)


def one(data: bytes) -> None:
    try:
        sidecar = check_known_items(Sidecar.parse(data))
        before = [dict(h.attrs) for h in sidecar.active_history()]
        merged = merge("photo.jpg", EDITS, sidecar)
    except UserError:
        return
    again = Sidecar.parse(merged.text)
    assert [dict(h.attrs) for h in again.history[: len(before)]] == before, "a user item changed"
    added = again.history[len(before) : len(before) + len(merged.items)]
    assert [h.operation for h in added] == ["exposure", "sigmoid", "exposure"], "the edit is not on top"
    assert again.history_end == len(before) + len(merged.items), "the edit is not active"


def prepare(corpus: Path) -> None:
    """Seed an empty corpus with darktable's sidecars and this tool's own."""
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    for i, seed in enumerate(SEEDS):
        data = seed.read_bytes()
        (corpus / f"darktable-{i}.xmp").write_bytes(data)
        (corpus / f"merged-{i}.xmp").write_text(merge("photo.jpg", EDITS, Sidecar.parse(data)).text)


if __name__ == "__main__":
    dirs = [a for a in sys.argv[1:] if not a.startswith("-")]
    if dirs:
        prepare(Path(dirs[0]))
    atheris.Setup(sys.argv, lambda data: one(bytes(data)))
    atheris.Fuzz()
