"""Keep the C heap from holding on to memory after one large response (glibc only).

glibc's ``malloc`` serves blocks of 128 KiB and more with ``mmap``, but the first time such a
block is freed it raises its mmap threshold to that block's size (up to 32 MiB) and its trim
threshold to twice that ("dynamic thresholds"). From then on a long-lived process keeps every
later large block inside its heap, and the heap's free memory is no longer given back to the
system. In ``serve`` that happened on the first search of a large folder (``UID SEARCH``
answering 100,000 UIDs is one ~600 kB line, parsed into as many objects): in the full
``bench/run.py`` the server ended at 121-144 MB resident instead of about 100 MB, although
nothing of that search was still referenced (``docs/benchmarks.md``, Memory).

:func:`bound_heap` fixes both thresholds at glibc's own starting value, 128 KiB
(``mallopt(M_MMAP_THRESHOLD)`` and ``mallopt(M_TRIM_THRESHOLD)``; fixing them turns the dynamic
adjustment off): large blocks are unmapped when freed and free memory at the top of the heap is
returned. A threshold the user set through glibc's own environment variable
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``) is left as set. Where the C library is
not glibc (musl, macOS, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["HEAP_THRESHOLD", "bound_heap"]

#: bytes: glibc's default (and minimum dynamic) mmap threshold, and the trim threshold used
HEAP_THRESHOLD = 128 * 1024
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def bound_heap() -> bool:
    """Fix glibc's mmap and trim thresholds (see the module docstring); whether it was done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = True
    for option, variable in (
        (_M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_"),
        (_M_TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_"),
    ):
        if variable not in os.environ:
            done = mallopt(option, HEAP_THRESHOLD) == 1 and done
    return done
