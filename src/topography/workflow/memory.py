"""glibc's malloc tuned for the batched passes of the torch jobs; standard library only, so
that a job pays for it no import."""

from __future__ import annotations

import ctypes
import ctypes.util


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep freed memory for reuse (process-wide; call once per job).

    torch's CPU allocator caches nothing, and glibc hands every block of more than about
    128 KB back to the system when it is freed, so each large temporary tensor of a
    batched pass lands on fresh pages whose page faults cost as much as the arithmetic on
    them (LeNet's batched pass runs up to ~1.5x faster with this). The price: the process keeps
    its peak memory until it exits. Returns False where this is not glibc.
    """
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    # 32 MiB is the largest mmap threshold glibc accepts; larger blocks are still mapped.
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))
