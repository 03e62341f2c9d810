"""The phone a test drives: the session model with one method per scenario step, virtual accessories,
a timeline of everything that happened, and awaitables for what tests wait on.

One path: the scenario runner performs every step through these methods, and a live rig feeds BlueZ
events through :meth:`Phone.dispatch`, the same door virtual accessories use. Anything that wants to see
the whole story (a recorder, a log) subscribes to the timeline with :meth:`Phone.subscribe`.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Iterable, Literal, Mapping, TypeVar

from routesim.bt.virtual import VirtualAccessories
from routesim.clock import Clock, VirtualClock
from routesim.events import AccessoryEvent, AccessoryInfo, ProfileChanged
from routesim.profiles.catalog import Catalog, default_catalog
from routesim.profiles.platform import Platform
from routesim.routes.live.manager import RouteManager
from routesim.routes.phone.behavior import DEFAULT_BEHAVIOR
from routesim.routes.phone.config import Configuration
from routesim.routes.phone.errors import StepError
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.ports import Route
from routesim.routes.phone.session import AppState
from routesim.routes.phone.session import Phone as SessionModel
from routesim.routes.phone.vocabulary import CATEGORIES, MODES, NOTIFICATIONS, OPTIONS, REASONS

from routesim.api.parts import Parts
from routesim.api.records import EntryKind, ExpectationFailed, TimelineEntry, event_step

T = TypeVar("T")
Ear = Literal["in", "out"]


class Phone:
    """A simulated iPhone (or iPad) and the app's AVAudioSession on it.

    With the default :class:`~routesim.clock.VirtualClock` everything is deterministic: actions take no
    time, :meth:`advance` and the awaitables move time forward, and a 10-minute call runs in
    microseconds. A :class:`~routesim.Rig` gives the phone the wall clock and feeds it real BlueZ events.

    ``platform``: ``"ios-26.0"`` (or a Platform); ``hardware``: ``"iphone"`` or ``"ipad"``;
    ``hfp_codecs``: the HFP codecs the phone offers (default: the platform's); ``behavior``: the
    scenario format's behaviour switches; ``app``: the app's state at the start; ``strict``: an
    impossible event (connecting a connected device) raises :class:`StepError`; live rigs pass False and
    such events are logged instead. ``timeline=False``: keep no :attr:`timeline` (and take no
    :meth:`subscribe`), for batch runs that record their results themselves; everything else, the
    notifications and the awaits included, works as before, only faster.
    """

    def __init__(
        self,
        *,
        platform: str | Platform = "ios-26.0",
        hardware: str = "iphone",
        hfp_codecs: Iterable[str] | None = None,
        behavior: Mapping[str, Any] | None = None,
        app: AppState | None = None,
        catalog: Catalog | None = None,
        clock: Clock | None = None,
        strict: bool = True,
        timeline: bool = True,
    ):
        unknown = sorted(set(behavior or {}) - set(DEFAULT_BEHAVIOR))
        if unknown:
            raise ValueError(f"unknown behavior switch {unknown[0]!r}; the switches are {', '.join(DEFAULT_BEHAVIOR)}")
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.catalog = catalog if catalog is not None else default_catalog()
        self._t0 = self.clock.now()  # times are seconds since the phone was made (also on the wall clock)
        self.model = SessionModel(
            platform=Platform.parse(platform) if isinstance(platform, str) else platform,
            hardware=hardware,
            hfp_offered=frozenset(hfp_codecs) if hfp_codecs is not None else None,
            behavior=dict(behavior or {}),
            app=app,
            now=self._now,
            schedule=self.clock.call_later,
        )
        # Scenarios keep notifications for their expect blocks; a live rig only publishes them.
        self.manager = RouteManager(self.model, self.catalog, strict=strict, keep_pending=strict)
        self.virtual = VirtualAccessories()
        self.manager.add_sink(self.virtual)
        self.parts = Parts(self.model, self.clock, self.manager)
        self._timeline: list[TimelineEntry] = []
        self._keeps_timeline = timeline
        self._notes: list[Notification] = []
        self._read = 0  # notifications already returned by an await
        self._held: list[TimelineEntry] | None = None  # notifications posted while an action runs
        self._subscribers: list[Callable[[TimelineEntry], None]] = []
        self._changed: asyncio.Event | None = None
        self.manager.listeners.append(self._on_notification)
        self.callkit = CallKit(self)
        self.cellular = Cellular(self)
        self.engine = Engine(self)
        self.recorder = Recorder(self)
        self.capture = Capture(self)

    # ------------------------------------------------------------------ what a test reads
    @property
    def virtual_time(self) -> bool:
        """True on a virtual clock (awaits advance it), False on the wall clock (a rig)."""
        return isinstance(self.clock, VirtualClock)

    @property
    def time(self) -> float:
        """Seconds since the phone was made (virtual or wall-clock time, as its clock runs)."""
        return self._now()

    def _now(self) -> float:
        return self.clock.now() - self._t0

    @property
    def route(self) -> Route:
        """The current route (``route.types()``: the input and output port types)."""
        return self.model.route

    @property
    def session(self) -> dict[str, Any]:
        """What the app reads from AVAudioSession, keyed as a scenario's ``expect: session`` is."""
        return self.model.session_view()

    @property
    def notifications(self) -> list[Notification]:
        """Every notification the app was told, in order (NotificationCenter posts and CallKit callbacks)."""
        return list(self._notes)

    @property
    def timeline(self) -> list[TimelineEntry]:
        """Everything that happened, in order: actions, accessory events, notifications, errors."""
        self._need_timeline("timeline")
        return list(self._timeline)

    @property
    def rules(self) -> list[str]:
        """The ids of the behaviour rules the last action fired (``routesim rules`` lists them)."""
        return list(self.model.fired)

    def accessory(self, key: str) -> "Accessory":
        """The accessory added under ``key``."""
        if key not in self.model.accessories:
            raise StepError(f"no accessory {key!r}; known: {', '.join(self.model.accessories) or 'none'}")
        return Accessory(self, key)

    @property
    def accessories(self) -> dict[str, "Accessory"]:
        return {key: Accessory(self, key) for key in self.model.accessories}

    def others(self) -> dict[str, str]:
        """Each other app's state: ``playing``, ``ducked``, ``interrupted`` or ``stopped``."""
        return {key: other.state for key, other in self.model.others.items()}

    def call_states(self) -> dict[str, str]:
        """Each call's state: ``ringing``, ``connecting``, ``active``, ``held`` or ``ended``."""
        return self.parts.calls.states()

    def subscribe(self, callback: Callable[[TimelineEntry], None]) -> Callable[[], None]:
        """Call ``callback`` with every new timeline entry; returns a function that unsubscribes."""
        self._need_timeline("subscribe")
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    # ------------------------------------------------------------------ accessories
    def add_accessory(self, key: str, model: str, *, name: str | None = None, address: str | None = None,
                      firmware: str | None = None, connected: bool = False) -> "Accessory":
        """A virtual accessory of catalog model ``model`` (``routesim models`` lists them), known to the
        phone as ``key``. ``connected=True``: it is already connected when the story starts (no
        notification)."""
        spec = self.catalog.get(model)
        info = self.virtual.add(key, model, name or spec.name, address, firmware)
        self.manager.ensure_accessory(info)
        if connected:
            self.connect(key, silent=True)
        return Accessory(self, key)

    def add_other(self, key: str, category: str, mode: str = "default", options: Iterable[str] = (),
                  playing: bool = False) -> None:
        """Another app with its own session (music player, navigation, ...)."""
        config = Configuration(CATEGORIES.resolve(category), MODES.resolve(mode),
                               frozenset(OPTIONS.resolve(o) for o in options))
        self.model.add_other(key, config, playing)

    def connect(self, accessory: str, *, silent: bool = False) -> None:
        """The accessory connects (``silent``: it was connected before the story starts)."""
        if accessory not in self.virtual.devices:
            raise StepError(f"no virtual accessory {accessory!r}")
        if self.model.accessories[accessory].connected:
            raise StepError(f"{accessory} is already connected")
        if silent:
            self.manager.dispatch(self.virtual.connect(accessory), silent=True)
        else:
            self.dispatch(self.virtual.connect(accessory))

    def disconnect(self, accessory: str) -> None:
        self.dispatch(self._virtual(accessory).disconnect(accessory))

    def rename(self, accessory: str, name: str) -> None:
        """The user renames the accessory (what the phone shows; the route follows the device, not the name)."""
        self.dispatch(self._virtual(accessory).rename(accessory, name))

    def battery(self, accessory: str, *, left: int | None = None, right: int | None = None,
                case: int | None = None) -> None:
        self.dispatch(self._virtual(accessory).battery(accessory, left, right, case))

    def ears(self, accessory: str, *, left: Ear | None = None, right: Ear | None = None,
             case: Literal["open", "closed"] | None = None) -> None:
        """Buds in or out of the ears (``left``/``right``), or the case opened or closed (``case``)."""
        virtual = self._virtual(accessory)
        if case is not None:
            self.dispatch(virtual.case(accessory, case == "open"))
        else:
            self.dispatch(virtual.ears(accessory, left, right))

    def worn(self, accessory: str, worn: bool) -> None:
        """Over-ear headphones put on or taken off (head detection; see the ``worn`` step)."""
        self.dispatch(self._virtual(accessory).worn(accessory, bool(worn)))
    def link_changed(self, accessory: str, profile: Literal["a2dp", "hfp", "none"], codec: str | None = None) -> None:
        """The rig changed the accessory's link: its audio server switched the card to ``profile``
        (the ``profile`` step; BlueZ and the audio server send the same event on a rig)."""
        if accessory not in self.model.accessories:
            raise StepError(f"no accessory {accessory!r}; known: {', '.join(self.model.accessories) or 'none'}")
        self.dispatch(ProfileChanged(accessory, profile, codec))

    def _virtual(self, key: str) -> VirtualAccessories:
        if key not in self.virtual.devices:
            raise StepError(f"no virtual accessory {key!r}")
        return self.virtual

    def dispatch(self, event: AccessoryEvent) -> None:
        """Feed one accessory event into the phone: the one door for virtual accessories, BlueZ and adverts."""
        name, args = event_step(event)
        self._perform("event", name, args, self.manager.dispatch, (event,), data=event)

    # ------------------------------------------------------------------ the user, the app, the system
    def pick_route(self, target: str) -> None:
        """The user picks an output in the route picker: an accessory id, ``speaker`` or ``receiver``."""
        self._act("pickRoute", {"target": target}, self.model.pick_route, target)

    def set_app_state(self, state: Literal["foreground", "background"]) -> None:
        self._act("app", {"state": state}, self.model.set_app_state, state)

    def other_play(self, other: str) -> None:
        self._act("others.play", {"other": other}, self.model.other_play, other)

    def other_stop(self, other: str) -> None:
        self._act("others.stop", {"other": other}, self.model.other_stop, other)

    def player(self, playing: bool) -> None:
        """The app's own player starts (activating the session if needed) or stops."""
        self._act("player.play" if playing else "player.stop", {}, self.model.player, playing)

    def media_services_reset(self) -> None:
        self._act("system", {"event": "mediaServicesReset"}, self.model.media_services_reset)

    # ------------------------------------------------------------------ the app's AVAudioSession
    def set_category(self, category: str, mode: str = "default", options: Iterable[str] = ()) -> None:
        """``setCategory(_:mode:options:)``; Swift, Objective-C and raw spellings are accepted."""
        category, mode = CATEGORIES.resolve(category), MODES.resolve(mode)
        opts = tuple(OPTIONS.resolve(o) for o in options)
        self._act("session.setCategory", {"category": category, "mode": mode, "options": list(opts)},
                  self.model.set_category, category, mode, opts)

    def set_mode(self, mode: str) -> None:
        mode = MODES.resolve(mode)
        self._act("session.setMode", {"mode": mode}, self.model.set_mode, mode)

    def set_active(self, active: bool, options: Iterable[str] = ()) -> None:
        """``setActive(_:options:)``; the only option is ``notifyOthersOnDeactivation``."""
        opts = tuple(options)
        self._act("session.setActive", {"active": active, "options": list(opts)}, self.model.set_active, active, opts)

    def set_preferred_input(self, target: str | None) -> None:
        """An accessory id, ``builtInMic``, or None to clear the preference."""
        self._act("session.setPreferredInput", {"input": target}, self.model.set_preferred_input, target)

    def override_output(self, port: Literal["speaker", "none"]) -> None:
        """``overrideOutputAudioPort``: ``speaker`` or ``none``."""
        self._act("session.overrideOutputAudioPort", {"port": port}, self.model.override_output, port)

    def set_preferred_sample_rate(self, hz: float) -> None:
        self._act("session.setPreferredSampleRate", {"hz": hz}, self.model.set_preferred_sample_rate, hz)

    def set_preferred_io_buffer_duration(self, seconds: float) -> None:
        self._act("session.setPreferredIOBufferDuration", {"seconds": seconds},
                  self.model.set_preferred_io_buffer_duration, seconds)

    def set_preferred_input_channels(self, count: int) -> None:
        self._act("session.setPreferredInputNumberOfChannels", {"count": count},
                  self.model.set_preferred_input_channels, count)

    def set_prefers_no_interruptions_from_system_alerts(self, value: bool) -> None:
        self.model.prefers_no_interruptions_from_alerts = bool(value)
        self._record("action", "session.setPrefersNoInterruptionsFromSystemAlerts", {"value": bool(value)})

    def set_prefers_interruption_on_route_disconnect(self, value: bool) -> None:
        self.model.prefers_interruption_on_route_disconnect = bool(value)
        self._record("action", "session.setPrefersInterruptionOnRouteDisconnect", {"value": bool(value)})

    # ------------------------------------------------------------------ time
    def advance(self, seconds: float) -> None:
        """Move the virtual clock forward (timers due on the way fire). Virtual clock only."""
        clock = self._virtual_clock("advance")
        clock.advance(seconds)

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass: virtual time on a virtual clock (instant), wall-clock time on a rig."""
        if isinstance(self.clock, VirtualClock):
            self.clock.advance(seconds)
            await asyncio.sleep(0)
        else:
            await self.clock.sleep(seconds)

    def _virtual_clock(self, what: str) -> VirtualClock:
        if not isinstance(self.clock, VirtualClock):
            raise StepError(f"{what} needs the virtual clock; on a rig, await phone.sleep(seconds)")
        return self.clock

    # ------------------------------------------------------------------ awaitables
    async def route_change(self, *, reason: str | None = None, timeout: float = 5.0) -> Notification:
        """The next ``routeChange`` the app is told of (with ``reason``, when given).

        Awaits read the notifications in order, like a stream: each starts after the notification the
        previous await returned, so a change that already happened is found at once. ``timeout`` is
        virtual seconds on a virtual clock (costs nothing) and wall-clock seconds on a rig.
        """
        __tracebackhide__ = True  # pytest shows the test's line, not ours
        fields = {"reason": REASONS.resolve(reason)} if reason is not None else {}
        return await self.notification("routeChange", timeout=timeout, **fields)

    async def notification(self, name: str, *, timeout: float = 5.0, **fields: Any) -> Notification:
        """The next notification called ``name`` (``interruption``, ``didActivate``, ...) whose fields
        equal ``fields`` (``type="began"``); see :meth:`route_change` for the order and the timeout."""
        __tracebackhide__ = True  # pytest shows the test's line, not ours
        name = NOTIFICATIONS.resolve(name)
        wanted = {name: fields} if fields else name

        def poll() -> Notification | None:
            for index in range(self._read, len(self._notes)):
                note = self._notes[index]
                if note.name == name and all(note.fields.get(k) == v for k, v in fields.items()):
                    self._read = index + 1
                    return note
            return None

        def observed() -> tuple[Any, list[str]]:
            seen = self._notes[self._read:]
            return ([n.short() for n in seen] if seen else "nothing"), [f"route now {self.route.short()}"]

        return await self._wait(name, wanted, poll, observed, timeout)

    async def call_state(self, call: str, state: str, *, timeout: float = 5.0) -> None:
        """Until call ``call`` is in ``state`` (``ringing``, ``connecting``, ``active``, ``held``, ``ended``)."""

        __tracebackhide__ = True  # pytest shows the test's line, not ours
        def poll() -> bool | None:
            return True if self.call_states().get(call) == state else None

        def observed() -> tuple[Any, list[str]]:
            return (self.call_states().get(call, "no such call"),
                    [f"calls now {self.call_states()}", f"route now {self.route.short()}"])

        await self._wait(f"calls.{call}", state, poll, observed, timeout)

    async def _wait(self, key: str, expected: Any, poll: Callable[[], T | None],
                    observed: Callable[[], tuple[Any, list[str]]], timeout: float) -> T:
        __tracebackhide__ = True  # pytest shows the test's line, not ours
        clock = self.clock
        deadline = clock.now() + timeout
        if isinstance(clock, VirtualClock):
            while True:
                await asyncio.sleep(0)  # let anything the last action spawned run
                got = poll()
                if got is not None:
                    return got
                due = clock.next_due()
                if due is None or due > deadline:
                    clock.advance(max(0.0, deadline - clock.now()))
                    break
                clock.advance(due - clock.now())
            unit = "virtual time"
        else:
            if self._changed is None:
                self._changed = asyncio.Event()
            changed = self._changed
            while True:
                changed.clear()
                got = poll()
                if got is not None:
                    return got
                remaining = deadline - clock.now()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(changed.wait(), remaining)
                except (asyncio.TimeoutError, TimeoutError):
                    pass
            unit = "wall-clock time"
        got = poll()
        if got is not None:
            return got
        actual, context = observed()
        raise ExpectationFailed(key, expected, actual, within=f" within {timeout:g} s ({unit})",
                                context=[f"at {self.time:.3f} s", *context])

    # ------------------------------------------------------------------ assertions
    def expect_route(self, *, inputs: Iterable[str] | None = None, outputs: Iterable[str] | None = None) -> None:
        """Assert the current route's port types, like ``expect: route`` (``outputs=["bluetoothA2DP"]``)."""
        __tracebackhide__ = True  # pytest shows the test's line, not ours
        ins, outs = self.route.types()
        want: dict[str, list[str]] = {}
        have: dict[str, list[str]] = {}
        if inputs is not None:
            want["inputs"], have["inputs"] = list(inputs), list(ins)
        if outputs is not None:
            want["outputs"], have["outputs"] = list(outputs), list(outs)
        if want != have:
            raise ExpectationFailed("route", want, have, context=[f"route now {self.route.short()}"])

    # ------------------------------------------------------------------ plumbing
    def _act(self, name: str, args: dict[str, Any], fn: Callable[..., T], *fn_args: Any) -> T:
        """One app, user or system action through the route manager, recorded on the timeline."""
        return self._perform("action", name, args, self.manager.call, (fn, *fn_args))

    def _perform(self, kind: EntryKind, name: str, args: dict[str, Any], run: Callable[..., T],
                 run_args: tuple[Any, ...], data: Any = None) -> T:
        if not self._keeps_timeline:
            result = self._run(run, run_args)
            self._wake()
            return result
        outer = self._held is None
        if outer:
            self._held = []
        try:
            result = self._run(run, run_args)
        except Exception as exc:
            if outer:
                held, self._held = self._held, None
                self._record(kind, name, args, data=data)
                self._record("error", name, {"error": str(exc)}, data=exc)
                self._release(held or [])
            raise
        if outer:
            held, self._held = self._held, None
            self._record(kind, name, args, data=data)
            self._release(held or [])
        return result

    def _run(self, run: Callable[..., T], run_args: tuple[Any, ...]) -> T:
        result = run(*run_args)
        if isinstance(self.clock, VirtualClock):
            self.clock.run_due()  # zero-delay work the action scheduled belongs to it
        return result

    def _on_notification(self, note: Notification) -> None:
        self._notes.append(note)
        if not self._keeps_timeline:
            self._wake()  # the awaits look at the notifications and the state, not at the timeline
            return
        entry = TimelineEntry(note.time, "notification", note.name, dict(note.fields), None, note)
        if self._held is not None:
            self._held.append(entry)
        else:
            self._append(entry)

    def _release(self, held: list[TimelineEntry]) -> None:
        for entry in held:
            self._append(entry)

    def _record(self, kind: EntryKind, name: str, args: Mapping[str, Any], data: Any = None) -> None:
        if not self._keeps_timeline:
            return
        route = None if kind == "error" else self.model.route
        self._append(TimelineEntry(self.clock.now() - self._t0, kind, name, dict(args), route, data))

    def _append(self, entry: TimelineEntry) -> None:
        self._timeline.append(entry)
        if self._subscribers:
            for callback in list(self._subscribers):
                callback(entry)
        self._wake()

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def _need_timeline(self, what: str) -> None:
        if not self._keeps_timeline:
            raise RuntimeError(f"Phone.{what}: this phone keeps no timeline (it was made with timeline=False)")

    def __repr__(self) -> str:
        return f"<routesim.Phone {self.model.platform} {self.model.hardware} at {self.time:.3f} s: {self.route.short()}>"


class Accessory:
    """An accessory the phone knows (virtual or from BlueZ), by its key."""

    def __init__(self, phone: Phone, key: str):
        self.phone, self.key = phone, key

    @property
    def info(self) -> AccessoryInfo:
        return self.phone.model.accessories[self.key].info

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def model_id(self) -> str:
        return self.info.model_id

    @property
    def address(self) -> str:
        return self.info.address

    @property
    def connected(self) -> bool:
        return self.phone.model.accessories[self.key].connected

    def state(self) -> dict[str, Any]:
        """As ``expect: accessories`` reads it: ``profile``, ``codec``, ``name``, ``battery``, ``connected``."""
        return self.phone.model.accessory_view(self.key)

    def connect(self) -> None:
        self.phone.connect(self.key)

    def disconnect(self) -> None:
        self.phone.disconnect(self.key)

    def rename(self, name: str) -> None:
        self.phone.rename(self.key, name)

    def battery(self, *, left: int | None = None, right: int | None = None, case: int | None = None) -> None:
        self.phone.battery(self.key, left=left, right=right, case=case)

    def ears(self, *, left: Ear | None = None, right: Ear | None = None,
             case: Literal["open", "closed"] | None = None) -> None:
        self.phone.ears(self.key, left=left, right=right, case=case)

    def __repr__(self) -> str:
        return f"<routesim.Accessory {self.key} {self.model_id} {self.name!r}>"


class CallKit:
    """The app's CallKit provider (``phone.callkit``): the ``callkit.*`` steps."""

    def __init__(self, phone: Phone):
        self._phone = phone

    def _calls(self) -> Any:
        return self._phone.parts.attached("calls")

    def configure(self, *, supports_holding: bool | None = None, maximum_call_groups: int | None = None,
                  maximum_calls_per_call_group: int | None = None, supports_grouping: bool | None = None,
                  supports_ungrouping: bool | None = None) -> None:
        self._phone._act("callkit.configure", {"supportsHolding": supports_holding,
                                               "maximumCallGroups": maximum_call_groups,
                                               "maximumCallsPerCallGroup": maximum_calls_per_call_group,
                                               "supportsGrouping": supports_grouping,
                                               "supportsUngrouping": supports_ungrouping},
                         self._calls().configure, supports_holding, maximum_call_groups,
                         maximum_calls_per_call_group, supports_grouping, supports_ungrouping)

    def report_incoming(self, call: str) -> None:
        self._phone._act("callkit.reportIncoming", {"call": call}, self._calls().report_incoming, call)

    def start_call(self, call: str, *, fulfill_after: float = 0.0, connect_after: float = 0.0,
                   result: Literal["fulfill", "fail"] = "fulfill") -> None:
        self._phone._act("callkit.startCall", {"call": call, "fulfillAfter": fulfill_after,
                                               "connectAfter": connect_after, "result": result},
                         self._calls().start_call, call, fulfill_after, connect_after, result)

    def answer(self, call: str, *, fulfill_after: float = 0.0, result: Literal["fulfill", "fail"] = "fulfill") -> None:
        self._phone._act("callkit.answer", {"call": call, "fulfillAfter": fulfill_after, "result": result},
                         self._calls().answer, call, fulfill_after, result)

    def hold(self, call: str, *, fulfill_after: float = 0.0) -> None:
        self._phone._act("callkit.hold", {"call": call, "fulfillAfter": fulfill_after},
                         self._calls().hold, call, fulfill_after)

    def unhold(self, call: str, *, fulfill_after: float = 0.0) -> None:
        self._phone._act("callkit.unhold", {"call": call, "fulfillAfter": fulfill_after},
                         self._calls().unhold, call, fulfill_after)

    def end(self, call: str, *, by: Literal["local", "remote"] = "local", fulfill_after: float = 0.0) -> None:
        self._phone._act("callkit.end", {"call": call, "by": by, "fulfillAfter": fulfill_after},
                         self._calls().end, call, by, fulfill_after)

    def speaker(self, on: bool) -> None:
        """The speaker button in the call UI."""
        self._phone._act("callkit.speaker", {"on": on}, self._calls().speaker, on)

    def reset(self) -> None:
        """The system resets the provider: ``providerDidReset``, every CallKit call ends."""
        self._phone._act("callkit.reset", {}, self._calls().reset)

    def group(self, call: str, with_call: str, *, fulfill_after: float = 0.0) -> None:
        """Merge ``call`` into the group of ``with_call`` (CXSetGroupCallAction); a refused request raises
        a CallKit request error (``invalidAction``, ``unknownCallUUID``)."""
        self._phone._act("callkit.group", {"call": call, "with": with_call, "fulfillAfter": fulfill_after},
                         self._calls().group, call, with_call, fulfill_after)

    def ungroup(self, call: str, *, fulfill_after: float = 0.0) -> None:
        """Take ``call`` out of its group (CXSetGroupCallAction with no call to group with)."""
        self._phone._act("callkit.ungroup", {"call": call, "fulfillAfter": fulfill_after},
                         self._calls().ungroup, call, fulfill_after)


class Cellular:
    """The Phone app's cellular calls (``phone.cellular``): the ``cellular.*`` steps."""

    def __init__(self, phone: Phone):
        self._phone = phone

    def _cell(self) -> Any:
        return self._phone.parts.attached("cellular")

    def incoming(self, call: str) -> None:
        self._phone._act("cellular.incoming", {"call": call}, self._cell().incoming, call)

    def answer(self, call: str, *, hold_others: bool = False) -> None:
        self._phone._act("cellular.answer", {"call": call, "holdOthers": hold_others},
                         self._cell().answer, call, hold_others)

    def decline(self, call: str) -> None:
        self._phone._act("cellular.decline", {"call": call}, self._cell().decline, call)

    def end(self, call: str, *, by: Literal["local", "remote"] = "local") -> None:
        self._phone._act("cellular.end", {"call": call, "by": by}, self._cell().end, call, by)


class Engine:
    """The app's AVAudioEngine (``phone.engine``): the ``engine.*`` steps."""

    def __init__(self, phone: Phone):
        self._phone = phone

    def _engine(self) -> Any:
        return self._phone.parts.attached("engine")

    @property
    def state(self) -> dict[str, Any]:
        """As ``expect: engine`` reads it: ``running``, ``inputFormat``, ``outputFormat``, ..."""
        return self._engine().view()

    def start(self) -> None:
        self._phone._act("engine.start", {}, self._engine().start)

    def stop(self) -> None:
        self._phone._act("engine.stop", {}, self._engine().stop)

    def install_tap(self, format: str | Mapping[str, Any] = "hardware") -> None:
        """``"hardware"`` or ``{"sampleRate": 48000, "channels": 1}``."""
        self._phone._act("engine.installTap", {"format": format}, self._engine().install_tap, format)

    def remove_tap(self) -> None:
        self._phone._act("engine.removeTap", {}, self._engine().remove_tap)

    def set_voice_processing_enabled(self, enabled: bool) -> None:
        self._phone._act("engine.setVoiceProcessingEnabled", {"enabled": enabled},
                         self._engine().set_voice_processing, enabled)


class Recorder:
    """An AVAudioRecorder (``phone.recorder``): the ``recorder.record`` step."""

    def __init__(self, phone: Phone):
        self._phone = phone

    @property
    def state(self) -> dict[str, Any]:
        """As ``expect: recording`` reads it: ``bytes``, ``error``, ``success``."""
        return self._phone.parts.attached("recorder").view()

    def record(self, *, format: Literal["aac", "lpcm"] = "aac", sample_rate: float = 44100.0, channels: int = 1,
               duration: float = 1.0, wait: bool = True) -> dict[str, Any]:
        """Record ``duration`` seconds (virtual clock: the clock advances by it); returns :attr:`state`.
        ``wait=False`` starts the recording and returns at once: later calls happen while it records (an
        interruption then cuts the file short)."""
        recorder = self._phone.parts.attached("recorder")
        clock = self._phone.clock
        advance = clock.advance if isinstance(clock, VirtualClock) else None
        arg: dict[str, Any] = {"format": format, "sampleRate": sample_rate, "channels": channels, "duration": duration}
        if not wait:
            arg["wait"] = False
        self._phone._act("recorder.record", arg, recorder.record, format, float(sample_rate), int(channels),
                         float(duration), advance, wait, clock.call_later)
        return self.state


class Capture:
    """An AVCaptureSession (``phone.capture``): the ``capture.*`` steps."""

    def __init__(self, phone: Phone):
        self._phone = phone

    def _capture(self) -> Any:
        return self._phone.parts.attached("capture")

    def start(self, *, automatically_configures_session: bool = True, mix_with_others: bool = False) -> None:
        self._phone._act("capture.start", {"automaticallyConfiguresApplicationAudioSession":
                                           automatically_configures_session,
                                           "configuresApplicationAudioSessionToMixWithOthers": mix_with_others},
                         self._capture().start, automatically_configures_session, mix_with_others)

    def stop(self) -> None:
        self._phone._act("capture.stop", {}, self._capture().stop)

