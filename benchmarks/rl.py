"""RL speed: a compact GRPO step (16 prompts × 8 samples, every sample rendered and scored) on the CPU, and
GRPO steps of a Qwen2.5-VL-shaped VLM through TRL (``agent.train.rl_vlm``, the `retouchiq train rl --policy vlm`
code path) on a GPU.

    .venv/bin/python benchmarks/rl.py --part compact              # CPU: median seconds a step, rule and GRM
    .venv/bin/python benchmarks/rl.py --part vlm --shape tiny     # CPU smoke run of the VLM part
    bash benchmarks/rl_gpu.sh                                     # the VLM part with the 3B shapes on one GPU

Data: `retouchiq data synth --fast` samples of the bundled sample photos. The VLM has random weights (no hub is
reachable; speed does not depend on the values): it writes no valid answer, so every reward is 0 and generation
runs to --new-tokens. Prints one table of medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _data(tmp: Path, n: int, size: int) -> Path:
    from agent.data.synth import synth

    photos = tmp / "photos"
    photos.mkdir()
    for i, src in enumerate(sorted((ROOT / "agent" / "samples").glob("*.jpg")) * 4):
        (photos / f"p{i}.jpg").write_bytes(src.read_bytes())
    synth(sorted(photos.glob("*.jpg")), n, tmp / "triples", seed=0, size=size, fast=True)
    return tmp / "triples"


def compact(args, row) -> None:

    from agent.reward import grm as grm_mod
    from agent.train import grm as grm_train
    from agent.train import prompts, rl_compact

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = _data(tmp, 400, 128)
        p = prompts.load([str(data)], "train", log=lambda m: None)
        grm, record, pairs = grm_train.train_stage1(p, grm_train.GRMTrainConfig(epochs=3), log=lambda m: None)
        path = grm_mod.save(tmp / "grm.pt", grm, record)
        row(
            "prompts",
            f"{len(p)} samples of the bundled photos, {prompts.SIDE} px thumbnails, torch threads {args.threads}",
        )
        for reward, pgrt in (("rule", False), (f"grm:{path}", False), (f"grm:{path}", True)):
            cfg = rl_compact.RLConfig(
                data=[],
                out=str(tmp / "rl.onnx"),
                reward=reward,
                pgrt=pgrt,
                grm_out=str(tmp / "g.pt"),
                steps=args.steps,
                threads=args.threads,
            )
            rec = rl_compact.train(cfg, log=lambda m: None, p=p, replay=pairs)
            steps = [h["seconds"] for h in rec["history"][2:]]
            name = "GRM + PGRT" if pgrt else reward.split(":")[0]
            row(
                f"compact step, {cfg.prompts} × {cfg.samples}, {name}",
                f"{statistics.median(steps):.3f} s (median of {len(steps)})",
            )


def vlm(args, row) -> None:
    import torch

    from agent.policy import vlm_build
    from agent.policy.llm import system_prompt
    from agent.train import rl_vlm, sft_vlm

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device.startswith("cuda")
    dtype = torch.bfloat16 if cuda else torch.float32
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = _data(tmp, 8 * args.batch, args.image_side)
        rows = sft_vlm.chat_rows([data], "train", prompt_style="short", image_side=args.image_side)
        tok = vlm_build.build_tokenizer(sft_vlm.conversation_texts(rows) * 2 + [system_prompt("full")], 4096)
        proc = vlm_build.processor_for(tok, min_pixels=56 * 56, max_pixels=args.image_side * args.image_side)
        model = vlm_build.build_model(tok, args.shape, device=device, dtype=dtype)
        params = sum(x.numel() for x in model.parameters())
        row("model", f"Qwen2.5-VL-shaped '{args.shape}', {params / 1e6:,.1f} M parameters, {dtype}, {device}")
        cfg = rl_vlm.VLMRLConfig(
            steps=args.steps,
            batch_size=args.batch,
            num_generations=args.generations,
            max_completion_length=args.new_tokens,
            image_side=args.image_side,
        )
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        record = rl_vlm.train(model, proc, [str(data)], tmp / "rl", cfg, echo=lambda s: None)
        seconds = time.perf_counter() - t0
        row(
            f"GRPO, LoRA r={cfg.lora_r}, {args.batch} prompts × {args.generations}, {args.new_tokens} tokens",
            f"{record['rounds'][0]['steps'] / seconds:.3f} steps/s ({seconds / max(1, args.steps):.1f} s/step with "
            "set-up)",
        )
        if cuda:
            row("GRPO peak GPU memory", f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", default="compact", choices=["compact", "vlm"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2, help="compact: torch threads")
    ap.add_argument("--shape", default="tiny", choices=["tiny", "3b"])
    ap.add_argument("--device", default=None)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--image-side", type=int, default=448)
    args = ap.parse_args()
    rows = []

    def row(name, value):
        rows.append((name, value))
        print(f"  {name}: {value}", flush=True)

    (compact if args.part == "compact" else vlm)(args, row)
    print("\n| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
