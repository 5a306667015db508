"""Memory housekeeping: give the system back what a finished run freed, and keep the
garbage collector's full passes short.

glibc keeps freed heap memory for reuse, in one arena per thread that allocated it; the
trainer and the sampler run on worker threads, so each run can leave tens of MB resident
that nothing uses (measured: about 100 MB after 1,000 soak requests with restarts).
`malloc_trim(0)` returns it, in a millisecond or so. Elsewhere than glibc: nothing.

`tune_malloc`, `pause_collection` and `freeze_survivors` change the whole process: malloc's
parameters must be set before the threads allocate, and a frozen object stays frozen. So
only the `minigpt2-tui` command applies them (LaunchOptions.freeze_gc, which parse_args
sets), whose process is the app's for its whole life; an app made in a test or a script
does not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_free_memory() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's mallopt parameters (malloc.h)
# Blocks this large or larger are mapped on their own and unmapped when freed. glibc's own
# threshold starts at 128 KB and rises with every large block freed, up to 32 MB: torch's
# activations (validation batches of a few MB, each step's 100 KB-1 MB tensors) then come from
# the heap, whose freed pages stay resident. Training the built-in lists for 600 steps
# (engine alone): peak RSS 313 MB, 288 MB with the threshold fixed.
MMAP_THRESHOLD = 256 * 1024
# An arena per thread that allocates (the UI, the trainer, each sampling worker), each keeping
# its own freed memory: two are plenty for one trainer and one sampler (295 MB alone).
MALLOC_ARENAS = 2


def tune_malloc() -> None:
    """For the app's process, before its threads allocate: freed tensors go back to the
    system instead of piling up in glibc's heaps. Elsewhere than glibc: nothing."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)


# Objects allocated between two young-generation passes (CPython's default: 700). Textual
# makes and drops thousands a frame; at 700 the full passes (20 ms, every thread stopped) came
# 6 times in 20 s of typing while training, at 5,000 0-1 times, with the same peak RSS.
YOUNG_GENERATION_THRESHOLD = 5000


def pause_collection() -> None:
    """As the app starts, until its first names are on the screen (`resume_collection`):
    no garbage collection. Start-up makes tens of thousands of objects that live on (imports,
    widgets) and few cycles; the collector's passes over them cost the first frame and the
    first names about 20 ms each, in a terminal."""
    gc.disable()


def resume_collection() -> None:
    """Collect what start-up left (one pass, about 20 ms; its objects were all young) and
    collect as usual from then on."""
    gc.collect()
    gc.enable()


def freeze_survivors(enabled: bool = True) -> None:
    """Once the app has started: move every object alive now (torch's modules, the widgets)
    out of the garbage collector's sight. Its full passes over them stalled the UI 150-200 ms
    each, a few times a minute. Not for tests, which start many apps in one process: frozen
    objects are never collected, even once garbage."""
    if enabled:
        gc.freeze()
        gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
