"""darktable XMP sidecars: read, write and merge history; params structs declared as data."""
from .errors import SidecarError
from .structs import Field, Struct, lookup
from . import modules, blend, masks  # noqa: F401  (registers every struct)

__all__ = ["SidecarError", "Field", "Struct", "lookup"]
