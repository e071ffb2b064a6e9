"""Errors raised by the sidecar layer: one class, one clear line each."""


class SidecarError(ValueError):
    """A sidecar or a params blob that cannot be read or written as asked."""
