"""What every accessory source offers the route manager: an ordered stream of events, as an async iterator
or a queue, plus synchronous listeners. Shared by the BlueZ backend and the advert source."""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator, Callable

from routesim.events import AccessoryEvent

log = logging.getLogger("routesim.bt")


class EventStream:
    def __init__(self, on_event: Callable[[AccessoryEvent], None] | None = None) -> None:
        self._listeners: list[Callable[[AccessoryEvent], None]] = [on_event] if on_event else []
        self._queue: asyncio.Queue[AccessoryEvent | None] = asyncio.Queue()

    def add_listener(self, callback: Callable[[AccessoryEvent], None]) -> None:
        self._listeners.append(callback)

    @property
    def queue(self) -> "asyncio.Queue[AccessoryEvent | None]":
        """Events in order; ``None`` after the source stops."""
        return self._queue

    async def events(self) -> AsyncIterator[AccessoryEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    def __aiter__(self) -> AsyncIterator[AccessoryEvent]:
        return self.events()

    def _end_stream(self) -> None:
        self._queue.put_nowait(None)

    def _emit(self, event: AccessoryEvent) -> None:
        log.debug("event %s", event)
        self._queue.put_nowait(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # one broken listener must not starve the others or the queue
                log.exception("event listener failed on %s", event)
