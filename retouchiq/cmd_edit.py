"""``retouchiq edit`` and ``retouchiq roll``: instructions → sidecars of photos on disk (agent.edit)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from agent.edit import Skipped, edit_photo, roll
from agent.errors import RequestError
from agent.errors import instruction as checked_instruction
from agent.measure import plain
from agent.policy import load_policy
from darktable_bridge.apply import undo_photo, undone_items, undone_summary
from darktable_bridge.photos import photos_in
from xmp import UserError

from .progress import Bar


def exit_status(errors: list[UserError], total: int) -> int:
    """0 when every photo is done; a failure's own exit code when every photo failed alike; else 1."""
    if not errors:
        return 0
    codes = {e.exit_code for e in errors}
    return codes.pop() if len(errors) == total and len(codes) == 1 else 1


def _print_edit(done, as_json: bool, verbose: bool = False) -> None:
    if as_json:
        print(json.dumps(done.to_json(), ensure_ascii=False), flush=True)
        return
    print(f"{done.photo}:")
    print(f"  {done.result.reasoning if verbose else plain(done.result.reasoning)}")
    for op in done.result.operations:
        where = f" [{op['instance']}]" if op.get("instance") else ""
        params = ", ".join(f"{k}={v}" for k, v in op["params"].items())
        print(f"  + {op['module']}{where}: {params}")
    if done.sidecar:
        print(f"  wrote {done.sidecar}" + (f" (previous kept as {done.backup.name})" if done.backup else ""))
    for note in done.notes:
        print(f"  note: {note}")


def _fail(photo, exc, as_json: bool) -> None:
    print(f"retouchiq: error: {exc}", file=sys.stderr)
    if as_json:
        print(json.dumps({"photo": str(photo), "error": str(exc)}, ensure_ascii=False), flush=True)


def _cmd_edit(args) -> int:
    instruction = checked_instruction(args.instruction)
    if args.preview and len(args.photos) > 1:
        raise RequestError("--preview takes one photo (it names one output file)")
    policy = load_policy(args.policy)
    errors = []
    for photo in args.photos:
        try:
            done = edit_photo(photo, instruction, policy, args.preview)
            _print_edit(done, args.json, args.verbose)
            if done.preview and not args.json:
                print(f"  preview {done.preview}")
        except UserError as exc:
            errors.append(exc)
            _fail(photo, exc, args.json)
    return exit_status(errors, len(args.photos))


def _cmd_undo(args) -> int:
    errors = []
    for photo in args.photos:
        try:
            done = undo_photo(photo)
        except UserError as exc:
            errors.append(exc)
            _fail(photo, exc, args.json)
            continue
        if args.json:
            doc = {
                "photo": str(photo),
                "sidecar": str(done.sidecar),
                "backup": str(done.backup) if done.backup else None,
                "state_of": str(done.before) if done.before else None,
                "undone": undone_items(done.items),
            }
            print(json.dumps(doc, ensure_ascii=False), flush=True)
            continue
        print(f"{photo}:")
        print(f"  {undone_summary(done.items)}")
        where = f"as in {done.before.name}" if done.before else "as before the agent's first edit"
        print(f"  wrote {done.sidecar} ({where}; previous kept as {done.backup.name})")
    return exit_status(errors, len(args.photos))


def _cmd_roll(args) -> int:
    photos = photos_in(args.folder)
    if not photos:
        raise RequestError(f"{args.folder}: no photos found (.jpg, .png, .tif, .webp or raw)")
    instruction = checked_instruction(args.instruction)
    if args.resume and args.again:
        raise RequestError("--resume and --again contradict each other: choose one")
    policy = load_policy(args.policy)
    t0, bar = time.time(), Bar()
    results = roll(
        photos,
        instruction,
        policy,
        args.consistent,
        progress=lambda k, n, p: bar(k, n, p.name),
        resume=args.resume,
        again=args.again,
    )
    seconds = time.time() - t0
    skipped = [r for r in results if isinstance(r, Skipped)]
    done = [r for r in results if not isinstance(r, (UserError, Skipped))]
    for photo, r in zip(photos, results):
        if isinstance(r, UserError):
            _fail(photo, r, args.json)
        elif args.json:
            doc = r.to_json() if r not in skipped else {"photo": str(photo), "skipped": "done by an earlier run"}
            print(json.dumps(doc, ensure_ascii=False), flush=True)
    written = [r for r in done if r.sidecar]
    counts: dict[str, int] = {}
    for r in written:
        for op in r.result.operations:
            key = op["module"] + (f"[{op['instance']}]" if op.get("instance") else "")
            counts[key] = counts.get(key, 0) + 1
    summary = (
        f"{len(photos)} photo(s) in {seconds:.1f} s: {len(written)} sidecar(s) written, "
        f"{len(done) - len(written)} unchanged, {len(photos) - len(done) - len(skipped)} failed"
        + (f", {len(skipped)} skipped (done by an earlier run)" if skipped else "")
        + (" (one look for the roll)" if args.consistent else "")
    )
    print(summary, file=sys.stderr if args.json else sys.stdout)
    if counts and not args.json:
        print("operations: " + ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())))
    scenes: dict[int, list[str]] = {}
    for photo, r in zip(photos, results):
        if r in done and "scene" in r.result.extra:
            scenes.setdefault(r.result.extra["scene"], []).append(photo.name)
    for number, names in sorted(scenes.items()):
        listed = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        matched = "exposure and white balance matched" if len(names) > 1 else "its own exposure and white balance"
        print(f"scene {number}: {listed} ({matched})", file=sys.stderr if args.json else sys.stdout)
    return exit_status([r for r in results if isinstance(r, UserError)], len(photos) - len(skipped))


def register(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "edit",
        help="edit photos from an instruction (writes darktable sidecars)",
        formatter_class=fmt,
        description="The policy reads each photo (a 1024 px preview, the current sidecar's look) "
        "and the instruction, and answers reasoning and darktable operations; they are "
        "merged into PHOTO.<ext>.xmp next to the photo (previous sidecar kept as a "
        "timestamped .bak, atomic write).",
        epilog='examples:\n  retouchiq edit photo.jpg -i "warmer, lift the shadows"\n'
        '  retouchiq edit a.jpg b.jpg -i "darken the sky a little" --json\n'
        '  retouchiq edit photo.jpg -i "golden hour look" --preview after.jpg',
    )
    p.add_argument("photos", nargs="+", metavar="PHOTO")
    p.add_argument("-i", "--instruction", required=True, help="what to change, in words")
    p.add_argument(
        "--policy",
        default="compact",
        help="compact (default, embedded), rules (keyword baseline), vlm:PATH (a local Hugging Face "
        "VLM or a `train sft --policy vlm` checkpoint), openai:URL#MODEL (an OpenAI-compatible "
        "server: Ollama, vLLM, llama.cpp, LM Studio)",
    )
    p.add_argument("--preview", help="also render the edited photo to this file (.jpg/.png), one photo only")
    p.add_argument(
        "--json", action="store_true", help="one JSON object per photo: photo, sidecar, backup, reasoning, operations"
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="the reasoning with the measurements behind it (median L*, mean b*, …); the JSON always has both",
    )
    p.set_defaults(func=_cmd_edit)

    p = sub.add_parser(
        "undo",
        help="take the agent's last edit of photos back",
        formatter_class=fmt,
        description="Finds, among the sidecar's backups, the state before the agent's last edit and ends the "
        "active history there again, as darktable's own undo does: the agent's items stay in the history "
        "stack, inactive (a click on its top item in darktable brings them back). Steps made after the "
        "agent's edit go inactive with it. Run it again to take back the edit before.",
        epilog="example:\n  retouchiq undo photo.jpg",
    )
    p.add_argument("photos", nargs="+", metavar="PHOTO")
    p.add_argument("--json", action="store_true", help="one JSON object per photo")
    p.set_defaults(func=_cmd_undo)

    p = sub.add_parser(
        "roll",
        help="edit every photo of a folder from one instruction",
        formatter_class=fmt,
        description="Runs the instruction over a folder (a film roll) with a progress bar and a "
        "summary. --consistent gives the roll one look: the style is predicted once for "
        "the whole roll, and the frames of one scene (told apart by capture time and "
        "content) are matched in exposure and white balance; different scenes keep their "
        "own light. The summary lists the scenes.",
        epilog='example:\n  retouchiq roll ~/photos/2024-06-beach -i "faded film look" --consistent',
    )
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("-i", "--instruction", required=True)
    p.add_argument("--consistent", action="store_true", help="one look for the roll (compact policy)")
    p.add_argument("--policy", default="compact")
    p.add_argument("--json", action="store_true", help="one JSON object per photo on stdout")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue a roll that stopped: skip the photos it already edited (its journal, "
        ".retouchiq-rolls.jsonl in the folder, says which)",
    )
    p.add_argument("--again", action="store_true", help="apply a roll that was run here before once more")
    p.set_defaults(func=_cmd_roll)
