"""One file per darktable module: its torch re-implementation (``MODULE``, a RenderModule)."""
from __future__ import annotations

import pkgutil
from importlib import import_module

MODULES = {}
for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        _m = import_module(f"{__name__}.{_info.name}").MODULE
        MODULES[_m.op] = _m
