"""Supervised fine-tuning of a VLM policy on RetouchIQ's triples with TRL's SFTTrainer (LoRA by default).

    retouchiq train sft --policy vlm --model PATH --data DIR [--config FILE] [-o OUT]

Each training sample of ``retouchiq data synth`` (photo, instruction, reasoning, operations) becomes one
prompt/completion conversation in the model's own chat format (``chat_rows``): the prompt is the system prompt and
the user turn the policy sends at edit time (``agent.policy.llm``: photo, measurements, history, instruction), the
completion is the answer it should give (reasoning, then the fenced operations JSON). TRL computes the loss on the
completion only. The checkpoint (adapter, processor files, ``retouchiq.json`` naming the base model and the prompt
style) loads back with ``--policy vlm:OUT``.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from agent.errors import PolicyError

LM_LINEAR = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


@dataclass
class VLMTrainConfig:
    """Every field can be set in ``--config FILE`` (JSON); the command line overrides epochs/lr/max-samples."""

    epochs: float = 1.0
    max_steps: int = -1  # > 0: stop after this many optimiser steps
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 2e-4
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    seed: int = 0
    max_samples: int = 0  # 0 = every training sample
    prompt_style: str = "short"  # the system prompt the checkpoint is trained and used with
    image_side: int = 448  # long side of the photo given to the model
    lora: bool = True  # False: full fine-tuning
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target: str | list = LM_LINEAR  # regex or module names; default: the language model's linear layers
    bf16: bool | None = None  # None: on CUDA when supported
    gradient_checkpointing: bool = False
    logging_steps: int = 1

    @classmethod
    def from_file(cls, path: str | os.PathLike | None, **overrides) -> VLMTrainConfig:
        values = {}
        if path:
            try:
                values = json.loads(Path(path).read_text())
            except (OSError, ValueError) as exc:
                raise PolicyError(f"{path}: not a readable JSON config ({exc})") from None
            known = {f.name for f in fields(cls)}
            unknown = set(values) - known
            if unknown:
                raise PolicyError(f"{path}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
        values |= {k: v for k, v in overrides.items() if v is not None}
        return cls(**values)


# ---- data ------------------------------------------------------------------------------------------------------


def chat_rows(
    data: list[str | os.PathLike],
    split: str = "train",
    max_samples: int = 0,
    prompt_style: str = "short",
    image_side: int = 448,
    with_images: bool = True,
) -> list[dict]:
    """Synthesised samples → prompt/completion conversations (TRL's conversational format) with their photo."""
    from PIL import Image

    from agent.data import read_samples
    from agent.policy.llm import answer_text, history_text, photo_facts, pil_image, system_prompt, user_prompt

    system = system_prompt(prompt_style)
    rows = []
    for folder in data:
        folder = Path(folder)
        samples = read_samples(folder, split)
        for s in samples:
            with Image.open(folder / s["input"]) as im:
                pixels = np.asarray(im.convert("RGB"))
            im = pil_image(pixels, image_side)  # as the policy shows a photo to the model, facts as it measures
            user = user_prompt(s["instruction"], photo_facts(pixels), history_text(None))
            row = {
                "prompt": [
                    {"role": "system", "content": [{"type": "text", "text": system}]},
                    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": user}]},
                ],
                "completion": [
                    {
                        "role": "assistant",
                        "content": [{"type": "text", "text": answer_text(s["reasoning"], s["operations"])}],
                    }
                ],
                "id": s["id"],
                "family": s["family"],
            }
            row["images"] = [im] if with_images else [str((folder / s["input"]).resolve())]
            rows.append(row)
            if max_samples and len(rows) >= max_samples:
                return rows
    if not rows:
        raise PolicyError(f"no '{split}' samples in {', '.join(map(str, data))}")
    return rows


def conversation_texts(rows: list[dict]) -> list[str]:
    """Every text of the conversations (system, user, answer): what a tokenizer built for them is trained on."""
    return [c["text"] for r in rows for m in r["prompt"] + r["completion"] for c in m["content"] if c["type"] == "text"]


def export(
    data: list[str | os.PathLike],
    out: str | os.PathLike,
    split: str = "train",
    prompt_style: str = "short",
    model: str | None = None,
) -> Path:
    """The conversations as JSONL (image paths instead of pixels); with ``model``, each row also carries the
    conversation rendered by that model's chat template (``text``), i.e. exactly what the trainer tokenizes."""
    from xmp.sidecar import atomic_write

    rows = chat_rows(data, split, prompt_style=prompt_style, with_images=False)
    if model:
        from transformers import AutoConfig

        from agent.policy.vlm import load_processor, resolve

        folder = resolve(model)
        proc = load_processor(folder, AutoConfig.from_pretrained(folder, local_files_only=True).model_type)
        for row in rows:
            row["text"] = proc.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
    return out


# ---- training --------------------------------------------------------------------------------------------------


def _progress_callback(log_path: Path, total: int, echo):
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def __init__(self):
            self.t0 = time.perf_counter()
            self.entries = []  # what metrics.jsonl holds, kept for the run's record

        def on_log(self, args, state, control, logs=None, **kw):
            logs = dict(logs or {})
            entry = {"step": state.global_step, "seconds": round(time.perf_counter() - self.t0, 2)} | logs
            self.entries.append(entry)
            with open(log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")
            if "loss" in logs and echo:
                echo(
                    f"step {state.global_step}/{total}  loss {logs['loss']:.4f}  "
                    f"lr {logs.get('learning_rate', 0):.2e}  {entry['seconds']:.0f} s"
                )

    return Progress()


def mean_loss(model, processor, rows: list[dict], batch_size: int = 4) -> float:
    """Mean completion-only loss over ``rows`` with TRL's own collator (before/after comparisons)."""
    import torch
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    collate = DataCollatorForVisionLanguageModeling(processor, completion_only_loss=True)
    device = next(model.parameters()).device
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            batch = collate([{k: r[k] for k in ("prompt", "completion", "images")} for r in rows[i : i + batch_size]])
            batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
            n = int((batch["labels"] != -100).sum())
            total += float(model(**batch).loss) * n
            count += n
    return total / max(count, 1)


def train(
    model_path: str,
    data: list[str | os.PathLike],
    out: str | os.PathLike,
    cfg: VLMTrainConfig,
    echo=print,
    model=None,
    processor=None,
) -> dict:
    """Fine-tune; returns a record (steps, seconds, first/last loss) also written to OUT/train_record.json.
    ``model``/``processor`` given (benchmarks: a model built in memory): trained as they are, and only the
    record is written (no checkpoint)."""
    import torch
    from datasets import Dataset
    from transformers import AutoConfig, AutoModelForImageTextToText
    from trl import SFTConfig, SFTTrainer

    from agent.policy.vlm import SETTINGS_FILE, load_processor, resolve

    in_memory = model is not None
    folder = Path(model_path) if in_memory else resolve(model_path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cuda = torch.cuda.is_available()
    bf16 = cfg.bf16 if cfg.bf16 is not None else bool(cuda and torch.cuda.is_bf16_supported())
    if not in_memory:
        config = AutoConfig.from_pretrained(folder, local_files_only=True)
        processor = load_processor(folder, config.model_type)
        model = AutoModelForImageTextToText.from_pretrained(
            folder, local_files_only=True, dtype=torch.bfloat16 if bf16 else torch.float32
        )
    rows = chat_rows(data, "train", cfg.max_samples, cfg.prompt_style, cfg.image_side)
    dataset = Dataset.from_list([{k: r[k] for k in ("prompt", "completion", "images")} for r in rows])
    steps_per_epoch = math.ceil(len(rows) / (cfg.batch_size * cfg.grad_accum))
    total = cfg.max_steps if cfg.max_steps > 0 else max(1, math.ceil(steps_per_epoch * cfg.epochs))
    peft_config = None
    if cfg.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=cfg.lora_target,
            task_type="CAUSAL_LM",
        )
    args = SFTConfig(
        output_dir=str(out / "trainer"),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        warmup_steps=int(cfg.warmup_ratio * total),
        weight_decay=cfg.weight_decay,
        seed=cfg.seed,
        bf16=bf16,
        use_cpu=not cuda,
        gradient_checkpointing=cfg.gradient_checkpointing,
        report_to="none",
        save_strategy="no",
        logging_steps=cfg.logging_steps,
        max_length=None,
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    log_path = out / "metrics.jsonl"
    log_path.unlink(missing_ok=True)
    echo(
        f"SFT {folder.name}: {len(rows)} conversations, {total} steps of {cfg.batch_size}×{cfg.grad_accum}, "
        f"{'LoRA r=' + str(cfg.lora_r) if cfg.lora else 'full fine-tuning'}, lr {cfg.lr:g}, "
        f"{'cuda' if cuda else 'cpu'}{', bf16' if bf16 else ''}; metrics → {log_path}"
    )
    progress = _progress_callback(log_path, total, echo)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        peft_config=peft_config,
        callbacks=[progress],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # the progress callback prints one line per log instead
    t0 = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - t0
    if not in_memory:
        trainer.save_model(str(out))
        processor.save_pretrained(str(out))
        settings = {
            "base_model": str(folder),
            "prompt_style": cfg.prompt_style,
            "image_side": cfg.image_side,
            "lora": cfg.lora,
        }
        (out / SETTINGS_FILE).write_text(json.dumps(settings, indent=1) + "\n")
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    record = {
        "model": str(folder),
        "data": [str(d) for d in data],
        "samples": len(rows),
        "steps": result.global_step,
        "seconds": round(seconds, 1),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "config": asdict(cfg),
        "step_seconds": [e["seconds"] for e in progress.entries if "loss" in e],
    }
    (out / "train_record.json").write_text(json.dumps(record, indent=1) + "\n")
    return record
