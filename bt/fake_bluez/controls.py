"""What tests and demos script on the fake: the outside world (accessories arriving, connecting,
renaming, draining, advertising, the adapter powering off) and raw injection of malformed data.
Every control takes effect on the bus before it returns."""
from __future__ import annotations

from typing import Any

from dbus_fast import Message, Variant

from routesim.bt.bluez.constants import ADAPTER, TRANSPORT, card_name, device_path

from routesim.bt.fake_bluez.accessory import VirtualAccessory
from routesim.bt.fake_bluez.device import FakeDevice, codec_config


class ScriptedControls:
    """Mixed into :class:`bt.fake_bluez.FakeBluez`, whose state, link transitions and ``_sync`` it uses."""

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
        codec_config(codec)  # an unknown codec raises before anything changes
        if self.audio_server:
            raise RuntimeError("a real audio server has registered: it chooses the codec "
                               f"(pactl set-card-profile {card_name(address)} a2dp-sink-{codec})")
        dev.codec = codec
        if dev.a2dp_up:
            dev.a2dp_up = False
            self._sync()
            dev.open_transport()
        self._sync()

    def set_transport_state(self, address: str, state: str) -> None:
        dev = self.device(address)
        dev.transport_state = state
        self._sync()

    def set_powered(self, powered: bool) -> None:
        self.powered = powered
        if not powered:
            for dev in self.devices.values():
                if dev.connected:
                    self._drop_link(dev, "org.bluez.Reason.Local")
            self.discovery_sessions.clear()
        self._sync()

    # -- raw injection, for malformed-data tests -----------------------------------------------------
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
