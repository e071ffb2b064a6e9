"""The one path from a request to a sidecar, shared by the CLI, the server, rolls, the benchmark and RL.

``edit``: (preview, instruction, current sidecar, the photo's file name, policy) → ``Outcome``: the policy's
reasoning and operations, validated once, and the photo's whole sidecar with them merged on top. Nothing is
read from or written to disk here: the CLI writes ``Outcome.text`` with ``darktable_bridge.apply.write_sidecar``,
the server returns it, the plugin writes what the server returned.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from agent.errors import PolicyError
from agent.errors import instruction as checked_instruction
from agent.policy import EditResult, Policy
from darktable_bridge import apply
from darktable_bridge.operations import instance_label, parse_operations
from xmp import SidecarError
from xmp.sidecar import HistoryItem, Sidecar


@dataclass
class Outcome:
    result: EditResult  # reasoning + operations, as the policy answered
    text: str | None = None  # the whole sidecar with the edit merged in; None: nothing to change
    items: list[HistoryItem] = field(default_factory=list)  # the history items the edit added

    @property
    def changed(self) -> bool:
        return self.text is not None

    def to_json(self) -> dict:
        return {**self.result.to_json(), "xmp": self.text}


def merge(result: EditResult, sidecar: Sidecar | None, filename: str | os.PathLike, request: str = "") -> Outcome:
    """A policy's answer on top of ``sidecar`` (None: the photo has none yet; changed in place) for the photo
    named ``filename`` (its extension decides a new sidecar's module order). ``request`` names the new instances
    (``exposure retouchiq warmer``), so two edits read apart in darktable's history."""
    if not result.operations:
        return Outcome(result)
    try:
        edits = parse_operations({"operations": result.operations}, instance_label(request))
    except SidecarError as exc:  # the message names the bad operation or field
        raise PolicyError(f"could not produce a valid edit: {exc}") from None
    merged = apply.merge(filename, edits, sidecar)
    return Outcome(result, merged.text, merged.items)


def edit(
    preview: np.ndarray, instruction: str, sidecar: Sidecar | None, filename: str | os.PathLike, policy: Policy
) -> Outcome:
    """The request answered: ``preview`` is the photo as it looks now (uint8 sRGB [H, W, 3]), ``sidecar`` its
    current darktable edit (None for none)."""
    text = checked_instruction(instruction)
    return merge(policy.edit(preview, text, sidecar), sidecar, filename, text)
