"""A live rig: BlueZ accessory events printed and fed through the route manager into the session model,
and the manager's negotiation commands carried back to BlueZ (printed as "would …" without ``apply``).
"""
from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, Callable

from routesim.clock import WallClock
from routesim.events import (AccessoryEvent, BatteryChanged, Connected, Disconnected, EarsChanged, NegotiationCommand,
                             ProfileChanged, Renamed, WornChanged)


def format_event(event: AccessoryEvent) -> str:
    if isinstance(event, Connected):
        i = event.info
        fw = f" fw {i.firmware}" if i.firmware else ""
        return f"connected     {i.key}  {i.name!r}  model {i.model_id}{fw}"
    if isinstance(event, Disconnected):
        return f"disconnected  {event.key}"
    if isinstance(event, Renamed):
        return f"renamed       {event.key}  -> {event.name!r}"
    if isinstance(event, BatteryChanged):
        parts = [f"{k} {v}%" for k, v in (("left", event.left), ("right", event.right), ("case", event.case)) if v is not None]
        return f"battery       {event.key}  {', '.join(parts) or 'unknown'}"
    if isinstance(event, EarsChanged):
        return f"ears          {event.key}  left {event.left or '?'}, right {event.right or '?'}"
    if isinstance(event, WornChanged):
        return f"worn          {event.key}  {'on' if event.worn else 'off'}"
    if isinstance(event, ProfileChanged):
        return f"profile       {event.key}  {event.profile}{' (' + event.codec + ')' if event.codec else ''}"
    return f"{type(event).__name__:13} {event}"


class BluezCommandSink:
    """Lets the route manager send negotiation commands to BlueZ devices (``RouteManager.add_sink``).
    On a live bus without ``apply`` each command is printed as "would …"."""

    def __init__(self, backend: Any, *, apply: bool = False, report: Callable[[str], None] = print):
        self.backend = backend
        self.apply = apply
        self.report = report
        self._tasks: set[asyncio.Task[Any]] = set()

    def owns(self, key: str) -> bool:
        return key.upper() in self.backend.announced()

    def execute(self, command: NegotiationCommand) -> "asyncio.Task[Any]":
        async def run() -> Any:
            result = await self.backend.execute(command, apply=self.apply)
            self.report(f"command       {result}")
            return result

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for the commands under way (at most ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)


class SessionFeed:
    """The session model fed by live accessory events: a wall-clock :class:`routesim.Phone` takes each
    event, and every route change and notification the app would get is printed as it happens."""

    def __init__(self, category: str, mode: str, options: tuple[str, ...], platform: str,
                 out: Callable[[str], None] = print, call_at: float | None = None, call_length: float = 10.0,
                 firmware: dict[str, str] | None = None):
        from routesim.api.phone import Phone as ApiPhone

        self.out = out
        self.sim = ApiPhone(platform=platform, clock=WallClock(), strict=False)
        self.clock = self.sim.clock
        self.phone = self.sim.model
        self.manager = self.sim.manager
        self.manager.firmware = dict(firmware or {})  # model id -> the firmware the user stated (--firmware)
        self.manager.on_note = lambda m: self.out(f"quirks        {m}")
        self.sim.set_category(category, mode, options)  # the starting configuration is not news
        self.sim.subscribe(self._print)
        self.calls = self.sim.parts.calls
        self.call_plan = (call_at, call_length) if call_at is not None else None

    def attach_backend(self, backend: Any, apply: bool) -> None:
        self.manager.add_sink(BluezCommandSink(backend, apply=apply, report=self.out))
        if self.call_plan:  # we are inside the running loop now: the wall clock can schedule
            at, length = self.call_plan
            self.clock.call_later(at, lambda: self._call(self.sim.callkit.start_call, "call-1"))
            self.clock.call_later(at + length, lambda: self._call(self.sim.callkit.end, "call-1"))

    def _call(self, action: Callable[[str], None], call_id: str) -> None:
        try:
            action(call_id)
        except Exception as exc:  # a failing CallKit action is news, not a crash
            self.out(f"call          {action.__name__} {call_id} failed: {exc}")
        self.out(f"call          {call_id} {self.sim.call_states().get(call_id, '?')}")

    def describe(self) -> str:
        return f"session       route {self.phone.route.short()}  ({self.phone.sample_rate} Hz)"

    def _print(self, entry: Any) -> None:
        if entry.kind != "notification":
            return
        self.out(f"session       {entry.data.short()}")
        if entry.name == "routeChange":
            self.out(f"session       route {self.phone.route.short()}  ({self.phone.sample_rate} Hz)")

    def __call__(self, event: AccessoryEvent) -> None:
        try:
            self.sim.dispatch(event)
        except Exception as exc:  # a live event must never stop the watch
            self.out(f"session       could not apply {type(event).__name__}: {exc}")


async def watch(
    bus: str | None = None,
    *,
    apply: bool = False,
    on_event: Callable[[AccessoryEvent], None] | None = None,
    verbose: bool = False,
    header: str | None = None,
    out: Callable[[str], None] = print,
    ready: "asyncio.Future[Any] | None" = None,
    adverts: bool = False,
) -> int:
    """Print every accessory event until cancelled; ``on_event`` sees each one after it is printed."""
    from routesim.bt.bluez import BluezBackend, BluezError

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    held: list[AccessoryEvent] | None = []  # events from the first read wait for the header

    def handle(event: AccessoryEvent) -> None:
        if held is not None:
            held.append(event)
            return
        out(format_event(event))
        if on_event is not None:
            on_event(event)

    backend = BluezBackend(bus, on_event=handle, clock=WallClock())
    if hasattr(on_event, "attach_backend"):
        on_event.attach_backend(backend, apply)
    try:
        await backend.start(require_adapter=True)
    except BluezError as exc:
        print(f"routesim: {exc}", file=sys.stderr)
        return 1
    where = ("live system bus (--apply: profile switches act)" if apply
             else "live system bus (read-only: profile switches print 'would switch')") \
        if backend.live else "routesim private bus (commands act)"
    out(f"watching {backend.bus_address}: {where}")
    if header:
        out(header)
    if hasattr(on_event, "describe"):
        out(on_event.describe())
    for d in backend.devices():
        if d.profiles and not d.connected:
            out(f"known         {d.address}  {d.name!r}  model {d.model_id}  not connected")
    early, held = held or [], None
    for event in early:
        handle(event)
    scanner = None
    if adverts:
        from routesim.bt.adverts import AdvertSource

        scanner = AdvertSource(bus, clock=WallClock(), accessories=backend.announced, on_event=handle,
                               preflight=False)
        try:
            await scanner.start()
        except BluezError as exc:
            await backend.stop()
            print(f"routesim: {exc}", file=sys.stderr)
            return 1
        out("scanning Apple proximity adverts for battery and in-ear state (paired to devices by model)")
    if ready is not None and not ready.done():
        ready.set_result(backend)
    try:
        await asyncio.Event().wait()  # until Ctrl-C / cancellation
    finally:
        if scanner is not None:
            await scanner.stop()
        await backend.stop()
    return 0
