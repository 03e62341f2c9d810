"""Real devices through BlueZ: an asyncio client of ``org.bluez`` on the system bus (dbus-fast).

It mirrors BlueZ's object tree (:mod:`.object_tree`, every value validated by :mod:`.values`), kept in
sync over one supervised connection (:mod:`.connection`), and turns the tree into :mod:`bt.events`
events by diffing (:mod:`.announcer`). Commands (:class:`bt.events.ConnectDevice` …,
:mod:`.commands`) act on a live system bus only with ``apply=True``; otherwise they say what they
would do. On a private bus made by routesim they always act.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable

from dbus_fast.aio import MessageBus

from routesim.bt.event_stream import EventStream
from routesim.events import AccessoryEvent, AccessoryInfo, NegotiationCommand
from routesim.bt.fake_bluez.privatebus import is_private_bus
from routesim.bt.bluez.announcer import Announcer
from routesim.bt.bluez.commands import CommandResult, Commands
from routesim.bt.bluez.connection import BluezConnection
from routesim.bt.bluez.constants import BLUEZ
from routesim.bt.bluez.device_identity import load_catalog
from routesim.bt.bluez.errors import NoAdapter, NoBluetoothd
from routesim.bt.bluez.object_tree import ObjectTree
from routesim.bt.bluez.audio_server import Card, PactlCards
from routesim.bt.bluez.constants import card_profile_to_profile
from routesim.bt.bluez.pipewire import CardTable
from routesim.bt.bluez.views import AdapterView, DeviceView, adapter_views, device_views

log = logging.getLogger("routesim.bt.bluez")

DEFAULT_SYSTEM_BUS = "unix:path=/var/run/dbus/system_bus_socket"


class BluezBackend(EventStream):
    """Accessory events from BlueZ, and negotiation commands carried out on it.

    ``bus_address``: a D-Bus address; default ``$DBUS_SYSTEM_BUS_ADDRESS`` or the system socket.
    ``on_event``: called synchronously with every event, in order (in addition to :meth:`events`).
    ``on_status``: called with ``(kind, text)`` once per happening on the bus (connection dropped and
    back, bluetoothd restarted, gone, back, not answering); the text is one line fit to print.
    ``answer_timeout``: how long a bluetoothd that owns ``org.bluez`` may take to list its objects
    before it counts as not answering. ``restart_grace``: how long devices stay announced after
    bluetoothd left the bus (a restart that kept the links announces nothing). ``follow_cards``: with
    ``pactl`` on PATH, follow the audio server's card changes (``bt.bluez.audio_server``).
    """

    def __init__(
        self,
        bus_address: str | None = None,
        *,
        catalog: Any = None,
        clock: Any,
        on_event: Callable[[AccessoryEvent], None] | None = None,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.05, 5.0),
        call_timeout: float = 30.0,
        pactl: str | None = "pactl",
        degrade_grace: float = 0.05,
        on_status: Callable[[str, str], None] | None = None,
        answer_timeout: float = 3.0,
        restart_grace: float = 2.0,
        follow_cards: bool = True,
    ):
        self.bus_address = bus_address or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or DEFAULT_SYSTEM_BUS
        self.live = not is_private_bus(self.bus_address)
        self.catalog = catalog if catalog is not None else load_catalog()
        self.clock = clock  # the caller's clock (routes.clock): bt/ does not reach up into routes/
        self.reconnect = reconnect
        self.backoff = backoff
        self.call_timeout = call_timeout
        self.pactl = pactl
        self.degrade_grace = degrade_grace
        self.on_status = on_status
        self.answer_timeout = answer_timeout
        self.restart_grace = restart_grace
        self.follow_cards = follow_cards
        self._follower: PactlCards | None = None
        EventStream.__init__(self, on_event)
        # the parts read the settings above from self at each use
        self._tree = ObjectTree()
        self._cards = CardTable()
        self._announcer = Announcer(self._tree, self._cards, self, self._emit)
        self._connection = BluezConnection(self._tree, self._cards, self._announcer, self)
        self._commands = Commands(self._tree, self._cards, self._announcer, self._connection, self)

    # -- public: lifecycle ---------------------------------------------------------------------------

    @property
    def follows_audio_server(self) -> bool:
        """Card profiles come from an audio server that answers (pactl): then a profile event is the
        card's truth. Without one, only BlueZ's A2DP transport speaks, and its absence does not say
        that no link is up (HFP has no transport object here)."""
        return self._follower is not None and self._follower.ready

    async def start(self, *, require_bluetoothd: bool = True, require_adapter: bool = False) -> "BluezBackend":
        """Connect, subscribe, read the tree. Raises :class:`BluezError` subclasses with one-line
        messages: no bus, no permission, no bluetoothd (``require_bluetoothd``), no adapter
        (``require_adapter``)."""
        await self._connection.open()
        if require_bluetoothd and self._connection.owner is None:
            await self.stop()
            raise NoBluetoothd(f"bluetoothd is not running: nobody owns {BLUEZ} on {self.bus_address}")
        if require_adapter and not self.adapters():
            await self.stop()
            raise NoAdapter("no Bluetooth adapter: BlueZ lists no org.bluez.Adapter1 (is the controller present and not rfkill-blocked?)")
        if self.reconnect:
            self._connection.supervise()
        if self.follow_cards and PactlCards.available(self.pactl):
            # the audio server's own switches (WirePlumber's, a user's pactl) become ProfileChanged events
            self._follower = PactlCards(self.pactl, self.clock, on_change=self._card_changed)  # type: ignore[arg-type]
            self._follower.follow()
        return self

    def _card_changed(self, card: Card) -> None:
        active = card.active or "off"
        kind = card_profile_to_profile(active)
        base = {"a2dp": "a2dp-sink", "hfp": "headset-head-unit"}.get(kind or "")
        codec = active[len(base) + 1:] if base and active.startswith(base + "-") else ""
        address = self._cards.note(card.name, active, codec)
        if address is not None:
            self._announcer.reconcile_address(address)

    def report_status(self, kind: str, text: str) -> None:
        if self.on_status is None:
            log.warning("%s", text)
            return
        log.info("%s", text)
        if self.on_status is not None:
            try:
                self.on_status(kind, text)
            except Exception:  # a broken printer must not take the connection down
                log.exception("status listener failed")

    async def stop(self) -> None:
        follower, self._follower = self._follower, None
        if follower is not None:
            await follower.stop()
        self._announcer.cancel_timers()
        await self._connection.close()
        self._end_stream()

    async def __aenter__(self) -> "BluezBackend":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


    @property
    def connected(self) -> bool:
        return self._bus is not None and self._bus.connected

    @property
    def bluetoothd_running(self) -> bool:
        return self._connection.owner is not None

    @property
    def reconnects(self) -> int:
        return self._connection.reconnects

    @reconnects.setter
    def reconnects(self, value: int) -> None:
        self._connection.reconnects = value

    @property
    def resyncs(self) -> int:
        return self._connection.resyncs

    @resyncs.setter
    def resyncs(self, value: int) -> None:
        self._connection.resyncs = value

    @property
    def _bus(self) -> MessageBus | None:
        # tests cut the connection's socket through it
        return self._connection.bus

    # -- public: views -------------------------------------------------------------------------------
    def adapters(self) -> list[AdapterView]:
        return adapter_views(self._tree)

    def devices(self) -> list[DeviceView]:
        return device_views(self._tree, self._cards, self.catalog)

    def announced(self) -> dict[str, AccessoryInfo]:
        return {k: a.info for k, a in self._announcer.announced.items()}

    # -- public: commands ------------------------------------------------------------------------------
    async def execute(self, command: NegotiationCommand, *, apply: bool = False, dry_run: bool = False) -> CommandResult:
        """Carry out a negotiation command. On a live bus a change happens only with ``apply=True``;
        without it (or with ``dry_run``, on any bus) the result says what would happen (``done=False``,
        ``error=None``)."""
        return await self._commands.execute(command, (apply or not self.live) and not dry_run)

    async def connect_profile(self, key: str, profile: str, *, apply: bool = False) -> CommandResult:
        return await self._commands.profile_call(key, profile, True, apply or not self.live)

    async def disconnect_profile(self, key: str, profile: str, *, apply: bool = False) -> CommandResult:
        return await self._commands.profile_call(key, profile, False, apply or not self.live)

    def previous_alias(self, key: str) -> str | None:
        """The alias a device had before routesim first renamed it ("" = it followed its own name)."""
        return self._commands.previous_alias(key)

