"""Reasoning text for the compact policy's edit: what the photo shows (measured) and why each chosen knob.

The wording is the training data's own (``agent.measure.reasoning``), so what the policy says reads like
what it learned from; this adds the instruction and leaves out knobs that would write nothing.
"""

from __future__ import annotations

from agent.measure import describe, reasoning
from agent.slots import HUE_OF, is_active


def _quote(instruction: str) -> str:
    quoted = " ".join(instruction.split())
    return quoted if len(quoted) <= 120 else quoted[:117] + "..."


def explain(stats: dict, values: dict[str, float], instruction: str) -> str:
    used = {k: v for k, v in values.items() if k in HUE_OF or is_active(k, v)}
    return reasoning(stats, used, f'For "{_quote(instruction)}"')


def unrecognised(stats: dict, instruction: str, examples: str) -> str:
    """For a request none of whose words the policy was trained on (agent/policy/known_words.py)."""
    return (
        f'{describe(stats)} I do not recognise "{_quote(instruction)}" as an editing request: none of its words '
        f"is one I was trained on, so nothing is changed. I read requests in English, such as {examples}."
    )


def unanswered(clauses: list[tuple[str, bool]]) -> str:
    """A sentence per part of the request that the edit does not answer ((clause, recognised) pairs), so the
    photographer sees what was not done instead of finding out on the photo; "" when every part is answered."""
    out = []
    for clause, known in clauses:
        if known:
            out.append(f' I found nothing to change for "{_quote(clause)}".')
        else:
            out.append(f' I do not recognise "{_quote(clause)}": none of its words is one I was trained on.')
    return "".join(out)
