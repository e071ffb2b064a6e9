"""darktable's encoding of binary blobs in sidecars (params, blend params, mask points), bounded.

Two forms, both read regardless of settings:
- lowercase hex, two digits per byte;
- ``gz`` + two decimal digits (a buffer-size hint, at least 01) + base64 of a zlib ``compress()`` stream.
darktable writes the compressed form for blobs longer than 100 bytes (conf ``compress_xmp_tags`` =
``only large entries``, the default).

Every decode has a ``limit``: the most bytes the blob may hold (a module's params struct size where it is known,
darktable's largest params elsewhere). A blob over it is refused before it is inflated past the limit, so a
sidecar of a megabyte cannot make gigabytes (a "zip bomb"); every malformed blob is a ``SidecarError``.
"""

from __future__ import annotations

import base64
import binascii
import zlib

from .errors import SidecarError

COMPRESS_THRESHOLD = 100
# the largest params struct of any darktable 4.2 module is liquify's (~10 KiB: 100 path nodes); 256 KiB leaves room
# for modules of newer darktable this project does not know, and bounds memory
PARAMS_LIMIT = 256 * 1024
BLEND_LIMIT = 4 * 1024  # dt_develop_blend_params_t is 420 bytes in 4.2 (v11), a little more in newer versions
MASK_LIMIT = 4 * 1024 * 1024  # a brush or path of many thousand points
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


def decode(text: str, limit: int = PARAMS_LIMIT) -> bytes:
    """Decode either form into at most ``limit`` bytes; anything else is a ``SidecarError`` (darktable would
    silently drop the item)."""
    if text.startswith("gz"):
        if len(text) < 4 or not text[2:4].isdigit() or text[2:4] == "00":
            raise SidecarError(f"compressed blob has a bad size hint {text[:4]!r}")
        body = text[4:]
        # zlib's stream is at most a few bytes per 16 KiB longer than its input; base64 takes 4 chars per 3 bytes
        if len(body) > 4 * (limit + limit // 1000 + 64) // 3 + 4:
            raise SidecarError(f"compressed blob of {len(body)} characters is larger than the {limit} bytes allowed")
        if not body.isascii():
            raise SidecarError("compressed blob holds characters that are not base64")
        try:
            packed = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SidecarError(f"compressed blob is not valid base64: {exc}") from None
        inflate = zlib.decompressobj()
        try:
            blob = inflate.decompress(packed, limit + 1)
        except zlib.error as exc:
            raise SidecarError(f"compressed blob is not a valid zlib stream: {exc}") from None
        if len(blob) > limit:
            raise SidecarError(f"compressed blob inflates to more than the {limit} bytes allowed; refused")
        if not inflate.eof:
            raise SidecarError("compressed blob is truncated (the zlib stream does not end)")
        return blob
    if len(text) > 2 * limit:
        raise SidecarError(f"blob of {len(text) // 2} bytes is larger than the {limit} bytes allowed")
    if len(text) % 2 or not set(text) <= _HEX_DIGITS:
        raise SidecarError(
            "blob is neither lowercase hex nor gz-compressed (darktable drops items with uppercase or odd-length hex)"
        )
    return bytes.fromhex(text)


def is_compressed(text: str) -> bool:
    return text.startswith("gz")
