"""Named style looks as slot recipes (the deltas of agent/language/banks.py) scaled by a strength.

A recipe states a look at strength 1 ("a golden hour look"); "a subtle golden hour look" scales every delta by
0.5. Deltas in ``fixed`` do not scale (black and white is black and white at any strength), and tint hues are
absolute. ``attributes`` are the directions the look asks for: what evaluation checks on the render.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Look:
    name: str
    aliases: tuple[str, ...]  # how people name it; aliases[0] is the canonical name
    deltas: dict[str, float]
    attributes: dict[str, int]
    fixed: frozenset[str] = field(default_factory=frozenset)

    def values(self, strength: float) -> dict[str, float]:
        return {k: v if k in self.fixed or k.endswith("_hue") else v * strength for k, v in self.deltas.items()}


LOOKS = {
    k.name: k
    for k in (
        Look(
            "golden_hour",
            ("golden hour", "warm sunset", "sunset glow"),
            {
                "temperature": -45.0,
                "exposure": 0.15,
                "vibrance": 0.15,
                "highlights_tint_chroma": 0.06,
                "highlights_tint_hue": 60.0,
            },
            {"warmth": 1},
        ),
        Look(
            "cool_cinematic",
            ("cool cinematic", "cold cinematic", "moody blue cinema"),
            {
                "temperature": 40.0,
                "contrast": 0.2,
                "saturation": -0.15,
                "shadows_tint_chroma": 0.06,
                "shadows_tint_hue": 220.0,
            },
            {"warmth": -1, "contrast": 1},
        ),
        Look(
            "teal_orange",
            ("teal and orange", "orange and teal", "blockbuster teal-orange"),
            {
                "shadows_tint_chroma": 0.12,
                "shadows_tint_hue": 200.0,
                "highlights_tint_chroma": 0.1,
                "highlights_tint_hue": 55.0,
                "contrast": 0.2,
                "vibrance": 0.15,
            },
            {"contrast": 1},
        ),
        Look(
            "faded_film",
            ("faded matte film", "matte film", "faded film"),
            {"contrast": -0.3, "shadows": 0.6, "saturation": -0.25},
            {"contrast": -1, "saturation": -1, "shadows": 1},
        ),
        Look(
            "high_key",
            ("high key", "bright and airy", "light and airy"),
            {"exposure": 0.7, "shadows": 0.5, "contrast": -0.15},
            {"brightness": 1, "shadows": 1},
        ),
        Look(
            "low_key",
            ("low key moody", "dark and moody", "low key"),
            {"exposure": -0.6, "contrast": 0.2, "saturation": -0.15, "vignette": -0.35},
            {"brightness": -1},
        ),
        Look(
            "bw_contrast",
            ("high-contrast black and white", "punchy black and white", "dramatic monochrome"),
            {"saturation": -1.0, "contrast": 0.4, "clarity": 0.25},
            {"saturation": -1, "contrast": 1},
            frozenset({"saturation"}),
        ),
        Look(
            "vintage",
            ("vintage", "retro", "faded vintage print"),
            {
                "temperature": -25.0,
                "saturation": -0.3,
                "contrast": -0.15,
                "highlights_tint_chroma": 0.06,
                "highlights_tint_hue": 70.0,
                "vignette": -0.3,
            },
            {"warmth": 1, "saturation": -1},
        ),
        Look(
            "pastel",
            ("pastel", "soft pastel", "dreamy pastel"),
            {"exposure": 0.35, "contrast": -0.3, "saturation": -0.2, "shadows": 0.3},
            {"brightness": 1, "contrast": -1},
        ),
        Look(
            "bleach_bypass",
            ("bleach bypass", "gritty desaturated"),
            {"saturation": -0.5, "contrast": 0.35, "clarity": 0.3},
            {"saturation": -1, "contrast": 1},
        ),
        Look(
            "vivid",
            ("vivid", "punchy", "vibrant postcard"),
            {"vibrance": 0.35, "saturation": 0.15, "contrast": 0.15},
            {"saturation": 1, "contrast": 1},
        ),
        Look(
            "blue_hour",
            ("blue hour", "moonlight", "cold night"),
            {"temperature": 55.0, "exposure": -0.35, "saturation": -0.1},
            {"warmth": -1, "brightness": -1},
        ),
        Look(
            "sepia",
            ("sepia", "antique sepia"),
            {
                "saturation": -1.0,
                "highlights_tint_chroma": 0.12,
                "highlights_tint_hue": 60.0,
                "shadows_tint_chroma": 0.08,
                "shadows_tint_hue": 50.0,
            },
            {"saturation": -1},
            frozenset({"saturation"}),
        ),
        Look(
            "dreamy",
            ("soft dreamy", "dreamy glow", "soft focus"),
            {"clarity": -0.35, "contrast": -0.2, "exposure": 0.2},
            {"detail": -1, "contrast": -1},
        ),
        Look("crisp", ("crisp", "sharp and clean", "crisp detailed"), {"clarity": 0.45, "sharpen": 0.6}, {"detail": 1}),
    )
}

MORE_ALIASES = {
    "golden_hour": ("golden", "sunset", "golden light"),
    "cool_cinematic": ("cold film", "cool movie", "cinematic blue", "cool film still"),
    "teal_orange": ("teal orange", "hollywood teal and orange", "orange-teal"),
    "faded_film": ("faded", "washed film", "matte", "faded analog film"),
    "high_key": ("bright airy", "high-key", "airy and bright"),
    "low_key": ("low-key", "dark moody", "moody dark"),
    "bw_contrast": ("contrasty black and white", "hard black and white", "dramatic b&w", "high contrast mono"),
    "vintage": ("old-fashioned", "seventies", "old photo", "retro film"),
    "pastel": ("pastel colour", "soft pastel tones", "pale pastel"),
    "bleach_bypass": ("bleach-bypass", "desaturated gritty", "silver retention"),
    "vivid": ("vibrant", "saturated punchy", "colourful postcard", "vivid colour"),
    "blue_hour": ("twilight", "cold dusk", "blue twilight", "night-time blue"),
    "sepia": ("sepia tone", "old brown print", "sepia toned"),
    "dreamy": ("dreamy", "dream-like"),
    "crisp": ("crisp and sharp", "clean and crisp", "super sharp"),
}
LOOKS = {
    name: replace(look, aliases=tuple(dict.fromkeys(look.aliases + MORE_ALIASES.get(name, ()))))
    for name, look in LOOKS.items()
}
