"""VLM policy speed: SFT steps/s (TRL + LoRA, the `retouchiq train sft --policy vlm` code path) and edit latency,
for a Qwen2.5-VL-shaped model with random weights (no hub is reachable, and speed does not depend on the values).

    .venv/bin/python benchmarks/vlm.py --shape 3b            # on a GPU: benchmarks/vlm_gpu.sh (~10 min budget)
    .venv/bin/python benchmarks/vlm.py --shape tiny          # CPU smoke run of the same script

Data: `retouchiq data synth --fast` triples from the bundled sample photo, as conversations in the short prompt
style (training) and the full one (edits). A random model never stops on its own, so generation runs to
--new-tokens: decode speed is tokens/s at that length, and "edit" is one full `VLMPolicy.edit` (two answers of
--new-tokens each, then the refusal, as a random model earns). Prints one table of medians.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="3b", choices=["tiny", "3b"])
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda when usable)")
    ap.add_argument("--steps", type=int, default=20, help="SFT optimiser steps")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    ap.add_argument("--image-side", type=int, default=448)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import numpy as np
    import torch

    from agent.data.synth import synth
    from agent.errors import PolicyError
    from agent.policy import vlm_build
    from agent.policy.llm import system_prompt
    from agent.policy.vlm import VLMPolicy
    from agent.train import sft_vlm

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device.startswith("cuda")
    dtype = torch.bfloat16 if cuda else torch.float32
    rows_out = []

    def row(name, value):
        rows_out.append((name, value))
        print(f"  {name}: {value}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = tmp / "photos"
        photos.mkdir()
        for i, src in enumerate(sorted((ROOT / "agent" / "samples").glob("*.jpg")) * 4):
            (photos / f"p{i}.jpg").write_bytes(src.read_bytes())
        synth(sorted(photos.glob("*.jpg")), 16 * args.batch, tmp / "triples", seed=0, size=args.image_side, fast=True)
        rows = sft_vlm.chat_rows([tmp / "triples"], "train", prompt_style="short", image_side=args.image_side)
        texts = sft_vlm.conversation_texts(rows) + [system_prompt("full")]
        tok = vlm_build.build_tokenizer(texts * 2, 4096)
        max_pixels = args.image_side * args.image_side
        proc = vlm_build.processor_for(tok, min_pixels=56 * 56, max_pixels=max_pixels)
        t0 = time.perf_counter()
        model = vlm_build.build_model(tok, args.shape, device=device, dtype=dtype)
        params = sum(p.numel() for p in model.parameters())
        row("model", f"Qwen2.5-VL-shaped '{args.shape}', {params / 1e6:,.1f} M parameters, {dtype}, {device}")
        row("build (random init)", f"{time.perf_counter() - t0:.1f} s")

        # -- SFT through the same function as `retouchiq train sft --policy vlm`
        cfg = sft_vlm.VLMTrainConfig(
            max_steps=args.steps,
            batch_size=args.batch,
            lr=1e-4,
            lora=not args.full,
            warmup_ratio=0,
            image_side=args.image_side,
            bf16=cuda,
            gradient_checkpointing=cuda and args.shape != "tiny",
        )
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        record = sft_vlm.train(
            f"random-{args.shape}",
            [tmp / "triples"],
            tmp / "sft",
            cfg,
            echo=lambda s: None,
            model=model,
            processor=proc,
        )
        marks = record["step_seconds"]
        per_step = [b - a for a, b in zip(marks[1:], marks[2:])] or [record["seconds"] / max(record["steps"], 1)]
        step = statistics.median(per_step)
        row(
            f"SFT {'full' if args.full else 'LoRA r=16'}, batch {args.batch}",
            f"{1 / step:.2f} steps/s ({step * 1000:.0f} ms/step, median of {len(per_step)}), "
            f"{args.batch / step:.1f} samples/s; loss {record['first_loss']:.3f} → {record['last_loss']:.3f}",
        )
        if cuda:
            row("SFT peak GPU memory", f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")

        # -- edits: the full prompt, the sample photo
        model.eval()
        policy = VLMPolicy(
            model,
            proc,
            name="bench",
            prompt_style="full",
            max_new_tokens=args.new_tokens,
            image_side=args.image_side,
            repairs=1,
            device=device,
        )
        from PIL import Image

        with Image.open(photos / "p0.jpg") as im:
            image = np.asarray(im.convert("RGB"))
        turns = policy.turns(image, "warmer, lift the shadows, darken the sky a little", None)
        inputs = policy.inputs(turns, image)
        prompt_len = int(inputs["input_ids"].shape[1])

        def gen(n):
            with torch.no_grad():
                model.generate(
                    **inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=policy.pad_id
                )
            if cuda:
                torch.cuda.synchronize()

        def timed(fn):
            fn()
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            return statistics.median(times)

        first = timed(lambda: gen(1))
        full = timed(lambda: gen(args.new_tokens))
        row("prompt (full system prompt + photo)", f"{prompt_len} tokens")
        row("time to first token", f"{first * 1000:.0f} ms")
        row(f"decode, {args.new_tokens} new tokens", f"{(args.new_tokens - 1) / max(full - first, 1e-9):.1f} tokens/s")

        def edit():
            try:
                policy.edit(image, "warmer, lift the shadows, darken the sky a little")
            except PolicyError:
                pass

        row(f"edit latency (2 answers × {args.new_tokens} tokens, then the refusal)", f"{timed(edit):.2f} s")
    print("\n| measure | value |\n|---|---|")
    for name, value in rows_out:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
