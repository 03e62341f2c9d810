"""Pausing Python's cyclic garbage collector around work that allocates many small objects and frees
them by reference counting: loading a scenario file (YAML nodes, schema values) and running a scenario
(states, decisions, notifications, step results). Collections during that work walked every young
object and found nothing to free: about a quarter of the time. Whatever cycles the work leaves are
collected once the collector is back on; the input limits bound what one file or run allocates."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
