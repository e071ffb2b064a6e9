from ..vocabulary import RGB, Module, field_param


def _p(name, gui, lo=None, hi=None):
    return field_param("colorbalancergb", name, f"color balance rgb ▸ {gui}", lo, hi)


_FIELDS = [
    ("contrast", "master ▸ contrast"),
    ("vibrance", "master ▸ global vibrance"),
    ("chroma_global", "master ▸ linear chroma grading ▸ global chroma"),
    ("chroma_shadows", "master ▸ linear chroma grading ▸ shadows"),
    ("chroma_midtones", "master ▸ linear chroma grading ▸ mid-tones"),
    ("chroma_highlights", "master ▸ linear chroma grading ▸ highlights"),
    ("saturation_global", "master ▸ perceptual saturation grading ▸ global saturation"),
    ("saturation_shadows", "master ▸ perceptual saturation grading ▸ shadows"),
    ("saturation_midtones", "master ▸ perceptual saturation grading ▸ mid-tones"),
    ("saturation_highlights", "master ▸ perceptual saturation grading ▸ highlights"),
    ("brilliance_global", "master ▸ perceptual brilliance grading ▸ global brilliance"),
    ("brilliance_shadows", "master ▸ perceptual brilliance grading ▸ shadows"),
    ("brilliance_midtones", "master ▸ perceptual brilliance grading ▸ mid-tones"),
    ("brilliance_highlights", "master ▸ perceptual brilliance grading ▸ highlights"),
    ("hue_angle", "master ▸ hue shift"),
]
_ZONES = [
    (f"{zone}_{c}", f"4 ways ▸ {label} ▸ {what}")
    for zone, label in (
        ("shadows", "shadows lift"),
        ("midtones", "power"),
        ("highlights", "highlights gain"),
        ("global", "global offset"),
    )
    for c, what in (("Y", "luminance"), ("C", "chroma"), ("H", "hue"))
]

MODULE = Module(
    "colorbalancergb",
    "color balance rgb",
    "contrast, vibrance, chroma, saturation, brilliance and colour grading of shadows, mid-tones, highlights",
    RGB,
    tuple(_p(n, g) for n, g in _FIELDS + _ZONES),
    neutral={"contrast": 0.0, "vibrance": 0.0, "chroma_global": 0.0, "saturation_global": 0.0},
)
