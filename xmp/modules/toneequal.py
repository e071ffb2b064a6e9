"""toneequal v2 (src/iop/toneequal.c), "tone equalizer": exposure gains by luminance band, edge-aware mask."""

from ..structs import Field as F
from ..structs import Struct, register

# the nine luminance bands, darkest first: field name, position in EV, what darktable's GUI calls it
BANDS = (
    ("noise", -8, "blacks"),
    ("ultra_deep_blacks", -7, "deep shadows"),
    ("deep_blacks", -6, "shadows"),
    ("blacks", -5, "light shadows"),
    ("shadows", -4, "mid-tones"),
    ("midtones", -3, "dark highlights"),
    ("highlights", -2, "highlights"),
    ("whites", -1, "whites"),
    ("speculars", 0, "speculars"),
)
BAND_NAMES = tuple(name for name, _, _ in BANDS)


def _band(name, ev, doc):
    return F(name, default=0.0, min=-2.0, max=2.0, unit="EV", doc=f"{doc} ({ev} EV)")


PARAMS = register(
    Struct(
        "toneequal",
        2,
        (
            *(_band(*band) for band in BANDS),
            F("blending", default=5.0, min=0.01, max=100.0, unit="%", doc="smoothing diameter (% of the image)"),
            F("smoothing", default=1.414213562, min=0.5, max=2.0**0.5 * 4, doc="curve smoothing"),
            F("feathering", default=1.0, min=0.01, max=10000.0, doc="edges refinement/feathering"),
            F("quantization", default=0.0, min=0.0, max=2.0, unit="EV", doc="mask quantization"),
            F("contrast_boost", default=0.0, min=-16.0, max=16.0, unit="EV", doc="mask contrast compensation"),
            F("exposure_boost", default=0.0, min=-16.0, max=16.0, unit="EV", doc="mask exposure compensation"),
            F(
                "details",
                "enum",
                4,
                choices={0: "none", 1: "averaged guided filter", 2: "guided filter", 3: "averaged EIGF", 4: "EIGF"},
                doc="preserve details",
            ),
            F(
                "method",
                "enum",
                4,
                choices={
                    0: "RGB average",
                    1: "HSL lightness",
                    2: "HSV value / RGB max",
                    3: "RGB sum",
                    4: "RGB euclidean norm",
                    5: "RGB power norm",
                    6: "RGB geometric mean",
                },
                doc="luminance estimator",
            ),
            F("iterations", "int", 1, min=1, max=20, doc="filter diffusion"),
        ),
        doc="tone equalizer",
    )
)
