"""darktable_bridge's errors (all ``xmp.UserError``s), importable without torch."""

from xmp.errors import SidecarError, UserError


class PhotoError(UserError):
    """A photo that cannot be found, read or edited (the message says why); its sidecar is untouched."""

    exit_code = 3


class RenderError(UserError, ValueError):
    """A sidecar the torch renderer cannot reproduce (unknown module, unsupported option)."""

    exit_code = 6
    http_status = 500


class DarktableError(UserError, RuntimeError):
    """darktable-cli failed, timed out, or did not use every module of the sidecar."""

    exit_code = 6
    http_status = 500


class NothingToUndo(SidecarError):
    """``undo``: the sidecar holds no edit of the agent's that a backup shows the state before (HTTP 409)."""

    http_status = 409
