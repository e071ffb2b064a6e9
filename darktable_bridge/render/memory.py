"""Keep freed image buffers in the process for the next render (glibc's malloc, Linux).

A CPU render allocates a fresh [N, 3, H, W] float buffer per stage and frees it soon after: 7 MB per buffer at
1024 px. With glibc's defaults such buffers come from ``mmap`` and go back to the kernel when freed (or the heap's
top is trimmed), so every stage of every render page-faults its output in again (~1,800 faults and zeroing per
buffer). Measured on the benchmark stack (compiled, batch 1, 2 cores): ~60–73 ms per render with the defaults,
~47–48 ms with the settings below, the kernels themselves unchanged.

``tune_allocator`` raises the mmap threshold to glibc's maximum (32 MB: larger buffers, such as a batch of 16, are
still mapped) and lets up to ``TRIM_BYTES`` of freed heap stay with the process. It is called once, on the first
CPU render; it changes nothing elsewhere (other allocators, other systems) and can be turned off with
``RETOUCHIQ_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_BYTES = 32 << 20  # glibc's largest accepted mmap threshold on 64-bit systems
TRIM_BYTES = 256 << 20

_STATE: dict[str, object] = {}


def tune_allocator() -> bool:
    """Apply the settings once per process; True when glibc accepted both."""
    if "applied" in _STATE:
        return bool(_STATE["applied"])
    _STATE["applied"] = False
    if os.environ.get("RETOUCHIQ_MALLOC_TUNING", "1").strip() in ("0", "off", "false"):
        _STATE["why"] = "turned off by RETOUCHIQ_MALLOC_TUNING"
        return False
    if not sys.platform.startswith("linux"):
        _STATE["why"] = "not Linux"
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  glibc only: another libc's mallopt means something else
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        _STATE["why"] = "not glibc"
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_BYTES) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_BYTES) == 1
    _STATE["applied"] = ok
    _STATE["why"] = "applied" if ok else "mallopt refused the values"
    return ok


def describe() -> str:
    """One line for benchmark reports."""
    if "applied" not in _STATE:
        return "malloc tuning: not applied yet"
    if _STATE["applied"]:
        return f"malloc tuning: mmap threshold {MMAP_BYTES >> 20} MB, trim threshold {TRIM_BYTES >> 20} MB"
    return f"malloc tuning: off ({_STATE['why']})"
