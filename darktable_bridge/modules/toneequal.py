from xmp.modules.toneequal import BAND_NAMES as _BANDS

from ..vocabulary import RGB, Module, field_param

MODULE = Module(
    "toneequal",
    "tone equalizer",
    "exposure gain by luminance band (−8 EV … 0 EV), guided by an edge-preserving mask: lift shadows, "
    "recover highlights",
    RGB,
    tuple(
        field_param("toneequal", b, f"tone equalizer ▸ simple ▸ {field_param('toneequal', b, '').doc}") for b in _BANDS
    )
    + (
        field_param("toneequal", "blending", "tone equalizer ▸ masking ▸ smoothing diameter", 1.0, 50.0),
        field_param("toneequal", "feathering", "tone equalizer ▸ masking ▸ edges refinement/feathering", 0.1, 50.0),
        field_param("toneequal", "details", "tone equalizer ▸ masking ▸ preserve details"),
    ),
    neutral={b: 0.0 for b in _BANDS},
)
