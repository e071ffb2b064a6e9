"""darktable XMP sidecars: read, write and merge history; params structs declared as data."""

from . import blend, masks, modules  # noqa: F401  (registers every struct)
from .errors import SidecarError, UserError, WriteError
from .structs import Field, Struct, lookup

__all__ = ["Field", "SidecarError", "Struct", "UserError", "WriteError", "lookup"]
