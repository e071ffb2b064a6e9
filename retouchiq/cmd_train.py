"""``retouchiq train``: supervised training of the compact policy and of a VLM, the chat export, the reward model,
RL with PGRT, and the RL ablation."""

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


def _log(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr, flush=True)


def _cmd_grm(args) -> int:
    from agent.train import grm

    cfg = grm.GRMTrainConfig(seed=args.seed, asked=args.asked, **({"epochs": args.epochs} if args.epochs else {}))
    record = grm.run(
        [str(d) for d in args.data],
        str(args.output),
        cfg,
        [str(d) for d in args.heldout] if args.heldout else None,
        args.policy_weights or "",
        args.max_samples,
        _log,
    )
    line = f"reward model {args.output}: {record['pairs']} stage-1 pairs, trained in {record['seconds']:.0f} s"
    for key, what in (
        ("heldout_perturbed", "held-out perturbed pairs"),
        ("heldout_policy", "the policy's held-out edits"),
    ):
        if key in record:
            line += f"; ranks {100 * record[key]['all']:.1f} % of {record[key]['n']} {what} right"
    if "heldout_policy" in record:
        a = record["heldout_policy"]
        line += (
            f" (seen wordings {100 * a['seen']:.1f} % of {a['n_seen']}, unseen {100 * a['unseen']:.1f} % of "
            f"{a['n_unseen']}; where the policy's edit misses a requested direction the target meets "
            f"{100 * a['missed']:.1f} % of {a['n_missed']})"
        )
    print(line)
    return 0


def _cmd_rl(args) -> int:
    from agent.policy import compact
    from agent.train import rl_compact

    if args.policy == "vlm":
        return _rl_vlm(args)
    if args.policy != "compact":
        raise RequestError(f"train rl: --policy compact or vlm (got '{args.policy}')")
    if args.pgrt and not args.grm_output:
        raise RequestError("train rl --pgrt needs --grm-output FILE (where the updated reward model is written)")
    cfg = rl_compact.RLConfig(
        data=[str(d) for d in args.data],
        out=str(args.output),
        policy=str(args.init or compact.WEIGHTS),
        reward=args.reward,
        pgrt=args.pgrt,
        grm_out=str(args.grm_output or ""),
        steps=args.steps,
        seed=args.seed,
        max_samples=args.max_samples,
    )
    record = rl_compact.train(cfg, _log)
    print(
        f"RL {record['config']['reward']}{' + PGRT' if cfg.pgrt else ''}: {cfg.steps} steps in "
        f"{record['seconds']:.0f} s ({record['step_seconds_median']:.2f} s a step), reward "
        f"{record['reward_first']:.4f} → {record['reward_last']:.4f}, KL {record['kl_last']:.3f}; weights {cfg.out} "
        f"(use them with --policy compact:{cfg.out})"
    )
    return 0


def _rl_vlm(args) -> int:
    from agent.policy import load_policy

    try:
        from agent.train import rl_vlm
    except ImportError as exc:
        raise RequestError(f"VLM RL needs TRL and PEFT ({exc}): pip install 'retouchiq[vlm]'") from None
    if not args.model:
        raise RequestError("train rl --policy vlm needs --model PATH (an SFT'd VLM checkpoint)")
    policy = load_policy(f"vlm:{args.model}")
    cfg = rl_vlm.VLMRLConfig(
        reward=args.reward,
        rounds=args.rounds if args.pgrt else 1,
        steps=args.steps,
        seed=args.seed,
        max_samples=args.max_samples,
    )
    record = rl_vlm.train(policy.model, policy.processor, [str(d) for d in args.data], args.output, cfg, _log)
    last = record["rounds"][-1]
    print(
        f"GRPO {cfg.reward}: {len(record['rounds'])} round(s) of {cfg.steps} steps in {record['seconds']:.0f} s, "
        f"reward {last['reward_first']} → {last['reward_last']}; checkpoint {args.output} "
        f"(use it with --policy vlm:{args.output})"
    )
    return 0


def _cmd_ablation(args) -> int:
    from agent.train import ablation

    cfg = ablation.AblationConfig(
        data=[str(d) for d in args.data],
        heldout=[str(d) for d in args.heldout],
        out=str(args.output),
        seeds=tuple(args.seeds),
        steps=args.steps,
        max_samples=args.max_samples,
        bench=not args.no_bench,
        bench_max=args.bench_max,
    )
    ablation.run(cfg, _log)
    print((args.output / "ablation.md").read_text(encoding="utf-8"))
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
    t = tsub.add_parser(
        "grm",
        help="train the compact reward model (stage 1: targets against edits made worse)",
        formatter_class=fmt,
        epilog="example:\n  retouchiq train grm --data data/fast600 --heldout data/held601 -o out/grm.pt",
    )
    t.add_argument(
        "--data", required=True, type=Path, nargs="+", metavar="DIR", help="`retouchiq data synth` folder(s)"
    )
    t.add_argument("--heldout", type=Path, nargs="+", metavar="DIR", help="held-out data: report the accuracy on it")
    t.add_argument("--policy-weights", help="with --heldout: also the accuracy on this compact policy's own edits")
    t.add_argument("--epochs", type=int, help="passes over the pairs (default 30)")
    t.add_argument(
        "--asked",
        type=float,
        default=0.0,
        help="weight of the asked-attributes term (weights on what the sample asks to move; default 0, docs/rl.md)",
    )
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-samples", type=int, default=0)
    t.add_argument("-o", "--output", required=True, type=Path, help="the reward model file (.pt)")
    t.set_defaults(func=_cmd_grm)
    t = tsub.add_parser(
        "rl",
        help="RL (GRPO) of the compact policy against the rule reward or a reward model, with PGRT",
        formatter_class=fmt,
        epilog="examples:\n  retouchiq train rl --data data/fast600 --reward rule -o out/rl-rule.onnx\n"
        "  retouchiq train rl --data data/fast600 --reward grm:out/grm.pt --pgrt --grm-output out/grm-pgrt.pt "
        "-o out/rl-pgrt.onnx",
    )
    t.add_argument("--policy", default="compact", choices=["compact", "vlm"])
    t.add_argument("--model", help="vlm: the SFT'd checkpoint to start from (`retouchiq train sft --policy vlm`)")
    t.add_argument("--rounds", type=int, default=2, help="vlm with --pgrt: rounds of policy and reward-model updates")
    t.add_argument("--data", required=True, type=Path, nargs="+", metavar="DIR")
    t.add_argument("--reward", default="rule", help="rule, or grm:PATH (a `retouchiq train grm` file)")
    t.add_argument("--pgrt", action="store_true", help="update the reward model on the policy's own edits")
    t.add_argument("--grm-output", type=Path, help="with --pgrt: where the updated reward model is written")
    t.add_argument("--init", type=Path, help="the SFT weights to start from (default: the shipped ones)")
    t.add_argument("--steps", type=int, default=200)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-samples", type=int, default=0)
    t.add_argument(
        "-o", "--output", required=True, type=Path, help="compact: the RL policy's weights (.onnx); vlm: a folder"
    )
    t.set_defaults(func=_cmd_rl)
    t = tsub.add_parser(
        "ablation",
        help="SFT, RL-rule, RL-GRM, RL-GRM+PGRT over seeds: reward accuracy, held-out and benchmark tables",
        formatter_class=fmt,
        epilog="example:\n  retouchiq train ablation --data data/fast600 --heldout data/held601 -o out/ablation",
    )
    t.add_argument("--data", required=True, type=Path, nargs="+", metavar="DIR")
    t.add_argument("--heldout", required=True, type=Path, nargs="+", metavar="DIR")
    t.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    t.add_argument("--steps", type=int, default=150, help="RL steps of every arm")
    t.add_argument("--max-samples", type=int, default=0)
    t.add_argument("--no-bench", action="store_true", help="leave RetouchEval-dt out")
    t.add_argument("--bench-max", type=int, default=0, help="the first N benchmark cases of each family")
    t.add_argument("-o", "--output", required=True, type=Path, help="the ablation's folder")
    t.set_defaults(func=_cmd_ablation)
    t = tsub.add_parser("chat-export", help="write the samples as chat conversations (JSONL) for other trainers")
    t.add_argument("--data", required=True, type=Path, nargs="+", metavar="DIR")
    t.add_argument("-o", "--output", required=True, type=Path, help="JSONL file")
    t.add_argument("--split", default="train", choices=["train", "heldout"])
    t.add_argument("--prompt", default="short", choices=["short", "full"], help="system prompt style")
    t.add_argument("--model", help="also render each conversation with this model's chat template (field text)")
    t.set_defaults(func=_cmd_chat_export)
