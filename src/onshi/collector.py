"""Python's cyclic collector paused around work that makes millions of objects and no cycles.

The collector runs when allocations outnumber deallocations, and each full collection walks
every tracked object alive. Work that builds large structures it keeps until the end (a claim
file's records, a part of the seed's issuance history) makes it walk them over and over and
free nothing: 40 % of the time of both (claims/uke_file.py, issuance/replay.py). Reference
counting still frees everything that is dropped; a cycle waits for the next collection after
the pause.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off inside the block, as it was after it (a nested pause leaves it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
