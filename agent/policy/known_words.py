"""Whether a request says anything the compact policy was trained on: the words of the synthesis banks.

A request none of whose words (function words aside) appears anywhere in agent/language/banks.py or looks.py —
"xyzzy plugh", "tell me a joke", a sentence in German — is not an editing request the policy can read, yet the
network still answers it with some knob ("xyzzy plugh" got contrast +0.12 on the sample photo). Such a request
gets no edit and a reasoning that says why. A request with a single known word goes to the network as before: an
unseen word next to it ("it looks frosty and bluish") may well be read right by the sentence encoder.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

# words that say nothing about what to change on their own
FUNCTION_WORDS = frozenset(
    """
a an the it its this that these those is are was were be been am to of in on at for with from by and or but so as
if then also too very me my i you your we our us they them he she his her please can could would will should do
does did what how why when where which who there here some any all more less much many bit little lot just make
let get give go put want like need d m s t ll re ve don
thank thanks cheers hi hello hey ok okay
""".split()
)  # courtesies too: "thank you" alone asks for nothing (the network once answered it with contrast −0.12)

EXAMPLES = '"warmer", "lift the shadows", "darken the sky a little", "golden hour look"'


def _strings(value, seen: set):
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k, seen)
            yield from _strings(v, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _strings(v, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name), seen)


def words(text: str) -> list[str]:
    """Lower-case words (letters of any script), function words left out."""
    return [w for w in re.findall(r"[^\W\d_]+", text.lower()) if w not in FUNCTION_WORDS]


@lru_cache(maxsize=1)
def bank_words() -> frozenset[str]:
    """Every word of the synthesis banks and looks — the training requests are drawn from them — except the
    held-out paraphrases' own words (``UNSEEN``, ``FORBIDDEN_WORDS``), which no training request contains."""
    from agent.language import banks, looks

    seen: set = set()
    found: set[str] = set()
    for module in (banks, looks):
        for name, value in vars(module).items():
            if name.startswith("_") or name in ("UNSEEN", "FORBIDDEN_WORDS") or callable(value):
                continue
            for s in _strings(value, seen):
                found.update(words(s))
    return frozenset(found)


def recognised(text: str) -> bool:
    """Whether any word of the request is one of the banks' (the policy then reads it); a plural counts as its
    singular ("the lights" as "light")."""
    known = bank_words()
    return any(w in known or (w.endswith("s") and w[:-1] in known) for w in words(text))
