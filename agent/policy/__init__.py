"""Policies: photo + instruction + current history → reasoning + operations (docs/architecture.md's action format).

Every policy answers through the same interface, and its operations are validated against the vocabulary
(``darktable_bridge.operations.parse_operations``) before anything is written. Policies are named by a spec
string: ``compact`` (the embedded default), ``rules`` (the keyword baseline), later ``vlm:PATH`` and
``openai:URL#MODEL``. ``load_policy`` loads one once; callers keep it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from agent.errors import PolicyError, RequestError
from agent.measure import plain
from darktable_bridge import operations
from xmp.sidecar import Sidecar


@dataclass
class EditResult:
    reasoning: str
    operations: list[dict]
    extra: dict = field(default_factory=dict)  # policy-specific details (scores, timings), JSON-serialisable

    def to_json(self) -> dict:
        """The reasoning (with its measurements), the same in plain words (``summary``), the operations."""
        return {"reasoning": self.reasoning, "summary": plain(self.reasoning), "operations": self.operations}


class Policy(Protocol):
    name: str

    def edit(self, image: np.ndarray, instruction: str, history: Sidecar | None = None) -> EditResult:
        """image: the photo's preview, uint8 sRGB [H, W, 3] (long side ~1024 or less)."""
        ...


def validate(result: EditResult) -> EditResult:
    """Raise PolicyError unless the operations parse against the vocabulary."""
    try:
        operations.parse_operations({"operations": result.operations})
    except Exception as exc:  # SidecarError and friends: the message names the bad field
        raise PolicyError(f"could not produce a valid edit: {exc}") from None
    return result


class NoopPolicy:
    """Changes nothing: the floor every other policy is measured against."""

    name = "noop"

    def edit(self, image: np.ndarray, instruction: str, history: Sidecar | None = None) -> EditResult:
        return EditResult("No change.", [])


# spec prefix → "module:factory"; the factory takes the text after the prefix's colon (or "").
REGISTRY = {
    "noop": "agent.policy:NoopPolicy",
    "rules": "agent.policy.rules:RulePolicy",
    "compact": "agent.policy.compact:load",
    "vlm": "agent.policy.vlm:load",
    "openai": "agent.policy.remote:load",
}


def load_policy(spec: str = "compact") -> Policy:
    kind, _, arg = spec.partition(":")
    if kind not in REGISTRY:
        raise RequestError(f"unknown policy '{spec}' (known: {', '.join(sorted(REGISTRY))})")
    module, _, factory = REGISTRY[kind].partition(":")
    return (
        getattr(importlib.import_module(module), factory)(arg)
        if arg
        else getattr(importlib.import_module(module), factory)()
    )
