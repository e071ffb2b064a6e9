"""RL for a VLM policy: TRL's GRPOTrainer with reward functions that render the answer, and PGRT rounds.

The prompts are the synthesized samples as the VLM policy sees them (``sft_vlm.chat_rows``: system prompt, the
photo, the request with the photo's facts); each completion is parsed as the policy's answer
(``agent.policy.llm.parse_answer``), written into a sidecar through the one edit path (``agent.core.merge``) and
rendered by the torch renderer on the prompt's 32 px thumbnail — the same thumbnail, source and target render as
the compact policy's RL (``agent.train.prompts``). Reward functions, each in [0, 1], an invalid answer 0, below
every valid one (never None: with None, invalid answers outranked poor valid ones, docs/rl.md):

- ``format``: 1 for an answer that parses into valid operations;
- ``rule``: ``agent.reward.rule`` on the render;
- ``grm``: a compact reward model's weighted sum / 10 on the render.

PGRT (``rounds`` > 1 with a reward model): the policy trains ``steps`` GRPO steps, then the reward model is updated
on the valid edits the policy wrote during those steps, against their targets (``agent.train.grm.pgrt_update``),
and so on in turn. A VLM must be SFT'd first (``retouchiq train sft --policy vlm``): a random one writes no valid
answer, every reward ties and nothing is learned.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from agent.errors import PolicyError, RequestError
from agent.reward import criteria
from agent.reward import grm as grm_mod
from agent.train import grm as grm_train
from agent.train import prompts as prompts_mod
from agent.train.rl_compact import Rewarder


@dataclass
class VLMRLConfig:
    reward: str = "rule"  # "rule" or "grm:PATH"
    rounds: int = 1  # > 1 with a reward model: PGRT rounds (policy steps, then reward-model updates)
    steps: int = 10  # GRPO steps per round
    batch_size: int = 4
    num_generations: int = 4
    max_completion_length: int = 256
    temperature: float = 1.0
    lr: float = 1e-5
    beta: float = 0.04  # KL to the SFT policy (with LoRA the reference is the base with the adapter off)
    lora: bool = True
    lora_r: int = 16
    max_samples: int = 0
    image_side: int = 448
    prompt_style: str = "short"
    pgrt_steps: int = 4
    seed: int = 0


class Rewards:
    """The reward functions TRL calls (``format``, and ``rule`` or ``grm``), sharing one render per completion and
    scoring the valid ones as the compact policy's RL does (``rl_compact.Rewarder``); also the policy's valid edits
    of the round (for PGRT)."""

    def __init__(self, p: prompts_mod.Prompts, spec: str, filename: str = "photo.png"):
        self.p, self.filename = p, filename
        self.scorer = Rewarder(spec, p)
        self._cache: dict[tuple[int, str], tuple[bool, torch.Tensor | None, torch.Tensor | None]] = {}
        self.images_seen = 0
        self.round: list[tuple[int, torch.Tensor, torch.Tensor]] = []  # (row, render, stats) of valid edits

    @property
    def model(self):
        """The reward model (None with the rule reward)."""
        return self.scorer.grm

    def _render(self, row: int, text: str):
        key = (row, text)
        if key not in self._cache:
            from agent import core
            from agent.policy.llm import parse_answer
            from darktable_bridge.render.renderer import render_torch
            from xmp.sidecar import Sidecar

            try:
                result = parse_answer(text)
                merged = core.merge(result, None, self.filename).text
                image = self.p.thumbs[self.p.t.photo[row]][None]
                display = render_torch(image, [Sidecar.parse(merged)])[1] / 255.0
                out = display.clamp(0, 1)
                self._cache[key] = (True, out, criteria.stats(out, display))
                self.round.append((row, out, self._cache[key][2]))
            except (PolicyError, ValueError, RuntimeError):
                self._cache[key] = (False, None, None)
        return self._cache[key]

    def _each(self, completions, row):
        texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
        return [self._render(int(r), t if isinstance(t, str) else "") for r, t in zip(row, texts)]

    def format(self, prompts, completions, row, **kwargs) -> list[float]:
        images = kwargs.get("images") or kwargs.get("image") or []
        self.images_seen += sum(1 for x in images if x is not None)
        return [1.0 if ok else 0.0 for ok, _, _ in self._each(completions, row)]

    def _scored(self, completions, row) -> list[float]:
        done = self._each(completions, row)
        valid = [i for i, (ok, _, _) in enumerate(done) if ok]
        out = [0.0] * len(done)
        if valid:
            rows = torch.tensor([int(row[i]) for i in valid])
            scores = self.scorer(rows, torch.cat([done[i][1] for i in valid]), torch.cat([done[i][2] for i in valid]))
            for i, v in zip(valid, scores.tolist()):
                out[i] = v
        return out

    def rule(self, prompts, completions, row, **kwargs) -> list[float]:
        return self._scored(completions, row)

    def grm(self, prompts, completions, row, **kwargs) -> list[float]:
        return self._scored(completions, row)

    def functions(self) -> list:
        """What TRL calls (it logs rewards/<function name>/mean)."""
        return [self.format, self.rule if self.model is None else self.grm]


def train(model, processor, data: list[str], out: str | Path, cfg: VLMRLConfig, echo=print) -> dict:
    """GRPO (and PGRT rounds) of ``model`` (a Hugging Face VLM with its ``processor``) on the ``data`` folders'
    training samples; returns the record (per round: steps, rewards, images seen, reward-model pairs)."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from agent.train.sft_vlm import chat_rows

    if cfg.rounds > 1 and not cfg.reward.startswith("grm:"):
        raise RequestError("PGRT rounds need a reward model: reward grm:PATH")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    p = prompts_mod.load(data, "train", cfg.max_samples, log=lambda m: None)
    rows = chat_rows(data, "train", cfg.max_samples, cfg.prompt_style, cfg.image_side)
    if len(rows) != len(p):
        raise RequestError("the data's samples and their prompts disagree")
    dataset = Dataset.from_list([{"prompt": r["prompt"], "images": r["images"], "row": i} for i, r in enumerate(rows)])
    rewards = Rewards(p, cfg.reward)
    grm = rewards.model
    peft_config = None
    if cfg.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, target_modules="all-linear", task_type="CAUSAL_LM"
        )
    cuda = torch.cuda.is_available()
    record = {"config": asdict(cfg), "rounds": []}
    grm_opt = grm_train.optimiser(grm) if grm is not None else None
    replay = grm_train.make_pairs(p, 1, cfg.seed, log=lambda m: None) if cfg.rounds > 1 else None
    gen = torch.Generator().manual_seed(cfg.seed)
    t0 = time.time()
    for k in range(cfg.rounds):
        args = GRPOConfig(
            output_dir=str(out / "trainer"),
            max_steps=cfg.steps,
            per_device_train_batch_size=cfg.batch_size,
            num_generations=cfg.num_generations,
            max_completion_length=cfg.max_completion_length,
            temperature=cfg.temperature,
            learning_rate=cfg.lr,
            beta=cfg.beta,
            bf16=bool(cuda and torch.cuda.is_bf16_supported()),
            use_cpu=not cuda,
            gradient_checkpointing=False,
            report_to="none",
            save_strategy="no",
            logging_steps=1,
            seed=cfg.seed + k,
            disable_tqdm=True,
        )
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=rewards.functions(),
            args=args,
            train_dataset=dataset,
            processing_class=processor,
            peft_config=peft_config if k == 0 else None,
        )
        rewards.round = []
        trainer.train()
        model = trainer.model
        logs = [e for e in trainer.state.log_history if "reward" in e]
        entry = {
            "round": k + 1,
            "steps": trainer.state.global_step,
            "reward_first": logs[0]["reward"] if logs else None,
            "reward_last": logs[-1]["reward"] if logs else None,
            "valid_edits": len(rewards.round),
            "images_seen": rewards.images_seen,
        }
        if grm is not None and cfg.rounds > 1 and k + 1 < cfg.rounds:
            if rewards.round:
                r_rows = torch.tensor([r for r, _, _ in rewards.round])
                outs = torch.cat([o for _, o, _ in rewards.round])
                stats = torch.cat([s for _, _, s in rewards.round])
                pairs = grm_train.policy_pairs(p, r_rows, outs, stats)
            else:
                pairs = grm_train.Pairs(torch.zeros(0, dtype=torch.long), p.target_stats[:0], [])
            entry["grm_pairs"] = len(pairs)
            acc = grm_train.pgrt_update(grm, grm_opt, grm_train.GRMTrainConfig(), p, pairs, replay, gen, cfg.pgrt_steps)
            entry["grm_accuracy_before"] = None if math.isnan(acc) else acc
        record["rounds"].append(entry)
        echo(f"round {k + 1}/{cfg.rounds}: {entry}")
    trainer.save_model(str(out))
    processor.save_pretrained(str(out))
    if grm is not None and cfg.rounds > 1:
        grm_mod.save(out / "grm-pgrt.pt", grm, {"pgrt": record})
    record["seconds"] = round(time.time() - t0, 1)
    return record
