"""One file per darktable module: its params struct at the darktable 4.2.1 version."""
from importlib import import_module

NAMES = ("exposure", "channelmixerrgb", "colorbalancergb", "sigmoid", "filmicrgb", "toneequal", "rgbcurve",
         "tonecurve", "colorzones", "bilat", "hazeremoval", "sharpen", "shadhi", "vignette", "graduatednd",
         "velvia", "monochrome")

PARAMS = {name: import_module(f"{__name__}.{name}").PARAMS for name in NAMES}
