"""A faithful fake ``org.bluez`` for a private bus.

One low-level message handler serves a data-driven object tree (path → interface → property → Variant)
computed from the fake's state, instead of dbus-fast's ``ServiceInterface`` export: that export emits
``InterfacesAdded`` from the object's own path (BlueZ emits it from ``/``), its ``GetManagedObjects``
omits the queried path, and its typed properties cannot be made to carry the wrongly typed values that
the backend must survive (testing-without-hardware.md, "What a faithful fake must do").

What it reproduces (bluez-and-airpods §1): ObjectManager at ``/`` with ``InterfacesAdded``/
``InterfacesRemoved``; ``PropertiesChanged`` from the object's path with only changed keys (removed
optional properties in the invalidated list); ``Properties.Get/GetAll/Set`` with read-only checks and
BlueZ's error names; ``Introspect``; ``Adapter1`` (discovery sessions per client, filters,
``RemoveDevice``); ``Device1`` with ``Name``/``Alias`` semantics (``Alias=""`` restores ``Name``, with
neither the address with dashes), ``Connect``/``Disconnect``/``ConnectProfile``/``DisconnectProfile``;
remote SEP ``MediaEndpoint1`` and ``MediaTransport1`` for A2DP only (never for HFP); ``Battery1`` only
while HFP is up (it comes from PipeWire's HFP backend on real systems); ``ManufacturerData`` ``a{qv}``
with ``ay`` values. A bluetoothd restart drops the connection (the name goes away with it), comes back
on a new connection and re-announces its objects.

Card profiles (A2DP vs HFP) are PipeWire's business on Linux, not BlueZ's: the fake exposes a stand-in
``org.routesim.FakePipeWire`` service (a separate well-known name) so a backend can switch profiles on
the fake bus the way it would with ``pactl`` on a real one.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from dbus_fast import BusType, DBusError, Message, MessageType, NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus

from bt.bluez.constants import (
    A2DP_CODEC_IDS,
    A2DP_SINK,
    A2DP_SOURCE,
    ADAPTER,
    ADVANCED_AUDIO,
    APPLE_AAP,
    AVRCP,
    AVRCP_TARGET,
    BATTERY,
    BLUEZ,
    CARD_PROFILE_A2DP,
    CARD_PROFILE_HFP,
    DEVICE,
    ENDPOINT,
    FAKE_PIPEWIRE,
    FAKE_PIPEWIRE_IFACE,
    FAKE_PIPEWIRE_PATH,
    HFP_HF,
    HFP_UUIDS,
    INTROSPECTABLE,
    OBJECT_MANAGER,
    PNP_INFO,
    PROPERTIES,
    SDP_SERVER,
    TRANSPORT,
    VENDOR_CODEC,
    VENDOR_CODECS,
    card_name,
    card_profile_to_profile,
    device_path,
)

from .privatebus import require_private_bus

log = logging.getLogger("bt.fake_bluez")

ERR = "org.bluez.Error."
Tree = dict[str, dict[str, dict[str, Variant]]]

_METHODS: dict[str, list[tuple[str, str, str]]] = {
    OBJECT_MANAGER: [("GetManagedObjects", "", "a{oa{sa{sv}}}")],
    ADAPTER: [
        ("StartDiscovery", "", ""),
        ("StopDiscovery", "", ""),
        ("SetDiscoveryFilter", "a{sv}", ""),
        ("GetDiscoveryFilters", "", "as"),
        ("RemoveDevice", "o", ""),
    ],
    DEVICE: [
        ("Connect", "", ""),
        ("Disconnect", "", ""),
        ("ConnectProfile", "s", ""),
        ("DisconnectProfile", "s", ""),
        ("Pair", "", ""),
        ("CancelPairing", "", ""),
    ],
    TRANSPORT: [("Acquire", "", "hqq"), ("TryAcquire", "", "hqq"), ("Release", "", "")],
    ENDPOINT: [],
    BATTERY: [],
    FAKE_PIPEWIRE_IFACE: [("ListCards", "", "a(sss)"), ("SetCardProfile", "ss", "")],
}
_SIGNALS = {
    OBJECT_MANAGER: [("InterfacesAdded", "oa{sa{sv}}"), ("InterfacesRemoved", "oas")],
    DEVICE: [("Disconnected", "ss")],
    FAKE_PIPEWIRE_IFACE: [("CardProfileChanged", "sss")],
}
_WRITABLE = {
    ADAPTER: {"Alias", "Powered", "Discoverable", "Pairable", "DiscoverableTimeout", "PairableTimeout", "Connectable"},
    DEVICE: {"Alias", "Trusted", "Blocked", "WakeAllowed"},
    TRANSPORT: {"Volume", "Delay"},
}


# --------------------------------------------------------------------------------------------------
# What a virtual accessory is, before it is on the bus
# --------------------------------------------------------------------------------------------------
@dataclass
class VirtualAccessory:
    address: str
    name: str | None  # the remote's own name (Device1.Name); None = unknown
    modalias: str | None = None
    uuids: tuple[str, ...] = ()
    model_id: str | None = None
    battery: int | None = None  # single level, as PipeWire's HFP battery provider reports it
    a2dp_codec: str = "sbc"
    hfp_codec: str = "cvsd"
    icon: str = "audio-headphones"
    device_class: int = 0x240418
    address_type: str = "public"

    @property
    def has_a2dp(self) -> bool:
        return A2DP_SINK in self.uuids

    @property
    def has_hfp(self) -> bool:
        return bool(HFP_UUIDS & set(self.uuids))


def uuids_for_model(model: Any) -> tuple[str, ...]:
    """The SDP service UUIDs a model's profiles put in ``Device1.UUIDs`` (remote roles)."""
    uuids = [SDP_SERVER]
    if model.has_a2dp:
        uuids += [A2DP_SINK, AVRCP_TARGET, ADVANCED_AUDIO, AVRCP]
    if model.has_hfp:
        uuids.append(HFP_HF)
    if model.vendor_id is not None and model.product_id is not None:
        uuids.append(PNP_INFO)
    if any(getattr(p, "value", p) == "aap" for p in getattr(model, "profiles", ())):
        uuids.append(APPLE_AAP)
    return tuple(sorted(set(uuids)))


def accessory_from_model(
    model: Any,
    address: str,
    *,
    name: str | None = None,
    firmware: int = 0x0001,
    battery: int | None = None,
) -> VirtualAccessory:
    """A virtual accessory as BlueZ would show the model: Modalias from vendor/product and the DI version
    ``firmware``, UUIDs from its profiles, best codecs first."""
    modalias = None
    if model.modalias_prefix:
        modalias = f"{model.modalias_prefix}d{firmware:04X}"
    hfp = [c.codec for c in getattr(model, "hfp_codecs", ())]
    return VirtualAccessory(
        address=address.upper(),
        name=name if name is not None else model.name,
        modalias=modalias,
        uuids=uuids_for_model(model),
        model_id=model.id,
        battery=battery,
        a2dp_codec=(model.a2dp_codecs[0] if model.a2dp_codecs else "sbc"),
        hfp_codec=(hfp[0] if hfp else "cvsd"),
    )


# --------------------------------------------------------------------------------------------------
# State of one device on the fake
# --------------------------------------------------------------------------------------------------
@dataclass
class FakeDevice:
    accessory: VirtualAccessory
    path: str
    name: str | None
    alias: str | None = None  # the stored local alias (None: Alias follows Name)
    paired: bool = True
    bonded: bool = True
    trusted: bool = True
    connected: bool = False
    services_resolved: bool = False
    reachable: bool = True  # False: Connect fails with a page timeout (buds in a closed case)
    a2dp_up: bool = False  # an A2DP stream is configured (transport exists)
    hfp_up: bool = False  # PipeWire's HFP service-level connection is up
    card_profile: str | None = None  # PipeWire card profile while connected
    transport_state: str = "idle"
    transport_index: int = -1  # fdN of the current (or last) transport; each new configuration is a new object
    codec: str = "sbc"
    volume: int = 127
    battery: int | None = None
    rssi: int | None = None
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    overrides: dict[str, dict[str, Variant | None]] = field(default_factory=dict)  # iface -> raw values

    @property
    def address(self) -> str:
        return self.accessory.address

    @property
    def alias_value(self) -> str:
        if self.alias:
            return self.alias
        if self.name:
            return self.name
        return self.address.replace(":", "-")

    @property
    def sep_path(self) -> str:
        return f"{self.path}/sep1"

    @property
    def transport_path(self) -> str:
        return f"{self.sep_path}/fd{self.transport_index}"


def _codec_variants(codec: str) -> tuple[int, bytes]:
    if codec in A2DP_CODEC_IDS:
        return A2DP_CODEC_IDS[codec], b"\x21\x15\x02\x35" if codec == "sbc" else b"\x80\x01\x04\x03\x5b\x60"
    for (vendor, cid), name in VENDOR_CODECS.items():
        if name == codec:
            return VENDOR_CODEC, vendor.to_bytes(4, "little") + cid.to_bytes(2, "little") + b"\x22"
    raise ValueError(f"unknown A2DP codec {codec!r}")


class FakeBluez:
    """The fake bluetoothd. ``await start()`` on a private bus address, drive it with the methods below,
    ``await stop()``. Every driver method takes effect on the bus before it returns."""

    def __init__(
        self,
        address: str,
        *,
        adapter: str = "hci0",
        adapter_address: str = "00:1A:7D:DA:71:13",
        adapter_name: str = "routesim",
        pipewire: bool = True,
        connect_delay: float = 0.0,
        clock: Any = None,
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
        if clock is None:
            from routes.clock import WallClock

            clock = WallClock()
        self._clock = clock

    # -- lifecycle -----------------------------------------------------------------------------------
    @property
    def unique_name(self) -> str | None:
        return self._bus.unique_name if self._bus else None

    async def start(self) -> "FakeBluez":
        bus = await MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM).connect()
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
        self._bus = bus
        self._tree = {}
        self._online = True
        self._sync()  # announces adapter and devices with InterfacesAdded, as bluetoothd does at start-up
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._online = False
        bus, self._bus = self._bus, None
        self._tree = {}
        if bus is not None and bus.connected:
            bus.disconnect()
            try:
                await asyncio.wait_for(asyncio.shield(bus.wait_for_disconnect()), 2)
            except (asyncio.CancelledError, Exception):
                pass

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

    # -- drivers: the outside world ------------------------------------------------------------------
    def add_device(
        self,
        accessory: VirtualAccessory,
        *,
        paired: bool = True,
        connected: bool = False,
        alias: str | None = None,
    ) -> FakeDevice:
        address = accessory.address.upper()
        if address in self.devices:
            raise ValueError(f"device {address} already exists")
        dev = FakeDevice(
            accessory=accessory,
            path=device_path(self.adapter_path, address),
            name=accessory.name,
            alias=alias,
            paired=paired,
            bonded=paired,
            trusted=paired,
            codec=accessory.a2dp_codec,
            battery=accessory.battery,
        )
        self.devices[address] = dev
        self._sync()
        if connected:
            self._link_up(dev)
        return dev

    def add_advert(
        self, address: str, manufacturer_data: dict[int, bytes], *, name: str | None = None, rssi: int = -50
    ) -> FakeDevice:
        """An unpaired LE device heard advertising (e.g. AirPods' rotating random address)."""
        acc = VirtualAccessory(address=address.upper(), name=name, address_type="random", icon="", device_class=0)
        dev = FakeDevice(
            accessory=acc,
            path=device_path(self.adapter_path, address),
            name=name,
            paired=False,
            bonded=False,
            trusted=False,
            rssi=rssi,
            manufacturer_data=dict(manufacturer_data),
        )
        self.devices[acc.address] = dev
        self._sync()
        return dev

    def update_advert(self, address: str, manufacturer_data: dict[int, bytes], rssi: int | None = None) -> None:
        dev = self.device(address)
        dev.manufacturer_data = dict(manufacturer_data)
        if rssi is not None:
            dev.rssi = rssi
        self._sync()

    def remove_device(self, address: str) -> None:
        dev = self.device(address)
        self._drop_link(dev, "org.bluez.Reason.Local")
        del self.devices[dev.address]
        self._sync()

    def device(self, address: str) -> FakeDevice:
        try:
            return self.devices[address.upper()]
        except KeyError:
            raise KeyError(f"no fake device {address}") from None

    def connect(self, address: str, *, hfp: bool = False) -> None:
        """The accessory connects (from its side, e.g. the case opens): Connected, ServicesResolved, the
        A2DP transport, and PipeWire's card. ``hfp``: the card comes up in the headset profile."""
        self._link_up(self.device(address), hfp=hfp)

    def disconnect(self, address: str, reason: str = "org.bluez.Reason.Remote") -> None:
        dev = self.device(address)
        if dev.connected:
            self._drop_link(dev, reason)
            self._sync()

    def set_reachable(self, address: str, reachable: bool) -> None:
        self.device(address).reachable = reachable

    def rename_remote(self, address: str, name: str | None) -> None:
        """The accessory's own name changes (renamed on an iPhone, seen at the next connection)."""
        self.device(address).name = name
        self._sync()

    def set_battery(self, address: str, percent: int | None) -> None:
        self.device(address).battery = percent
        self._sync()

    def set_codec(self, address: str, codec: str) -> None:
        """A2DP reconfiguration: BlueZ replaces the transport (new ``fdN`` object) with the new codec."""
        dev = self.device(address)
        _codec_variants(codec)
        dev.codec = codec
        if dev.a2dp_up:
            dev.a2dp_up = False
            self._sync()
            dev.transport_index += 1
            dev.a2dp_up = True
            dev.transport_state = "idle"
        self._sync()

    def set_transport_state(self, address: str, state: str) -> None:
        dev = self.device(address)
        dev.transport_state = state
        self._sync()

    def switch_profile(self, address: str, profile: str) -> None:
        """What PipeWire does on ``pactl set-card-profile``: ``hfp`` brings HFP up (battery reports
        start) and leaves the A2DP transport idle; ``a2dp`` makes the transport active again."""
        dev = self.device(address)
        if not dev.connected:
            raise DBusError("org.routesim.Error.NoSuchCard", f"no card {card_name(dev.address)}")
        if profile == "hfp":
            if not dev.accessory.has_hfp:
                raise DBusError("org.routesim.Error.InvalidProfile", "device has no HFP")
            dev.hfp_up = True
            dev.transport_state = "idle"
            self._set_card(dev, CARD_PROFILE_HFP)
        elif profile == "a2dp":
            if not dev.accessory.has_a2dp:
                raise DBusError("org.routesim.Error.InvalidProfile", "device has no A2DP")
            if not dev.a2dp_up:
                dev.transport_index += 1
                dev.a2dp_up = True
            dev.transport_state = "active"
            self._set_card(dev, CARD_PROFILE_A2DP)
        elif profile == "none":
            dev.transport_state = "idle"
            self._set_card(dev, "off")
        else:
            raise ValueError(f"unknown profile {profile!r}")
        self._sync()

    def set_powered(self, powered: bool) -> None:
        self.powered = powered
        if not powered:
            for dev in self.devices.values():
                if dev.connected:
                    self._drop_link(dev, "org.bluez.Reason.Local")
            self.discovery_sessions.clear()
        self._sync()

    # raw injection, for malformed-data tests
    def set_raw(self, path: str, interface: str, name: str, value: Variant | None) -> None:
        """Override one property with any value (``None`` removes it): wrong types on purpose."""
        for dev in self.devices.values():
            if dev.path == path or (interface == TRANSPORT and dev.transport_path == path):
                dev.overrides.setdefault(interface, {})[name] = value
                break
        else:
            if path == self.adapter_path and interface == ADAPTER:
                self.adapter_overrides[name] = value
            elif path in self.raw_objects and interface in self.raw_objects[path]:
                if value is None:
                    self.raw_objects[path][interface].pop(name, None)
                else:
                    self.raw_objects[path][interface][name] = value
            else:
                raise KeyError(f"no {interface} at {path}")
        self._sync()

    def clear_raw(self, address: str) -> None:
        """Drop every override of a device: it shows its true properties again."""
        self.device(address).overrides.clear()
        self._sync()

    def add_raw_object(self, path: str, interfaces: dict[str, dict[str, Variant]]) -> None:
        self.raw_objects[path] = {i: dict(p) for i, p in interfaces.items()}
        self._sync()

    def remove_raw_object(self, path: str) -> None:
        self.raw_objects.pop(path, None)
        self._sync()

    def emit_raw_signal(self, path: str, interface: str, member: str, signature: str, body: list[Any]) -> None:
        self._emit(Message.new_signal(path, interface, member, signature, body))

    # -- link state ----------------------------------------------------------------------------------
    def _link_up(self, dev: FakeDevice, hfp: bool = False) -> None:
        if dev.connected:
            return
        acc = dev.accessory
        dev.connected = True
        self._sync()
        dev.services_resolved = True
        self._sync()
        if acc.has_a2dp:
            dev.transport_index += 1
            dev.a2dp_up = True
            dev.transport_state = "idle"
        if acc.has_hfp:
            dev.hfp_up = True  # PipeWire's native backend brings up the HFP service-level link
        self._sync()
        self._set_card(dev, CARD_PROFILE_HFP if (hfp and acc.has_hfp) or not acc.has_a2dp else CARD_PROFILE_A2DP)

    def _drop_link(self, dev: FakeDevice, reason: str = "org.bluez.Reason.Remote") -> None:
        if not dev.connected:
            return
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

    def _set_card(self, dev: FakeDevice, profile: str) -> None:
        dev.card_profile = profile
        if not self.pipewire or not self._online:
            return
        codec = ""
        kind = card_profile_to_profile(profile)
        if kind == "hfp":
            codec = dev.accessory.hfp_codec
        elif kind == "a2dp":
            codec = dev.codec
        self._emit(
            Message.new_signal(
                FAKE_PIPEWIRE_PATH, FAKE_PIPEWIRE_IFACE, "CardProfileChanged", "sss",
                [card_name(dev.address), profile, codec],
            )
        )

    # -- the tree --------------------------------------------------------------------------------------
    def _adapter_props(self) -> dict[str, Variant]:
        props = {
            "Address": Variant("s", self.adapter_address),
            "AddressType": Variant("s", "public"),
            "Name": Variant("s", self.adapter_name),
            "Alias": Variant("s", self.adapter_name),
            "Class": Variant("u", 0x7C010C),
            "Connectable": Variant("b", True),
            "Powered": Variant("b", self.powered),
            "PowerState": Variant("s", "on" if self.powered else "off"),
            "Discoverable": Variant("b", False),
            "DiscoverableTimeout": Variant("u", 180),
            "Pairable": Variant("b", True),
            "PairableTimeout": Variant("u", 0),
            "Discovering": Variant("b", bool(self.discovery_sessions)),
            "UUIDs": Variant("as", [A2DP_SOURCE, "0000111f-0000-1000-8000-00805f9b34fb", PNP_INFO]),
            "Modalias": Variant("s", "usb:v1D6Bp0246d0555"),
            "Roles": Variant("as", ["central", "peripheral"]),
        }
        return self._apply(props, self.adapter_overrides)

    @staticmethod
    def _apply(props: dict[str, Variant], overrides: dict[str, Variant | None]) -> dict[str, Variant]:
        for name, value in overrides.items():
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
        return props

    def _device_props(self, dev: FakeDevice) -> dict[str, Variant]:
        acc = dev.accessory
        props: dict[str, Variant] = {
            "Address": Variant("s", dev.address),
            "AddressType": Variant("s", acc.address_type),
            "Alias": Variant("s", dev.alias_value),
            "Paired": Variant("b", dev.paired),
            "Bonded": Variant("b", dev.bonded),
            "Trusted": Variant("b", dev.trusted),
            "Blocked": Variant("b", False),
            "LegacyPairing": Variant("b", False),
            "Connected": Variant("b", dev.connected),
            "ServicesResolved": Variant("b", dev.services_resolved),
            "WakeAllowed": Variant("b", False),
            "Adapter": Variant("o", self.adapter_path),
        }
        if dev.name:
            props["Name"] = Variant("s", dev.name)
        if acc.icon:
            props["Icon"] = Variant("s", acc.icon)
        if acc.device_class:
            props["Class"] = Variant("u", acc.device_class)
        if acc.modalias:
            props["Modalias"] = Variant("s", acc.modalias)
        if acc.uuids:
            props["UUIDs"] = Variant("as", list(acc.uuids))
        if dev.rssi is not None:
            props["RSSI"] = Variant("n", dev.rssi)
        if dev.manufacturer_data:
            props["ManufacturerData"] = Variant(
                "a{qv}", {cid: Variant("ay", bytes(data)) for cid, data in dev.manufacturer_data.items()}
            )
        return self._apply(props, dev.overrides.get(DEVICE, {}))

    def _desired_tree(self) -> Tree:
        if not self._online:
            return {}
        tree: Tree = {self.adapter_path: {ADAPTER: self._adapter_props()}}
        for dev in self.devices.values():
            ifaces: dict[str, dict[str, Variant]] = {DEVICE: self._device_props(dev)}
            if dev.connected and dev.hfp_up and dev.battery is not None:
                ifaces[BATTERY] = self._apply(
                    {"Percentage": Variant("y", dev.battery), "Source": Variant("s", "HFP")},
                    dev.overrides.get(BATTERY, {}),
                )
            for iface, values in dev.overrides.items():
                if iface not in ifaces and iface not in (DEVICE, BATTERY, TRANSPORT):
                    ifaces[iface] = {k: v for k, v in values.items() if v is not None}
            tree[dev.path] = ifaces
            if dev.connected and dev.accessory.has_a2dp:
                codec_byte, config = _codec_variants(dev.codec)
                tree[dev.sep_path] = {
                    ENDPOINT: {
                        "UUID": Variant("s", A2DP_SINK),
                        "Codec": Variant("y", codec_byte),
                        "Capabilities": Variant("ay", config),
                        "Device": Variant("o", dev.path),
                        "DelayReporting": Variant("b", True),
                    }
                }
                if dev.a2dp_up:
                    tree[dev.transport_path] = {
                        TRANSPORT: self._apply(
                            {
                                "Device": Variant("o", dev.path),
                                "UUID": Variant("s", A2DP_SOURCE),
                                "Codec": Variant("y", codec_byte),
                                "Configuration": Variant("ay", config),
                                "State": Variant("s", dev.transport_state),
                                "Volume": Variant("q", dev.volume),
                                "Endpoint": Variant("o", dev.sep_path),
                            },
                            dev.overrides.get(TRANSPORT, {}),
                        )
                    }
        for path, ifaces in self.raw_objects.items():
            tree.setdefault(path, {}).update(ifaces)
        return tree

    def _sync(self) -> None:
        """Diff the desired tree against what clients have seen and emit the signals BlueZ would:
        removals (deepest first), property changes, additions (parents first)."""
        new = self._desired_tree()
        old = self._tree
        depth = lambda p: (p.count("/"), p)  # noqa: E731
        for path in sorted(old, key=depth, reverse=True):
            gone = [i for i in old[path] if i not in new.get(path, {})]
            if gone:
                self._emit(Message.new_signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [path, gone]))
        for path in sorted(new, key=depth):
            for iface, props in new[path].items():
                before = old.get(path, {}).get(iface)
                if before is None:
                    continue
                changed = {k: v for k, v in props.items() if k not in before or not _same(before[k], v)}
                invalidated = [k for k in before if k not in props]
                if changed or invalidated:
                    self._emit(
                        Message.new_signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [iface, changed, invalidated])
                    )
        for path in sorted(new, key=depth):
            added = {i: p for i, p in new[path].items() if i not in old.get(path, {})}
            if added:
                self._emit(Message.new_signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [path, added]))
        self._tree = {p: {i: dict(v) for i, v in ifs.items()} for p, ifs in new.items()}

    def _emit(self, msg: Message) -> None:
        if self._bus is None or not self._online:
            return
        fut = self._bus.send(msg)
        fut.add_done_callback(_consume)

    # -- the D-Bus side ------------------------------------------------------------------------------
    def _handle(self, msg: Message) -> Message | bool | None:
        if msg.message_type is not MessageType.METHOD_CALL:
            return None
        path, iface, member = msg.path or "", msg.interface or "", msg.member or ""
        if msg.destination not in (BLUEZ, FAKE_PIPEWIRE, self.unique_name):
            return None
        if iface == "org.freedesktop.DBus.Peer":
            return None  # dbus-fast answers Ping/GetMachineId
        self.calls.append((path, iface, member, tuple(msg.body)))
        if self.on_call:
            self.on_call(path, iface, member, tuple(msg.body))
        if msg.destination == FAKE_PIPEWIRE:
            return self._pipewire_call(msg, path, iface, member)
        if iface == INTROSPECTABLE and member == "Introspect":
            return Message.new_method_return(msg, "s", [self._introspect(path)])
        if path == "/" and iface in (OBJECT_MANAGER, "") and member == "GetManagedObjects":
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self._tree])
        node = self._tree.get(path)
        if node is None:
            raise DBusError("org.freedesktop.DBus.Error.UnknownObject", f"Object path {path} does not exist")
        if iface == PROPERTIES:
            return self._properties(msg, path, node, member)
        if iface == ADAPTER and path == self.adapter_path:
            return self._adapter_call(msg, member)
        dev = next((d for d in self.devices.values() if d.path == path), None)
        if iface == DEVICE and dev is not None and DEVICE in node:
            return self._device_call(msg, dev, member)
        if iface == TRANSPORT and TRANSPORT in node:
            if member in ("Acquire", "TryAcquire"):
                raise DBusError(ERR + "NotAvailable", "Operation currently not available")
            if member == "Release":
                return Message.new_method_return(msg)
        raise DBusError(
            "org.freedesktop.DBus.Error.UnknownMethod",
            f'Method "{member}" with signature "{msg.signature}" on interface "{iface}" doesn\'t exist',
        )

    def _properties(self, msg: Message, path: str, node: dict[str, dict[str, Variant]], member: str) -> Message:
        args = msg.body
        if member == "GetAll" and msg.signature == "s":
            if args[0] not in node:
                raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", f"No such interface '{args[0]}'")
            return Message.new_method_return(msg, "a{sv}", [node[args[0]]])
        if member == "Get" and msg.signature == "ss":
            props = node.get(args[0])
            if props is None:
                raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", f"No such interface '{args[0]}'")
            if args[1] not in props:
                raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", f"No such property '{args[1]}'")
            return Message.new_method_return(msg, "v", [props[args[1]]])
        if member == "Set" and msg.signature == "ssv":
            iface, name, value = args
            props = node.get(iface)
            if props is None:
                raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", f"No such interface '{iface}'")
            if name not in props and name not in _WRITABLE.get(iface, ()):
                raise DBusError("org.freedesktop.DBus.Error.UnknownProperty", f"No such property '{name}'")
            if name not in _WRITABLE.get(iface, ()):
                raise DBusError("org.freedesktop.DBus.Error.PropertyReadOnly", f"Property '{name}' is not writable")
            if name in props and value.signature != props[name].signature:
                raise DBusError(ERR + "InvalidArguments", "Invalid arguments in method call")
            self._set_property(path, iface, name, value.value)
            reply = Message.new_method_return(msg)
            self._reply_then_sync(reply)
            return True  # type: ignore[return-value]
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"Properties.{member} not supported")

    def _set_property(self, path: str, iface: str, name: str, value: Any) -> None:
        if iface == ADAPTER:
            if name == "Powered":
                self.set_powered(bool(value))
            return
        dev = next((d for d in self.devices.values() if d.path == path), None)
        if dev is not None and iface == DEVICE:
            if name == "Alias":
                dev.alias = value or None  # "" clears the stored alias: Alias follows Name again
            elif name == "Trusted":
                dev.trusted = bool(value)
            return
        if dev is None and iface == TRANSPORT:
            for d in self.devices.values():
                if d.transport_path == path and name == "Volume":
                    d.volume = min(127, int(value))

    def _reply_then_sync(self, reply: Message) -> None:
        """gdbus replies to a property Set first and announces the change afterwards."""
        self._emit(reply)
        self._sync()

    def _adapter_call(self, msg: Message, member: str) -> Message:
        sender = msg.sender or ""
        if member == "StartDiscovery":
            if not self.powered:
                raise DBusError(ERR + "NotReady", "Resource Not Ready")
            if sender in self.discovery_sessions:
                raise DBusError(ERR + "InProgress", "Operation already in progress")
            self.discovery_sessions.add(sender)
            reply = Message.new_method_return(msg)
            self._emit(reply)
            self._sync()
            # bluetoothd hears the devices around again: every advertising device gets a fresh RSSI,
            # which is how scanners learn about devices that were already known.
            for dev in self.devices.values():
                if dev.rssi is not None or dev.manufacturer_data:
                    dev.rssi = (dev.rssi if dev.rssi is not None else -60) + (1 if (dev.rssi or 0) % 2 == 0 else -1)
            self._sync()
            return True  # type: ignore[return-value]
        if member == "StopDiscovery":
            if not self.powered:
                raise DBusError(ERR + "NotReady", "Resource Not Ready")
            if sender not in self.discovery_sessions:
                raise DBusError(ERR + "Failed", "No discovery started")
            self.discovery_sessions.discard(sender)
            self._emit(Message.new_method_return(msg))
            self._sync()
            return True  # type: ignore[return-value]
        if member == "SetDiscoveryFilter" and msg.signature == "a{sv}":
            flt = msg.body[0]
            allowed = {"UUIDs": "as", "RSSI": "n", "Pathloss": "q", "Transport": "s", "DuplicateData": "b",
                       "Discoverable": "b", "Pattern": "s", "AutoConnect": "b"}
            for key, value in flt.items():
                if allowed.get(key) != value.signature:
                    raise DBusError(ERR + "InvalidArguments", "Invalid arguments in method call")
            if "Transport" in flt and flt["Transport"].value not in ("auto", "bredr", "le"):
                raise DBusError(ERR + "InvalidArguments", "Invalid arguments in method call")
            if flt:
                self.discovery_filters[sender] = {k: v.value for k, v in flt.items()}
            else:
                self.discovery_filters.pop(sender, None)
            return Message.new_method_return(msg)
        if member == "GetDiscoveryFilters":
            return Message.new_method_return(
                msg, "as", [["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable", "Pattern"]]
            )
        if member == "RemoveDevice" and msg.signature == "o":
            dev = next((d for d in self.devices.values() if d.path == msg.body[0]), None)
            if dev is None:
                raise DBusError(ERR + "DoesNotExist", "Does Not Exist")
            self.remove_device(dev.address)
            return Message.new_method_return(msg)
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"Adapter1.{member} not supported")

    def _device_call(self, msg: Message, dev: FakeDevice, member: str) -> Message | bool:
        if member in ("Connect", "ConnectProfile"):
            uuid = None
            if member == "ConnectProfile":
                if msg.signature != "s":
                    raise DBusError(ERR + "InvalidArguments", "Invalid arguments in method call")
                uuid = msg.body[0].lower()
            if not self.powered:
                raise DBusError(ERR + "NotReady", "Resource Not Ready")
            if uuid is not None and uuid not in dev.accessory.uuids:
                raise DBusError(ERR + "NotAvailable", "Operation currently not available")
            if dev.connected and uuid is None:
                return Message.new_method_return(msg)
            task = asyncio.ensure_future(self._connect(msg, dev, uuid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return True
        if member == "Disconnect":
            if not dev.connected:
                raise DBusError(ERR + "NotConnected", "Not Connected")
            self._drop_link(dev, "org.bluez.Reason.Local")
            self._emit(Message.new_method_return(msg))
            return True
        if member == "DisconnectProfile" and msg.signature == "s":
            uuid = msg.body[0].lower()
            if uuid not in dev.accessory.uuids:
                raise DBusError(ERR + "InvalidArguments", "Invalid arguments in method call")
            if not dev.connected:
                raise DBusError(ERR + "NotConnected", "Not Connected")
            if uuid == A2DP_SINK:
                dev.a2dp_up = False
            elif uuid in HFP_UUIDS:
                dev.hfp_up = False  # battery reports stop with the HFP link
            self._sync()
            return Message.new_method_return(msg)
        if member == "Pair":
            if dev.paired:
                raise DBusError(ERR + "AlreadyExists", "Already Exists")
            dev.paired = dev.bonded = True
            self._emit(Message.new_method_return(msg))
            self._sync()
            return True
        if member == "CancelPairing":
            raise DBusError(ERR + "DoesNotExist", "Does Not Exist")
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"Device1.{member} not supported")

    async def _connect(self, msg: Message, dev: FakeDevice, uuid: str | None) -> None:
        try:
            if self.connect_delay:
                await self._clock.sleep(self.connect_delay)
            if not dev.reachable:
                self._emit(Message.new_error(msg, ERR + "Failed", "br-connection-page-timeout"))
                return
            if uuid is None:
                self._link_up(dev)
            else:
                if not dev.connected:
                    dev.connected = True
                    self._sync()
                    dev.services_resolved = True
                    self._sync()
                if uuid == A2DP_SINK and not dev.a2dp_up:
                    dev.transport_index += 1
                    dev.a2dp_up = True
                    dev.transport_state = "idle"
                elif uuid in HFP_UUIDS:
                    dev.hfp_up = True
                self._sync()
                if dev.card_profile is None:
                    self._set_card(dev, CARD_PROFILE_A2DP if dev.a2dp_up else CARD_PROFILE_HFP)
            self._emit(Message.new_method_return(msg))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # pragma: no cover - keep the caller from hanging
            log.exception("fake connect failed")
            self._emit(Message.new_error(msg, ERR + "Failed", str(exc)))

    def _pipewire_call(self, msg: Message, path: str, iface: str, member: str) -> Message:
        if iface == INTROSPECTABLE and member == "Introspect":
            return Message.new_method_return(msg, "s", [self._introspect_pipewire(path)])
        if path != FAKE_PIPEWIRE_PATH or iface not in (FAKE_PIPEWIRE_IFACE, ""):
            raise DBusError("org.freedesktop.DBus.Error.UnknownObject", f"no {iface} at {path}")
        if member == "ListCards":
            cards = [
                [card_name(d.address), d.card_profile, d.accessory.hfp_codec if card_profile_to_profile(d.card_profile) == "hfp" else d.codec]
                for d in self.devices.values()
                if d.connected and d.card_profile
            ]
            return Message.new_method_return(msg, "a(sss)", [cards])
        if member == "SetCardProfile" and msg.signature == "ss":
            card, profile = msg.body
            dev = next((d for d in self.devices.values() if card_name(d.address) == card and d.connected), None)
            if dev is None:
                raise DBusError("org.routesim.Error.NoSuchCard", f"Failed to set card profile: No such entity ({card})")
            kind = card_profile_to_profile(profile)
            if kind is None:
                raise DBusError("org.routesim.Error.InvalidProfile", f"Failed to set card profile: {profile}")
            self.switch_profile(dev.address, kind)
            return Message.new_method_return(msg)
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"{member} not supported")

    # -- introspection ---------------------------------------------------------------------------------
    def _introspect(self, path: str) -> str:
        ifaces = dict(self._tree.get(path, {}))
        if path == "/":
            ifaces = {OBJECT_MANAGER: {}}
        parts = ['<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"',
                 ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">', "<node>",
                 f'<interface name="{INTROSPECTABLE}"><method name="Introspect"><arg name="xml" type="s" direction="out"/></method></interface>']
        if path != "/":
            parts.append(
                f'<interface name="{PROPERTIES}">'
                '<method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="out"/></method>'
                '<method name="Set"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="in"/></method>'
                '<method name="GetAll"><arg type="s" direction="in"/><arg type="a{sv}" direction="out"/></method>'
                '<signal name="PropertiesChanged"><arg type="s"/><arg type="a{sv}"/><arg type="as"/></signal></interface>'
            )
        for iface, props in ifaces.items():
            parts.append(_iface_xml(iface, props))
        prefix = path.rstrip("/") + "/"
        children = sorted({p[len(prefix):].split("/")[0] for p in self._tree if p.startswith(prefix) and p != path})
        if path == "/" and self._tree:
            children = ["org"]
        elif path in ("/org", "/org/") and self._tree:
            children = ["bluez"]
        parts += [f'<node name="{c}"/>' for c in children]
        parts.append("</node>")
        return "\n".join(parts)

    def _introspect_pipewire(self, path: str) -> str:
        if path == FAKE_PIPEWIRE_PATH:
            return "<node>" + _iface_xml(FAKE_PIPEWIRE_IFACE, {}) + "</node>"
        return "<node></node>"


def _iface_xml(iface: str, props: dict[str, Variant]) -> str:
    out = [f'<interface name="{iface}">']
    for name, ins, outs in _METHODS.get(iface, []):
        out.append(f'<method name="{name}">')
        out += [f'<arg type="{t}" direction="in"/>' for t in _split_sig(ins)]
        out += [f'<arg type="{t}" direction="out"/>' for t in _split_sig(outs)]
        out.append("</method>")
    for name, sig in _SIGNALS.get(iface, []):
        out.append(f'<signal name="{name}">' + "".join(f'<arg type="{t}"/>' for t in _split_sig(sig)) + "</signal>")
    for name, value in props.items():
        access = "readwrite" if name in _WRITABLE.get(iface, ()) else "read"
        out.append(f'<property name="{name}" type="{value.signature}" access="{access}"/>')
    out.append("</interface>")
    return "".join(out)


def _split_sig(sig: str) -> list[str]:
    from dbus_fast.signature import get_signature_tree

    return [t.signature for t in get_signature_tree(sig).types] if sig else []


def _same(a: Variant, b: Variant) -> bool:
    return a.signature == b.signature and a.value == b.value


def _consume(fut: "asyncio.Future[Any]") -> None:
    if not fut.cancelled():
        fut.exception()


def iter_paths(tree: Tree) -> Iterable[str]:  # pragma: no cover - debugging helper
    return sorted(tree)
