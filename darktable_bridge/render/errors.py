"""The renderer's error, importable without torch."""


class RenderError(ValueError):
    """A sidecar the renderer cannot reproduce (unknown module, unsupported option)."""
