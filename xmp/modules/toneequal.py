"""toneequal v2 (src/iop/toneequal.c), "tone equalizer": exposure gains by luminance band, edge-aware mask."""
from ..structs import Field as F, Struct, register


def _band(name, ev, doc):
    return F(name, default=0.0, min=-2.0, max=2.0, unit="EV", doc=f"{doc} ({ev} EV)")


PARAMS = register(Struct("toneequal", 2, (
    _band("noise", -8, "blacks"), _band("ultra_deep_blacks", -7, "deep shadows"),
    _band("deep_blacks", -6, "shadows"), _band("blacks", -5, "light shadows"),
    _band("shadows", -4, "mid-tones"), _band("midtones", -3, "dark highlights"),
    _band("highlights", -2, "highlights"), _band("whites", -1, "whites"), _band("speculars", 0, "speculars"),
    F("blending", default=5.0, min=0.01, max=100.0, unit="%", doc="smoothing diameter (% of the image)"),
    F("smoothing", default=1.414213562, min=0.5, max=2.0 ** 0.5 * 4, doc="curve smoothing"),
    F("feathering", default=1.0, min=0.01, max=10000.0, doc="edges refinement/feathering"),
    F("quantization", default=0.0, min=0.0, max=2.0, unit="EV", doc="mask quantization"),
    F("contrast_boost", default=0.0, min=-16.0, max=16.0, unit="EV", doc="mask contrast compensation"),
    F("exposure_boost", default=0.0, min=-16.0, max=16.0, unit="EV", doc="mask exposure compensation"),
    F("details", "enum", 4, choices={0: "none", 1: "averaged guided filter", 2: "guided filter",
                                     3: "averaged EIGF", 4: "EIGF"}, doc="preserve details"),
    F("method", "enum", 4, choices={0: "RGB average", 1: "HSL lightness", 2: "HSV value / RGB max", 3: "RGB sum",
                                    4: "RGB euclidean norm", 5: "RGB power norm", 6: "RGB geometric mean"},
      doc="luminance estimator"),
    F("iterations", "int", 1, min=1, max=20, doc="filter diffusion"),
), doc="tone equalizer"))
