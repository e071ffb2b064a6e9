"""The errors a user can act on, and the sidecar layer's own.

``UserError`` is the base of every error that means "this input, file or request cannot be used as asked" — as
opposed to a bug. Each room raises its own subclass (``SidecarError`` here; ``PhotoError``, ``RenderError`` and
``DarktableError`` in darktable_bridge; ``RequestError`` and ``PolicyError`` in agent). The message is one line
that names the file or field and says why; ``exit_code`` is what the CLI exits with and ``http_status`` what the
server answers (the table is in docs/architecture.md).
"""


class UserError(Exception):
    """Input, a file or a request that cannot be used as asked (the message says which and why)."""

    exit_code = 2
    http_status = 400


class SidecarError(UserError, ValueError):
    """A sidecar or a params blob that cannot be read or written as asked."""

    exit_code = 4


class WriteError(UserError, OSError):
    """A file could not be written (disk full, no permission, read-only folder); the message names the path.
    Whatever was there before is left as it was."""

    exit_code = 7
    http_status = 507
