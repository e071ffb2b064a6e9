"""The darktable modules this project speaks, in one list: ``NAMES``.

Every layer hangs its per-module file from this list, by the module's darktable operation name: its params struct
here (``xmp/modules/<name>.py``), its vocabulary entry (``darktable_bridge/modules/<name>.py``) and its torch
re-implementation (``darktable_bridge/render/modules/<name>.py``). A module is added by adding its name here and
its file in each layer; a file that fails to import fails the import of its layer, loudly.
"""

from importlib import import_module

NAMES = (
    "exposure",
    "channelmixerrgb",
    "colorbalancergb",
    "sigmoid",
    "filmicrgb",
    "toneequal",
    "rgbcurve",
    "tonecurve",
    "colorzones",
    "bilat",
    "hazeremoval",
    "sharpen",
    "shadhi",
    "vignette",
    "graduatednd",
    "velvia",
    "monochrome",
)

PARAMS = {name: import_module(f"{__name__}.{name}").PARAMS for name in NAMES}
