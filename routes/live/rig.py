"""A live rig: BlueZ accessory events printed and fed through the route manager into the session model,
and the manager's negotiation commands carried back to BlueZ (printed as "would …" without ``apply``).
"""
from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, Callable

from routesim.clock import WallClock
from routesim.routes.live.lifecycle import cleaning_up
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
    On a live bus without ``apply`` each command is printed as "would …"; so it is when another watcher
    holds the steering lock (``steering``). ``links``: the model's record of each device's link
    (``RouteManager.device_profiles``): a profile switch moves it at once, and a refused one moves it
    back ("rolled back")."""

    def __init__(self, backend: Any, *, apply: bool = False, report: Callable[[str], None] = print,
                 steering: Any = None, links: dict[str, tuple[str, str | None]] | None = None):
        self.backend = backend
        self.apply = apply
        self.report = report
        self.steering = steering
        self.links = links
        self.in_flight: dict[str, int] = {}  # device key -> profile switches not answered yet
        self.after: Callable[[], None] | None = None  # called after each command's result is reported
        self._tasks: set[asyncio.Task[Any]] = set()
        self._latest: dict[str, asyncio.Task[Any]] = {}  # device key -> its last command, run or running

    def owns(self, key: str) -> bool:
        return key.upper() in self.backend.announced()

    def execute(self, command: NegotiationCommand) -> "asyncio.Task[Any]":
        from routesim.events import SwitchProfile

        read_only = self.steering is not None and not self.steering.held
        before = None
        moved = isinstance(command, SwitchProfile) and self.links is not None and command.profile != "none"
        if moved:
            before = self.links.get(command.key)
            self.links[command.key] = (command.profile, command.codec)
        key = command.key
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        earlier = self._latest.get(key)

        async def run() -> Any:
            try:
                if earlier is not None and not earlier.done():
                    # One device's commands land in the order the phone gave them: a slow earlier switch
                    # (to A2DP at connect) must not finish after a later one (to HFP for a call) and undo it.
                    await asyncio.wait([earlier])
                result = await self.backend.execute(command, apply=self.apply, dry_run=read_only)
            finally:
                self.in_flight[key] -= 1
                if not self.in_flight[key]:
                    del self.in_flight[key]
            line = f"command       {result}"
            if read_only:
                line += f"  [read-only: {self.steering.why_not()}]"
            if moved and getattr(result, "refused", False) and self.links is not None:
                if before is None:
                    self.links.pop(command.key, None)
                else:
                    self.links[command.key] = before
                line += f"; rolled back: the model keeps {_link(before)}"
            self.report(line)
            if self.after is not None:
                self.after()
            return result

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        self._latest[key] = task
        task.add_done_callback(lambda done: self._done(key, done))
        return task

    def _done(self, key: str, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if self._latest.get(key) is task:
            del self._latest[key]

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for the commands under way (at most ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)


def _link(link: tuple[str, str | None] | None) -> str:
    if link is None:
        return "no link"
    return f"{link[0]}{' (' + link[1] + ')' if link[1] else ''}"


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
        self.sink: BluezCommandSink | None = None
        self.backend: Any = None
        self._drift: dict[str, tuple[str, str] | None] = {}  # key -> (carried, wanted) last reported

    def attach_backend(self, backend: Any, apply: bool, steering: Any = None) -> None:
        self.sink = BluezCommandSink(backend, apply=apply, report=self.out, steering=steering,
                                     links=self.manager.device_profiles)
        self.sink.after = self.follow
        self.backend = backend
        self.manager.add_sink(self.sink)
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
        self.follow()

    def follow(self) -> None:
        """The model's link is the card's profile: each device's link the audio server carries becomes the
        phone's rig link (route.rig-link), except while a switch of ours is in flight for it (a report
        then may be older than the switch). Then say where it differs from what iOS would choose."""
        in_flight = self.sink.in_flight if self.sink is not None else {}
        if not getattr(getattr(self, "backend", None), "follows_audio_server", False):
            self.check_drift()  # BlueZ alone cannot say which link is up: nothing to follow
            return
        for key, (carried, _codec) in list(self.manager.device_profiles.items()):
            acc = self.phone.accessories.get(key)
            if acc is None or not acc.connected or key in in_flight:
                continue
            if acc.rig_link != (carried if carried in ("a2dp", "hfp") else "none"):
                try:
                    self.manager.call(self.phone.rig_link_changed, key, carried)
                except Exception as exc:  # never stop the watch
                    self.out(f"session       could not follow the rig's {carried} for {key}: {exc}")
        self.check_drift()

    def check_drift(self) -> None:
        """Where the link the model wants for a device (the route iOS would choose) differs from what the
        rig's audio server carries, say so once; and say when they agree again. A device with a switch
        of ours still in flight is not judged, nor one the route does not use (routesim never switches a
        card off, so an unused device keeps whatever it carries) [INF]."""
        in_flight = self.sink.in_flight if self.sink is not None else {}
        wanted = {k: link.profile for k, link in self.phone.decision.wanted_links.items()
                  if link.profile in ("a2dp", "hfp")}
        for key, carried in list(self.manager.device_profiles.items()):
            acc = self.phone.accessories.get(key)
            if acc is None or not acc.connected:
                self._drift.pop(key, None)
                continue
            if key in in_flight:
                continue
            want = wanted.get(key)
            state = (carried[0], want) if want is not None and carried[0] in ("a2dp", "hfp") and carried[0] != want \
                else None
            if state == self._drift.get(key):
                continue
            before = self._drift.get(key)
            self._drift[key] = state
            if state is not None:
                self.out(f"drift         {key}  the rig carries {_link(carried)}; for this session iOS would use "
                         f"{want} (route {self.phone.route.short()})")
            elif before is not None:
                self.out(f"drift         {key}  in step again: the rig carries {_link(carried)}")


STATUS_LABELS = {"bus": "bus", "bluetoothd": "bluetoothd"}


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
    active_scan: bool = False,
    backend_options: dict[str, Any] | None = None,
) -> int:
    """Print every accessory event until cancelled; ``on_event`` sees each one after it is printed.
    ``out`` may have an ``event(event, line)`` method (``cli.unattended.LinePrinter``) to get the event too.
    Status changes of the bus (connection dropped, bluetoothd restarted or not answering) are one
    ``bus``/``bluetoothd`` line each."""
    from routesim.bt.bluez import BluezBackend, BluezError

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    held: list[AccessoryEvent] | None = []  # events from the first read wait for the header
    print_event = getattr(out, "event", None)

    def handle(event: AccessoryEvent) -> None:
        if held is not None:
            held.append(event)
            return
        line = format_event(event)
        if print_event is not None:
            print_event(event, line)
        else:
            out(line)
        if on_event is not None:
            on_event(event)

    def status(kind: str, text: str) -> None:
        out(f"{kind.split('-')[0]:13} {text}")

    backend = BluezBackend(bus, on_event=handle, clock=WallClock(), on_status=status, **(backend_options or {}))
    scanner = None
    steering = None
    try:
        try:
            await backend.start(require_adapter=True)
        except BluezError as exc:
            print(f"routesim: {exc}", file=sys.stderr)
            return 1
        acts = apply or not backend.live
        if acts:
            from routesim.bt.bluez.steering import SteeringLocks

            steering = SteeringLocks(backend.bus_address, [a.path.rsplit("/", 1)[-1] for a in backend.adapters()])
            await steering.acquire()
        if hasattr(on_event, "attach_backend"):
            on_event.attach_backend(backend, apply, steering)
        where = ("live system bus (--apply: profile switches act)" if apply
                 else "live system bus (read-only: profile switches print 'would switch')") \
            if backend.live else "routesim private bus (commands act)"
        if steering is not None and not steering.held:
            where += f"; read-only: {steering.why_not()}"
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
        if adverts:
            from routesim.bt.adverts import AdvertSource

            scanner = AdvertSource(bus, clock=WallClock(), accessories=backend.announced, on_event=handle,
                                   preflight=False, active=active_scan)
            try:
                await scanner.start()
            except BluezError as exc:
                print(f"routesim: {exc}", file=sys.stderr)
                return 1
            out(f"scanning Apple proximity adverts for battery and in-ear state ({scanner.how()}; "
                "paired to devices by model)")
        if ready is not None and not ready.done():
            ready.set_result(backend)
        await asyncio.Event().wait()  # until Ctrl-C / cancellation
        return 0
    finally:
        cleaning_up()
        if scanner is not None:
            await scanner.stop()
        if steering is not None:
            await steering.release()
        await backend.stop()


