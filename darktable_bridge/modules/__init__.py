"""Each module of ``xmp.modules.NAMES``: its vocabulary entry (fields, ranges, units, GUI names)."""

from importlib import import_module

from xmp.modules import NAMES

VOCABULARY = {name: import_module(f"{__name__}.{name}").MODULE for name in NAMES}
