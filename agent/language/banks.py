"""Words: what photographers ask for, and how much, as phrase banks that synthesis draws from.

An *intent* is one requested change ("brighter", "darken the sky") with its slot deltas at a normal amount and
the attributes it asks to move. Its phrases are templates: ``{a}`` takes an amount before a comparative ("a bit
brighter"), ``{b}`` one after a verb ("brighten it a bit"), ``{s}`` an adjective before a noun ("a subtle
vignette"; STRENGTHS). Exposure intents may also be said in stops.
Enhancement *defects* ("too dark", "a blue cast") are phrased as complaints; the target edit undoes them.

``UNSEEN`` holds 50 phrasings that never appear in the banks: synthesis uses them in held-out samples only, so
evaluation can ask whether a policy understood the request or memorised the wording.

Slot deltas are added to the slot's neutral value, except ``temperature`` (and ``temperature@<region>``), which
is a shift in mired (1e6 / K; negative = warmer), so that warming by the same words is the same visual step at
any white balance, and ``*_tint_hue``, which is an absolute hue in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType


@dataclass(frozen=True)
class Amount:
    pre: str  # before a comparative: "{a} brighter"
    post: str  # after a verb phrase: "brighten it {b}"
    factor: float


AMOUNTS = (
    Amount("a touch", "a touch", 0.35),
    Amount("slightly", "slightly", 0.5),
    Amount("a little", "a little", 0.5),
    Amount("a bit", "a bit", 0.6),
    Amount("", "", 1.0),
    Amount("noticeably", "noticeably", 1.0),
    Amount("quite a bit", "quite a bit", 1.4),
    Amount("much", "a lot", 1.8),
    Amount("a lot", "a lot", 1.8),
    Amount("way", "strongly", 1.8),
)

# exposure said in stops: (before a comparative, after a verb, EV)
STOPS = (
    ("a third of a stop", "by a third of a stop", 0.33),
    ("half a stop", "by half a stop", 0.5),
    ("two thirds of a stop", "by two thirds of a stop", 0.67),
    ("one stop", "+1 stop", 1.0),
    ("a full stop", "by one stop", 1.0),
    ("a stop and a half", "by 1.5 stops", 1.5),
)

STRENGTHS = (
    ("subtle", 0.5),
    ("light", 0.6),
    ("gentle", 0.6),
    ("", 1.0),
    ("strong", 1.4),
    ("bold", 1.4),
    ("heavy", 1.5),
)


@dataclass(frozen=True)
class Intent:
    name: str
    family: str  # "style" (global adjustments) or "local"
    deltas: dict[str, float]  # at amount factor 1
    attributes: dict[str, int]
    phrases: tuple[str, ...]
    stops: int = 0  # +1 / −1: exposure intents that may be said in stops


def _i(name, family, deltas, attributes, *phrases, stops=0):
    return Intent(name, family, deltas, attributes, phrases, stops)


CORE_INTENTS = {
    i.name: i
    for i in (
        _i(
            "brighter",
            "style",
            {"exposure": 0.6},
            {"brightness": 1},
            "make it {a} brighter",
            "brighten it {b}",
            "brighten the photo {b}",
            "increase the exposure {b}",
            "raise the exposure {b}",
            "lighten it {b}",
            "make the image {a} lighter",
            "bump up the exposure {b}",
            "{a} brighter please",
            "push the exposure up {b}",
            stops=1,
        ),
        _i(
            "darker",
            "style",
            {"exposure": -0.6},
            {"brightness": -1},
            "make it {a} darker",
            "darken it {b}",
            "darken the photo {b}",
            "decrease the exposure {b}",
            "lower the exposure {b}",
            "reduce the exposure {b}",
            "make the image {a} darker",
            "{a} darker please",
            "pull the exposure down {b}",
            "tone down the brightness {b}",
            stops=-1,
        ),
        _i(
            "warmer",
            "style",
            {"temperature": -35.0},
            {"warmth": 1},
            "make it {a} warmer",
            "warm it up {b}",
            "warm up the colours {b}",
            "{a} warmer please",
            "give it a warmer white balance {b}",
            "add some warmth {b}",
            "make the light {a} warmer",
            "shift the white balance towards yellow {b}",
        ),
        _i(
            "cooler",
            "style",
            {"temperature": 35.0},
            {"warmth": -1},
            "make it {a} cooler",
            "cool it down {b}",
            "cool the colours {b}",
            "{a} cooler please",
            "make it {a} colder",
            "give it a cooler white balance {b}",
            "shift the white balance towards blue {b}",
            "make the light {a} bluer",
        ),
        _i(
            "magenta",
            "style",
            {"tint": 0.15},
            {"tint": 1},
            "add a {s} magenta tint",
            "push the tint towards magenta {b}",
            "make it {a} more magenta",
            "shift the tint to magenta {b}",
            "{a} more pink in the tint",
        ),
        _i(
            "green",
            "style",
            {"tint": -0.15},
            {"tint": -1},
            "add a {s} green tint",
            "push the tint towards green {b}",
            "make it {a} more green",
            "shift the tint to green {b}",
            "make the tint {a} greener",
        ),
        _i(
            "saturate",
            "style",
            {"saturation": 0.25},
            {"saturation": 1},
            "make the colours {a} more saturated",
            "boost the saturation {b}",
            "increase the saturation {b}",
            "make the colours {a} more vivid",
            "{a} more colourful please",
            "saturate it {b}",
            "make the colours pop {b}",
            "richer colours, {b}",
        ),
        _i(
            "desaturate",
            "style",
            {"saturation": -0.3},
            {"saturation": -1},
            "make the colours {a} less saturated",
            "desaturate it {b}",
            "reduce the saturation {b}",
            "mute the colours {b}",
            "tone down the colours {b}",
            "make the colours {a} more muted",
            "{a} less colourful please",
            "lower the saturation {b}",
        ),
        _i(
            "monochrome",
            "style",
            {"saturation": -1.0},
            {"saturation": -1},
            "make it black and white",
            "convert it to black and white",
            "turn it into a monochrome image",
            "remove all the colour",
            "black and white please",
        ),
        _i(
            "contrast_up",
            "style",
            {"contrast": 0.25},
            {"contrast": 1},
            "add {s} contrast",
            "increase the contrast {b}",
            "make it {a} more contrasty",
            "boost the contrast {b}",
            "{a} more contrast please",
            "give it more punch {b}",
            "raise the contrast {b}",
        ),
        _i(
            "contrast_down",
            "style",
            {"contrast": -0.25},
            {"contrast": -1},
            "reduce the contrast {b}",
            "lower the contrast {b}",
            "make it {a} less contrasty",
            "{a} less contrast please",
            "flatten the contrast {b}",
            "decrease the contrast {b}",
        ),
        _i(
            "shadows_up",
            "style",
            {"shadows": 0.6},
            {"shadows": 1},
            "lift the shadows {b}",
            "brighten the shadows {b}",
            "open up the shadows {b}",
            "raise the shadows {b}",
            "make the shadows {a} brighter",
            "lighten the dark areas {b}",
            "bring up the shadows {b}",
            "show more detail in the shadows {b}",
        ),
        _i(
            "shadows_down",
            "style",
            {"shadows": -0.5},
            {"shadows": -1},
            "deepen the shadows {b}",
            "darken the shadows {b}",
            "make the shadows {a} darker",
            "make the shadows {a} deeper",
            "lower the shadows {b}",
            "push the shadows down {b}",
        ),
        _i(
            "highlights_down",
            "style",
            {"highlights": -0.6},
            {"highlights": -1},
            "recover the highlights {b}",
            "tone down the highlights {b}",
            "bring back the highlights {b}",
            "darken the highlights {b}",
            "pull down the highlights {b}",
            "make the highlights {a} darker",
            "lower the highlights {b}",
        ),
        _i(
            "highlights_up",
            "style",
            {"highlights": 0.4},
            {"highlights": 1},
            "brighten the highlights {b}",
            "make the highlights {a} brighter",
            "boost the highlights {b}",
            "raise the highlights {b}",
            "let the highlights glow {b}",
        ),
        _i(
            "sharper",
            "style",
            {"clarity": 0.35, "sharpen": 0.4},
            {"detail": 1},
            "sharpen it {b}",
            "make it {a} sharper",
            "add {s} clarity",
            "bring out the detail {b}",
            "make it {a} crisper",
            "add {s} local contrast",
            "more texture please, {b}",
        ),
        _i(
            "softer",
            "style",
            {"clarity": -0.3},
            {"detail": -1},
            "soften it {b}",
            "make it {a} softer",
            "reduce the clarity {b}",
            "smooth out the detail {b}",
            "make the texture {a} softer",
            "give it a {s} soft look",
        ),
        _i(
            "dehaze",
            "style",
            {"dehaze": 0.35},
            {"detail": 1},
            "remove the haze {b}",
            "dehaze it {b}",
            "cut through the haze {b}",
            "reduce the haze {b}",
            "clear up the haze {b}",
        ),
        # local: region masks of agent.slots.REGIONS
        _i(
            "sky_down",
            "local",
            {"exposure@top": -0.8},
            {"brightness@top": -1},
            "darken the sky {b}",
            "make the sky {a} darker",
            "bring down the sky {b}",
            "tone down the sky {b}",
            "darken the top of the frame {b}",
            "make the upper part {a} darker",
        ),
        _i(
            "sky_up",
            "local",
            {"exposure@top": 0.7},
            {"brightness@top": 1},
            "brighten the sky {b}",
            "make the sky {a} brighter",
            "lighten the top of the frame {b}",
            "make the upper part {a} brighter",
        ),
        _i(
            "ground_up",
            "local",
            {"exposure@bottom": 0.7},
            {"brightness@bottom": 1},
            "brighten the foreground {b}",
            "make the foreground {a} brighter",
            "lift the foreground {b}",
            "lighten the bottom of the frame {b}",
            "make the lower part {a} brighter",
        ),
        _i(
            "ground_down",
            "local",
            {"exposure@bottom": -0.7},
            {"brightness@bottom": -1},
            "darken the foreground {b}",
            "make the foreground {a} darker",
            "darken the bottom of the frame {b}",
            "make the lower part {a} darker",
            "darken the ground {b}",
        ),
        _i(
            "subject_up",
            "local",
            {"exposure@center": 0.7},
            {"brightness@center": 1},
            "brighten the subject {b}",
            "make the subject {a} brighter",
            "lighten the centre {b}",
            "brighten the middle of the frame {b}",
            "put more light on the subject {b}",
            "make the centre {a} brighter",
        ),
        _i(
            "subject_down",
            "local",
            {"exposure@center": -0.6},
            {"brightness@center": -1},
            "darken the centre {b}",
            "make the middle {a} darker",
            "darken the subject {b}",
            "tone down the middle of the frame {b}",
        ),
        _i(
            "vignette",
            "local",
            {"vignette": -0.6},
            {"brightness@center": 1},
            "add a {s} vignette",
            "darken the corners {b}",
            "darken the edges {b}",
            "give it a {s} vignette",
            "make the edges {a} darker",
            "add a {s} dark vignette",
        ),
        _i(
            "devignette",
            "local",
            {"vignette": 0.25},
            {"brightness@center": -1},
            "brighten the corners {b}",
            "lighten the edges {b}",
            "make the corners {a} brighter",
            "add a {s} white vignette",
        ),
        _i(
            "left_up",
            "local",
            {"exposure@left": 0.6},
            {"brightness@left": 1},
            "brighten the left side {b}",
            "make the left side {a} brighter",
            "lighten the left of the frame {b}",
        ),
        _i(
            "left_down",
            "local",
            {"exposure@left": -0.6},
            {"brightness@left": -1},
            "darken the left side {b}",
            "make the left side {a} darker",
            "tone down the left of the frame {b}",
        ),
        _i(
            "right_up",
            "local",
            {"exposure@right": 0.6},
            {"brightness@right": 1},
            "brighten the right side {b}",
            "make the right side {a} brighter",
            "lighten the right of the frame {b}",
        ),
        _i(
            "right_down",
            "local",
            {"exposure@right": -0.6},
            {"brightness@right": -1},
            "darken the right side {b}",
            "make the right side {a} darker",
            "tone down the right of the frame {b}",
        ),
        _i(
            "left_warm",
            "local",
            {"temperature@left": -45.0},
            {"warmth@left": 1},
            "warm the left side {b}",
            "make the left side {a} warmer",
            "warm up the left of the frame {b}",
        ),
        _i(
            "left_cool",
            "local",
            {"temperature@left": 45.0},
            {"warmth@left": -1},
            "cool the left side {b}",
            "make the left side {a} cooler",
            "cool down the left of the frame {b}",
        ),
        _i(
            "right_warm",
            "local",
            {"temperature@right": -45.0},
            {"warmth@right": 1},
            "warm the right side {b}",
            "make the right side {a} warmer",
            "warm up the right of the frame {b}",
        ),
        _i(
            "right_cool",
            "local",
            {"temperature@right": 45.0},
            {"warmth@right": -1},
            "cool the right side {b}",
            "make the right side {a} cooler",
            "cool down the right of the frame {b}",
        ),
        _i(
            "sky_warm",
            "local",
            {"temperature@top": -45.0},
            {"warmth@top": 1},
            "warm up the sky {b}",
            "make the sky {a} warmer",
            "give the sky a {s} warm tone",
        ),
        _i(
            "sky_cool",
            "local",
            {"temperature@top": 45.0},
            {"warmth@top": -1},
            "cool the sky {b}",
            "make the sky {a} bluer",
            "make the sky {a} cooler",
        ),
        _i(
            "ground_warm",
            "local",
            {"temperature@bottom": -45.0},
            {"warmth@bottom": 1},
            "warm up the foreground {b}",
            "make the foreground {a} warmer",
            "warm the bottom of the frame {b}",
        ),
        _i(
            "subject_warm",
            "local",
            {"temperature@center": -45.0},
            {"warmth@center": 1},
            "warm up the subject {b}",
            "make the subject {a} warmer",
            "warm the centre {b}",
        ),
    )
}


@dataclass(frozen=True)
class Defect:
    """A degradation of the photo (slot value range) and how people complain about it."""

    name: str
    slot: str
    lo: float  # degradation drawn uniformly in [lo, hi] (temperature: mired shift)
    hi: float
    attributes: dict[str, int]  # the fix's requested directions
    phrases: tuple[str, ...]  # {a}: "a little" / "" / "way" by the size of the degradation
    kind: str  # "exposure" | "colour" | "tone" | "detail": which generic requests cover it


CORE_DEFECTS = {
    d.name: d
    for d in (
        Defect(
            "underexposed",
            "exposure",
            -1.4,
            -0.5,
            {"brightness": 1},
            (
                "it's {a} too dark",
                "the photo is {a} underexposed",
                "this is {a} too dark, fix the exposure",
                "brighten it, it's {a} underexposed",
                "it came out {a} too dark",
                "the exposure is {a} too low",
            ),
            "exposure",
        ),
        Defect(
            "overexposed",
            "exposure",
            0.5,
            1.2,
            {"brightness": -1},
            (
                "it's {a} too bright",
                "the photo is {a} overexposed",
                "this is {a} too bright, fix the exposure",
                "darken it, it's {a} overexposed",
                "the exposure is {a} too high",
            ),
            "exposure",
        ),
        Defect(
            "cool_cast",
            "temperature",
            25.0,
            70.0,
            {"warmth": 1},
            (
                "it's {a} too blue",
                "there's a {s} blue cast",
                "the white balance is {a} too cold",
                "the colours look {a} too cold",
                "remove the blue cast",
            ),
            "colour",
        ),
        Defect(
            "warm_cast",
            "temperature",
            -70.0,
            -25.0,
            {"warmth": -1},
            (
                "it's {a} too yellow",
                "there's a {s} yellow cast",
                "the white balance is {a} too warm",
                "it looks {a} too orange",
                "remove the yellow cast",
            ),
            "colour",
        ),
        Defect(
            "green_cast",
            "tint",
            -0.35,
            -0.12,
            {"tint": 1},
            ("it's {a} too green", "there's a {s} green cast", "remove the green tint", "the tint is {a} too green"),
            "colour",
        ),
        Defect(
            "magenta_cast",
            "tint",
            0.12,
            0.35,
            {"tint": -1},
            ("it's {a} too magenta", "there's a {s} pink cast", "remove the magenta tint", "the tint is {a} too pink"),
            "colour",
        ),
        Defect(
            "flat",
            "contrast",
            -0.5,
            -0.2,
            {"contrast": 1},
            (
                "it looks {a} flat",
                "it's {a} too flat",
                "it lacks contrast",
                "the image is {a} dull and flat",
                "there's not enough contrast",
            ),
            "tone",
        ),
        Defect(
            "harsh",
            "contrast",
            0.25,
            0.5,
            {"contrast": -1},
            (
                "it's {a} too contrasty",
                "the contrast is {a} too harsh",
                "it looks {a} too harsh",
                "there's too much contrast",
            ),
            "tone",
        ),
        Defect(
            "washed_out",
            "saturation",
            -0.6,
            -0.3,
            {"saturation": 1},
            (
                "the colours are {a} washed out",
                "the colours look {a} faded",
                "the colours are {a} too dull",
                "there's not enough colour",
            ),
            "colour",
        ),
        Defect(
            "oversaturated",
            "saturation",
            0.3,
            0.55,
            {"saturation": -1},
            (
                "it's {a} oversaturated",
                "the colours are {a} too strong",
                "the colours look {a} garish",
                "there's too much saturation",
            ),
            "colour",
        ),
        Defect(
            "crushed_shadows",
            "shadows",
            -1.0,
            -0.5,
            {"shadows": 1},
            (
                "the shadows are {a} too dark",
                "the shadows are {a} crushed",
                "I can't see anything in the shadows",
                "the dark areas are {a} too dark",
            ),
            "tone",
        ),
        Defect(
            "bright_highlights",
            "highlights",
            0.4,
            0.9,
            {"highlights": -1},
            (
                "the highlights are {a} too bright",
                "the highlights are {a} blown",
                "the bright areas are {a} too hot",
                "the highlights are {a} washed out",
            ),
            "tone",
        ),
        Defect(
            "hazy",
            "dehaze",
            -0.45,
            -0.2,
            {"detail": 1},
            ("it's {a} hazy", "it looks {a} foggy", "the photo is {a} milky", "there's {a} too much haze"),
            "detail",
        ),
        Defect(
            "soft",
            "clarity",
            -0.45,
            -0.2,
            {"detail": 1},
            ("it looks {a} soft", "it's {a} blurry", "it lacks detail", "the details are {a} mushy"),
            "detail",
        ),
    )
}

# size of a defect (fraction of its range) → words in the complaint: {a} adverbs, {s} adjectives
DEFECT_WORDS = (
    (0.34, ("a little", "a bit", "slightly"), ("slight", "faint")),
    (0.67, ("",), ("", "noticeable")),
    (1.01, ("way", "much", "really"), ("strong", "heavy")),
)

# requests that do not name the defect; each covers some defect kinds
EVERY = ("exposure", "colour", "tone", "detail")
CORE_GENERIC = (
    ("fix the colours", ("colour",)),
    ("correct the colours", ("colour",)),
    ("fix the white balance", ("colour",)),
    ("fix the exposure", ("exposure",)),
    ("correct the exposure", ("exposure",)),
    ("fix the tones", ("tone",)),
    ("make it look natural", EVERY),
    ("fix this photo", EVERY),
    ("auto-correct it", EVERY),
    ("enhance it", EVERY),
    ("correct it so it looks right", EVERY),
    ("clean it up", EVERY),
)

# requests for no change at all: the answer is no operation (a small share of the style draws, synth.KEEP_SHARE),
# so that the policy learns that some wordings ask for nothing rather than for its likeliest knob
KEEP = (
    "leave it as it is",
    "keep it as it is",
    "don't change anything",
    "no changes please",
    "it's fine as it is",
    "leave it alone",
    "keep everything the same",
    "it looks good already, leave it",
    "don't edit it",
    "keep it exactly like this",
    "leave the photo unchanged",
    "no edit needed",
    "it's good as is",
    "I like it the way it is",
    "nothing to change here",
    "keep the photo as it was",
    "don't touch it",
    "leave everything as it is",
    "no adjustments",
    "it's perfect, keep it",
)

CORE_LOOK_TEMPLATES = (
    "give it {art} {look} look",
    "make it look {look}",
    "apply {art} {look} look",
    "{look} style please",
    "I want {art} {look} feel",
    "go for {art} {look} look",
    "{look} look",
    "edit it in {art} {look} style",
    "turn it into {art} {look} photo",
    "can you give this {art} {look} grade",
)


# caveats after a request: extra deltas, and which requested attribute direction they fit
@dataclass(frozen=True)
class Negation:
    phrases: tuple[str, ...]
    when: dict[str, int]  # applies to a request with this attribute direction
    deltas: dict[str, float] = field(default_factory=dict)
    scale: float = 1.0  # on the request's own deltas ("but not too much")


CORE_NEGATIONS = (
    Negation(
        (
            "without blowing the highlights",
            "but keep the highlights",
            "but don't blow out the highlights",
            "but protect the highlights",
        ),
        {"brightness": 1},
        {"highlights": -0.3},
    ),
    Negation(
        ("without crushing the shadows", "but keep the shadow detail", "but don't lose the shadows"),
        {"brightness": -1},
        {"shadows": 0.3},
    ),
    Negation(("without crushing the shadows", "but keep the shadow detail"), {"contrast": 1}, {"shadows": 0.3}),
    Negation(
        ("but don't touch the colours", "without changing the colours", "but leave the colours alone"),
        {"brightness": 1},
    ),
    Negation(("but don't touch the colours", "without changing the colours"), {"brightness": -1}),
    Negation(("but not too much", "but keep it natural", "without overdoing it"), {}, scale=0.7),
)

CORE_CONNECTORS = (" and ", ", ", ", and ", ", then ", ", also ", "; ", " and also ")

# 50 phrasings kept out of every bank above: (intent, defect or look name, text). Only held-out samples use
# them. Templates take {a}/{b} like the banks where an amount fits.
UNSEEN = (
    ("intent", "brighter", "give it more light {b}"),
    ("intent", "brighter", "open up the exposure {b}"),
    ("intent", "brighter", "it could use more light {b}"),
    ("intent", "brighter", "crank up the brightness {b}"),
    ("intent", "darker", "knock the exposure down {b}"),
    ("intent", "darker", "dial back the brightness {b}"),
    ("intent", "darker", "it needs less light {b}"),
    ("intent", "warmer", "give it more of a sunny tone {b}"),
    ("intent", "warmer", "take the chill out of it {b}"),
    ("intent", "warmer", "cozier colour temperature, {b}"),
    ("intent", "cooler", "give it more of an icy tone {b}"),
    ("intent", "cooler", "chill the colours {b}"),
    ("intent", "cooler", "push it towards blue {b}"),
    ("intent", "magenta", "nudge it towards pink {b}"),
    ("intent", "green", "lean the tint towards green {b}"),
    ("intent", "saturate", "juice up the colours {b}"),
    ("intent", "saturate", "let the colours sing {b}"),
    ("intent", "desaturate", "drain some colour out {b}"),
    ("intent", "desaturate", "calm the colours down {b}"),
    ("intent", "monochrome", "strip out every colour"),
    ("intent", "contrast_up", "make the tones snap {b}"),
    ("intent", "contrast_up", "more separation between darks and lights, {b}"),
    ("intent", "contrast_down", "soften the tonal range {b}"),
    ("intent", "shadows_up", "reveal what's hiding in the dark parts {b}"),
    ("intent", "shadows_up", "fill in the shadows {b}"),
    ("intent", "shadows_down", "make the darks inkier {b}"),
    ("intent", "highlights_down", "rescue the bright parts {b}"),
    ("intent", "highlights_down", "tame the bright areas {b}"),
    ("intent", "sharper", "make the fine detail stand out {b}"),
    ("intent", "softer", "take the edge off the texture {b}"),
    ("intent", "dehaze", "clear the atmosphere {b}"),
    ("intent", "sky_down", "give the sky more weight {b}"),
    ("intent", "sky_down", "make the heavens moodier {b}"),
    ("intent", "ground_up", "pull the lower half out of the dark {b}"),
    ("intent", "subject_up", "spotlight the middle {b}"),
    ("intent", "subject_up", "make the main subject glow {b}"),
    ("intent", "vignette", "frame it with dark edges {b}"),
    ("intent", "vignette", "let the rim of the frame fall into shade {b}"),
    ("intent", "left_warm", "sunnier on the left side {b}"),
    ("intent", "right_cool", "bluer on the right {b}"),
    ("defect", "underexposed", "I can barely see anything, it's {a} murky"),
    ("defect", "overexposed", "everything is {a} blinding"),
    ("defect", "cool_cast", "it looks {a} frosty and bluish"),
    ("defect", "warm_cast", "everything looks {a} like it's under tungsten bulbs"),
    ("defect", "flat", "it looks {a} lifeless"),
    ("defect", "washed_out", "the colours are {a} anaemic"),
    ("defect", "hazy", "there's a {s} veil over everything"),
    ("look", "golden_hour", "make it feel like late afternoon sun"),
    ("look", "low_key", "make it dark and brooding"),
    ("look", "bw_contrast", "turn it into a gritty monochrome with strong blacks"),
)


# ---------------------------------------------------------------------------------------------- more phrasings
# The hand-written templates above are the core; the combinations below multiply them with synonyms (verbs ×
# objects, comparatives × sentence frames, US and UK spellings, region names) so the policy learns the meaning
# and not a dozen fixed sentences. Words that carry the 50 UNSEEN paraphrases (FORBIDDEN_WORDS below) are kept
# out of every bank; tests/test_data.py checks it.

# "{a}" before a comparative X: "make it a bit warmer", "it should be slightly warmer"
FRAMES = (
    "make it {a} X",
    "{a} X please",
    "it should be {a} X",
    "it needs to be {a} X",
    "I'd like it {a} X",
    "can you make it {a} X",
    "I want it {a} X",
    "make the photo {a} X",
    "make the picture {a} X",
    "make the shot {a} X",
    "could it be {a} X",
    "go {a} X",
    "make everything {a} X",
    "just {a} X",
    "let's make it {a} X",
    "I'd prefer it {a} X",
    "make the image {a} X",
    "X, {b}",
    "{a} X overall",
    "it would look better {a} X",
    "render it {a} X",
    "try it {a} X",
    "make the whole photo {a} X",
    "{a} X",
    "X",
)  # bare comparatives ("cooler", "a bit darker"): one-word requests are common
# the same for a named part R of the picture: "make the sky a bit darker"
REGION_FRAMES = (
    "make R {a} X",
    "R {a} X please",
    "R should be {a} X",
    "R needs to be {a} X",
    "I'd like R {a} X",
    "can you make R {a} X",
    "I want R {a} X",
    "could R be {a} X",
    "let's make R {a} X",
    "R looks too Y so make it {a} X",
    "R: {a} X",
    # what is wrong with the part, the cure unsaid: "the sky is a bit too bright" → darken the sky
    "R is {a} too Y",
    "R looks {a} too Y",
    "R seems {a} too Y",
)
# what is wrong when X is the cure
ANTONYM = {
    "brighter": ("dark",),
    "darker": ("bright",),
    "warmer": ("cold", "blue"),
    "cooler": ("warm", "yellow"),
    "lighter": ("dark",),
    "colder": ("warm",),
    "deeper": ("light",),
    "dimmer": ("bright",),
}


def _plural(region: str) -> bool:
    """ "the corners", "the edges of the picture", "the clouds": a region said in the plural."""
    head = region.split(" of ")[0].split()[-1]
    return head.endswith("s") and not head.endswith("ss")


def _frames(words, frames=FRAMES, region=None):
    out = []
    for f in frames:
        for w in words:
            if "Y" in f and w not in ANTONYM:
                continue
            for y in ANTONYM[w] if "Y" in f else ("",):
                t = f.replace("X", w).replace("Y", y)
                if region and _plural(region):
                    t = t.replace("R is ", "R are ").replace("R looks ", "R look ").replace("R seems ", "R seem ")
                out.append(t.replace("R", region) if region else t)
    return out


PARTICLES = ("up", "down", "off", "out", "back")


def _vo(verbs, objects, tail=" {b}"):
    """verb × object: "brighten the image {b}"; a phrasal verb wraps "it" ("warm it up")."""
    out = []
    for v in verbs:
        for o in objects:
            head, _, particle = v.rpartition(" ")
            if o == "it" and particle in PARTICLES:
                out.append(f"{head} it {particle}{tail}")
            else:
                out.append(f"{v} {o}{tail}")
    return out


IMAGE = ("it", "the image", "the photo", "the picture", "the shot", "everything", "the whole image", "the frame")
UP = ("increase", "raise", "boost", "bump up", "push up", "turn up", "bring up", "up")
DOWN = ("decrease", "lower", "reduce", "cut", "drop", "bring down", "pull down", "turn down", "take down")
EXPOSURE = (
    "the exposure",
    "the brightness",
    "the overall exposure",
    "the overall brightness",
    "exposure",
    "brightness",
    "the EV",
)
COLOURS = ("the colours", "the colors", "the colour", "the color", "colours", "colors")
TEMPERATURE = (
    "the warmth",
    "the temperature",
    "the colour temperature",
    "the color temperature",
    "the white balance temperature",
    "the kelvin",
)
TOP = (
    "the sky",
    "the top of the frame",
    "the upper part",
    "the top",
    "the top of the image",
    "the upper part of the photo",
    "the clouds",
    "the sky area",
    "the top edge",
)
BOTTOM = (
    "the foreground",
    "the bottom of the frame",
    "the lower part",
    "the ground",
    "the bottom",
    "the bottom of the image",
    "the lower part of the photo",
    "the grass",
    "the bottom edge",
)
CENTRE = (
    "the subject",
    "the centre",
    "the center",
    "the middle",
    "the middle of the frame",
    "the central area",
    "the person",
    "the focal point",
    "the center of the image",
    "the centre of the photo",
)
CORNERS = (
    "the corners",
    "the edges",
    "the borders",
    "the outer edges",
    "the periphery",
    "the outside edges",
    "the edges of the picture",
    "the four corners",
)


def _side(s):
    return (
        f"the {s} side",
        f"the {s} of the frame",
        f"the {s}",
        f"the {s} edge",
        f"the {s}-hand side",
        f"the {s} part of the image",
        f"the {s} part of the photo",
    )


EXTRA = {
    "brighter": _vo(("brighten", "lighten", "lift", "brighten up", "lighten up"), IMAGE)
    + _vo(UP + ("add to",), EXPOSURE)
    + _frames(("brighter", "lighter", "less dark"))
    + [
        "overexpose it {b}",
        "{a} more exposure",
        "more exposure {b}",
        "add exposure {b}",
        "expose it brighter {b}",
        "too dark so brighten it {b}",
        "brighten things up {b}",
        "lift the overall exposure {b}",
        "can you brighten this {b}",
        "brighten this photo up {b}",
        "make the exposure {a} higher",
    ],
    "darker": _vo(("darken", "dim", "darken down", "tone down"), IMAGE)
    + _vo(DOWN, EXPOSURE)
    + _frames(("darker", "dimmer", "less bright"))
    + [
        "underexpose it {b}",
        "{a} less exposure",
        "less exposure {b}",
        "take some exposure off {b}",
        "expose it darker {b}",
        "too bright so darken it {b}",
        "make the exposure {a} lower",
        "can you darken this {b}",
        "bring the brightness down {b}",
    ],
    "warmer": _vo(
        ("warm up", "warm"), IMAGE[:5] + COLOURS[:2] + ("the tones", "the white balance", "the light", "the scene")
    )
    + _vo(UP + ("add",), TEMPERATURE)
    + _frames(
        ("warmer", "more golden", "more amber", "more orange", "yellower", "more yellow", "less cold", "less blue")
    )
    + [
        "shift the white balance towards amber {b}",
        "shift the white balance towards orange {b}",
        "add {s} warm tones",
        "give it a {s} warm cast",
        "warm tones please, {b}",
        "add a {s} golden tint",
        "add {s} warmth to the colours",
        "move the temperature slider to the right {b}",
        "raise the kelvin {b}",
        "a {s} warmer white balance please",
        "more golden tones {b}",
        "add an orange warmth {b}",
        "make the white balance {a} warmer",
        "make the colours {a} warmer",
        "make the colors {a} warmer",
        "make the tones {a} warmer",
    ],
    "cooler": _vo(
        ("cool down", "cool", "cool off"), IMAGE[:5] + COLOURS[:2] + ("the tones", "the white balance", "the light")
    )
    + _vo(DOWN, TEMPERATURE)
    + _frames(("cooler", "colder", "bluer", "more blue", "less warm", "less yellow", "less orange", "more cyan"))
    + [
        "shift the white balance towards cyan {b}",
        "add {s} cool tones",
        "give it a {s} cool cast",
        "give it a {s} cold tone",
        "cool tones please, {b}",
        "add a {s} blue tint",
        "add some coolness {b}",
        "move the temperature slider to the left {b}",
        "take some warmth out {b}",
        "remove some of the warmth {b}",
        "make the white balance {a} cooler",
        "make the colours {a} cooler",
        "make the colors {a} cooler",
        "make the tones {a} colder",
        "less yellow in the white balance {b}",
    ],
    "magenta": _vo(
        ("shift", "move", "push"),
        ("the tint", "the colour tint", "the color tint", "the green-magenta tint"),
        " towards magenta {b}",
    )
    + _vo(("shift", "move"), ("the tint",), " to purple {b}")
    + _frames(("more magenta", "more purple", "pinker", "less green"))
    + [
        "add {s} magenta",
        "take out some green {b}",
        "reduce the green tint {b}",
        "remove some green {b}",
        "more magenta in the tint {b}",
        "a {s} magenta cast please",
        "counter the green {b}",
        "move the tint slider towards magenta {b}",
        "add a {s} purple tint",
        "increase the tint {b}",
    ],
    "green": _vo(
        ("shift", "move", "push"),
        ("the tint", "the colour tint", "the color tint", "the green-magenta tint"),
        " towards green {b}",
    )
    + _frames(("greener", "more green", "less magenta", "less pink", "less purple"))
    + [
        "add {s} green",
        "take out some magenta {b}",
        "reduce the magenta tint {b}",
        "remove some magenta {b}",
        "more green in the tint {b}",
        "a {s} green cast please",
        "counter the magenta {b}",
        "move the tint slider towards green {b}",
        "decrease the tint {b}",
        "add a {s} greenish tint",
    ],
    "saturate": _vo(
        UP + ("intensify", "enrich", "strengthen", "deepen"),
        (
            "the saturation",
            "the colours",
            "the colors",
            "the vibrance",
            "the colour intensity",
            "saturation",
            "the colour saturation",
        ),
    )
    + _frames(("more saturated", "more colourful", "more colorful", "more vivid", "more vibrant", "less washed out"))
    + [
        "saturate the colours {b}",
        "saturate the colors {b}",
        "make the colours {a} stronger",
        "make the colors {a} more intense",
        "make the colours {a} richer",
        "add {s} colour",
        "more colour {b}",
        "more color please, {b}",
        "stronger colours {b}",
        "add {s} vibrance",
        "more vibrant colours {b}",
        "vivid colours please, {b}",
        "make the colors pop {b}",
        "add some saturation {b}",
        "colours need to be {a} stronger",
        "the colours should be {a} more intense",
    ],
    "desaturate": _vo(
        DOWN + ("tone down", "pull back", "soften", "mute", "weaken"),
        (
            "the saturation",
            "the colours",
            "the colors",
            "the vibrance",
            "the colour intensity",
            "saturation",
            "the colour saturation",
        ),
    )
    + _frames(
        (
            "less saturated",
            "less colourful",
            "less colorful",
            "more muted",
            "more subdued",
            "more desaturated",
            "less vivid",
            "less intense",
            "more understated",
        )
    )
    + [
        "desaturate the colours {b}",
        "desaturate the colors {b}",
        "wash out the colours {b}",
        "make the colours {a} weaker",
        "make the colors {a} less intense",
        "less colour {b}",
        "less color please, {b}",
        "weaker colours {b}",
        "muted colours please, {b}",
        "remove some of the saturation {b}",
        "the colours should be {a} softer",
        "subdued colours {b}",
        "pull the saturation back {b}",
        "make the colours {a} paler",
    ],
    "monochrome": [
        "make it black-and-white",
        "convert it to monochrome",
        "make it greyscale",
        "make it grayscale",
        "b&w please",
        "desaturate it completely",
        "turn it black and white",
        "go monochrome",
        "mono please",
        "no colour at all",
        "no color at all",
        "make it a black and white photo",
        "convert to b/w",
        "black and white",
        "monochrome please",
        "convert to greyscale",
        "make it monochrome",
        "I want it in black and white",
        "do a black and white conversion",
        "remove the colours completely",
        "remove all color",
        "fully desaturate it",
        "turn it into black and white",
        "make this a b&w image",
        "grayscale it",
    ],
    "contrast_up": _vo(
        UP + ("add", "deepen", "strengthen", "enhance"), ("the contrast", "contrast", "the global contrast")
    )
    + _frames(("more contrasty", "punchier", "higher in contrast", "less flat"))
    + [
        "make the contrast {a} stronger",
        "stronger contrast {b}",
        "more contrast {b}",
        "add {s} punch",
        "higher contrast {b}",
        "make the contrast {a} higher",
        "harder contrast please, {b}",
        "contrast up {b}",
        "add {s} depth with contrast",
        "the contrast needs to be {a} stronger",
        "make it {a} less flat",
        "steepen the tone curve {b}",
        "add an S-curve {b}",
        "more pop in the tones {b}",
        "more pop {b}",
        "give it {s} pop",
        "make it pop {b}",
        "add {s} pop",
    ],
    "contrast_down": _vo(
        DOWN + ("tone down", "pull back", "weaken", "ease"), ("the contrast", "contrast", "the global contrast")
    )
    + _frames(("less contrasty", "flatter", "lower in contrast", "less punchy", "less harsh", "gentler"))
    + [
        "make the contrast {a} weaker",
        "weaker contrast {b}",
        "less contrast {b}",
        "lower contrast {b}",
        "make the contrast {a} lower",
        "make the contrast {a} gentler",
        "contrast down {b}",
        "flatten it {b}",
        "flatten the tones {b}",
        "make it {a} less harsh",
        "give it a {s} flat look",
        "ease off the contrast {b}",
        "a {s} low contrast look",
        "the contrast is too strong so reduce it {b}",
    ],
    "shadows_up": _vo(
        (
            "lift",
            "raise",
            "brighten",
            "open up",
            "bring up",
            "boost",
            "lighten",
            "recover",
            "pull up",
            "push up",
            "increase",
        ),
        (
            "the shadows",
            "the dark areas",
            "the darker areas",
            "the shadow areas",
            "the dark tones",
            "the shadow detail",
            "the darks",
            "the deep shadows",
            "the blacks",
            "the black point",
        ),
    )
    + _frames(("brighter", "lighter", "less deep", "more open"), REGION_FRAMES, "the shadows")
    + _frames(("brighter", "lighter"), REGION_FRAMES, "the dark areas")
    + _frames(("brighter", "lighter", "less crushed"), REGION_FRAMES, "the blacks")
    + [
        "more shadow detail {b}",
        "recover the shadow detail {b}",
        "shadows up {b}",
        "lighter shadows {b}",
        "brighter shadows please, {b}",
        "open the shadows {b}",
        "get more detail out of the shadows {b}",
        "the shadows are too dark so lift them {b}",
        "make the dark tones {a} lighter",
        "raise the shadow slider {b}",
        "raise the blacks slider {b}",
        "dodge the shadows {b}",
        "the blacks are crushed so lift them {b}",
    ],
    "shadows_down": _vo(
        ("deepen", "darken", "lower", "push down", "crush", "pull down", "drop", "sink", "reduce", "bring down"),
        (
            "the shadows",
            "the dark areas",
            "the shadow tones",
            "the darks",
            "the darker areas",
            "the dark tones",
            "the blacks",
            "the black point",
        ),
    )
    + _frames(("darker", "deeper", "denser"), REGION_FRAMES, "the shadows")
    + _frames(("darker", "deeper"), REGION_FRAMES, "the dark tones")
    + _frames(("darker", "deeper", "denser"), REGION_FRAMES, "the blacks")
    + [
        "more depth in the shadows {b}",
        "deeper shadows {b}",
        "darker shadows please, {b}",
        "shadows down {b}",
        "let the shadows go darker {b}",
        "more shadow density {b}",
        "lower the shadow slider {b}",
        "make the dark areas {a} deeper",
        "give the shadows more depth {b}",
        "lower the blacks slider {b}",
        "deeper blacks {b}",
        "darker blacks please, {b}",
        "burn the shadows {b}",
    ],
    "highlights_down": _vo(
        (
            "recover",
            "tone down",
            "bring back",
            "darken",
            "pull down",
            "lower",
            "reduce",
            "bring down",
            "dim",
            "compress",
            "hold back",
            "pull back",
            "soften",
        ),
        (
            "the highlights",
            "the highlight detail",
            "the whites",
            "the brights",
            "the light tones",
            "the highlight areas",
        ),
    )
    + _frames(("darker", "less bright", "dimmer", "less harsh"), REGION_FRAMES, "the highlights")
    + [
        "highlights down {b}",
        "less bright highlights {b}",
        "recover detail in the highlights {b}",
        "protect the highlights {b}",
        "lower the highlight slider {b}",
        "the highlights are too bright so pull them down {b}",
        "get the detail back in the highlights {b}",
        "darker highlights please, {b}",
        "reduce the whites {b}",
    ],
    "highlights_up": _vo(
        ("brighten", "boost", "raise", "lift", "push up", "increase", "lighten", "bring up"),
        ("the highlights", "the whites", "the light tones", "the brights", "the highlight areas"),
    )
    + _frames(("brighter", "lighter", "more luminous"), REGION_FRAMES, "the highlights")
    + [
        "highlights up {b}",
        "brighter highlights {b}",
        "raise the highlight slider {b}",
        "make the whites {a} brighter",
        "make the light tones {a} lighter",
        "more luminous highlights {b}",
    ],
    "sharper": _vo(("sharpen",), IMAGE[:5] + ("the details", "the edges", "the texture"))
    + _vo(
        UP + ("add", "enhance"),
        (
            "the sharpness",
            "the clarity",
            "the detail",
            "the texture",
            "the local contrast",
            "the definition",
            "the structure",
            "sharpness",
            "clarity",
        ),
    )
    + _frames(("sharper", "crisper", "more detailed", "more defined", "less soft", "less blurry"))
    + [
        "add {s} sharpening",
        "more detail {b}",
        "more clarity {b}",
        "more sharpness please, {b}",
        "crisper details {b}",
        "enhance the detail {b}",
        "add {s} definition",
        "make the details {a} crisper",
        "make the edges {a} sharper",
        "give it a {s} crisp look",
        "add {s} texture",
        "bring out the texture {b}",
        "sharper details please, {b}",
        "increase the micro contrast {b}",
    ],
    "softer": _vo(
        ("soften", "smooth", "smooth out"), IMAGE[:5] + ("the details", "the texture", "the look", "the skin")
    )
    + _vo(
        DOWN + ("tone down",),
        (
            "the clarity",
            "the sharpness",
            "the texture",
            "the detail",
            "the structure",
            "the local contrast",
            "clarity",
            "sharpness",
        ),
    )
    + _frames(("softer", "smoother", "less sharp", "less crisp", "less gritty", "less detailed"))
    + [
        "add {s} softness",
        "less detail {b}",
        "less clarity {b}",
        "less sharpness please, {b}",
        "make the details {a} softer",
        "give it a {s} smooth look",
        "negative clarity {b}",
        "soften the details {b}",
        "make the texture {a} smoother",
        "smoother texture please, {b}",
    ],
    "dehaze": _vo(
        ("remove", "reduce", "cut", "clear", "get rid of", "take out", "eliminate", "clear up", "cut down"),
        ("the haze", "the fog", "the mist", "the haziness", "the fogginess", "some haze", "the milkiness"),
    )
    + _frames(("less hazy", "less foggy", "less misty", "less milky"))
    + [
        "dehaze {b}",
        "add {s} dehaze",
        "apply dehaze {b}",
        "more dehaze {b}",
        "defog it {b}",
        "make it {a} clearer through the haze",
        "fix the haze {b}",
        "increase the dehaze {b}",
        "less haze please, {b}",
        "make the air {a} clearer",
    ],
    # local
    "sky_down": _vo(
        (
            "darken",
            "tone down",
            "bring down",
            "deepen",
            "dim",
            "pull down",
            "lower the exposure of",
            "reduce the brightness of",
            "darken down",
            "burn",
            "burn in",
        ),
        TOP,
    )
    + [p for r in TOP[:6] for p in _frames(("darker", "deeper", "dimmer", "less bright"), REGION_FRAMES, r)]
    + [
        "darker sky {b}",
        "a {s} darker sky",
        "make the sky {a} more dramatic",
        "add a {s} graduated filter on the sky",
        "add a {s} dark gradient at the top",
        "pull the sky exposure down {b}",
        "the sky is too bright so darken it {b}",
        "bring the exposure of the sky down {b}",
        "a {s} gradient over the sky",
    ],
    "sky_up": _vo(("brighten", "lighten", "lift", "raise the exposure of", "brighten up", "open up", "dodge"), TOP)
    + [p for r in TOP[:6] for p in _frames(("brighter", "lighter", "less dark"), REGION_FRAMES, r)]
    + [
        "brighter sky {b}",
        "a {s} brighter sky",
        "the sky is too dark so brighten it {b}",
        "bring the exposure of the sky up {b}",
        "lift the top of the image {b}",
    ],
    "ground_up": _vo(
        ("brighten", "lighten", "lift", "raise the exposure of", "brighten up", "open up", "dodge"), BOTTOM
    )
    + [p for r in BOTTOM[:6] for p in _frames(("brighter", "lighter", "less dark"), REGION_FRAMES, r)]
    + [
        "brighter foreground {b}",
        "a {s} brighter foreground",
        "the foreground is too dark so brighten it {b}",
        "bring the exposure of the foreground up {b}",
    ],
    "ground_down": _vo(
        ("darken", "tone down", "bring down", "dim", "pull down", "lower the exposure of", "deepen", "burn", "burn in"),
        BOTTOM,
    )
    + [p for r in BOTTOM[:6] for p in _frames(("darker", "dimmer", "less bright"), REGION_FRAMES, r)]
    + [
        "darker foreground {b}",
        "a {s} darker foreground",
        "the foreground is too bright so darken it {b}",
        "add a {s} dark gradient at the bottom",
    ],
    "subject_up": _vo(
        ("brighten", "lighten", "lift", "highlight", "raise the exposure of", "brighten up", "dodge"), CENTRE
    )
    + [p for r in CENTRE[:6] for p in _frames(("brighter", "lighter", "less dark"), REGION_FRAMES, r)]
    + [
        "draw the eye to the centre {b}",
        "a {s} radial brighten on the subject",
        "brighter subject {b}",
        "the subject is too dark so brighten it {b}",
    ],
    "subject_down": _vo(("darken", "tone down", "dim", "bring down", "lower the exposure of", "burn"), CENTRE)
    + [p for r in CENTRE[:6] for p in _frames(("darker", "dimmer", "less bright"), REGION_FRAMES, r)]
    + ["darker subject {b}", "the subject is too bright so darken it {b}", "a {s} radial darken on the centre"],
    "vignette": _vo(("darken", "dim", "shade", "tone down", "darken down", "burn", "burn down"), CORNERS)
    + [p for r in CORNERS[:4] for p in _frames(("darker", "dimmer"), REGION_FRAMES, r)]
    + [
        "add {s} vignetting",
        "vignette it {b}",
        "a {s} vignette please",
        "darker corners {b}",
        "darker edges {b}",
        "put a {s} vignette on it",
        "apply a {s} vignette",
        "add a {s} black vignette",
        "vignette the edges {b}",
        "a {s} edge vignette",
        "add a {s} vignette to draw the eye in",
        "burn the edges in {b}",
        "dark corners please, {b}",
        "add a {s} darkening around the edges",
        "add a {s} lens vignette",
    ],
    "devignette": _vo(("brighten", "lighten", "lift", "brighten up", "open up", "dodge"), CORNERS)
    + [p for r in CORNERS[:4] for p in _frames(("brighter", "lighter", "less dark"), REGION_FRAMES, r)]
    + [
        "remove the vignetting {b}",
        "remove the vignette {b}",
        "correct the vignetting {b}",
        "brighter corners {b}",
        "brighter edges {b}",
        "add a {s} light vignette",
        "a {s} white vignette please",
        "fix the dark corners {b}",
        "lighter corners please, {b}",
        "add a {s} bright vignette",
    ],
}

for _s, _word, _rs in (
    ("left", "left", ("left_up", "left_down", "left_warm", "left_cool")),
    ("right", "right", ("right_up", "right_down", "right_warm", "right_cool")),
):
    _regions = _side(_s)
    _up, _down, _warm, _cool = _rs
    EXTRA[_up] = (
        _vo(("brighten", "lighten", "lift", "raise the exposure of", "brighten up", "dodge"), _regions)
        + [p for r in _regions[:4] for p in _frames(("brighter", "lighter"), REGION_FRAMES, r)]
        + [
            f"{{a}} brighter on the {_s}",
            f"{{a}} brighter on the {_s} side",
            f"brighter {_s} side {{b}}",
            f"the {_s} side is too dark so brighten it {{b}}",
        ]
    )
    EXTRA[_down] = (
        _vo(("darken", "dim", "tone down", "bring down", "lower the exposure of", "burn"), _regions)
        + [p for r in _regions[:4] for p in _frames(("darker", "dimmer"), REGION_FRAMES, r)]
        + [
            f"{{a}} darker on the {_s}",
            f"{{a}} darker on the {_s} side",
            f"darker {_s} side {{b}}",
            f"the {_s} side is too bright so darken it {{b}}",
        ]
    )
    EXTRA[_warm] = (
        _vo(("warm", "warm up"), _regions)
        + [p for r in _regions[:4] for p in _frames(("warmer", "more golden", "more orange"), REGION_FRAMES, r)]
        + [
            f"{{a}} warmer on the {_s}",
            f"{{a}} warmer on the {_s} side",
            f"warmer {_s} side {{b}}",
            f"add warmth to the {_s} side {{b}}",
            f"give the {_s} side a {{s}} warm tone",
        ]
    )
    EXTRA[_cool] = (
        _vo(("cool", "cool down"), _regions)
        + [p for r in _regions[:4] for p in _frames(("cooler", "colder", "more blue"), REGION_FRAMES, r)]
        + [
            f"{{a}} cooler on the {_s}",
            f"{{a}} cooler on the {_s} side",
            f"cooler {_s} side {{b}}",
            f"take the warmth out of the {_s} side {{b}}",
            f"give the {_s} side a {{s}} cool tone",
        ]
    )

for _name, _regions in (("sky_warm", TOP), ("sky_cool", TOP), ("ground_warm", BOTTOM), ("subject_warm", CENTRE)):
    _warm = _name.endswith("warm")
    EXTRA[_name] = (
        _vo(("warm", "warm up") if _warm else ("cool", "cool down"), _regions)
        + [
            p
            for r in _regions[:5]
            for p in _frames(
                ("warmer", "more golden", "more orange") if _warm else ("cooler", "colder", "bluer"), REGION_FRAMES, r
            )
        ]
        + (
            [f"give {r} a {{s}} warm tone" for r in _regions[:4]] + [f"add warmth to {r} {{b}}" for r in _regions[:4]]
            if _warm
            else [f"give {r} a {{s}} cool tone" for r in _regions[:4]]
            + [f"take the warmth out of {r} {{b}}" for r in _regions[:4]]
        )
    )

# complaints: X words per defect in frames
DEFECT_FRAMES = (
    "it's {a} too X",
    "it looks {a} too X",
    "the photo is {a} too X",
    "the image looks {a} too X",
    "it came out {a} too X",
    "the picture is {a} too X",
    "this shot is {a} too X",
    "it seems {a} too X",
    "too X",
    "way too X",
    "it's {a} too X, fix it",
    "it's {a} too X, can you fix that",
    "the whole thing is {a} too X",
    "why is it so X",
    "the image is {a} X",
    "it's {a} X overall",
)
COLOUR_FRAMES = (
    "the colours are {a} X",
    "the colours look {a} X",
    "the colors are {a} X",
    "the colors look {a} X",
    "colours are {a} X",
    "the colour is {a} X",
    "the colours seem {a} X",
    "everything looks {a} X",
    "the colours are {a} X, fix them",
    "X colours",
)
CAST_FRAMES = (
    "there's a {s} X cast",
    "it has a {s} X cast",
    "I see a {s} X cast",
    "there's a {s} X tint",
    "remove the X cast",
    "get rid of the X cast",
    "fix the X cast",
    "the white balance is off, it's {a} X",
    "correct the X cast",
    "it has a {s} X colour cast",
    "there's a {s} X color cast",
    "neutralise the X cast",
    "take out the X cast",
)


def _df(frames, words):
    return [f.replace("X", w) for f in frames for w in words]


DEFECT_EXTRA = {
    "underexposed": _df(DEFECT_FRAMES, ("dark", "dim", "underexposed"))
    + [
        "the exposure is {a} off, it's too dark",
        "needs more exposure",
        "it's underexposed, fix it",
        "the whole photo is {a} dark",
        "the photo came out {a} dark",
    ],
    "overexposed": _df(DEFECT_FRAMES, ("bright", "overexposed", "light"))
    + [
        "the exposure is {a} off, it's too bright",
        "needs less exposure",
        "it's overexposed, fix it",
        "the whole photo is {a} bright",
        "the photo came out {a} bright",
    ],
    "cool_cast": _df(DEFECT_FRAMES, ("blue", "cold", "cool", "cyan"))
    + _df(CAST_FRAMES, ("blue", "cool", "cyan"))
    + _df(COLOUR_FRAMES, ("too cold", "too blue", "cold"))
    + ["the white balance is {a} too cool"],
    "warm_cast": _df(DEFECT_FRAMES, ("yellow", "warm", "orange", "amber"))
    + _df(CAST_FRAMES, ("yellow", "orange", "warm", "amber"))
    + _df(COLOUR_FRAMES, ("too warm", "too yellow", "too orange"))
    + ["the white balance is {a} off towards yellow"],
    "green_cast": _df(DEFECT_FRAMES, ("green", "greenish"))
    + _df(CAST_FRAMES, ("green", "greenish"))
    + _df(COLOUR_FRAMES, ("too green",)),
    "magenta_cast": _df(DEFECT_FRAMES, ("magenta", "pink", "purple", "pinkish"))
    + _df(CAST_FRAMES, ("magenta", "pink", "purple"))
    + _df(COLOUR_FRAMES, ("too pink", "too magenta", "too purple")),
    "flat": _df(DEFECT_FRAMES, ("flat", "dull", "muddy", "grey"))
    + [
        "it has no contrast",
        "it needs more contrast",
        "there's {a} too little contrast",
        "the contrast is {a} too low",
        "the contrast is {a} weak",
        "it looks {a} washed-out and flat",
        "the tones are {a} flat",
        "no punch at all",
    ],
    "harsh": _df(DEFECT_FRAMES, ("contrasty", "harsh", "hard"))
    + [
        "the contrast is {a} too high",
        "the contrast is {a} too strong",
        "there's {a} too much contrast",
        "the tones are {a} too harsh",
        "it has too much contrast",
        "the contrast is overdone",
    ],
    "washed_out": _df(
        COLOUR_FRAMES,
        ("washed out", "faded", "too dull", "pale", "weak", "too muted", "drab", "desaturated", "too pale"),
    )
    + [
        "there's {a} too little colour",
        "the colour is {a} too weak",
        "the saturation is {a} too low",
        "it looks {a} faded",
        "it's {a} washed out",
        "it lacks colour",
        "not enough saturation",
    ],
    "oversaturated": _df(
        COLOUR_FRAMES,
        ("too saturated", "garish", "too loud", "neon", "too intense", "overdone", "oversaturated", "too strong"),
    )
    + [
        "it's {a} too saturated",
        "the saturation is {a} too high",
        "there's {a} too much colour",
        "the colours are {a} over the top",
        "the colours are cartoonish",
        "it looks {a} oversaturated",
    ],
    "crushed_shadows": [
        f.replace("X", w)
        for f in (
            "the shadows are {a} X",
            "the shadows look {a} X",
            "the dark areas are {a} X",
            "the shadow detail is {a} X",
            "the darks are {a} X",
            "the shadows are {a} X, fix it",
        )
        for w in ("too dark", "crushed", "blocked up", "too deep", "lost", "too black")
    ]
    + [
        "there's no detail in the shadows",
        "the shadows have no detail",
        "the shadow detail is gone",
        "you can't see into the shadows",
        "the shadows are {a} muddy",
    ],
    "bright_highlights": [
        f.replace("X", w)
        for f in (
            "the highlights are {a} X",
            "the highlights look {a} X",
            "the bright tones are {a} X",
            "the whites are {a} X",
            "the highlights are {a} X, fix it",
        )
        for w in ("too bright", "blown", "clipped", "too hot", "blown out", "overexposed")
    ]
    + [
        "there's no detail in the highlights",
        "the highlights have no detail",
        "the highlight detail is gone",
        "the whites are {a} clipping",
        "the brightest tones are {a} too hot",
    ],
    "hazy": _df(DEFECT_FRAMES, ("hazy", "foggy", "milky", "misty", "smoggy"))
    + [
        "there's {a} too much fog",
        "there's a {s} haze in the image",
        "the haze is {a} too strong",
        "it looks {a} washed out by haze",
        "the haze makes it {a} dull",
        "it's {a} cloudy with haze",
    ],
    "soft": _df(DEFECT_FRAMES, ("soft", "blurry", "fuzzy", "unsharp", "out of focus", "smeary"))
    + [
        "it's not sharp enough",
        "it's {a} lacking detail",
        "the details are {a} soft",
        "it needs sharpening",
        "it lacks sharpness",
        "the image is {a} not crisp",
        "the texture is {a} mushy",
    ],
}

GENERIC_EXTRA = (
    ("fix the colors", ("colour",)),
    ("correct the colors", ("colour",)),
    ("correct the white balance", ("colour",)),
    ("neutralise the colours", ("colour",)),
    ("make the colours look right", ("colour",)),
    ("make the colors natural", ("colour",)),
    ("fix the colour balance", ("colour",)),
    ("get the white balance right", ("colour",)),
    ("fix the colour", ("colour",)),
    ("fix the brightness", ("exposure",)),
    ("get the exposure right", ("exposure",)),
    ("correct the brightness", ("exposure",)),
    ("fix the lighting", ("exposure",)),
    ("fix the tone", ("tone",)),
    ("correct the tones", ("tone",)),
    ("fix the contrast", ("tone",)),
    ("fix the tonality", ("tone",)),
    ("fix it", EVERY),
    ("make it look better", EVERY),
    ("improve it", EVERY),
    ("improve the photo", EVERY),
    ("fix whatever is wrong", EVERY),
    ("correct the image", EVERY),
    ("make it look right", EVERY),
    ("can you fix this", EVERY),
    ("auto-enhance", EVERY),
    ("auto fix", EVERY),
    ("make it look good", EVERY),
    ("repair this shot", EVERY),
    ("restore it", EVERY),
    ("make it look normal", EVERY),
    ("correct the photo", EVERY),
    ("tidy it up", EVERY),
    ("make it look realistic", EVERY),
    ("do a basic correction", EVERY),
    ("touch it up", EVERY),
)

LOOK_TEMPLATES_EXTRA = (
    "a {look} look please",
    "{look} please",
    "I'd like {art} {look} look",
    "make it {look}",
    "{look} vibe",
    "give me {art} {look} edit",
    "could you do {art} {look} look",
    "something {look}",
    "style it {look}",
    "{look} grade please",
    "grade it {look}",
    "make this {art} {look} shot",
    "{look} treatment",
    "apply {art} {look} filter",
    "I'm after {art} {look} look",
    "can I get {art} {look} look",
    "edit this to look {look}",
    "{look} colour grading",
    "{look} aesthetic",
)


NEGATIONS_EXTRA = (
    Negation(
        (
            "without clipping the highlights",
            "but keep the highlights intact",
            "but watch the highlights",
            "but don't clip the whites",
        ),
        {"brightness": 1},
        {"highlights": -0.3},
    ),
    Negation(
        ("without losing the shadow detail", "but keep the shadows open", "but don't crush the darks"),
        {"brightness": -1},
        {"shadows": 0.3},
    ),
    Negation(
        (
            "but don't overdo it",
            "but keep it subtle",
            "just gently",
            "but go easy",
            "but keep it realistic",
            "not too strong",
        ),
        {},
        scale=0.7,
    ),
)

CONNECTORS_EXTRA = (" plus ", ", plus ", " as well as ", " & ", ". ", " and then ", ", and also ", "; then ")

# wrappers around a whole request: a prefix before an imperative, or a suffix
PREFIXES = (
    "please ",
    "can you ",
    "could you ",
    "could you please ",
    "I'd like you to ",
    "I want you to ",
    "let's ",
    "try to ",
    "would you ",
    "I need you to ",
    "can we ",
    "hey, ",
    "ok, ",
    "quick edit: ",
)
SUFFIXES = (" please", " for me", " thanks", "?", " if you can", ", thank you", " please!")

# distinctive words of the 50 UNSEEN paraphrases: no bank phrase may use them (tests/test_data.py)
FORBIDDEN_WORDS = (
    "sunny",
    "sunnier",
    "chill",
    "cozy",
    "cozier",
    "icy",
    "crank",
    "knock",
    "dial back",
    "less light",
    "more light",
    "nudge",
    "lean",
    "juice",
    "sing",
    "drain",
    "calm",
    "strip",
    "every colour",
    "snap",
    "separation",
    "tonal range",
    "reveal",
    "hiding",
    "dark parts",
    "fill in",
    "rescue",
    "tame",
    "bright parts",
    "bright areas",
    "fine detail",
    "stand out",
    "edge off",
    "inkier",
    "inky",
    "rim",
    "fall into",
    "atmosphere",
    "weight",
    "heaven",
    "moodier",
    "lower half",
    "out of the dark",
    "spotlight",
    "main subject",
    "glow",
    "frame it",
    "sunnier",
    "bluer on",
    "barely",
    "murky",
    "blinding",
    "frosty",
    "bluish",
    "tungsten",
    "lifeless",
    "anaemic",
    "anemic",
    "veil",
    "afternoon",
    "brooding",
    "gritty monochrome",
    "strong blacks",
    "towards pink",
    "it towards",
    "open up the exposure",
    "could use",
)


# ---- the core banks and the combinations above, together: what synthesis draws from (each table bound once)
def _merge(core: tuple[str, ...], extra) -> tuple[str, ...]:
    return tuple(dict.fromkeys(list(core) + [" ".join(t.split()) for t in extra]))


BASE_PHRASES = MappingProxyType({name: i.phrases for name, i in CORE_INTENTS.items()})  # the hand-written core
BASE_DEFECT_PHRASES = MappingProxyType({name: d.phrases for name, d in CORE_DEFECTS.items()})
INTENTS = MappingProxyType(
    {name: replace(i, phrases=_merge(i.phrases, EXTRA.get(name, ()))) for name, i in CORE_INTENTS.items()}
)
DEFECTS = MappingProxyType(
    {name: replace(d, phrases=_merge(d.phrases, DEFECT_EXTRA.get(name, ()))) for name, d in CORE_DEFECTS.items()}
)
GENERIC = CORE_GENERIC + GENERIC_EXTRA
LOOK_TEMPLATES = CORE_LOOK_TEMPLATES + LOOK_TEMPLATES_EXTRA
NEGATIONS = CORE_NEGATIONS + NEGATIONS_EXTRA
CONNECTORS = CORE_CONNECTORS + CONNECTORS_EXTRA
