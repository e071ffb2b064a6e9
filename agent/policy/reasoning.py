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


def cannot(pred, values: dict[str, float], instruction: str) -> str:
    """Sentences for the parts of a request the policy has no tool for (``limits.why``) and for subjects it cannot
    locate (``limits.read_as``): what it did instead, if anything."""
    from agent.policy.limits import read_as
    from agent.policy.text import clauses

    out = [f' I cannot do "{_quote(c)}": {why}.' for c, why in zip(pred.clauses, pred.clause_limits) if why is not None]
    if not values:
        return "".join(out)
    read = [read_as(c) for c in clauses(instruction)]
    colours = list(dict.fromkeys(n for _, named, _ in read for n in named))
    if colours:
        what = " and ".join(f'"{n}"' for n in colours)
        out.append(
            f" I cannot change {what} alone: I changed every colour (darktable's 'color zones' module can change"
            " one colour)."
        )
    subjects = list(dict.fromkeys(n for _, _, named in read for n in named))
    if subjects:
        what = " and ".join(f'"{n}"' for n in subjects)
        if any(k.endswith("@center") for k in values):
            out.append(
                f" I cannot locate {what} in the photo, so I edited the centre of the frame, where a subject"
                " usually is."
            )
        else:
            out.append(f" I cannot locate {what} in the photo: the edit is not limited to it.")
    return "".join(out)
