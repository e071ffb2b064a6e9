"""How the 50 held-out wordings (``banks.UNSEEN``) are read: by the instruction encoder alone, and by the policies.

    .venv/bin/python benchmarks/unseen_wordings.py [--policies compact,rules] [--photos FILE_OR_DIR ...] [--json OUT]

For every held-out wording, bare (no amount words):
- **encoder**: the bank phrasing (every intent, defect and look phrasing the synthesis draws from, bare) whose
  all-MiniLM-L6-v2 embedding is nearest; it counts as right for each of the wording's attributes that it asks in
  the same direction. This is what the sentence encoder itself offers a network trained on the banks: a wording
  it places beside the opposite request is hard to read right without an example of it.
- **policies**: each policy edits each photo (reduced to 128 px like the synthesised sets) with the wording; the
  result is rendered by the torch renderer and each asked attribute's direction measured as `retouchiq eval`
  does (``measure.directions``).

Prints one row per wording and the totals. No training data is needed: the bank phrasings come from
``agent.language.banks`` and ``agent.language.looks``; the photos default to the bundled sample and the repository's
test photo.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHOTOS = [
    ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg",
    ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg",
]
SIZE = 128


def bare(template: str, **words: str) -> str:
    """A bank template without its amount words, tidied as the synthesis does: "make it {a} brighter" → "make it
    brighter"."""
    from agent.data.synth import _tidy

    return _tidy(template.format(a="", b="", s="", **words))


def bank_phrasings() -> dict[str, dict[str, int]]:
    """Every phrasing the synthesis draws a single request from, bare → the attribute directions it asks."""
    from agent.data.synth import _article
    from agent.language import banks, looks

    out: dict[str, dict[str, int]] = {}
    for intent in banks.INTENTS.values():
        for p in intent.phrases:
            out.setdefault(bare(p), dict(intent.attributes))
    for defect in banks.DEFECTS.values():
        for p in defect.phrases:
            out.setdefault(bare(p), dict(defect.attributes))
    for look in looks.LOOKS.values():
        for alias in look.aliases:
            for t in banks.LOOK_TEMPLATES:
                out.setdefault(bare(t, look=alias, art=_article(alias)), dict(look.attributes))
    return out


def unseen_wordings() -> list[tuple[str, str, dict[str, int]]]:
    """(family, bare wording, attribute directions it asks) for each of the 50."""
    from agent.data.synth import family_of
    from agent.language import banks, looks

    table = {"intent": banks.INTENTS, "defect": banks.DEFECTS, "look": looks.LOOKS}
    return [(family_of(u), bare(u[2]), dict(table[u[0]][u[1]].attributes)) for u in banks.UNSEEN]


def nearest(wordings: list[str], bank: dict[str, dict[str, int]]) -> list[tuple[str, float]]:
    from agent.policy.text import TextEncoder

    enc = TextEncoder(cache_size=len(bank) + len(wordings) + 16)
    keys = list(bank)
    e_bank = enc.encode(keys, batch_size=256)
    sims = enc.encode(wordings) @ e_bank.T
    return [(keys[int(i)], float(s[int(i)])) for s, i in zip(sims, sims.argmax(1))]


def load_photos(paths: list[Path]) -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    files = []
    for p in paths:
        files += sorted(q for q in p.iterdir() if q.suffix.lower() in (".jpg", ".jpeg", ".png")) if p.is_dir() else [p]
    out = []
    for f in files:
        with Image.open(f) as im:
            im = im.convert("RGB")
            im.thumbnail((SIZE, SIZE), Image.BILINEAR)
            out.append((f.name, np.asarray(im)))
    return out


def policy_hits(
    spec: str, photos: list[tuple[str, np.ndarray]], wordings: list[tuple[str, str, dict]], tmp: Path
) -> list[int]:
    """Per wording: how many (photo, attribute) pairs moved the asked way."""
    from PIL import Image

    from agent import core, measure
    from agent.errors import PolicyError
    from agent.eval import get_policy, render_sidecar

    policy = get_policy(spec)
    hits = [0] * len(wordings)
    for name, image in photos:
        path = tmp / f"{Path(name).stem}.png"
        Image.fromarray(image).save(path)
        for k, (_, text, want) in enumerate(wordings):
            try:
                sidecar = core.edit(image, text, None, path.name, policy).text
            except PolicyError:
                sidecar = None
            moved = measure.directions(image, render_sidecar(path, sidecar, "torch", tmp), list(want))
            hits[k] += sum(moved[a] == s for a, s in want.items())
    return hits


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policies", default="compact,rules", help="comma-separated, as `retouchiq eval --policies`")
    ap.add_argument("--photos", nargs="+", type=Path, default=PHOTOS, help="photo files or folders")
    ap.add_argument("--max", type=int, default=0, help="only the first N wordings (0: all 50)")
    ap.add_argument("--json", type=Path, help="also write the rows and totals here")
    args = ap.parse_args(argv)

    wordings = unseen_wordings()[: args.max or None]
    bank = bank_phrasings()
    near = nearest([w for _, w, _ in wordings], bank)
    photos = load_photos(args.photos)
    specs = [s for s in args.policies.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="retouchiq-unseen-") as tmp:
        hits = {spec: policy_hits(spec, photos, wordings, Path(tmp)) for spec in specs}

    rows, n_attr = [], 0
    enc_hits = 0
    for k, ((family, text, want), (phrase, sim)) in enumerate(zip(wordings, near)):
        got = sum(bank[phrase].get(a) == s for a, s in want.items())
        enc_hits += got
        n_attr += len(want)
        rows.append(
            {
                "family": family,
                "wording": text,
                "asks": want,
                "nearest": phrase,
                "cosine": round(sim, 3),
                "nearest_asks": bank[phrase],
                "encoder_hits": got,
                **{f"{spec}_hits": hits[spec][k] for spec in specs},
            }
        )
    totals = {
        "wordings": len(wordings),
        "attributes": n_attr,
        "photos": len(photos),
        "bank_phrasings": len(bank),
        "encoder": enc_hits / n_attr,
        **{spec: sum(hits[spec]) / (n_attr * len(photos)) for spec in specs},
    }

    print(
        f"{len(wordings)} held-out wordings, {n_attr} asked attributes; nearest of {len(bank)} bank phrasings "
        f"(all-MiniLM-L6-v2); policies on {len(photos)} photo(s), torch renders\n"
    )
    print("| wording | asks | nearest bank phrasing (cosine) | encoder | " + " | ".join(specs) + " |")
    print("|---|---|---|---:|" + "---:|" * len(specs))
    for r in rows:
        asks = ", ".join(f"{a} {'+' if s > 0 else '−'}" for a, s in r["asks"].items())
        n = len(r["asks"])
        cells = " | ".join(f"{r[spec + '_hits']}/{n * len(photos)}" for spec in specs)
        print(f"| {r['wording']} | {asks} | {r['nearest']} ({r['cosine']:.2f}) | {r['encoder_hits']}/{n} | {cells} |")
    print("\n| reader | asked attributes moved / read the right way |\n|---|---:|")
    print(f"| nearest bank phrasing (encoder alone) | {100 * totals['encoder']:.1f} % |")
    for spec in specs:
        print(f"| {spec} | {100 * totals[spec]:.1f} % |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "totals": totals}, indent=1))
    return {"rows": rows, "totals": totals}


if __name__ == "__main__":
    main()
