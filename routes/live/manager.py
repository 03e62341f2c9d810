"""The asyncio route manager: the one door through which accessory events, session calls and timers
reach the (synchronous) phone model, one at a time, and through which negotiation commands go back.

Scenarios call ``dispatch``/``call`` directly on a virtual clock; live mode runs ``run()`` with real
sources (BlueZ) feeding an asyncio queue.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, AsyncIterator, Callable, Protocol

from routesim.events import (
    AccessoryEvent,
    AccessoryInfo,
    BatteryChanged,
    CaseChanged,
    Connected,
    Disconnected,
    EarsChanged,
    WornChanged,
    NegotiationCommand,
    ProfileChanged,
    Renamed,
)

from routesim.routes.live.firmware import live_quirks
from routesim.routes.phone.errors import SessionError, StepError
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.session import Phone

log = logging.getLogger("routesim.manager")


class CommandSink(Protocol):
    def owns(self, key: str) -> bool: ...
    def execute(self, command: NegotiationCommand) -> Any: ...


class RouteManager:
    def __init__(self, phone: Phone, catalog, *, strict: bool = True, keep_pending: bool = True,
                 firmware: dict[str, str] | None = None, on_note: Callable[[str], None] | None = None):
        self.phone = phone
        self.catalog = catalog
        self.strict = strict  # scenarios: an impossible event is an error; live: it is logged
        self.firmware = dict(firmware or {})  # live: model id -> the firmware the user stated (--firmware)
        self.on_note = on_note  # live: told when firmware-scoped quirks are left out
        self.keep_pending = keep_pending
        self.sinks: list[CommandSink] = []
        self.listeners: list[Callable[[Notification], None]] = []
        self.device_profiles: dict[str, tuple[str, str | None]] = {}
        self._published = len(phone.pending)  # what was posted before the manager existed is not news
        phone.after_timer.append(self.flush)
        self._queue: asyncio.Queue[AccessoryEvent] | None = None
        self._tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ synchronous core
    def add_sink(self, sink: CommandSink) -> None:
        self.sinks.append(sink)

    def ensure_accessory(self, info: AccessoryInfo) -> None:
        phone = self.phone
        if info.key in phone.accessories:
            phone.accessories[info.key].info = info
            return
        model = self.catalog.get(info.model_id)
        if self.strict:
            try:
                quirks = tuple(self.catalog.quirks_for(model, phone.platform, info.firmware))
            except ValueError as exc:  # in a scenario a firmware the ranges cannot compare is the author's error
                raise StepError(f"accessory {info.key!r}: {exc}") from None
        else:
            # Live: BlueZ reports the Device ID version (e.g. "D408"), not a firmware version; without a
            # stated firmware no firmware-scoped quirk applies (routes.live.firmware).
            found, note = live_quirks(self.catalog, model, phone.platform, info.firmware, self.firmware)
            quirks = tuple(found)
            if note:
                log.info("accessory %s: %s", info.key, note)
                if self.on_note is not None:
                    self.on_note(f"{info.key}: {note}")
        phone.add_accessory(info, model, quirks)

    def dispatch(self, event: AccessoryEvent, *, silent: bool = False) -> None:
        """Feed one accessory event into the phone model."""
        phone = self.phone
        phone.begin_step()
        try:
            if isinstance(event, Connected):
                self.ensure_accessory(event.info)
                if phone.accessories[event.info.key].connected:
                    return self._ignore(f"{event.info.key} is already connected")
                phone.connect(event.info.key, silent=silent)
            elif isinstance(event, Disconnected):
                acc = phone.accessories.get(event.key)
                if acc is None or not acc.connected:
                    return self._ignore(f"{event.key} is not connected")
                phone.disconnect(event.key)
            elif isinstance(event, Renamed):
                phone.rename(event.key, event.name)
            elif isinstance(event, BatteryChanged):
                phone.battery(event.key, {"left": event.left, "right": event.right, "case": event.case})
            elif isinstance(event, EarsChanged):
                phone.ears(event.key, left=event.left, right=event.right)
            elif isinstance(event, WornChanged):
                phone.worn(event.key, event.worn)
            elif isinstance(event, CaseChanged):
                phone.ears(event.key, case="open" if event.open else "closed")
            elif isinstance(event, ProfileChanged):
                self.device_profiles[event.key] = (event.profile, event.codec)
        finally:
            self.flush()

    def _ignore(self, why: str) -> None:
        if self.strict:
            raise StepError(why)
        log.info("ignored event: %s", why)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one app or user action (a session API call, a route-picker choice, ...)."""
        self.phone.begin_step()
        try:
            return fn(*args, **kwargs)
        except SessionError as e:
            if e.rule:
                self.phone.fired.append(e.rule)
            raise
        finally:
            self.flush()

    def flush(self) -> None:
        """Send negotiation commands back to their devices and publish new notifications."""
        phone = self.phone
        if phone.commands:
            commands, phone.commands = phone.commands, []
            for command in commands:
                for sink in self.sinks:
                    if sink.owns(command.key):
                        result = sink.execute(command)
                        if inspect.isawaitable(result):
                            self._spawn(result)
                        break
        if self.listeners:
            for note in phone.pending[self._published:]:
                for listener in self.listeners:
                    listener(note)
        if self.keep_pending:
            self._published = len(phone.pending)
        else:
            phone.pending.clear()
            self._published = 0

    def take_notifications(self) -> list[Notification]:
        self._published = 0
        return self.phone.take_notifications()

    # ------------------------------------------------------------------ asyncio side (live mode)
    def _spawn(self, awaitable) -> None:
        try:
            task = asyncio.ensure_future(awaitable)
        except RuntimeError:  # no running loop (a purely synchronous scenario run)
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def submit(self, event: AccessoryEvent) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        await self._queue.put(event)

    async def run(self, *sources: AsyncIterator[AccessoryEvent]) -> None:
        """Serialise events from every source into the model until cancelled."""
        if self._queue is None:
            self._queue = asyncio.Queue()
        queue = self._queue

        async def pump(source: AsyncIterator[AccessoryEvent]) -> None:
            async for event in source:
                await queue.put(event)

        pumps = [asyncio.create_task(pump(s)) for s in sources]
        try:
            while True:
                event = await queue.get()
                try:
                    self.dispatch(event)
                except Exception:  # a live event must never stop the manager
                    log.exception("event %r failed", event)
        finally:
            for p in pumps:
                p.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
