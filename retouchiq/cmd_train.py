"""``retouchiq train``: supervised training of the compact policy and of a VLM, and the chat export."""

from __future__ import annotations

import argparse
from pathlib import Path

from agent.errors import RequestError


def _cmd_train(args) -> int:
    if args.policy == "vlm":
        return _train_vlm(args)
    from agent.policy import compact
    from agent.train.sft_compact import TrainConfig, train

    if args.policy != "compact":
        raise RequestError(f"train sft: --policy compact or vlm (got '{args.policy}')")
    if args.model or args.config:
        raise RequestError("train sft: --model and --config are for --policy vlm")
    cfg = TrainConfig(
        data=[str(d) for d in args.data],
        out=str(args.output or compact.WEIGHTS),
        epochs=int(args.epochs or 60),
        batch_size=args.batch_size or 128,
        lr=args.lr or 2e-3,
        seed=args.seed,
        max_samples=args.max_samples,
        **({} if args.render_weight is None else {"render_weight": args.render_weight}),
    )
    try:
        record = train(cfg)
    except (FileNotFoundError, ValueError) as exc:
        raise RequestError(str(exc)) from None
    final = record["final"]
    val = f", val loss {final['val']['loss']:.4f}" if "val" in final else ""
    print(
        f"trained on {record['train']} samples in {record['seconds']:.0f} s: train loss "
        f"{record['initial']['loss']:.4f} → {final['train']['loss']:.4f}{val}; weights {cfg.out}"
    )
    return 0


def _train_vlm(args) -> int:
    try:
        from agent.train import sft_vlm
    except ImportError as exc:
        raise RequestError(f"VLM training needs TRL and PEFT ({exc}): pip install 'retouchiq[vlm]'") from None
    if not args.model:
        raise RequestError("train sft --policy vlm needs --model PATH (a Hugging Face VLM folder)")
    if not args.output:
        raise RequestError("train sft --policy vlm needs -o OUT (the checkpoint folder)")
    cfg = sft_vlm.VLMTrainConfig.from_file(
        args.config,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        max_samples=args.max_samples or None,
        max_steps=args.max_steps,
    )
    record = sft_vlm.train(args.model, args.data, args.output, cfg)
    print(
        f"trained {record['steps']} steps on {record['samples']} conversations in {record['seconds']:.0f} s: "
        f"loss {record['first_loss']:.4f} → {record['last_loss']:.4f}; checkpoint {args.output} "
        f"(use it with --policy vlm:{args.output})"
    )
    return 0


def _cmd_chat_export(args) -> int:
    from agent.train import sft_vlm

    out = sft_vlm.export(args.data, args.output, args.split, args.prompt, args.model)
    print(f"wrote {out}")
    return 0


def register(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "train",
        help="train a policy",
        formatter_class=fmt,
        description="Supervised training of the compact policy on `retouchiq data synth` output (training split only).",
        epilog="example:\n  retouchiq data synth --n 3000 --size 256 --out data/synth\n"
        "  retouchiq train sft --policy compact --data data/synth",
    )
    tsub = p.add_subparsers(dest="stage", required=True, metavar="STAGE")
    t = tsub.add_parser(
        "sft",
        help="supervised fine-tuning on synthesized samples",
        formatter_class=fmt,
        epilog="examples:\n  retouchiq train sft --policy compact --data data/synth\n"
        "  retouchiq train sft --policy vlm --model ~/models/Qwen2.5-VL-3B-Instruct "
        "--data data/synth -o ckpt/qwen-lora --config sft.json",
    )
    t.add_argument("--policy", default="compact", choices=["compact", "vlm"])
    t.add_argument(
        "--data",
        required=True,
        type=Path,
        nargs="+",
        metavar="DIR",
        help="folder(s) written by `retouchiq data synth` (samples.jsonl)",
    )
    t.add_argument("--model", help="vlm: the base model folder (or a repo id in the Hugging Face cache)")
    t.add_argument("--config", type=Path, help="vlm: JSON file of training settings (see docs/vlm.md)")
    t.add_argument("--epochs", type=float, help="passes over the data (compact 60, vlm 1)")
    t.add_argument("--max-steps", type=int, help="vlm: stop after this many optimiser steps")
    t.add_argument("--batch-size", type=int, help="compact 128, vlm 4")
    t.add_argument("--lr", type=float, help="learning rate (compact 2e-3, vlm 2e-4)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-samples", type=int, default=0, help="use the first N training samples (0 = all)")
    t.add_argument(
        "--render-weight",
        type=float,
        help="compact: weight of the render term (thumbnails through the renderer against the target "
        "render; default 0 = the slot loss alone; 0.02 was measured, docs/policy.md)",
    )
    t.add_argument(
        "-o",
        "--output",
        type=Path,
        help="compact: weights file (default: the package's compact.onnx); vlm: checkpoint folder",
    )
    t.set_defaults(func=_cmd_train)
    t = tsub.add_parser("chat-export", help="write the samples as chat conversations (JSONL) for other trainers")
    t.add_argument("--data", required=True, type=Path, nargs="+", metavar="DIR")
    t.add_argument("-o", "--output", required=True, type=Path, help="JSONL file")
    t.add_argument("--split", default="train", choices=["train", "heldout"])
    t.add_argument("--prompt", default="short", choices=["short", "full"], help="system prompt style")
    t.add_argument("--model", help="also render each conversation with this model's chat template (field text)")
    t.set_defaults(func=_cmd_chat_export)
