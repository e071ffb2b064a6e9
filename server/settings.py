"""Server settings: where it listens, which policy it loads, and the bounds that keep it responsive."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MB = 1024 * 1024


class SettingsError(ValueError):
    """Settings the server refuses to start with (the message says which and why)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to anything
        return False


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    policy: str = "compact"
    token: str | None = None
    max_queue: int = 8  # admitted edits + roll jobs, waiting or running; past it: 503
    workers: int = 1  # threads running policy calls
    max_edit_bytes: int = 32 * MB  # one /v1/edit request
    max_roll_bytes: int = 256 * MB  # one /v1/rolls request (its previews stay in memory until done)
    max_roll_photos: int = 500
    max_preview_pixels: int = 50_000_000
    kept_rolls: int = 32  # finished rolls kept for GET before the oldest is forgotten

    def __post_init__(self):
        if not is_loopback(self.host) and not self.token:
            raise SettingsError(
                f"--host {self.host} is not a loopback address: a token is required "
                "(--token or RETOUCHIQ_TOKEN), or listen on 127.0.0.1"
            )
        if self.token is not None and len(self.token) < 16:
            raise SettingsError(
                "the token must be at least 16 characters (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe())'`)"
            )
        for name in ("max_queue", "workers", "max_roll_photos"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name.replace('_', '-')} must be at least 1")
        if not 0 < self.port < 65536:
            raise SettingsError(f"port {self.port} is not in 1..65535")
