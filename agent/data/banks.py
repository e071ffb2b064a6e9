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

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Amount:
    pre: str      # before a comparative: "{a} brighter"
    post: str     # after a verb phrase: "brighten it {b}"
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

STRENGTHS = (("subtle", 0.5), ("light", 0.6), ("gentle", 0.6), ("", 1.0), ("strong", 1.4), ("bold", 1.4),
             ("heavy", 1.5))


@dataclass(frozen=True)
class Intent:
    name: str
    family: str                      # "style" (global adjustments) or "local"
    deltas: dict[str, float]         # at amount factor 1
    attributes: dict[str, int]
    phrases: tuple[str, ...]
    stops: int = 0                   # +1 / −1: exposure intents that may be said in stops


def _i(name, family, deltas, attributes, *phrases, stops=0):
    return Intent(name, family, deltas, attributes, phrases, stops)


INTENTS = {i.name: i for i in (
    _i("brighter", "style", {"exposure": 0.6}, {"brightness": 1},
       "make it {a} brighter", "brighten it {b}", "brighten the photo {b}", "increase the exposure {b}",
       "raise the exposure {b}", "lighten it {b}", "make the image {a} lighter", "bump up the exposure {b}",
       "{a} brighter please", "push the exposure up {b}", stops=1),
    _i("darker", "style", {"exposure": -0.6}, {"brightness": -1},
       "make it {a} darker", "darken it {b}", "darken the photo {b}", "decrease the exposure {b}",
       "lower the exposure {b}", "reduce the exposure {b}", "make the image {a} darker", "{a} darker please",
       "pull the exposure down {b}", "tone down the brightness {b}", stops=-1),
    _i("warmer", "style", {"temperature": -35.0}, {"warmth": 1},
       "make it {a} warmer", "warm it up {b}", "warm up the colours {b}", "{a} warmer please",
       "give it a warmer white balance {b}", "add some warmth {b}", "make the light {a} warmer",
       "shift the white balance towards yellow {b}"),
    _i("cooler", "style", {"temperature": 35.0}, {"warmth": -1},
       "make it {a} cooler", "cool it down {b}", "cool the colours {b}", "{a} cooler please",
       "make it {a} colder", "give it a cooler white balance {b}", "shift the white balance towards blue {b}",
       "make the light {a} bluer"),
    _i("magenta", "style", {"tint": 0.15}, {"tint": 1},
       "add a {s} magenta tint", "push the tint towards magenta {b}", "make it {a} more magenta",
       "shift the tint to magenta {b}", "{a} more pink in the tint"),
    _i("green", "style", {"tint": -0.15}, {"tint": -1},
       "add a {s} green tint", "push the tint towards green {b}", "make it {a} more green",
       "shift the tint to green {b}", "make the tint {a} greener"),
    _i("saturate", "style", {"saturation": 0.25}, {"saturation": 1},
       "make the colours {a} more saturated", "boost the saturation {b}", "increase the saturation {b}",
       "make the colours {a} more vivid", "{a} more colourful please", "saturate it {b}",
       "make the colours pop {b}", "richer colours, {b}"),
    _i("desaturate", "style", {"saturation": -0.3}, {"saturation": -1},
       "make the colours {a} less saturated", "desaturate it {b}", "reduce the saturation {b}",
       "mute the colours {b}", "tone down the colours {b}", "make the colours {a} more muted",
       "{a} less colourful please", "lower the saturation {b}"),
    _i("monochrome", "style", {"saturation": -1.0}, {"saturation": -1},
       "make it black and white", "convert it to black and white", "turn it into a monochrome image",
       "remove all the colour", "black and white please"),
    _i("contrast_up", "style", {"contrast": 0.25}, {"contrast": 1},
       "add {s} contrast", "increase the contrast {b}", "make it {a} more contrasty", "boost the contrast {b}",
       "{a} more contrast please", "give it more punch {b}", "raise the contrast {b}"),
    _i("contrast_down", "style", {"contrast": -0.25}, {"contrast": -1},
       "reduce the contrast {b}", "lower the contrast {b}", "make it {a} less contrasty",
       "{a} less contrast please", "flatten the contrast {b}", "decrease the contrast {b}"),
    _i("shadows_up", "style", {"shadows": 0.6}, {"shadows": 1},
       "lift the shadows {b}", "brighten the shadows {b}", "open up the shadows {b}", "raise the shadows {b}",
       "make the shadows {a} brighter", "lighten the dark areas {b}", "bring up the shadows {b}",
       "show more detail in the shadows {b}"),
    _i("shadows_down", "style", {"shadows": -0.5}, {"shadows": -1},
       "deepen the shadows {b}", "darken the shadows {b}", "make the shadows {a} darker",
       "make the shadows {a} deeper", "lower the shadows {b}", "push the shadows down {b}"),
    _i("highlights_down", "style", {"highlights": -0.6}, {"highlights": -1},
       "recover the highlights {b}", "tone down the highlights {b}", "bring back the highlights {b}",
       "darken the highlights {b}", "pull down the highlights {b}", "make the highlights {a} darker",
       "lower the highlights {b}"),
    _i("highlights_up", "style", {"highlights": 0.4}, {"highlights": 1},
       "brighten the highlights {b}", "make the highlights {a} brighter", "boost the highlights {b}",
       "raise the highlights {b}", "let the highlights glow {b}"),
    _i("sharper", "style", {"clarity": 0.35, "sharpen": 0.4}, {"detail": 1},
       "sharpen it {b}", "make it {a} sharper", "add {s} clarity", "bring out the detail {b}",
       "make it {a} crisper", "add {s} local contrast", "more texture please, {b}"),
    _i("softer", "style", {"clarity": -0.3}, {"detail": -1},
       "soften it {b}", "make it {a} softer", "reduce the clarity {b}", "smooth out the detail {b}",
       "make the texture {a} softer", "give it a {s} soft look"),
    _i("dehaze", "style", {"dehaze": 0.35}, {"detail": 1},
       "remove the haze {b}", "dehaze it {b}", "cut through the haze {b}", "reduce the haze {b}",
       "clear up the haze {b}"),
    # local: region masks of agent.slots.REGIONS
    _i("sky_down", "local", {"exposure@top": -0.8}, {"brightness@top": -1},
       "darken the sky {b}", "make the sky {a} darker", "bring down the sky {b}", "tone down the sky {b}",
       "darken the top of the frame {b}", "make the upper part {a} darker"),
    _i("sky_up", "local", {"exposure@top": 0.7}, {"brightness@top": 1},
       "brighten the sky {b}", "make the sky {a} brighter", "lighten the top of the frame {b}",
       "make the upper part {a} brighter"),
    _i("ground_up", "local", {"exposure@bottom": 0.7}, {"brightness@bottom": 1},
       "brighten the foreground {b}", "make the foreground {a} brighter", "lift the foreground {b}",
       "lighten the bottom of the frame {b}", "make the lower part {a} brighter"),
    _i("ground_down", "local", {"exposure@bottom": -0.7}, {"brightness@bottom": -1},
       "darken the foreground {b}", "make the foreground {a} darker", "darken the bottom of the frame {b}",
       "make the lower part {a} darker", "darken the ground {b}"),
    _i("subject_up", "local", {"exposure@center": 0.7}, {"brightness@center": 1},
       "brighten the subject {b}", "make the subject {a} brighter", "lighten the centre {b}",
       "brighten the middle of the frame {b}", "put more light on the subject {b}", "make the centre {a} brighter"),
    _i("subject_down", "local", {"exposure@center": -0.6}, {"brightness@center": -1},
       "darken the centre {b}", "make the middle {a} darker", "darken the subject {b}",
       "tone down the middle of the frame {b}"),
    _i("vignette", "local", {"vignette": -0.6}, {"brightness@center": 1},
       "add a {s} vignette", "darken the corners {b}", "darken the edges {b}", "give it a {s} vignette",
       "make the edges {a} darker", "add a {s} dark vignette"),
    _i("devignette", "local", {"vignette": 0.25}, {"brightness@center": -1},
       "brighten the corners {b}", "lighten the edges {b}", "make the corners {a} brighter",
       "add a {s} white vignette"),
    _i("left_up", "local", {"exposure@left": 0.6}, {"brightness@left": 1},
       "brighten the left side {b}", "make the left side {a} brighter", "lighten the left of the frame {b}"),
    _i("left_down", "local", {"exposure@left": -0.6}, {"brightness@left": -1},
       "darken the left side {b}", "make the left side {a} darker", "tone down the left of the frame {b}"),
    _i("right_up", "local", {"exposure@right": 0.6}, {"brightness@right": 1},
       "brighten the right side {b}", "make the right side {a} brighter", "lighten the right of the frame {b}"),
    _i("right_down", "local", {"exposure@right": -0.6}, {"brightness@right": -1},
       "darken the right side {b}", "make the right side {a} darker", "tone down the right of the frame {b}"),
    _i("left_warm", "local", {"temperature@left": -45.0}, {"warmth@left": 1},
       "warm the left side {b}", "make the left side {a} warmer", "warm up the left of the frame {b}"),
    _i("left_cool", "local", {"temperature@left": 45.0}, {"warmth@left": -1},
       "cool the left side {b}", "make the left side {a} cooler", "cool down the left of the frame {b}"),
    _i("right_warm", "local", {"temperature@right": -45.0}, {"warmth@right": 1},
       "warm the right side {b}", "make the right side {a} warmer", "warm up the right of the frame {b}"),
    _i("right_cool", "local", {"temperature@right": 45.0}, {"warmth@right": -1},
       "cool the right side {b}", "make the right side {a} cooler", "cool down the right of the frame {b}"),
    _i("sky_warm", "local", {"temperature@top": -45.0}, {"warmth@top": 1},
       "warm up the sky {b}", "make the sky {a} warmer", "give the sky a {s} warm tone"),
    _i("sky_cool", "local", {"temperature@top": 45.0}, {"warmth@top": -1},
       "cool the sky {b}", "make the sky {a} bluer", "make the sky {a} cooler"),
    _i("ground_warm", "local", {"temperature@bottom": -45.0}, {"warmth@bottom": 1},
       "warm up the foreground {b}", "make the foreground {a} warmer", "warm the bottom of the frame {b}"),
    _i("subject_warm", "local", {"temperature@center": -45.0}, {"warmth@center": 1},
       "warm up the subject {b}", "make the subject {a} warmer", "warm the centre {b}"),
)}


@dataclass(frozen=True)
class Defect:
    """A degradation of the photo (slot value range) and how people complain about it."""
    name: str
    slot: str
    lo: float                    # degradation drawn uniformly in [lo, hi] (temperature: mired shift)
    hi: float
    attributes: dict[str, int]   # the fix's requested directions
    phrases: tuple[str, ...]     # {a}: "a little" / "" / "way" by the size of the degradation
    kind: str                    # "exposure" | "colour" | "tone" | "detail": which generic requests cover it


DEFECTS = {d.name: d for d in (
    Defect("underexposed", "exposure", -1.4, -0.5, {"brightness": 1}, (
        "it's {a} too dark", "the photo is {a} underexposed", "this is {a} too dark, fix the exposure",
        "brighten it, it's {a} underexposed", "it came out {a} too dark", "the exposure is {a} too low"),
        "exposure"),
    Defect("overexposed", "exposure", 0.5, 1.2, {"brightness": -1}, (
        "it's {a} too bright", "the photo is {a} overexposed", "this is {a} too bright, fix the exposure",
        "darken it, it's {a} overexposed", "the exposure is {a} too high"), "exposure"),
    Defect("cool_cast", "temperature", 25.0, 70.0, {"warmth": 1}, (
        "it's {a} too blue", "there's a {s} blue cast", "the white balance is {a} too cold",
        "the colours look {a} too cold", "remove the blue cast"), "colour"),
    Defect("warm_cast", "temperature", -70.0, -25.0, {"warmth": -1}, (
        "it's {a} too yellow", "there's a {s} yellow cast", "the white balance is {a} too warm",
        "it looks {a} too orange", "remove the yellow cast"), "colour"),
    Defect("green_cast", "tint", -0.35, -0.12, {"tint": 1}, (
        "it's {a} too green", "there's a {s} green cast", "remove the green tint",
        "the tint is {a} too green"), "colour"),
    Defect("magenta_cast", "tint", 0.12, 0.35, {"tint": -1}, (
        "it's {a} too magenta", "there's a {s} pink cast", "remove the magenta tint",
        "the tint is {a} too pink"), "colour"),
    Defect("flat", "contrast", -0.5, -0.2, {"contrast": 1}, (
        "it looks {a} flat", "it's {a} too flat", "it lacks contrast", "the image is {a} dull and flat",
        "there's not enough contrast"), "tone"),
    Defect("harsh", "contrast", 0.25, 0.5, {"contrast": -1}, (
        "it's {a} too contrasty", "the contrast is {a} too harsh", "it looks {a} too harsh",
        "there's too much contrast"), "tone"),
    Defect("washed_out", "saturation", -0.6, -0.3, {"saturation": 1}, (
        "the colours are {a} washed out", "the colours look {a} faded", "the colours are {a} too dull",
        "there's not enough colour"), "colour"),
    Defect("oversaturated", "saturation", 0.3, 0.55, {"saturation": -1}, (
        "it's {a} oversaturated", "the colours are {a} too strong", "the colours look {a} garish",
        "there's too much saturation"), "colour"),
    Defect("crushed_shadows", "shadows", -1.0, -0.5, {"shadows": 1}, (
        "the shadows are {a} too dark", "the shadows are {a} crushed", "I can't see anything in the shadows",
        "the dark areas are {a} too dark"), "tone"),
    Defect("bright_highlights", "highlights", 0.4, 0.9, {"highlights": -1}, (
        "the highlights are {a} too bright", "the highlights are {a} blown", "the bright areas are {a} too hot",
        "the highlights are {a} washed out"), "tone"),
    Defect("hazy", "dehaze", -0.45, -0.2, {"detail": 1}, (
        "it's {a} hazy", "it looks {a} foggy", "the photo is {a} milky", "there's {a} too much haze"),
        "detail"),
    Defect("soft", "clarity", -0.45, -0.2, {"detail": 1}, (
        "it looks {a} soft", "it's {a} blurry", "it lacks detail", "the details are {a} mushy"), "detail"),
)}

# size of a defect (fraction of its range) → words in the complaint: {a} adverbs, {s} adjectives
DEFECT_WORDS = ((0.34, ("a little", "a bit", "slightly"), ("slight", "faint")),
                (0.67, ("",), ("", "noticeable")),
                (1.01, ("way", "much", "really"), ("strong", "heavy")))

# requests that do not name the defect; each covers some defect kinds
GENERIC = (
    ("fix the colours", ("colour",)), ("correct the colours", ("colour",)), ("fix the white balance", ("colour",)),
    ("fix the exposure", ("exposure",)), ("correct the exposure", ("exposure",)), ("fix the tones", ("tone",)),
    ("make it look natural", ("exposure", "colour", "tone", "detail")),
    ("fix this photo", ("exposure", "colour", "tone", "detail")),
    ("auto-correct it", ("exposure", "colour", "tone", "detail")),
    ("enhance it", ("exposure", "colour", "tone", "detail")),
    ("correct it so it looks right", ("exposure", "colour", "tone", "detail")),
    ("clean it up", ("exposure", "colour", "tone", "detail")),
)

LOOK_TEMPLATES = (
    "give it {art} {look} look", "make it look {look}", "apply {art} {look} look", "{look} style please",
    "I want {art} {look} feel", "go for {art} {look} look", "{look} look", "edit it in {art} {look} style",
    "turn it into {art} {look} photo", "can you give this {art} {look} grade",
)

# caveats after a request: extra deltas, and which requested attribute direction they fit
@dataclass(frozen=True)
class Negation:
    phrases: tuple[str, ...]
    when: dict[str, int]          # applies to a request with this attribute direction
    deltas: dict[str, float] = field(default_factory=dict)
    scale: float = 1.0            # on the request's own deltas ("but not too much")


NEGATIONS = (
    Negation(("without blowing the highlights", "but keep the highlights", "but don't blow out the highlights",
              "but protect the highlights"), {"brightness": 1}, {"highlights": -0.3}),
    Negation(("without crushing the shadows", "but keep the shadow detail", "but don't lose the shadows"),
             {"brightness": -1}, {"shadows": 0.3}),
    Negation(("without crushing the shadows", "but keep the shadow detail"), {"contrast": 1}, {"shadows": 0.3}),
    Negation(("but don't touch the colours", "without changing the colours", "but leave the colours alone"),
             {"brightness": 1}),
    Negation(("but don't touch the colours", "without changing the colours"), {"brightness": -1}),
    Negation(("but not too much", "but keep it natural", "without overdoing it"), {}, scale=0.7),
)

CONNECTORS = (" and ", ", ", ", and ", ", then ", ", also ", "; ", " and also ")

# 50 phrasings kept out of every bank above: (intent, defect or look name, text). Only held-out samples use
# them. Templates take {a}/{b} like the banks where an amount fits.
UNSEEN = (
    ("intent", "brighter", "give it more light {b}"), ("intent", "brighter", "open up the exposure {b}"),
    ("intent", "brighter", "it could use more light {b}"), ("intent", "brighter", "crank up the brightness {b}"),
    ("intent", "darker", "knock the exposure down {b}"), ("intent", "darker", "dial back the brightness {b}"),
    ("intent", "darker", "it needs less light {b}"), ("intent", "warmer", "give it more of a sunny tone {b}"),
    ("intent", "warmer", "take the chill out of it {b}"), ("intent", "warmer", "cozier colour temperature, {b}"),
    ("intent", "cooler", "give it more of an icy tone {b}"), ("intent", "cooler", "chill the colours {b}"),
    ("intent", "cooler", "push it towards blue {b}"), ("intent", "magenta", "nudge it towards pink {b}"),
    ("intent", "green", "lean the tint towards green {b}"), ("intent", "saturate", "juice up the colours {b}"),
    ("intent", "saturate", "let the colours sing {b}"), ("intent", "desaturate", "drain some colour out {b}"),
    ("intent", "desaturate", "calm the colours down {b}"), ("intent", "monochrome", "strip out every colour"),
    ("intent", "contrast_up", "make the tones snap {b}"), ("intent", "contrast_up", "more separation between darks and lights, {b}"),
    ("intent", "contrast_down", "soften the tonal range {b}"), ("intent", "shadows_up", "reveal what's hiding in the dark parts {b}"),
    ("intent", "shadows_up", "fill in the shadows {b}"), ("intent", "shadows_down", "make the blacks richer {b}"),
    ("intent", "highlights_down", "rescue the bright parts {b}"), ("intent", "highlights_down", "tame the bright areas {b}"),
    ("intent", "sharper", "make the fine detail stand out {b}"), ("intent", "softer", "take the edge off the texture {b}"),
    ("intent", "dehaze", "clear the atmosphere {b}"), ("intent", "sky_down", "give the sky more weight {b}"),
    ("intent", "sky_down", "make the heavens moodier {b}"), ("intent", "ground_up", "pull the lower half out of the dark {b}"),
    ("intent", "subject_up", "spotlight the middle {b}"), ("intent", "subject_up", "make the main subject glow {b}"),
    ("intent", "vignette", "frame it with dark edges {b}"), ("intent", "vignette", "burn in the corners {b}"),
    ("intent", "left_warm", "sunnier on the left side {b}"), ("intent", "right_cool", "bluer on the right {b}"),
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
