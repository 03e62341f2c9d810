"""The one source of time. Scenarios run on a VirtualClock (a 10-minute call takes microseconds);
live mode uses the WallClock. Nothing else in the project reads the time or sleeps."""
from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Callable, Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float: ...
    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...
    async def sleep(self, delay: float) -> None: ...


class _VirtualTimer:
    __slots__ = ("when", "seq", "callback", "cancelled")

    def __init__(self, when: float, seq: int, callback: Callable[[], None]):
        self.when, self.seq, self.callback, self.cancelled = when, seq, callback, False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "_VirtualTimer") -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class VirtualClock:
    """Time moves only when ``advance`` is called; due timers fire in time order on the way."""

    def __init__(self, start: float = 0.0):
        self._now = start
        self._heap: list[_VirtualTimer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _VirtualTimer:
        timer = _VirtualTimer(self._now + max(0.0, delay), next(self._seq), callback)
        heapq.heappush(self._heap, timer)
        return timer

    def advance(self, delta: float) -> None:
        target = self._now + max(0.0, delta)
        while self._heap and self._heap[0].when <= target:
            timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = timer.when
            timer.callback()
        self._now = target

    def next_due(self) -> float | None:
        """When the earliest pending timer fires (None: nothing is scheduled); awaits advance to it."""
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    def run_due(self) -> None:
        """Fire timers due now (zero-delay work scheduled by the last step)."""
        heap = self._heap
        if heap and heap[0].when <= self._now:
            self.advance(0.0)

    async def sleep(self, delay: float) -> None:
        self.advance(delay)


class WallClock:
    """Live mode: real time, timers on the running asyncio loop."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        """Seconds since the epoch, for timestamps people read (``watch --format jsonl``)."""
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)
