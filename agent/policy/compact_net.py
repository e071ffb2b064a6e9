"""The compact policy's network in torch — trained by agent/train, saved as the ONNX graph the policy runs.

``CompactNet`` (and ``Ensemble``, several of them averaged) is defined, trained and exported here; ``save``
writes it as one ONNX file: the graph, its weights in float16 (cast back to float32 in the graph, so the ONNX
answers what the float16 weights answer in torch), and the configuration, the photo statistics it reads, the slot
set and the training record as metadata. ``load_net`` reads that file back into torch (to fine-tune it, e.g. by
RL); ``agent.policy.compact`` runs it with onnxruntime, without torch.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from agent.errors import PolicyError
from agent.policy.compact import INPUTS, OUTPUTS, SLOT_NAMES
from agent.policy.text import DIM as TEXT_DIM
from xmp.files import atomic_write

OPSET = 17


@dataclass
class Config:
    n_stats: int
    hidden: int = 512
    dropout: float = 0.1
    stat_noise: float = 0.0  # training only: Gaussian noise on the standardised statistics (see sft_compact)
    text_dropout: float = 0.0  # training only: dropout on the instruction embedding (see sft_compact)
    set_dim: int = 0  # > 0: each clause also goes through its own MLP and the results are summed
    stat_clip: float = 6.0  # standardised statistics are clipped to ±this: a photo far outside the training
    # photos' range (very dark, very bright) must not swamp what the words ask for
    compose: str = "mix"  # "mix": the trunk reads the whole request at once; "clauses": the trunk answers
    # each clause (with the photo) on its own and the answers are combined per knob
    amount_dim: int = 0  # "clauses" only: each clause also reads its amount words as numbers (amounts.py)


class CompactNet(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        if cfg.compose not in ("mix", "clauses"):
            raise ValueError(f"unknown compose mode {cfg.compose!r}")
        n_in = TEXT_DIM + cfg.n_stats + (cfg.set_dim if cfg.compose == "mix" else cfg.amount_dim)
        if cfg.set_dim and cfg.compose == "mix":  # per clause, before any mixing: "warm the bottom" stays bottom
            self.clause = nn.Sequential(nn.Linear(TEXT_DIM, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.set_dim))
        self.trunk = nn.Sequential(
            nn.Linear(n_in, cfg.hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.GELU(),
        )
        self.head = nn.Linear(cfg.hidden, 3 * len(SLOT_NAMES))
        # normalisation of the statistics, set from the training set and saved with the weights
        self.register_buffer("stat_mean", torch.zeros(cfg.n_stats))
        self.register_buffer("stat_std", torch.ones(cfg.n_stats))

    @property
    def reads_clauses(self) -> bool:
        return bool(self.cfg.set_dim) or self.cfg.compose == "clauses"

    def forward(
        self,
        text: torch.Tensor,
        stats: torch.Tensor,
        clauses: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        amounts: torch.Tensor | None = None,
        per_clause: bool = False,
    ):
        """text [N, 384] (the clauses' mean), stats [N, S] raw, and when ``reads_clauses`` the clauses one by
        one [N, C, 384] with their 0/1 mask [N, C] (and with ``amount_dim`` their amounts [N, C, amount_dim])
        → (activation logits, means in [-1, 1] units, log-stds), each [N, n_slots]. ``per_clause`` (compose
        "clauses" only): also each clause's own activation logits [N, C, n_slots]."""
        s = ((stats - self.stat_mean) / self.stat_std).clamp(-self.cfg.stat_clip, self.cfg.stat_clip)
        if self.training and self.cfg.stat_noise:
            s = s + self.cfg.stat_noise * torch.randn_like(s)
        if self.cfg.compose == "clauses":
            return self._per_clause(clauses, mask, s, amounts, per_clause)
        if self.training and self.cfg.text_dropout:
            text = nn.functional.dropout(text, self.cfg.text_dropout)
        parts = [text, s]
        if self.cfg.set_dim:
            if self.training and self.cfg.text_dropout:
                clauses = nn.functional.dropout(clauses, self.cfg.text_dropout)
            parts.insert(1, (self.clause(clauses) * mask[..., None]).sum(1))
        h = self.trunk(torch.cat(parts, dim=1))
        logit, mean, log_std = self.head(h).view(-1, 3, len(SLOT_NAMES)).unbind(1)
        return logit, mean, log_std.clamp(-5.0, 1.0)

    def _per_clause(
        self,
        clauses: torch.Tensor,
        mask: torch.Tensor,
        s: torch.Tensor,
        amounts: torch.Tensor | None,
        per_clause: bool = False,
    ):
        """Each clause with the photo through trunk and head, then per knob: used if any clause uses it
        (noisy-OR of the clauses' probabilities), its value and spread from the clauses weighted by how surely
        each asks for it. No clause sees another, so "darken the left, warm the right" cannot trade regions."""
        if self.training and self.cfg.text_dropout:
            clauses = nn.functional.dropout(clauses, self.cfg.text_dropout)
        n, c = mask.shape
        parts = [clauses] + ([amounts] if self.cfg.amount_dim else []) + [s[:, None, :].expand(n, c, s.shape[1])]
        x = torch.cat(parts, dim=2)
        logit, mean, log_std = self.head(self.trunk(x)).view(n, c, 3, len(SLOT_NAMES)).unbind(2)
        on = mask[..., None] > 0
        # P(off) = Π (1 − p_k): q = Σ softplus(logit_k) = −log P(off); the combined logit is log(e^q − 1)
        q = torch.where(on, nn.functional.softplus(logit), torch.zeros_like(logit)).sum(1).clamp(min=1e-6)
        combined = q + torch.log(-torch.expm1(-q))
        w = torch.softmax(torch.where(on, logit, torch.full_like(logit, -1e4)), dim=1)
        out = combined, (w * mean).sum(1), (w * log_std).sum(1).clamp(-5.0, 1.0)
        return out + (logit,) if per_clause else out


class Ensemble(nn.Module):
    """Several CompactNets trained alike from different seeds; their logits, means and log-stds are averaged."""

    def __init__(self, members: list[CompactNet]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    @property
    def reads_clauses(self) -> bool:
        return self.members[0].reads_clauses

    def forward(self, *inputs: torch.Tensor, **options):
        outs = [m(*inputs, **options) for m in self.members]
        return tuple(torch.stack(parts).mean(0) for parts in zip(*outs))


# ---- the shipped file: ONNX ------------------------------------------------------------------------------------


def _expm1(g, x):
    """ONNX has no expm1: x + x²/2 where |x| < 1e-3 (where exp(x) − 1 loses digits), exp(x) − 1 elsewhere."""
    const = lambda v: g.op("Constant", value_t=torch.tensor(v, dtype=torch.float32))
    small = g.op("Less", g.op("Abs", x), const(1e-3))
    taylor = g.op("Add", x, g.op("Mul", const(0.5), g.op("Mul", x, x)))
    return g.op("Where", small, taylor, g.op("Sub", g.op("Exp", x), const(1.0)))


class _Graph(nn.Module):
    """The network with its ONNX inputs and outputs (``INPUTS``, ``OUTPUTS``; a mode reads what it needs)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, text, stats, clauses, mask, amounts):
        if self.net.cfg.compose == "clauses":
            return self.net(text, stats, clauses, mask, amounts, per_clause=True)
        return self.net(text, stats, clauses, mask, amounts)


def _half_weights(model) -> None:
    """Every float initializer stored as float16 and cast back to float32 where the graph reads it."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "__f16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
    for node in reversed(casts):
        graph.node.insert(0, node)


def to_onnx(net: CompactNet | Ensemble):
    """The network (put in eval mode) as an ONNX graph with a dynamic batch and clause count."""
    import onnx

    net.eval()
    n, c = 2, 3
    example = (
        torch.zeros(n, TEXT_DIM),
        torch.zeros(n, net.cfg.n_stats),
        torch.zeros(n, c, TEXT_DIM),
        torch.ones(n, c),
        torch.zeros(n, c, max(net.cfg.amount_dim, 1)),
    )
    outputs = OUTPUTS if net.cfg.compose == "clauses" else OUTPUTS[:3]
    axes = {
        "text": {0: "n"},
        "stats": {0: "n"},
        "clauses": {0: "n", 1: "c"},
        "mask": {0: "n", 1: "c"},
        "amounts": {0: "n", 1: "c"},
        "logit": {0: "n"},
        "mean": {0: "n"},
        "log_std": {0: "n"},
        "clause_logit": {0: "n", 1: "c"},
    }
    torch.onnx.register_custom_op_symbolic("aten::expm1", _expm1, OPSET)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Graph(net).eval(),
            example,
            buf,
            input_names=list(INPUTS),
            output_names=list(outputs),
            dynamic_axes={k: v for k, v in axes.items() if k in INPUTS + outputs},
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=False,
        )
    model = onnx.load_from_string(buf.getvalue())
    _half_weights(model)
    return model


def save(path: str | Path, net: CompactNet | Ensemble, stat_keys: list[str], meta: dict) -> Path:
    """The network as the policy's ONNX file (weights in float16), written atomically."""
    from onnx import helper

    model = to_onnx(net)
    members = len(net.members) if isinstance(net, Ensemble) else 0
    helper.set_model_props(
        model,
        {
            "config": json.dumps(asdict(net.cfg)),
            "stat_keys": json.dumps(list(stat_keys)),
            "slots": json.dumps(list(SLOT_NAMES)),
            "members": str(members),
            "meta": json.dumps(meta, default=str),
        },
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, model.SerializeToString())


def load_net(path: str | Path) -> tuple[CompactNet | Ensemble, list[str], dict]:
    """A saved policy file back as a torch network (float16 weights as float32), its statistics and record."""
    import onnx
    from onnx import numpy_helper

    path = Path(path)
    if not path.is_file():
        raise PolicyError(f"{path}: compact policy weights not found")
    try:
        model = onnx.load(str(path))
        props = {p.key: p.value for p in model.metadata_props}
        cfg, members = Config(**json.loads(props["config"])), int(props["members"])
    except Exception as exc:  # a truncated or foreign file
        raise PolicyError(f"{path}: not a compact policy file ({exc})") from None
    if json.loads(props["slots"]) != list(SLOT_NAMES):
        raise PolicyError(f"{path}: trained for another slot set than agent/slots.py; retrain the policy")
    arrays = {init.name.removesuffix("__f16"): numpy_helper.to_array(init) for init in model.graph.initializer}
    for node in model.graph.node:  # the exporter keeps one copy of equal tensors and names the others by Identity
        if node.op_type == "Identity" and node.input[0] in arrays:
            arrays[node.output[0]] = arrays[node.input[0]]
    weights = {k.removeprefix("net."): torch.from_numpy(v.astype(np.float32)) for k, v in arrays.items()}
    nets = [CompactNet(cfg) for _ in range(max(members, 1))]
    for i, m in enumerate(nets):
        prefix = f"members.{i}." if members else ""
        m.load_state_dict({k: weights[prefix + k] for k in m.state_dict()})
    net = Ensemble(nets) if members else nets[0]
    return net.eval(), json.loads(props["stat_keys"]), json.loads(props["meta"])
