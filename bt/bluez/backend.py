"""Real devices through BlueZ: an asyncio client of ``org.bluez`` on the system bus (dbus-fast).

It mirrors BlueZ's object tree (``GetManagedObjects`` once, then ``InterfacesAdded``/``Removed`` and
``PropertiesChanged``), validates every value (:mod:`bt.bluez.values`), and turns the tree into
:mod:`bt.events` events by *diffing* what it has announced against what the tree now says. Because of
the diff, a resync (bluetoothd came back, the bus connection was re-established) announces only real
changes: no duplicated ``Connected``, no lost ``Disconnected``.

All incoming messages are handled synchronously in wire order by one handler, including the reply to
``GetManagedObjects`` (matched by serial), so a signal that arrives right after the snapshot is applied
on top of it, never overwritten by it.

Commands (:class:`bt.events.ConnectDevice` …) act on a live system bus only with ``apply=True``;
otherwise they say what they would do. On a private bus made by routesim they always act.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterable

from dbus_fast import BusType, DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.errors import AuthError, InvalidAddressError

from ..events import (
    AccessoryEvent,
    AccessoryInfo,
    BatteryChanged,
    Connected,
    ConnectDevice,
    Disconnected,
    DisconnectDevice,
    NegotiationCommand,
    ProfileChanged,
    Renamed,
    RenameDevice,
    SwitchProfile,
)
from ..fake_bluez.privatebus import is_private_bus
from .constants import (
    A2DP_CODEC_BYTES,
    A2DP_SINK,
    ADAPTER,
    AUDIO_UUIDS,
    BATTERY,
    BLUEZ,
    CARD_PROFILE_A2DP,
    CARD_PROFILE_HFP,
    CARD_PROFILE_OFF,
    DBUS,
    DEVICE,
    FAKE_PIPEWIRE,
    FAKE_PIPEWIRE_IFACE,
    FAKE_PIPEWIRE_PATH,
    HFP_HF,
    OBJECT_MANAGER,
    PROPERTIES,
    TRANSPORT,
    VENDOR_CODEC,
    VENDOR_CODECS,
    card_name,
    card_profile_to_profile,
)
from .values import ADDRESS_RE, SCHEMA, clean_properties, firmware_from_modalias

log = logging.getLogger("bt.bluez")

DEFAULT_SYSTEM_BUS = "unix:path=/var/run/dbus/system_bus_socket"


# --------------------------------------------------------------------------------------------------
# Errors with one-line messages, for the CLI
# --------------------------------------------------------------------------------------------------
class BluezError(RuntimeError):
    """A problem reaching BlueZ, with a message fit for one line of output."""


class NoBus(BluezError):
    pass


class NoPermission(BluezError):
    pass


class NoBluetoothd(BluezError):
    pass


class NoAdapter(BluezError):
    pass


class NotConnected(BluezError):
    pass


@dataclass(frozen=True)
class CommandResult:
    """What :meth:`BluezBackend.execute` did. ``done`` is False for "would …" (no consent on a live
    bus) and for failures (``error`` set). ``undo`` is the command that reverses a done change."""

    command: Any
    done: bool
    description: str
    error: str | None = None
    undo: NegotiationCommand | None = None

    def __str__(self) -> str:
        return self.description if self.error is None else f"{self.description}: {self.error}"


@dataclass
class DeviceView:
    """A device as ``routesim devices`` lists it."""

    path: str
    address: str
    name: str
    remote_name: str | None
    model_id: str
    modalias: str | None
    firmware: str | None
    profiles: tuple[str, ...]
    connected: bool
    paired: bool
    battery: int | None
    transport: str | None  # "aac active" …
    card_profile: str | None
    adapter: str | None


@dataclass
class AdapterView:
    path: str
    address: str | None
    name: str | None
    powered: bool | None
    discovering: bool | None


@dataclass
class _Announced:
    info: AccessoryInfo
    battery: int | None = None
    profile: tuple[str, str | None] | None = None


# --------------------------------------------------------------------------------------------------
class _GenericCatalog:
    """Used only when ``profiles.catalog`` cannot be loaded: generic ids from the UUIDs (spec ids)."""

    def from_modalias(self, text: str) -> Any:
        return None

    def generic_for_uuids(self, uuids: Iterable[str]) -> Any:
        u = set(uuids)
        a2dp, hfp = A2DP_SINK in u, bool(u & (AUDIO_UUIDS - {A2DP_SINK}))
        ident = "generic-headset" if a2dp and hfp else "generic-speaker" if a2dp else "generic-hfp-only"
        return type("GenericModel", (), {"id": ident})()


def _load_catalog() -> Any:
    try:
        from profiles.catalog import default_catalog

        return default_catalog()
    except Exception as exc:  # the catalog is data from outside; never let it stop live mode
        log.warning("model catalog unavailable (%s); devices get generic models", exc)
        return _GenericCatalog()


def transport_codec(props: dict[str, Any]) -> str | None:
    codec = props.get("Codec")
    if codec is None:
        return None
    if codec == VENDOR_CODEC:
        conf = props.get("Configuration") or b""
        if len(conf) >= 6:
            vendor = int.from_bytes(conf[0:4], "little")
            cid = int.from_bytes(conf[4:6], "little")
            return VENDOR_CODECS.get((vendor, cid), f"vendor-{vendor:04x}-{cid:04x}")
        return "vendor"
    return A2DP_CODEC_BYTES.get(codec, f"codec-{codec:#04x}")


def _pw_codec(name: str | None) -> str | None:
    """PipeWire codec names use underscores (``lc3_a127``); ours use hyphens (profiles.codecs)."""
    return name.replace("_", "-") if name else None


class BluezBackend:
    """Accessory events from BlueZ, and negotiation commands carried out on it.

    ``bus_address``: a D-Bus address; default ``$DBUS_SYSTEM_BUS_ADDRESS`` or the system socket.
    ``on_event``: called synchronously with every event, in order (in addition to :meth:`events`).
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
    ):
        self.bus_address = bus_address or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or DEFAULT_SYSTEM_BUS
        self.live = not is_private_bus(self.bus_address)
        self.catalog = catalog if catalog is not None else _load_catalog()
        self.clock = clock  # the caller's clock (routes.clock): bt/ does not reach up into routes/
        self.reconnect = reconnect
        self.backoff = backoff
        self.call_timeout = call_timeout
        self.pactl = pactl
        self._listeners: list[Callable[[AccessoryEvent], None]] = [on_event] if on_event else []
        self._queue: asyncio.Queue[AccessoryEvent | None] = asyncio.Queue()
        self._bus: MessageBus | None = None
        self._owner: str | None = None  # unique name owning org.bluez
        self._pw_owner: str | None = None  # owner of the fake PipeWire (private buses only)
        self._objects: dict[str, dict[str, dict[str, Any]]] = {}
        self._announced: dict[str, _Announced] = {}
        self._card: dict[str, tuple[str, str | None]] = {}  # address -> (profile kind, codec)
        self._card_names: dict[str, str] = {}  # address -> raw PipeWire card profile name
        self._old_alias: dict[str, str] = {}  # address -> alias before our first rename (for undo)
        self._pending: dict[int, Callable[[Message], None]] = {}  # reply serial -> in-order handler
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._connected_evt = asyncio.Event()
        self.reconnects = 0
        self.resyncs = 0
        self.degrade_grace = degrade_grace
        self._degrade_timers: dict[str, Any] = {}

    # -- public: lifecycle ---------------------------------------------------------------------------
    async def start(self, *, require_bluetoothd: bool = True, require_adapter: bool = False) -> "BluezBackend":
        """Connect, subscribe, read the tree. Raises :class:`BluezError` subclasses with one-line
        messages: no bus, no permission, no bluetoothd (``require_bluetoothd``), no adapter
        (``require_adapter``)."""
        self._stopping = False
        await self._connect_and_sync()
        if require_bluetoothd and self._owner is None:
            await self.stop()
            raise NoBluetoothd(f"bluetoothd is not running: nobody owns {BLUEZ} on {self.bus_address}")
        if require_adapter and not self.adapters():
            await self.stop()
            raise NoAdapter("no Bluetooth adapter: BlueZ lists no org.bluez.Adapter1 (is the controller present and not rfkill-blocked?)")
        if self.reconnect:
            self._supervisor = asyncio.ensure_future(self._supervise())
        return self

    async def stop(self) -> None:
        self._stopping = True
        for timer in self._degrade_timers.values():
            timer.cancel()
        self._degrade_timers.clear()
        if self._supervisor is not None:
            self._supervisor.cancel()
            try:
                await self._supervisor
            except (asyncio.CancelledError, Exception):
                pass
            self._supervisor = None
        bus, self._bus = self._bus, None
        if bus is not None and bus.connected:
            bus.disconnect()
            try:
                await asyncio.wait_for(asyncio.shield(bus.wait_for_disconnect()), 2)
            except (asyncio.CancelledError, Exception):
                pass
        self._queue.put_nowait(None)

    async def __aenter__(self) -> "BluezBackend":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def add_listener(self, callback: Callable[[AccessoryEvent], None]) -> None:
        self._listeners.append(callback)

    @property
    def queue(self) -> "asyncio.Queue[AccessoryEvent | None]":
        """Events in order; ``None`` after :meth:`stop`."""
        return self._queue

    async def events(self) -> AsyncIterator[AccessoryEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    @property
    def connected(self) -> bool:
        return self._bus is not None and self._bus.connected

    @property
    def bluetoothd_running(self) -> bool:
        return self._owner is not None

    # -- public: views -------------------------------------------------------------------------------
    def adapters(self) -> list[AdapterView]:
        out = []
        for path, ifaces in sorted(self._objects.items()):
            a = ifaces.get(ADAPTER)
            if a is not None:
                out.append(AdapterView(path, a.get("Address"), a.get("Alias") or a.get("Name"), a.get("Powered"), a.get("Discovering")))
        return out

    def devices(self) -> list[DeviceView]:
        out = []
        for path, ifaces in sorted(self._objects.items()):
            d = ifaces.get(DEVICE)
            if d is None or "Address" not in d:
                continue
            address = d["Address"].upper()
            uuids = d.get("UUIDs", [])
            profiles = tuple(p for p, u in (("a2dp", A2DP_SINK), ("hfp", HFP_HF)) if u in uuids)
            t = self._transport_of(path)
            card = self._card_names.get(address)
            out.append(
                DeviceView(
                    path=path,
                    address=address,
                    name=self._display_name(d),
                    remote_name=d.get("Name"),
                    model_id=self._model_id(d),
                    modalias=d.get("Modalias"),
                    firmware=firmware_from_modalias(d.get("Modalias")),
                    profiles=profiles,
                    connected=bool(d.get("Connected")),
                    paired=bool(d.get("Paired")),
                    battery=(ifaces.get(BATTERY) or {}).get("Percentage"),
                    transport=(f"{transport_codec(t)} {t.get('State', '?')}" if t else None),
                    card_profile=card,
                    adapter=d.get("Adapter"),
                )
            )
        return out

    def announced(self) -> dict[str, AccessoryInfo]:
        return {k: a.info for k, a in self._announced.items()}

    # -- connection, subscription, resync -------------------------------------------------------------
    async def _connect_and_sync(self) -> None:
        try:
            bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM)
        except InvalidAddressError as exc:
            raise NoBus(f"invalid D-Bus address {self.bus_address!r}: {exc}") from None
        try:
            await asyncio.wait_for(bus.connect(), 10)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NoBus(f"no D-Bus system bus at {self.bus_address} ({exc.strerror or exc})") from None
        except PermissionError:
            raise NoPermission(f"permission denied connecting to the system bus at {self.bus_address}") from None
        except AuthError as exc:
            raise NoPermission(f"the system bus at {self.bus_address} refused authentication: {exc}") from None
        except (asyncio.TimeoutError, OSError) as exc:
            raise NoBus(f"cannot connect to D-Bus at {self.bus_address}: {exc}") from None
        self._bus = bus
        self._pending.clear()
        bus.add_message_handler(self._handle)
        rules = [
            f"type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{BLUEZ}'",
            f"type='signal',sender='{BLUEZ}',interface='{OBJECT_MANAGER}',path='/'",
            f"type='signal',sender='{BLUEZ}',interface='{PROPERTIES}',member='PropertiesChanged',path_namespace='/org/bluez'",
        ]
        if not self.live:
            rules += [
                f"type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{FAKE_PIPEWIRE}'",
                f"type='signal',sender='{FAKE_PIPEWIRE}',interface='{FAKE_PIPEWIRE_IFACE}'",
            ]
        try:
            for rule in rules:
                await self._dbus_call(DBUS, "/org/freedesktop/DBus", DBUS, "AddMatch", "s", [rule])
        except DBusError as exc:
            raise NoPermission(f"the bus refused a signal subscription ({exc.type}: {exc.text})") from None
        await self._resync()
        self._connected_evt.set()

    async def _name_owner(self, name: str) -> str | None:
        try:
            reply = await self._dbus_call(DBUS, "/org/freedesktop/DBus", DBUS, "GetNameOwner", "s", [name])
        except DBusError:
            return None
        return reply.body[0] if reply.body and isinstance(reply.body[0], str) else None

    def _send_ordered(self, msg: Message, callback: Callable[[Message], None]) -> None:
        """Send a call whose reply is handled inside the message handler, in wire order with signals."""
        bus = self._bus
        assert bus is not None
        msg.serial = bus.next_serial()
        self._pending[msg.serial] = callback
        bus.send(msg).add_done_callback(_consume)

    async def _resync(self) -> None:
        """Ask who owns org.bluez, then read the whole tree. Both replies are applied where they fall
        among the signals, so nothing a signal says is overwritten by an older snapshot."""
        self.resyncs += 1
        if not self.live:
            self._pw_owner = await self._name_owner(FAKE_PIPEWIRE)
            if self._pw_owner:
                await self._read_cards()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def finish() -> None:
            if not done.done():
                done.set_result(None)

        def on_objects(reply: Message) -> None:
            if reply.message_type is MessageType.METHOD_RETURN and reply.signature == "a{oa{sa{sv}}}":
                if reply.sender == self._owner:
                    self._apply_snapshot(reply.body[0])
            else:
                log.warning("GetManagedObjects failed: %s", reply.body[0] if reply.body else reply.error_name)
            finish()

        def on_owner(reply: Message) -> None:
            owner = None
            if reply.message_type is MessageType.METHOD_RETURN and reply.signature == "s":
                owner = reply.body[0] or None
            self._set_owner(owner)
            if owner is None:
                finish()
                return
            self._send_ordered(
                Message(destination=BLUEZ, path="/", interface=OBJECT_MANAGER, member="GetManagedObjects"), on_objects
            )

        self._send_ordered(
            Message(destination=DBUS, path="/org/freedesktop/DBus", interface=DBUS, member="GetNameOwner",
                    signature="s", body=[BLUEZ]),
            on_owner,
        )
        bus = self._bus
        assert bus is not None
        gone = asyncio.ensure_future(asyncio.shield(bus.wait_for_disconnect()))
        gone.add_done_callback(_consume)
        try:
            await asyncio.wait([done, gone], timeout=self.call_timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not done.done():
            done.cancel()
            if bus.connected:
                log.warning("reading the BlueZ object tree timed out")
            else:
                raise NotConnected(f"lost the D-Bus connection to {self.bus_address} while reading BlueZ")

    async def _read_cards(self) -> None:
        try:
            reply = await self._dbus_call(FAKE_PIPEWIRE, FAKE_PIPEWIRE_PATH, FAKE_PIPEWIRE_IFACE, "ListCards", "", [])
        except DBusError as exc:
            log.warning("fake PipeWire ListCards failed: %s", exc)
            return
        if reply.signature != "a(sss)":
            return
        self._card.clear()
        self._card_names.clear()
        for card, profile, codec in reply.body[0]:
            self._note_card(card, profile, codec)

    def _note_card(self, card: str, profile: str, codec: str) -> str | None:
        kind = card_profile_to_profile(profile)
        if not card.startswith("bluez_card."):
            return None
        address = card[len("bluez_card."):].replace("_", ":").upper()
        if not ADDRESS_RE.match(address):
            return None
        self._card_names[address] = profile
        if kind is None:
            self._card.pop(address, None)
        else:
            self._card[address] = (kind, _pw_codec(codec) or None)
        return address

    async def _supervise(self) -> None:
        """Wait for the bus connection to drop; reconnect with exponential backoff and resync."""
        while not self._stopping:
            bus = self._bus
            if bus is None:
                return
            try:
                # shield: cancelling the supervisor must not cancel dbus-fast's own disconnect future
                await asyncio.shield(bus.wait_for_disconnect())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("bus connection lost: %s", exc)
            if self._stopping:
                return
            self._connected_evt.clear()
            log.warning("lost the D-Bus connection to %s; reconnecting", self.bus_address)
            delay, cap = self.backoff
            while not self._stopping:
                await self.clock.sleep(delay)
                try:
                    await self._connect_and_sync()
                    self.reconnects += 1
                    log.warning("reconnected to %s", self.bus_address)
                    break
                except BluezError as exc:
                    log.info("reconnect failed: %s", exc)
                    delay = min(cap, delay * 2)

    # -- message handling (synchronous, in wire order) --------------------------------------------------
    def _handle(self, msg: Message) -> bool | None:
        try:
            mtype = msg.message_type
            if mtype is MessageType.METHOD_RETURN or mtype is MessageType.ERROR:
                cb = self._pending.pop(msg.reply_serial, None)
                if cb is not None:
                    cb(msg)
                return None
            if mtype is not MessageType.SIGNAL:
                return None
            if msg.interface == DBUS and msg.member == "NameOwnerChanged" and msg.sender == DBUS:
                if msg.signature == "sss":
                    name, _old, new = msg.body
                    if name == BLUEZ:
                        self._on_bluez_owner(new or None)
                    elif name == FAKE_PIPEWIRE and not self.live:
                        self._pw_owner = new or None
                return None
            if msg.sender is not None and msg.sender == self._pw_owner and msg.interface == FAKE_PIPEWIRE_IFACE:
                if msg.member == "CardProfileChanged" and msg.signature == "sss":
                    address = self._note_card(*msg.body)
                    if address:
                        self._reconcile_address(address)
                return None
            if msg.sender is None or msg.sender != self._owner:
                return None
            if msg.interface == OBJECT_MANAGER and msg.path == "/":
                if msg.member == "InterfacesAdded":
                    if msg.signature != "oa{sa{sv}}":
                        log.warning("InterfacesAdded with signature %r ignored", msg.signature)
                        return None
                    self._interfaces_added(msg.body[0], msg.body[1])
                elif msg.member == "InterfacesRemoved":
                    if msg.signature != "oas":
                        log.warning("InterfacesRemoved with signature %r ignored", msg.signature)
                        return None
                    self._interfaces_removed(msg.body[0], msg.body[1])
            elif msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
                if msg.signature != "sa{sv}as":
                    log.warning("PropertiesChanged with signature %r on %s ignored", msg.signature, msg.path)
                    return None
                self._properties_changed(msg.path or "", *msg.body)
        except Exception:  # a bad message must never take the backend down
            log.exception("error handling %s %s.%s on %s", msg.message_type, msg.interface, msg.member, msg.path)
        return None

    def _on_bluez_owner(self, new: str | None) -> None:
        if new == self._owner:
            return
        if self._owner is not None:
            log.warning("bluetoothd left the bus; dropping its devices")
        self._set_owner(None)  # everything the old owner said is void
        if new is not None:
            log.warning("bluetoothd is back on the bus; resyncing")
            self._owner = new
            asyncio.ensure_future(self._resync_safely())

    async def _resync_safely(self) -> None:
        try:
            await self._resync()
        except Exception as exc:
            log.warning("resync failed: %s", exc)

    def _set_owner(self, owner: str | None) -> None:
        if owner != self._owner or owner is None:
            self._owner = owner
            if owner is None:
                self._objects.clear()
                self._card.clear()
                self._card_names.clear()
                self._reconcile_all()

    def _apply_snapshot(self, objects: Any) -> None:
        if not isinstance(objects, dict):
            return
        fresh: dict[str, dict[str, dict[str, Any]]] = {}
        for path, ifaces in objects.items():
            if not isinstance(path, str) or not path.startswith("/org/bluez") or not isinstance(ifaces, dict):
                continue
            for iface, props in ifaces.items():
                if iface in SCHEMA:
                    fresh.setdefault(path, {})[iface] = clean_properties(path, iface, props)
        self._objects = fresh
        self._reconcile_all()

    def _interfaces_added(self, path: str, ifaces: dict[str, Any]) -> None:
        if not path.startswith("/org/bluez"):
            return
        node = self._objects.setdefault(path, {})
        for iface, props in ifaces.items():
            if iface in SCHEMA:
                node[iface] = clean_properties(path, iface, props)
        if not node:
            del self._objects[path]
        self._reconcile_path(path)

    def _interfaces_removed(self, path: str, ifaces: list[str]) -> None:
        node = self._objects.get(path)
        if node is None:
            return
        removed = {i: node.pop(i) for i in ifaces if i in node}
        if not node:
            del self._objects[path]
        self._reconcile_path(path, removed)

    def _properties_changed(self, path: str, iface: str, changed: dict[str, Any], invalidated: list[str]) -> None:
        props = self._objects.get(path, {}).get(iface)
        if props is None:
            return  # BlueZ always announces an interface before changing it; a stray change means nothing
        props.update(clean_properties(path, iface, changed))
        for name in invalidated:
            props.pop(name, None)
        self._reconcile_path(path)

    # -- from the tree to events ----------------------------------------------------------------------
    def _device_path_for(self, path: str, removed: dict[str, dict[str, Any]] | None = None) -> str | None:
        node = self._objects.get(path, {})
        for source in (node, removed or {}):
            if TRANSPORT in source:
                dev = source[TRANSPORT].get("Device")
                if dev:
                    return dev
        if DEVICE in node or (removed and DEVICE in removed) or BATTERY in node or (removed and BATTERY in removed):
            return path
        # a transport/endpoint below a device path
        parts = path.split("/")
        for i in range(len(parts), 3, -1):
            candidate = "/".join(parts[:i])
            if candidate.rsplit("/", 1)[-1].startswith("dev_"):
                return candidate
        return None

    def _reconcile_path(self, path: str, removed: dict[str, dict[str, Any]] | None = None) -> None:
        dev_path = self._device_path_for(path, removed)
        if dev_path is None:
            return
        d = self._objects.get(dev_path, {}).get(DEVICE)
        address = (d or {}).get("Address")
        if address is None and removed and DEVICE in removed:
            address = removed[DEVICE].get("Address")
        if address is None:
            # a device whose Address is missing or malformed: find it among the announced by path
            for key, ann in self._announced.items():
                if _path_for_address(dev_path, key):
                    address = key
                    break
        if address is not None:
            self._reconcile_address(address.upper())

    def _reconcile_all(self) -> None:
        keys = set(self._announced)
        for ifaces in self._objects.values():
            d = ifaces.get(DEVICE)
            if d and "Address" in d:
                keys.add(d["Address"].upper())
        for key in sorted(keys):
            self._reconcile_address(key)

    def _find_device(self, address: str) -> tuple[str, dict[str, Any]] | None:
        for path, ifaces in self._objects.items():
            d = ifaces.get(DEVICE)
            if d is not None and d.get("Address", "").upper() == address:
                return path, d
        return None

    def _transport_of(self, dev_path: str) -> dict[str, Any] | None:
        best = None
        for path, ifaces in self._objects.items():
            t = ifaces.get(TRANSPORT)
            if t is not None and t.get("Device") == dev_path and path.startswith(dev_path + "/"):
                if best is None or path > best[0]:
                    best = (path, t)
        return best[1] if best else None

    def _model_id(self, d: dict[str, Any]) -> str:
        modalias = d.get("Modalias")
        try:
            if modalias:
                model = self.catalog.from_modalias(modalias)
                if model is not None:
                    return model.id
            uuids = d.get("UUIDs", [])
            if not AUDIO_UUIDS & set(uuids):
                return "unknown"  # not an audio device (a BLE advert, a keyboard …)
            return self.catalog.generic_for_uuids(uuids).id
        except Exception as exc:
            log.warning("catalog could not resolve %s (%s); using generic-headset", modalias, exc)
            return "generic-headset"

    @staticmethod
    def _display_name(d: dict[str, Any]) -> str:
        return d.get("Alias") or d.get("Name") or d.get("Address", "?").replace(":", "-")

    def _wanted(self, address: str) -> tuple[AccessoryInfo | None, int | None, tuple[str, str | None] | None]:
        found = self._find_device(address)
        if found is None:
            return None, None, None
        path, d = found
        if not d.get("Connected"):
            return None, None, None
        uuids = set(d.get("UUIDs", []))
        audio = bool(uuids & AUDIO_UUIDS)
        if not audio and not d.get("ServicesResolved"):
            return None, None, None
        if not audio:
            # services resolved, but nothing that carries audio: only a catalog match makes it ours
            try:
                known = d.get("Modalias") and self.catalog.from_modalias(d["Modalias"]) is not None
            except Exception:
                known = False
            if not known:
                return None, None, None
        info = AccessoryInfo(
            key=address,
            model_id=self._model_id(d),
            name=self._display_name(d),
            address=address,
            firmware=firmware_from_modalias(d.get("Modalias")),
        )
        battery = (self._objects.get(path, {}).get(BATTERY) or {}).get("Percentage")
        # PipeWire's card (when known) says which profile; for A2DP the transport says which codec.
        t = self._transport_of(path)
        profile: tuple[str, str | None] | None = self._card.get(address)
        if profile is None or profile[0] == "a2dp":
            profile = ("a2dp", transport_codec(t)) if t is not None else None
        return info, battery, profile

    def _reconcile_address(self, address: str, final: bool = False) -> None:
        info, battery, profile = self._wanted(address)
        ann = self._announced.get(address)
        if info is None:
            timer = self._degrade_timers.pop(address, None)
            if timer is not None:
                timer.cancel()
            if ann is not None:
                del self._announced[address]
                self._card.pop(address, None)
                self._card_names.pop(address, None)
                self._emit(Disconnected(address))
            return
        if ann is None:
            ann = self._announced[address] = _Announced(info)
            self._emit(Connected(info))
        elif info.name != ann.info.name:
            ann.info = info
            self._emit(Renamed(address, info.name))
        elif info != ann.info:
            log.info("%s: identity changed while connected (%s → %s); keeping the first", address, ann.info, info)
        # Losses (battery reports stop, the A2DP transport goes) usually come just before the link
        # drops; they are held for ``degrade_grace`` so a disconnect is one Disconnected, not three events.
        held = False
        if battery != ann.battery:
            if battery is None and not final:
                held = True
            else:
                ann.battery = battery
                self._emit(BatteryChanged(address, left=battery))
        if profile is None and ann.profile is not None and ann.profile[0] == "a2dp":
            if final:
                profile = ("none", None)
            else:
                held = True
        if profile is not None and profile != ann.profile:
            ann.profile = profile
            self._emit(ProfileChanged(address, profile[0], profile[1]))  # type: ignore[arg-type]
        if held and address not in self._degrade_timers:
            self._degrade_timers[address] = self.clock.call_later(self.degrade_grace, lambda: self._flush(address))

    def _flush(self, address: str) -> None:
        self._degrade_timers.pop(address, None)
        self._reconcile_address(address, final=True)

    def _emit(self, event: AccessoryEvent) -> None:
        log.debug("event %s", event)
        self._queue.put_nowait(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", event)

    # -- commands --------------------------------------------------------------------------------------
    async def execute(self, command: NegotiationCommand, *, apply: bool = False) -> CommandResult:
        """Carry out a negotiation command. On a live bus a change happens only with ``apply=True``;
        without it the result says what would happen (``done=False``, ``error=None``)."""
        act = apply or not self.live
        if isinstance(command, RenameDevice):
            return await self._rename(command, act)
        if isinstance(command, SwitchProfile):
            return await self._switch_profile(command, act)
        if isinstance(command, (ConnectDevice, DisconnectDevice)):
            verb = "connect" if isinstance(command, ConnectDevice) else "disconnect"
            found = self._find_device(command.key.upper())
            if found is None:
                return CommandResult(command, False, f"{verb} {command.key}", error="no such device on org.bluez")
            path, d = found
            what = f"{verb} {command.key} ({self._display_name(d)})"
            if not act:
                return CommandResult(command, False, f"would {what} (pass apply=True / --apply to do it)")
            try:
                await self._device_call(path, "Connect" if verb == "connect" else "Disconnect", "", [])
            except (DBusError, BluezError, asyncio.TimeoutError) as exc:
                return CommandResult(command, False, what, error=_err(exc))
            undo = DisconnectDevice(command.key) if verb == "connect" else ConnectDevice(command.key)
            return CommandResult(command, True, what, undo=undo)
        return CommandResult(command, False, repr(command), error="unsupported command")

    async def connect_profile(self, key: str, profile: str, *, apply: bool = False) -> CommandResult:
        return await self._profile_call(key, profile, True, apply)

    async def disconnect_profile(self, key: str, profile: str, *, apply: bool = False) -> CommandResult:
        return await self._profile_call(key, profile, False, apply)

    async def _profile_call(self, key: str, profile: str, up: bool, apply: bool) -> CommandResult:
        uuid = {"a2dp": A2DP_SINK, "hfp": HFP_HF}.get(profile, profile)
        verb = "connect" if up else "disconnect"
        found = self._find_device(key.upper())
        if found is None:
            return CommandResult((verb, key, profile), False, f"{verb} {profile} on {key}", error="no such device on org.bluez")
        path, d = found
        what = f"{verb} {profile} ({uuid}) on {key} ({self._display_name(d)})"
        if not (apply or not self.live):
            return CommandResult((verb, key, profile), False, f"would {what} (pass apply=True / --apply to do it)")
        try:
            await self._device_call(path, "ConnectProfile" if up else "DisconnectProfile", "s", [uuid])
        except (DBusError, BluezError, asyncio.TimeoutError) as exc:
            return CommandResult((verb, key, profile), False, what, error=_err(exc))
        return CommandResult((verb, key, profile), True, what)

    async def _rename(self, command: RenameDevice, act: bool) -> CommandResult:
        address = command.key.upper()
        found = self._find_device(address)
        if found is None:
            return CommandResult(command, False, f"rename {command.key}", error="no such device on org.bluez")
        path, d = found
        current = self._display_name(d)
        remote = d.get("Name")
        if command.name:
            what = f'rename {address} from "{current}" to "{command.name}" (BlueZ Alias, local to this host)'
        else:
            what = f'restore {address}\'s own name "{remote or address.replace(":", "-")}" (clear the BlueZ Alias)'
        if not act:
            return CommandResult(command, False, f"would {what} (pass apply=True / --apply to do it)")
        # What undoes it: the alias we found before our first rename; an alias equal to the remote
        # name is taken as "following Name" and undone with "".
        if address not in self._old_alias:
            self._old_alias[address] = "" if (remote is not None and current == remote) or (remote is None and current == address.replace(":", "-")) else current
        undo = RenameDevice(command.key, self._old_alias[address])
        try:
            await self._dbus_call(BLUEZ, path, PROPERTIES, "Set", "ssv", [DEVICE, "Alias", Variant("s", command.name)])
        except (DBusError, BluezError, asyncio.TimeoutError) as exc:
            return CommandResult(command, False, what, error=_err(exc))
        if undo.name == command.name:
            self._old_alias.pop(address, None)  # back where we started
        return CommandResult(command, True, what, undo=undo)

    def previous_alias(self, key: str) -> str | None:
        """The alias a device had before routesim first renamed it ("" = it followed its own name)."""
        return self._old_alias.get(key.upper())

    async def _switch_profile(self, command: SwitchProfile, act: bool) -> CommandResult:
        address = command.key.upper()
        card = card_name(address)
        base = {"a2dp": CARD_PROFILE_A2DP, "hfp": CARD_PROFILE_HFP, "none": CARD_PROFILE_OFF}.get(command.profile)
        if base is None:
            return CommandResult(command, False, f"switch {address}", error=f"unknown profile {command.profile!r}")
        profile = base
        if command.codec and command.profile != "none":
            profile = f"{base}-{command.codec.replace('-', '_')}"
        what = f"switch {address} to {command.profile}{' (' + command.codec + ')' if command.codec else ''}: PipeWire card {card} profile {profile}"
        carrier = await self._profile_carrier(card)
        if carrier is None:
            return CommandResult(
                command, False, what,
                error=(
                    "nothing can carry this out: audio profiles (A2DP vs HFP) are PipeWire's job, not BlueZ's "
                    f"(BlueZ has no HFP transport), and no PipeWire card {card} was found "
                    "(pactl missing, PipeWire not running, or the device is not connected)"
                ),
            )
        if not act:
            return CommandResult(command, False, f"would {what} via {carrier} (pass apply=True / --apply to do it)")
        prev = self._card_names.get(address)
        undo = SwitchProfile(command.key, card_profile_to_profile(prev) or "a2dp") if prev else None  # type: ignore[arg-type]
        try:
            if carrier == "fake-pipewire":
                await self._dbus_call(FAKE_PIPEWIRE, FAKE_PIPEWIRE_PATH, FAKE_PIPEWIRE_IFACE, "SetCardProfile", "ss", [card, profile])
            else:
                await self._run_pactl("set-card-profile", card, profile)
                self._note_card(card, profile, command.codec or "")
                self._reconcile_address(address)
        except (DBusError, BluezError, asyncio.TimeoutError) as exc:
            return CommandResult(command, False, what, error=_err(exc))
        return CommandResult(command, True, what, undo=undo)

    async def _profile_carrier(self, card: str) -> str | None:
        if self.pactl and shutil.which(self.pactl):
            try:
                out = await self._run_pactl("list", "cards", "short")
                if any(line.split("\t")[1:2] == [card] for line in out.splitlines()):
                    return "pactl"
            except BluezError as exc:
                log.info("pactl unusable: %s", exc)
        if not self.live and self._pw_owner is not None:
            return "fake-pipewire"
        return None

    async def _run_pactl(self, *args: str) -> str:
        assert self.pactl
        try:
            proc = await asyncio.create_subprocess_exec(
                self.pactl, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(proc.communicate(), 10)
        except (OSError, asyncio.TimeoutError) as exc:
            raise BluezError(f"pactl {' '.join(args)} failed: {exc}") from None
        if proc.returncode != 0:
            raise BluezError(f"pactl {' '.join(args)}: {err.decode(errors='replace').strip() or proc.returncode}")
        return out.decode(errors="replace")

    # -- D-Bus calls -------------------------------------------------------------------------------------
    async def _device_call(self, path: str, member: str, signature: str, body: list[Any]) -> Message:
        return await self._dbus_call(BLUEZ, path, DEVICE, member, signature, body)

    async def _dbus_call(self, dest: str, path: str, iface: str, member: str, signature: str, body: list[Any]) -> Message:
        bus = self._bus
        if bus is None or not bus.connected:
            raise NotConnected(f"not connected to D-Bus at {self.bus_address}")
        msg = Message(destination=dest, path=path, interface=iface, member=member, signature=signature, body=body)
        reply = await asyncio.wait_for(bus.call(msg), self.call_timeout)
        if reply.message_type is MessageType.ERROR:
            raise DBusError(reply.error_name or "org.freedesktop.DBus.Error.Failed", reply.body[0] if reply.body else "")
        return reply


def _path_for_address(path: str, address: str) -> bool:
    return path.rsplit("/", 1)[-1] == "dev_" + address.replace(":", "_")


def _consume(fut: "asyncio.Future[Any]") -> None:
    if not fut.cancelled():
        fut.exception()


def _err(exc: BaseException) -> str:
    if isinstance(exc, DBusError):
        return f"{exc.type}: {exc.text}" if exc.text else exc.type
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return str(exc)
