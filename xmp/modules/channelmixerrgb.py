"""channelmixerrgb v3 (src/iop/channelmixerrgb.c), "color calibration": CAT white balance + channel mixer."""

from ..structs import Field as F
from ..structs import Struct, register

ILLUMINANTS = {
    0: "same as pipeline (D50)",
    1: "A (incandescent)",
    2: "D (daylight)",
    3: "E (equi-energy)",
    4: "F (fluorescent)",
    5: "LED",
    6: "Planckian (black body)",
    7: "custom",
    8: "detect from surfaces",
    9: "detect from edges",
    10: "as shot in camera",
}
ADAPTATIONS = {0: "linear Bradford", 1: "CAT16", 2: "non-linear Bradford", 3: "XYZ", 4: "none (bypass)"}


def _row(name, unit_vector, doc):
    return F(name, shape=(4,), default=list(unit_vector), min=-2.0, max=2.0, doc=doc)


PARAMS = register(
    Struct(
        "channelmixerrgb",
        3,
        (
            _row("red", (1.0, 0.0, 0.0, 0.0), "output R as a mix of input R, G, B"),
            _row("green", (0.0, 1.0, 0.0, 0.0), "output G as a mix of input R, G, B"),
            _row("blue", (0.0, 0.0, 1.0, 0.0), "output B as a mix of input R, G, B"),
            _row("saturation", (0.0, 0.0, 0.0, 0.0), "saturation per input channel (colorfulness tab)"),
            _row("lightness", (0.0, 0.0, 0.0, 0.0), "lightness per input channel (brightness tab)"),
            _row("grey", (0.0, 0.0, 0.0, 0.0), "weights of the grey tab (monochrome mix)"),
            F("normalize_R", "gboolean", 0, doc="normalize the red row"),
            F("normalize_G", "gboolean", 0, doc="normalize the green row"),
            F("normalize_B", "gboolean", 0, doc="normalize the blue row"),
            F("normalize_sat", "gboolean", 0, doc="normalize saturation"),
            F("normalize_light", "gboolean", 0, doc="normalize lightness"),
            F("normalize_grey", "gboolean", 0, doc="normalize grey"),
            F("illuminant", "enum", 2, choices=ILLUMINANTS, doc="illuminant of the scene"),
            F("illum_fluo", "enum", 2, choices={i: f"F{i + 1}" for i in range(12)}, doc="fluorescent source"),
            F(
                "illum_led",
                "enum",
                4,
                choices={i: n for i, n in enumerate(["B1", "B2", "B3", "B4", "B5", "BH1", "RGB1", "V1", "V2"])},
                doc="LED source",
            ),
            F("adaptation", "enum", 1, choices=ADAPTATIONS, doc="chromatic adaptation transform"),
            F("x", default=0.333, min=0.0, max=1.0, doc="illuminant chromaticity x (custom illuminant)"),
            F("y", default=0.333, min=0.0, max=1.0, doc="illuminant chromaticity y (custom illuminant)"),
            F("temperature", default=5003.0, min=1667.0, max=25000.0, unit="K", doc="illuminant temperature"),
            F("gamut", default=1.0, min=0.0, max=12.0, doc="gamut compression"),
            F("clip", "gboolean", 1, doc="clip negative RGB from gamut"),
            F("version", "enum", 2, choices={0: "v1", 1: "v2", 2: "v3 (2021)"}, doc="saturation algorithm"),
        ),
        doc="color calibration",
    )
)
