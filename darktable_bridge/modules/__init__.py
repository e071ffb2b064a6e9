"""One file per darktable module: its vocabulary entry (and, later, its renderer)."""
from importlib import import_module

from xmp.modules import NAMES

VOCABULARY = {name: import_module(f"{__name__}.{name}").MODULE for name in NAMES}
