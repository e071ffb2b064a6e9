"""One file per darktable module: its torch re-implementation (``MODULE``, a RenderModule)."""
from __future__ import annotations

import pkgutil
from importlib import import_module

MODULES = {}
BROKEN: dict[str, str] = {}  # a module file that fails to import is reported when used, not fatal for the rest
for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        try:
            _m = import_module(f"{__name__}.{_info.name}").MODULE
            MODULES[_m.op] = _m
        except Exception as _exc:  # noqa: BLE001
            BROKEN[_info.name] = f"{type(_exc).__name__}: {_exc}"
