"""``retouchiq edit``, ``retouchiq roll`` and ``retouchiq train``."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from agent.policy import PolicyError, load_policy
from darktable_bridge import darktable_cli
from darktable_bridge.render.errors import RenderError
from xmp import SidecarError

FAILURES = (SidecarError, PolicyError, RenderError, darktable_cli.DarktableError, OSError)


def _print_edit(done, as_json: bool) -> None:
    if as_json:
        print(json.dumps(done.to_json(), ensure_ascii=False), flush=True)
        return
    print(f"{done.photo}:")
    print(f"  {done.result.reasoning}")
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
    from agent.edit import edit_photo

    if not args.instruction.strip():
        raise PolicyError("empty instruction: say what to change, e.g. -i \"warmer, lift the shadows\"")
    if args.preview and len(args.photos) > 1:
        raise PolicyError("--preview takes one photo (it names one output file)")
    policy = load_policy(args.policy)
    failed = 0
    for photo in args.photos:
        try:
            done = edit_photo(photo, args.instruction, policy, args.preview)
            _print_edit(done, args.json)
            if done.preview and not args.json:
                print(f"  preview {done.preview}")
        except FAILURES as exc:
            failed += 1
            _fail(photo, exc, args.json)
    return 1 if failed else 0


def _bar(k: int, n: int, label: str, t0: float) -> None:
    width = 30
    fill = width * k // max(n, 1)
    print(f"\r[{'#' * fill}{'.' * (width - fill)}] {k}/{n} {time.time() - t0:5.1f} s {label[:40]:40s}",
          end="", file=sys.stderr, flush=True)


def _cmd_roll(args) -> int:
    from agent.edit import photos_in, roll

    photos = photos_in(args.folder)
    if not photos:
        raise SidecarError(f"{args.folder}: no photos found (.jpg, .png, .tif or raw)")
    policy = load_policy(args.policy)
    t0 = time.time()
    results = roll(photos, args.instruction, policy, args.consistent,
                   progress=lambda k, n, p: _bar(k, n, p.name, t0))
    print(file=sys.stderr)
    seconds = time.time() - t0
    done = [r for r in results if not isinstance(r, Exception)]
    for photo, r in zip(photos, results):
        if isinstance(r, Exception):
            _fail(photo, r, args.json)
        elif args.json:
            print(json.dumps(r.to_json(), ensure_ascii=False), flush=True)
    written = [r for r in done if r.sidecar]
    counts: dict[str, int] = {}
    for r in written:
        for op in r.result.operations:
            key = op["module"] + (f"[{op['instance']}]" if op.get("instance") else "")
            counts[key] = counts.get(key, 0) + 1
    summary = (f"{len(photos)} photo(s) in {seconds:.1f} s: {len(written)} sidecar(s) written, "
               f"{len(done) - len(written)} unchanged, {len(photos) - len(done)} failed"
               + (" (one look for the roll)" if args.consistent else ""))
    print(summary, file=sys.stderr if args.json else sys.stdout)
    if counts and not args.json:
        print("operations: " + ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())))
    if not done:
        return 2
    return 1 if len(done) < len(photos) else 0


def _cmd_train(args) -> int:
    if args.policy == "vlm":
        return _train_vlm(args)
    from agent.policy import compact
    from agent.train.sft_compact import TrainConfig, train

    if args.policy != "compact":
        raise PolicyError(f"train sft: --policy compact or vlm (got '{args.policy}')")
    if args.model or args.config:
        raise PolicyError("train sft: --model and --config are for --policy vlm")
    cfg = TrainConfig(data=[str(d) for d in args.data], out=str(args.output or compact.WEIGHTS),
                      epochs=int(args.epochs or 60), batch_size=args.batch_size or 128, lr=args.lr or 2e-3,
                      seed=args.seed, max_samples=args.max_samples,
                      **({} if args.render_weight is None else {"render_weight": args.render_weight}))
    try:
        record = train(cfg)
    except (FileNotFoundError, ValueError) as exc:
        raise PolicyError(str(exc)) from None
    final = record["final"]
    val = f", val loss {final['val']['loss']:.4f}" if "val" in final else ""
    print(f"trained on {record['train']} samples in {record['seconds']:.0f} s: train loss "
          f"{record['initial']['loss']:.4f} → {final['train']['loss']:.4f}{val}; weights {cfg.out}")
    return 0


def _train_vlm(args) -> int:
    try:
        from agent.train import sft_vlm
    except ImportError as exc:
        raise PolicyError(f"VLM training needs TRL and PEFT ({exc}): pip install 'retouchiq[vlm]'") from None
    if not args.model:
        raise PolicyError("train sft --policy vlm needs --model PATH (a Hugging Face VLM folder)")
    if not args.output:
        raise PolicyError("train sft --policy vlm needs -o OUT (the checkpoint folder)")
    cfg = sft_vlm.VLMTrainConfig.from_file(args.config, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                                           seed=args.seed, max_samples=args.max_samples or None,
                                           max_steps=args.max_steps)
    record = sft_vlm.train(args.model, args.data, args.output, cfg)
    print(f"trained {record['steps']} steps on {record['samples']} conversations in {record['seconds']:.0f} s: "
          f"loss {record['first_loss']:.4f} → {record['last_loss']:.4f}; checkpoint {args.output} "
          f"(use it with --policy vlm:{args.output})")
    return 0


def _cmd_chat_export(args) -> int:
    from agent.train import sft_vlm

    out = sft_vlm.export(args.data, args.output, args.split, args.prompt, args.model)
    print(f"wrote {out}")
    return 0


def register(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("edit", help="edit photos from an instruction (writes darktable sidecars)",
                       formatter_class=fmt,
                       description="The policy reads each photo (a 1024 px preview, the current sidecar's look) "
                                   "and the instruction, and answers reasoning and darktable operations; they are "
                                   "merged into PHOTO.<ext>.xmp next to the photo (previous sidecar kept as a "
                                   "timestamped .bak, atomic write).",
                       epilog='examples:\n  retouchiq edit photo.jpg -i "warmer, lift the shadows"\n'
                              '  retouchiq edit a.jpg b.jpg -i "darken the sky a little" --json\n'
                              '  retouchiq edit photo.jpg -i "golden hour look" --preview after.jpg')
    p.add_argument("photos", nargs="+", metavar="PHOTO")
    p.add_argument("-i", "--instruction", required=True, help="what to change, in words")
    p.add_argument("--policy", default="compact",
                   help="compact (default, embedded), rules (keyword baseline), vlm:PATH (a local Hugging Face "
                        "VLM or a `train sft --policy vlm` checkpoint), openai:URL#MODEL (an OpenAI-compatible "
                        "server: Ollama, vLLM, llama.cpp, LM Studio)")
    p.add_argument("--preview", help="also render the edited photo to this file (.jpg/.png), one photo only")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per photo: photo, sidecar, backup, reasoning, operations")
    p.set_defaults(func=_cmd_edit)

    p = sub.add_parser("roll", help="edit every photo of a folder from one instruction",
                       formatter_class=fmt,
                       description="Runs the instruction over a folder (a film roll) with a progress bar and a "
                                   "summary. --consistent gives the roll one look: the style is predicted once for "
                                   "the whole roll, and each frame gets its own exposure and white balance so the "
                                   "frames match each other.",
                       epilog='example:\n  retouchiq roll ~/photos/2024-06-beach -i "faded film look" --consistent')
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("-i", "--instruction", required=True)
    p.add_argument("--consistent", action="store_true", help="one look for the roll (compact policy)")
    p.add_argument("--policy", default="compact")
    p.add_argument("--json", action="store_true", help="one JSON object per photo on stdout")
    p.set_defaults(func=_cmd_roll)

    p = sub.add_parser("train", help="train a policy", formatter_class=fmt,
                       description="Supervised training of the compact policy on `retouchiq data synth` output "
                                   "(training split only).",
                       epilog="example:\n  retouchiq data synth --n 3000 --size 256 --out data/synth\n"
                              "  retouchiq train sft --policy compact --data data/synth")
    tsub = p.add_subparsers(dest="stage", required=True, metavar="STAGE")
    t = tsub.add_parser("sft", help="supervised fine-tuning on synthesized samples", formatter_class=fmt,
                        epilog="examples:\n  retouchiq train sft --policy compact --data data/synth\n"
                               "  retouchiq train sft --policy vlm --model ~/models/Qwen2.5-VL-3B-Instruct "
                               "--data data/synth -o ckpt/qwen-lora --config sft.json")
    t.add_argument("--policy", default="compact", choices=["compact", "vlm"])
    t.add_argument("--data", required=True, type=Path, nargs="+", metavar="DIR",
                   help="folder(s) written by `retouchiq data synth` (samples.jsonl)")
    t.add_argument("--model", help="vlm: the base model folder (or a repo id in the Hugging Face cache)")
    t.add_argument("--config", type=Path, help="vlm: JSON file of training settings (see docs/vlm.md)")
    t.add_argument("--epochs", type=float, help="passes over the data (compact 60, vlm 1)")
    t.add_argument("--max-steps", type=int, help="vlm: stop after this many optimiser steps")
    t.add_argument("--batch-size", type=int, help="compact 128, vlm 4")
    t.add_argument("--lr", type=float, help="learning rate (compact 2e-3, vlm 2e-4)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-samples", type=int, default=0, help="use the first N training samples (0 = all)")
    t.add_argument("--render-weight", type=float,
                   help="compact: weight of the render term (thumbnails through the renderer against the target "
                        "render; default 0 = the slot loss alone; 0.02 was measured, docs/policy.md)")
    t.add_argument("-o", "--output", type=Path,
                   help="compact: weights file (default: the package's compact.pt); vlm: checkpoint folder")
    t.set_defaults(func=_cmd_train)
    t = tsub.add_parser("chat-export", help="write the samples as chat conversations (JSONL) for other trainers")
    t.add_argument("--data", required=True, type=Path, nargs="+", metavar="DIR")
    t.add_argument("-o", "--output", required=True, type=Path, help="JSONL file")
    t.add_argument("--split", default="train", choices=["train", "heldout"])
    t.add_argument("--prompt", default="short", choices=["short", "full"], help="system prompt style")
    t.add_argument("--model", help="also render each conversation with this model's chat template (field text)")
    t.set_defaults(func=_cmd_chat_export)
