"""What the compact policy cannot do, said instead of done wrong.

Its knobs (``agent/slots.py``) cover exposure, white balance, tone, colour, local contrast, haze, sharpening,
vignette and five fixed regions. A network answers anything with something, and users found it (issue 22):
"remove the noise" lowered saturation, "less saturated greens" tinted the whole frame magenta, "brighten the dogs'
faces" brightened the whole frame. So:

- a part of a request for which no module is at hand (noise, grain) is not given to the network; the reasoning
  says why (``why``);
- one colour named for a change of saturation ("the greens", "the green leaves") is read as every colour, and a
  subject it cannot locate (faces, dogs, people) as "the subject", which the synthesis banks train as the centre
  of the frame (``read_as``); the reasoning says what was edited instead of the thing named;
- a caveat that names the excess to avoid ("make the colours pop but not garish", "without making it look
  fake") is read as the caveat the banks train ("but not too much": the request, a little less): read as it
  was written, "garish" pulled towards less saturation and the edit cancelled itself out;
- a request to edit as a professional would, without saying what ("retouch this the way a professional would",
  "give it a professional touch", "polish it") is read as the banks' generic request "enhance it"; read as it was
  written, it answered with a local-contrast change too small to see. Said beside a change ("warm it up like a
  pro would"), the manner is dropped and the change read alone (``GENERIC``).
"""

from __future__ import annotations

import re

LIMITS = (
    (
        re.compile(
            r"\bde-?nois\w*|\b(?:remove|reduce|less|clean|cut|kill|fix|lower|get rid of|add|more|suppress|smooth)\b"
            r"[\w\s']*\b(?:noise|grain)\b|\b(?:noisy|grainy|grainier)\b",
            re.IGNORECASE,
        ),
        "none of the modules I edit with reduces or adds noise or grain (darktable's own 'denoise (profiled)' "
        "and 'grain' modules do)",
    ),
)

_HUES = ("red", "orange", "yellow", "green", "blue", "purple", "magenta", "cyan", "teal", "pink")
# colours as nouns in the plural ("the greens", "desaturate the blues"): the singular is the tint ("more green")
_COLOURS = "(?:" + "|".join(h + "s" for h in _HUES) + ")"
_SATURATION = re.compile(r"saturat|vivid|vibran|mute|intens|\bpop|punch|colou?rful|lively|dull", re.IGNORECASE)
_COLOUR = re.compile(
    rf"\b(?:(?:the|its|their)\s+)?{_COLOURS}(?:(?:,\s*|\s+and\s+|\s+or\s+)(?:the\s+)?{_COLOURS})*\b",
    re.IGNORECASE,
)
# ... and as adjectives before the thing they colour ("the green leaves", "that blue sky"): the same request
_NOT_THING = (
    r"and|or|but|nor|then|also|plus|tint|tints|cast|casts|shift|balance|more|less|too|very|so|please|a|an|the|"
    r"to|towards?|with|without|than|as|in|on|of|for|by|at|is|are|was|were|looks?|seems?|it|them|this|that"
)
_NEGATED = re.compile(r"\b(?:not|never|without|no more)\b|n't\b", re.IGNORECASE)  # "the green grass should not …"
_COLOURED = re.compile(
    rf"(?<![\w-])(?:(?:the|its|their|this|that|these|those)\s+)?(?:{'|'.join(_HUES)})\s+(?!(?:{_NOT_THING})\b)"
    r"[a-z]{3,}\b",
    re.IGNORECASE,
)
_SUBJECT = re.compile(
    # a subject noun counts where it opens the clause or follows a determiner, a pronoun or a possessive
    # ("her face", "the dogs' faces", "brighten the dogs"), not inside a compound ("the clock face", "rock face")
    r"(?:^|\b(?:the|her|his|their|its|my|our|your|a|an)\s+(?:[a-z]+(?:'s|s')\s+)?|\b[a-z]+(?:'s|s')\s+)"
    r"(?:faces?|dogs?|cats?(?!\s+(?:illuminant|temperature|to\b|down|up|warm|cool|adapt))|people|persons?|man|"
    r"woman|men|women|child|children|kids?|bride|groom|couple|animals?|birds?|horses?)(?:'s\b|'|\b)",
    re.IGNORECASE,
)


# "but not garish", "without making it look fake", "just not overdone": the excess a request should stop short of
_EXCESS_WORDS = (
    r"garish|gaudy|loud|tacky|overdone|overcooked|over-?processed|over the top|over-?saturated|cartoon(?:ish|y)|"
    r"fake|unnatural|artificial|neon|radioactive|extreme|crazy|hdr-?ish"
)
EXCESS = re.compile(  # after "but" or a comma ("not so garish" alone asks for less), or "without"
    r"(?:(?:(?:,\s*|\b(?:but|yet|just|though)\s+)+(?:not|never|nothing|(?:don't|do not) make (?:it|them)))"
    r"|\bwithout(?:\s+(?:making|letting)\s+(?:it|them))?)(?:\s+(?:being|be|look|looking|getting|go|going|turning|seem))?"
    r"(?:\s+(?:too|overly|so|that|at all|all))*\s+(?:" + _EXCESS_WORDS + r")\b",
    re.IGNORECASE,
)
CAVEAT = "but not too much"  # the banks' caveat EXCESS is read as (banks.CORE_NEGATIONS)

# "the way a professional would", "like a pro", "professionally": how, not what
_PRO = r"(?:professional|pro|expert|retoucher|photographer|photo editor|editor)s?"
_MANNER = (
    rf"(?:(?:the way|like|as)\s+(?:an?\s+|the\s+)?{_PRO}"
    r"(?:\s+(?:would|could|might|does|did|do|will)(?:\s+(?:do|edit|retouch)\s+it|\s+have(?:\s+done(?:\s+it)?)?)?)?"
    r"|professionally|(?:to|at)\s+(?:an?\s+)?professional\s+(?:standard|level|quality))"
)
_IT = r"(?:it|this|that|(?:the|this|my)\s+(?:photo|picture|image|shot|frame|one))"
GENERIC = "enhance it"  # the banks' generic request (banks.CORE_GENERIC) a request to edit as a professional would is
PRO_REQUEST = re.compile(
    rf"^(?:(?:retouch|edit|process|develop|grade|finish|polish|perfect|treat|handle|fix|improve|enhance|touch up|"
    rf"clean up|do)(?:\s+{_IT})?(?:\s+up)?\s+{_MANNER}"  # "retouch this the way a professional would"
    rf"|(?:retouch|polish|perfect|finish|develop)(?:\s+{_IT})?(?:\s+up)?"  # "polish it"
    rf"|(?:make|get)\s+{_IT}\s+(?:look\s+)?(?:(?:more\s+)?professional(?:ly\s+(?:edited|retouched|done))?|"
    rf"(?:more\s+)?polished|like\s+an?\s+{_PRO}\s+(?:edited|retouched|did)\s+it)"
    rf"|give\s+{_IT}\s+an?\s+(?:professional|pro|polished|proper|expert)(?:\s+(?:looking|level|grade))?\s+"
    rf"(?:touch|look|finish|edit|retouch|treatment|polish)"
    rf"|(?:do\s+)?what(?:ever)?\s+an?\s+{_PRO}\s+would(?:\s+do)?)$",
    re.IGNORECASE,
)
MANNER = re.compile(rf"[\s,]*\b{_MANNER}\b", re.IGNORECASE)


def why(clause: str) -> str | None:
    """The reason a clause asks for something the policy has no tool for, or None."""
    for pattern, reason in LIMITS:
        if pattern.search(clause):
            return reason
    return None


def read_as(clause: str) -> tuple[str, list[str], list[str]]:
    """(the clause as the policy reads it, the colours named for a change of saturation — read as "the colours" —,
    the subjects named — read as "the subject")."""
    clause = " ".join(EXCESS.sub(" " + CAVEAT, clause).split())
    if PRO_REQUEST.match(clause):
        clause = GENERIC
    elif MANNER.search(clause):
        clause = " ".join(MANNER.sub("", clause).split()).strip(" ,") or clause  # a manner alone stays as it is
    colours: list[str] = []
    if _SATURATION.search(clause):
        if re.search(rf"\b{_COLOURS}\b", clause, re.IGNORECASE):
            colours = [m.group(0) for m in _COLOUR.finditer(clause)]
            clause = _COLOUR.sub(lambda m: "the colours" if " " in m.group(0) else "colours", clause)
        elif not _NEGATED.search(clause):
            colours = [m.group(0) for m in _COLOURED.finditer(clause)]
            clause = _COLOURED.sub("the colours", clause)
    subjects = [m.group(0) for m in _SUBJECT.finditer(clause)]
    if subjects:
        clause = _SUBJECT.sub("the subject", clause)
    return clause, colours, subjects
