"""How much a clause asks for, read from its words: the amount ("a touch", "quite a bit", "strong") and exposure
said in stops ("by half a stop", "+1 stop", "0.7 EV").

The sentence embedding carries these only faintly (MiniLM places "a touch darker" and "a lot darker" close
together), so the compact policy also reads them as numbers, per clause (``features``). The words are the
synthesis banks' own (agent/language/banks.py), so what the training data means by "a bit" is what is read here.
"""

from __future__ import annotations

import math
import re

import numpy as np

from agent.language import banks

DIM = 5  # has an amount word, log2 of its factor, says stops, the stops (unsigned: the verb gives the sign),
# log2 of a caveat's scale ("but not too much": the request at 0.7)

_WORDS = {" ".join(w.split()): a.factor for a in banks.AMOUNTS for w in (a.pre, a.post) if w.strip()}
# look strengths ("a subtle golden hour look"); "light" is left out, it names light far more often
_WORDS.update({w: f for w, f in banks.STRENGTHS if w and w != "light"})
# the banks' stop phrases without their "by" / sign ("by half a stop" → "half a stop"), and the bare "a stop"
_STOP_WORDS = {
    " ".join(w.split()).lstrip("+-").removeprefix("by "): ev for pre, post, ev in banks.STOPS for w in (pre, post)
} | {"a stop": 1.0}


def _pattern(words) -> re.Pattern:
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # longest first: "quite a bit"
    return re.compile(rf"(?<![\w+-])(?:{alts})(?!\w)")


_AMOUNT = _pattern(_WORDS)
_STOPS = _pattern(_STOP_WORDS)
_NUMERIC_STOPS = re.compile(r"(?<![\w.])[+-]?(\d+(?:\.\d+)?|\.\d+)\s*(?:stops?|ev)\b")


# words that only qualify what the clause before them asks: "darker, a lot", "warmer, but not too much"
_SCALES = {" ".join(w.split()) for n in banks.NEGATIONS if not n.deltas for w in n.phrases}
_POLITE = {" ".join(w.strip(" ,?!").split()) for w in banks.SUFFIXES} - {""}
_CAVEATS = {" ".join(w.split()): n.scale for n in banks.NEGATIONS if n.scale != 1.0 for w in n.phrases}
_CAVEAT = _pattern(_CAVEATS)
_MODIFIER = _pattern(set(_WORDS) | set(_STOP_WORDS) | _SCALES | _POLITE | {"by"})


def is_modifier(clause: str) -> bool:
    """Whether a clause only says how much, how gently or in what manner ("…, like a pro would"): it then belongs
    to the clause before it."""
    from agent.policy.limits import EXCESS, MANNER

    text = " ".join(clause.lower().split())
    # a part follows a comma or a connector: "…, not garish" is a caveat, as "… but not garish" is
    return not re.sub(r"[\s,.;:!?]+", "", _MODIFIER.sub(" ", MANNER.sub(" ", EXCESS.sub(" ", ", " + text))))


def features(clause: str) -> np.ndarray:
    """[DIM] float32 for one clause (any case, any spacing)."""
    text = " ".join(clause.lower().split())
    out = np.zeros(DIM, np.float32)
    stops = _NUMERIC_STOPS.search(text)
    named = _STOPS.search(text)
    if stops:
        out[2], out[3] = 1.0, min(float(stops.group(1)), 5.0)
    elif named:
        out[2], out[3] = 1.0, _STOP_WORDS[named.group(0)]
    caveat = _CAVEAT.search(text)
    if caveat:
        out[4] = math.log2(_CAVEATS[caveat.group(0)])
        text = _CAVEAT.sub(" ", text)  # "but not too much" is not "much"
    amount = _AMOUNT.search(_STOPS.sub(" ", text))  # "a third of a stop" is not "a bit"
    if amount:
        out[0], out[1] = 1.0, math.log2(_WORDS[amount.group(0)])
    return out


def clause_features(clauses: list[list[str]], max_clauses: int) -> np.ndarray:
    """[len(clauses), max_clauses, DIM] for requests already split into clauses (padding zero)."""
    out = np.zeros((len(clauses), max_clauses, DIM), np.float32)
    for row, cs in enumerate(clauses):
        for k, c in enumerate(cs[:max_clauses]):
            out[row, k] = features(c)
    return out
