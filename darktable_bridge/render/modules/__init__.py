"""Each module of ``xmp.modules.NAMES``: its torch re-implementation (``MODULE``, a RenderModule)."""

from importlib import import_module

from xmp.modules import NAMES

MODULES = {name: import_module(f"{__name__}.{name}").MODULE for name in NAMES}
