"""darktable's encoding of binary blobs in sidecars (params, blend params, mask points).

Two forms, both read regardless of settings:
- lowercase hex, two digits per byte;
- ``gz`` + two decimal digits (a buffer-size hint, at least 01) + base64 of a zlib ``compress()`` stream.
darktable writes the compressed form for blobs longer than 100 bytes (conf ``compress_xmp_tags`` =
``only large entries``, the default).
"""

from __future__ import annotations

import base64
import binascii
import zlib

from .errors import SidecarError

COMPRESS_THRESHOLD = 100
_HEX_DIGITS = frozenset("0123456789abcdef")


def encode(blob: bytes, compress: bool | None = None) -> str:
    """Encode ``blob`` as darktable does; ``compress=None`` follows the default size rule."""
    if compress is None:
        compress = len(blob) > COMPRESS_THRESHOLD
    if not compress:
        return blob.hex()
    packed = zlib.compress(blob, zlib.Z_DEFAULT_COMPRESSION)
    factor = min(len(blob) // len(packed) + 1, 99)
    return f"gz{factor:02d}" + base64.b64encode(packed).decode("ascii")


def decode(text: str) -> bytes:
    """Decode either form; malformed text is an error (darktable would silently drop the item)."""
    if text.startswith("gz"):
        if len(text) < 4 or not text[2:4].isdigit() or text[2:4] == "00":
            raise SidecarError(f"compressed blob has a bad size hint {text[:4]!r}")
        try:
            return zlib.decompress(base64.b64decode(text[4:], validate=True))
        except (binascii.Error, zlib.error) as exc:
            raise SidecarError(f"compressed blob is not valid base64/zlib: {exc}") from None
    if len(text) % 2 or not set(text) <= _HEX_DIGITS:
        raise SidecarError(
            "blob is neither lowercase hex nor gz-compressed (darktable drops items with uppercase or odd-length hex)"
        )
    return bytes.fromhex(text)


def is_compressed(text: str) -> bool:
    return text.startswith("gz")
