"""A faithful fake ``org.bluez`` for a private bus.

What it reproduces (BlueZ-ObjectManager, BlueZ-Device1, BlueZ-Adapter1 in docs/sources.md): ObjectManager at ``/`` with ``InterfacesAdded``/
``InterfacesRemoved``; ``PropertiesChanged`` from the object's path with only changed keys (removed
optional properties in the invalidated list); ``Properties.Get/GetAll/Set`` with read-only checks and
BlueZ's error names; ``Introspect``; ``Adapter1`` (discovery sessions per client, filters,
``RemoveDevice``); ``Device1`` with ``Name``/``Alias`` semantics (``Alias=""`` restores ``Name``, with
neither the address with dashes), ``Connect``/``Disconnect``/``ConnectProfile``/``DisconnectProfile``;
remote SEP ``MediaEndpoint1`` and ``MediaTransport1`` for A2DP only (never for HFP); ``Battery1`` only
while HFP is up (it comes from PipeWire's HFP backend on real systems); ``ManufacturerData`` ``a{qv}``
with ``ay`` values. A bluetoothd restart drops the connection (the name goes away with it), comes back
on a new connection and re-announces its objects.

The parts: the tree and its signals (:mod:`.tree`), method calls (:mod:`.bluez_methods`), the PipeWire
stand-in (:mod:`.pipewire`), scripted controls (:mod:`.controls`). This module holds the state, the
lifecycle and the link transitions they share; every change goes out through :meth:`FakeBluez._sync`.
"""
from __future__ import annotations

import asyncio
import socket
from typing import Any, Callable

from dbus_fast import BusType, Message, NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus

from routesim.bt.bluez.constants import BLUEZ, CARD_PROFILE_A2DP, CARD_PROFILE_HFP, DEVICE, FAKE_PIPEWIRE
from routesim.bt.dbus_util import consume_result, disconnect

from routesim.bt.fake_bluez.bluez_methods import BluezMethods
from routesim.bt.fake_bluez.controls import ScriptedControls
from routesim.bt.fake_bluez.device import FakeDevice
from routesim.bt.fake_bluez.interfaces import Tree
from routesim.bt.fake_bluez.media import AudioServerHost
from routesim.bt.fake_bluez.monitors import AdvertMonitors
from routesim.bt.fake_bluez.pipewire import PipeWireStandIn
from routesim.bt.fake_bluez.privatebus import require_private_bus
from routesim.bt.fake_bluez.tree import copy_tree, desired_tree, tree_changes


class FakeBluez(ScriptedControls, BluezMethods, AudioServerHost, PipeWireStandIn, AdvertMonitors):
    """The fake bluetoothd. ``await start()`` on a private bus address, drive it with the methods below,
    ``await stop()``. Every driver method takes effect on the bus before it returns; once an audio server
    has registered (:mod:`.media`), what it does with the links (configure, acquire, the HFP exchange)
    follows asynchronously: :meth:`wait_audio` waits for it."""

    def __init__(
        self,
        address: str,
        *,
        adapter: str = "hci0",
        adapter_address: str = "00:1A:7D:DA:71:13",
        adapter_name: str = "routesim",
        pipewire: bool = True,
        connect_delay: float = 0.0,
        clock: Any,
    ):
        self.bus_address = require_private_bus(address, "the fake org.bluez")
        self.adapter_path = f"/org/bluez/{adapter}"
        self.adapter_address = adapter_address
        self.adapter_name = adapter_name
        self.powered = True
        self.pipewire = pipewire
        self.connect_delay = connect_delay
        self.devices: dict[str, FakeDevice] = {}  # address -> device
        self.raw_objects: Tree = {}  # injected objects (malformed on purpose, or not)
        self.adapter_overrides: dict[str, Variant | None] = {}
        self.discovery_sessions: set[str] = set()
        self.discovery_filters: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str, tuple[Any, ...]]] = []  # (path, interface, member, args)
        self.on_call: Callable[[str, str, str, tuple[Any, ...]], None] | None = None
        self._bus: MessageBus | None = None
        self._tree: Tree = {}  # what clients currently see
        self._online = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._clock = clock  # the caller's (routes.clock): bt/ does not reach up into routes/
        self._init_audio_host()

    # -- lifecycle -----------------------------------------------------------------------------------
    @property
    def unique_name(self) -> str | None:
        return self._bus.unique_name if self._bus else None

    async def start(self) -> "FakeBluez":
        # unix fds pass both ways with an audio server (the Acquire reply, the NewConnection argument)
        bus = await MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM, negotiate_unix_fd=True).connect()
        # dbus-fast treats EAGAIN on send as fatal: a large send buffer keeps bursts from killing us.
        sock = getattr(bus, "_sock", None)
        if isinstance(sock, socket.socket):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            except OSError:  # pragma: no cover - best effort
                pass
        bus.add_message_handler(self._handle)
        reply = await bus.request_name(BLUEZ, NameFlag.DO_NOT_QUEUE)
        if reply is not RequestNameReply.PRIMARY_OWNER:
            bus.disconnect()
            raise RuntimeError(f"could not own {BLUEZ} on {self.bus_address}: {reply.name} (another one running?)")
        if self.pipewire:
            reply = await bus.request_name(FAKE_PIPEWIRE, NameFlag.DO_NOT_QUEUE)
            if reply is not RequestNameReply.PRIMARY_OWNER:
                bus.disconnect()
                raise RuntimeError(f"could not own {FAKE_PIPEWIRE}: {reply.name}")
        # bluetoothd drops an audio server's registrations when it leaves the bus
        await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                               interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                               body=["type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'"]))
        self._bus = bus
        self._tree = {}
        self._online = True
        self._sync()  # announces adapter and devices with InterfacesAdded, as bluetoothd does at start-up
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._online = False  # clients see the name go, not each link (as when bluetoothd exits)
        self._forget_audio_server()  # registrations, sockets and HFP links belong to this process
        bus, self._bus = self._bus, None
        self._tree = {}
        await disconnect(bus)

    async def restart(self, *, down_for: float = 0.0, keep_connections: bool = False) -> None:
        """bluetoothd restarts: the name goes away with its connection (links drop unless
        ``keep_connections``: devices that reconnect at once), then a new process takes the name and
        re-announces every object."""
        await self.stop()
        self.discovery_sessions.clear()
        self.discovery_filters.clear()
        if not keep_connections:
            for dev in self.devices.values():
                self._drop_link(dev)
        if down_for:
            await self._clock.sleep(down_for)
        await self.start()

    async def __aenter__(self) -> "FakeBluez":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- devices and their links ---------------------------------------------------------------------
    def device(self, address: str) -> FakeDevice:
        try:
            return self.devices[address.upper()]
        except KeyError:
            raise KeyError(f"no fake device {address}") from None

    def _device_at(self, path: str) -> FakeDevice | None:
        return next((d for d in self.devices.values() if d.path == path), None)

    def _baseband_up(self, dev: FakeDevice) -> None:
        # bluetoothd announces Connected and ServicesResolved in separate signals
        dev.connected = True
        self._sync()
        dev.services_resolved = True
        self._sync()

    def _link_up(self, dev: FakeDevice, hfp: bool = False) -> None:
        if dev.connected:
            return
        acc = dev.accessory
        self._baseband_up(dev)
        if self.audio_server:
            self._spawn(self._bring_up(dev))  # the audio server configures A2DP and takes the HFP link
            return
        if acc.has_a2dp:
            dev.open_transport()
        if acc.has_hfp:
            dev.hfp_up = True  # PipeWire's native backend brings up the HFP service-level link
        self._sync()
        self._set_card(dev, CARD_PROFILE_HFP if (hfp and acc.has_hfp) or not acc.has_a2dp else CARD_PROFILE_A2DP)

    def _drop_link(self, dev: FakeDevice, reason: str = "org.bluez.Reason.Remote") -> None:
        # as on a real link loss, the profiles go before the link (what the backend's loss grace absorbs)
        if not dev.connected:
            return
        self._drop_audio_links(dev)
        dev.a2dp_up = False
        dev.hfp_up = False
        self._sync()
        dev.services_resolved = False
        self._sync()
        dev.connected = False
        self._sync()
        dev.card_profile = None
        if self._online:
            self._emit(Message.new_signal(dev.path, DEVICE, "Disconnected", "ss", [reason, "disconnected"]))

    # -- out to the bus ----------------------------------------------------------------------------------
    def _sync(self) -> None:
        """Emit the signals that take clients from the tree they have seen to the one the state describes."""
        new = desired_tree(self) if self._online else {}
        for msg in tree_changes(self._tree, new):
            self._emit(msg)
        self._tree = copy_tree(new)

    def _emit(self, msg: Message, after: Callable[[], None] | None = None) -> None:
        """Send ``msg``; ``after()`` once it is written (closing a file descriptor it carries)."""
        if self._bus is None or not self._online:
            if after is not None:
                after()
            return
        fut = self._bus.send(msg)
        fut.add_done_callback(consume_result)
        if after is not None:
            fut.add_done_callback(lambda _f: after())
