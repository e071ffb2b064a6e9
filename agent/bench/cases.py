"""The benchmark's cases: reading ``cases.jsonl`` with clear errors, and the checks every case must pass.

A case: an id, a family (enhance, style, local), a photo (a clean one of ``photos/``, or for enhance a flawed
one of ``sources/`` made from a clean one), three wordings of one request (``short``, ``detailed``,
``expert``), the target edit (operations in the action format) and its sidecar (``targets/<id>.xmp``), and the
attributes the request must move and which way (``agent.measure.directions``'s names).

The wordings are written for the benchmark, not drawn from the synthesis banks: ``bank_overlap`` finds any run
of four words a wording shares with a bank phrasing (placeholders filled with every amount the banks use), runs
of stop words only aside. A benchmark of the banks' own phrasings would measure recall of templates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from agent.errors import RequestError
from agent.measure import ATTRIBUTE_NAMES
from darktable_bridge.operations import parse_operations
from xmp import SidecarError

FAMILIES = ("enhance", "style", "local")
VARIANTS = ("short", "detailed", "expert")
RUN = 4  # words in a row a wording may not share with a bank phrasing
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "retoucheval"
FIELDS = {"id", "family", "photo", "variants", "operations", "sidecar", "attributes", "origin", "flaw", "notes"}


class CaseError(RequestError):
    """A case file that cannot be used as it is (the message names the case, the field and why)."""


@dataclass
class Case:
    id: str
    family: str
    photo: Path  # the photo the request is about (absolute)
    variants: dict[str, str]
    operations: list[dict]  # the target edit
    sidecar: Path  # the target edit as darktable's sidecar (absolute)
    attributes: dict[str, int]  # what the request must move: attribute → +1 / −1
    origin: Path | None = None  # enhance: the clean photo the flawed source was made from
    flaw: dict = field(default_factory=dict)  # enhance: how the source was made (agent.bench.make)
    notes: str = ""

    def instruction(self, variant: str) -> str:
        return self.variants[variant]


def check(case: dict, where: str, folder: Path) -> Case:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise CaseError(f"{where}: {what}")

    need(isinstance(case, dict), "a case is a JSON object")
    unknown = set(case) - FIELDS
    need(not unknown, f"unknown field(s) {sorted(unknown)}")
    missing = {"id", "family", "photo", "variants", "operations", "sidecar", "attributes"} - set(case)
    need(not missing, f"missing field(s) {sorted(missing)}")
    need(
        isinstance(case["id"], str) and re.fullmatch(r"[a-z]+-\d{3}", case["id"]) is not None,
        f"id {case['id']!r} is not like 'enhance-001'",
    )
    where = f"{where} ({case['id']})"
    need(case["family"] in FAMILIES, f"family {case['family']!r} is not one of {FAMILIES}")
    need(case["id"].startswith(case["family"] + "-"), f"the id does not start with its family {case['family']!r}")
    variants = case["variants"]
    need(isinstance(variants, dict) and set(variants) == set(VARIANTS), f"variants must be exactly {VARIANTS}")
    for name, text in variants.items():
        need(isinstance(text, str) and 0 < len(text.strip()) <= 500, f"variant {name!r} must be 1–500 characters")
    attributes = case["attributes"]
    need(isinstance(attributes, dict) and attributes, "attributes must name at least one attribute")
    for name, sign in attributes.items():
        need(name in ATTRIBUTE_NAMES, f"unknown attribute {name!r} (known: {', '.join(ATTRIBUTE_NAMES)})")
        need(sign in (1, -1), f"attribute {name!r} must be +1 or -1, not {sign!r}")
    need(isinstance(case["operations"], list) and case["operations"], "the target needs at least one operation")
    try:
        parse_operations({"operations": case["operations"]})
    except SidecarError as exc:
        raise CaseError(f"{where}: target operations: {exc}") from None
    paths = {}
    for key in ("photo", "sidecar") + (("origin",) if case.get("origin") else ()):
        rel = case[key]
        need(isinstance(rel, str) and not rel.startswith("/") and ".." not in rel, f"{key} must be a relative path")
        paths[key] = folder / rel
        need(paths[key].is_file(), f"{key} {rel} not found in {folder}")
    need(case["family"] != "enhance" or "origin" in paths, "an enhance case names the clean photo it came from")
    return Case(
        case["id"],
        case["family"],
        paths["photo"],
        dict(variants),
        case["operations"],
        paths["sidecar"],
        dict(attributes),
        paths.get("origin"),
        dict(case.get("flaw") or {}),
        str(case.get("notes", "")),
    )


def load(folder: str | Path = DEFAULT_FOLDER) -> list[Case]:
    """Every case of ``folder/cases.jsonl``, checked; a ``CaseError`` names the first bad one."""
    folder = Path(folder)
    index = folder / "cases.jsonl"
    if not index.is_file():
        raise CaseError(
            f"{index}: not found (the benchmark's cases live in retoucheval/ of the repository; give --cases DIR)"
        )
    cases, seen = [], set()
    for n, line in enumerate(index.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseError(f"{index}:{n}: not JSON ({exc.msg})") from None
        case = check(raw, f"{index}:{n}", folder)
        if case.id in seen:
            raise CaseError(f"{index}:{n}: id {case.id} appears twice")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise CaseError(f"{index}: no cases")
    return cases


# ---- wordings written fresh ------------------------------------------------------------------------------------

STOP = frozenset(
    """
a an the it its this that these those is are was were be been am to of in on at for with from by and or but so as if
then also too very me my i you your we our us they them he she his her please can could would will should do does
did what how why when where which who there here some any all more less much many bit little lot just make let get
give go put want like need d m s t ll re ve don just into up down out over off
""".split()
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("’", "'"))


def _fills() -> dict[str, tuple[str, ...]]:
    from agent.language import banks

    return {
        "a": tuple({a.pre for a in banks.AMOUNTS} | {s[0] for s in banks.STOPS}),
        "b": tuple({a.post for a in banks.AMOUNTS} | {s[1] for s in banks.STOPS}),
        "s": tuple({s for s, _ in banks.STRENGTHS}),
    }


@lru_cache(maxsize=1)
def bank_runs() -> frozenset[tuple[str, ...]]:
    """Every run of ``RUN`` words in the synthesis banks' phrasings (placeholders filled every way they are)."""
    import itertools

    from agent.language import banks, looks
    from agent.policy.known_words import _strings

    fills = _fills()
    runs: set[tuple[str, ...]] = set()
    seen: set = set()
    for module in (banks, looks):
        for name, value in vars(module).items():
            if name.startswith("_") or callable(value) or isinstance(value, type):
                continue
            for text in _strings(value, seen):
                keys = re.findall(r"\{([abs])\}", text)
                options = [fills.get(k, ("",)) for k in keys] or [()]
                for combo in itertools.product(*options):
                    filled = text
                    for k, fill in zip(keys, combo):
                        filled = filled.replace("{" + k + "}", fill, 1)
                    filled = re.sub(r"\{\w+\}|\bX\b|\bR\b", " ", filled)
                    w = words(filled)
                    runs.update(tuple(w[i : i + RUN]) for i in range(len(w) - RUN + 1))
    return frozenset(r for r in runs if not set(r) <= STOP)


def bank_overlap(text: str) -> list[str]:
    """The runs of ``RUN`` words ``text`` shares with a bank phrasing (stop-word-only runs aside)."""
    w = words(text)
    runs = bank_runs()
    return [" ".join(w[i : i + RUN]) for i in range(len(w) - RUN + 1) if tuple(w[i : i + RUN]) in runs]
