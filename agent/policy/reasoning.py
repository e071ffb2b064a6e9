"""Reasoning text for the compact policy's edit: what the photo shows (measured) and why each chosen knob.

The wording is the training data's own (``agent.data.measure.reasoning``), so what the policy says reads like
what it learned from; this adds the instruction and leaves out knobs that would write nothing.
"""
from __future__ import annotations

from agent.data.measure import reasoning
from agent.slots import HUE_OF, is_active


def explain(stats: dict, values: dict[str, float], instruction: str) -> str:
    used = {k: v for k, v in values.items() if k in HUE_OF or is_active(k, v)}
    quoted = " ".join(instruction.split())
    quoted = quoted if len(quoted) <= 120 else quoted[:117] + "..."
    return reasoning(stats, used, f'For "{quoted}"')
