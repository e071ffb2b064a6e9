"""RL for the compact policy: GRPO against the rule reward or a reward model, with PGRT.

Each step takes ``prompts`` training prompts, draws ``samples`` edits for each from the policy's own distribution
(a Bernoulli per knob, a Gaussian per value: ``compact.Prediction.sample`` in torch), renders them on the prompt's
thumbnail with every module of the edit (``agent.train.prompts.render``), and scores them: the rule reward
(``agent.reward.rule``) or the compact GRM's weighted sum / 10. Advantages are normalised within each prompt's group
(GRPO); the loss is −advantage × log-probability of the sample plus ``beta`` × the KL divergence from the SFT
policy (exact, per knob: Bernoulli and, where the knob is on, Gaussian). No gradient goes through the renderer.

With PGRT, every ``pgrt_every`` steps the reward model is updated on the step's samples against the targets
(``agent.train.grm.pgrt_update``): the policy and the reward model alternate, the reward model starting from stage 1.

    retouchiq train rl --policy compact --data data/fast600 --reward grm:out/grm.pt --pgrt -o out/rl.onnx
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from agent import slots as slots_mod
from agent.errors import RequestError
from agent.policy import compact, compact_net
from agent.reward import grm as grm_mod
from agent.reward import rule
from agent.train import grm as grm_train
from agent.train import prompts as prompts_mod

_KNOBS = torch.tensor(compact.KNOBS)
_HUE_OF = [(compact.SLOT_NAMES.index(h), compact.SLOT_NAMES.index(c)) for h, c in slots_mod.HUE_OF.items()]


@dataclass
class RLConfig:
    data: list[str]
    out: str
    policy: str = str(compact.WEIGHTS)  # the SFT weights to start from (and to stay near)
    reward: str = "rule"  # "rule" or "grm:PATH"
    pgrt: bool = False
    grm_out: str = ""  # with pgrt: where the updated reward model is written
    steps: int = 200
    prompts: int = 16
    samples: int = 8
    lr: float = 5e-5
    beta: float = 0.05  # weight of the KL divergence from the SFT policy
    pgrt_every: int = 5
    pgrt_steps: int = 2
    grm_lr: float = 5e-4
    side: int = prompts_mod.SIDE
    seed: int = 0
    max_samples: int = 0
    threads: int = 2


def distribution(net, inputs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(activation probabilities, unit means, stds), each [N, slots]."""
    logit, mean, log_std = net(*inputs)
    return torch.sigmoid(logit), mean, log_std.exp()


def _hues_follow(x: torch.Tensor) -> torch.Tensor:
    """A copy of per-slot columns [N, slots] in which each tint hue takes its chroma's column (a hue is on with
    its chroma)."""
    out = x.clone()
    for hue, chroma in _HUE_OF:
        out[:, hue] = x[:, chroma]
    return out


def sample(prob, mean, std, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(gates 0/1, unit values) drawn from the distribution; a hue is on with its chroma."""
    on = _hues_follow((torch.rand(prob.shape, generator=gen) < prob).float())
    u = mean + std * torch.randn(mean.shape, generator=gen)
    return on, u


def log_prob(prob, mean, std, on, u) -> torch.Tensor:
    """[N] log-probability of samples: Bernoulli over the knobs, Gaussian over the values of the knobs that are on
    (the hues with their chroma)."""
    p = prob[:, _KNOBS].clamp(1e-6, 1 - 1e-6)
    a = on[:, _KNOBS]
    bern = (a * p.log() + (1 - a) * (1 - p).log()).sum(1)
    gauss = -0.5 * ((u - mean) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)
    return bern + (gauss * on).sum(1)


def kl(prob, mean, std, prob0, mean0, std0) -> torch.Tensor:
    """[N] KL(policy ‖ SFT policy), exact per knob."""
    p, q = prob[:, _KNOBS].clamp(1e-6, 1 - 1e-6), prob0[:, _KNOBS].clamp(1e-6, 1 - 1e-6)
    bern = (p * (p / q).log() + (1 - p) * ((1 - p) / (1 - q)).log()).sum(1)
    gauss = (std0 / std).log() + (std**2 + (mean - mean0) ** 2) / (2 * std0**2) - 0.5
    return bern + (_hues_follow(prob) * gauss).sum(1)


class Rewarder:
    """Scores renders of prompt rows: the rule reward or a reward model's (weighted sum / 10), in [0, 1]."""

    def __init__(self, spec: str, p: prompts_mod.Prompts):
        self.p = p
        self.grm = None
        if spec.startswith("grm:"):
            self.grm = grm_mod.load(spec[4:])
        elif spec != "rule":
            raise RequestError(f"--reward: 'rule' or 'grm:PATH' (got '{spec}')")

    def __call__(self, rows: torch.Tensor, out: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        p = self.p
        if self.grm is None:
            src = p.src_stats[p.t.photo[rows]]
            return rule.reward(
                src, stats, out, p.target[rows], [p.asked[i] for i in rows.tolist()], target_stats=p.target_stats[rows]
            )
        with torch.no_grad():
            return grm_train.judge(self.grm, p, rows, stats).reward / 10.0


def train(cfg: RLConfig, log=print, p: prompts_mod.Prompts | None = None, replay=None) -> dict:
    """``p``: the prompts of ``cfg.data`` if loaded already; ``replay``: stage-1 pairs of them for PGRT (made here
    when not given)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train(cfg, log, p, replay)
    finally:
        torch.set_num_threads(threads)


def _train(cfg: RLConfig, log, p, replay) -> dict:
    t0 = time.time()
    if cfg.pgrt and not cfg.reward.startswith("grm:"):
        raise RequestError("--pgrt needs a reward model: --reward grm:PATH")
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    if p is None:
        p = prompts_mod.load(cfg.data, "train", cfg.max_samples, cfg.side, log)
    net, stat_keys, meta = compact_net.load_net(cfg.policy)
    if stat_keys != list(compact.STATS):
        raise RequestError(f"{cfg.policy}: trained on other photo statistics than this version reads")
    ref = copy.deepcopy(net).eval()
    for q in ref.parameters():
        q.requires_grad_(False)
    net.eval()  # no dropout, no noise on the statistics: the samples come from the policy as it answers
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    rewarder = Rewarder(cfg.reward, p)
    grm_opt, grm_cfg = None, grm_train.GRMTrainConfig(seed=cfg.seed)
    if cfg.pgrt:
        grm_opt = grm_train.optimiser(rewarder.grm, cfg.grm_lr)
        if replay is None:
            replay = grm_train.make_pairs(p, 1, cfg.seed + 1000, log=lambda m: None)
    history = []
    for step in range(cfg.steps):
        ts = time.time()
        rows = torch.randperm(len(p), generator=gen)[: cfg.prompts]
        b = p.t.take(rows)
        prob, mean, std = distribution(net, b.inputs(net))
        with torch.no_grad():
            prob0, mean0, std0 = distribution(ref, b.inputs(ref))
        g = cfg.samples
        P, M, S = (x.repeat_interleave(g, 0) for x in (prob, mean, std))
        with torch.no_grad():
            on, u = sample(P, M, S, gen)
        rrows = rows.repeat_interleave(g, 0)
        values = prompts_mod.values_of(on, u.clamp(-1, 1))
        out, stats = prompts_mod.render(p.thumbs[p.t.photo[rrows]], values)
        reward = rewarder(rrows, out, stats)
        grouped = reward.view(-1, g)
        adv = ((grouped - grouped.mean(1, keepdim=True)) / (grouped.std(1, keepdim=True) + 1e-4)).flatten()
        pg = -(adv * log_prob(P, M, S, on, u)).mean()
        div = kl(prob, mean, std, prob0, mean0, std0).mean()
        loss = pg + cfg.beta * div
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        rec = {"step": step + 1, "reward": float(reward.mean()), "kl": float(div.detach()), "seconds": time.time() - ts}
        if cfg.pgrt and (step + 1) % cfg.pgrt_every == 0:
            pairs = grm_train.policy_pairs(p, rrows, out, stats)
            rec["grm_accuracy"] = grm_train.pgrt_update(
                rewarder.grm, grm_opt, grm_cfg, p, pairs, replay, gen, cfg.pgrt_steps
            )
            rec["grm_pairs"] = len(pairs)
        history.append(rec)
        if step == 0 or (step + 1) % 25 == 0 or step + 1 == cfg.steps:
            acc = [
                h["grm_accuracy"] for h in history[-25:] if "grm_accuracy" in h and not math.isnan(h["grm_accuracy"])
            ]
            extra = f", reward model right on the policy's samples {np.mean(acc):.2f}" if acc else ""
            log(
                f"rl step {step + 1}/{cfg.steps}: reward {np.mean([h['reward'] for h in history[-25:]]):.4f}, "
                f"KL {rec['kl']:.3f}{extra} ({np.median([h['seconds'] for h in history[-25:]]):.2f} s/step)"
            )
    net.eval()
    record = {
        "config": asdict(cfg),
        "sft": meta.get("trained"),
        "seconds": round(time.time() - t0, 1),
        "step_seconds_median": float(np.median([h["seconds"] for h in history])),
        "reward_first": float(np.mean([h["reward"] for h in history[:10]])),
        "reward_last": float(np.mean([h["reward"] for h in history[-10:]])),
        "kl_last": history[-1]["kl"],
        "trained": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    compact_net.save(cfg.out, net, list(compact.STATS), {**meta, "rl": record})
    if cfg.pgrt and cfg.grm_out:
        grm_mod.save(cfg.grm_out, rewarder.grm, {**getattr(rewarder.grm, "record", {}), "pgrt": record})
    log(f"saved {cfg.out} after {record['seconds']:.0f} s")
    return {**record, "history": history, "grm": rewarder.grm}
