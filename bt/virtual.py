"""Virtual accessories: headsets that exist only in software, built from catalog models.

They produce the same typed events as BlueZ devices and carry out negotiation commands by updating
their own state, so the route manager treats them exactly like real devices.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

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
    Renamed,
    SwitchProfile,
)


def synthetic_address(key: str) -> str:
    """A stable, locally administered MAC for an accessory without one (same id, same address)."""
    digest = hashlib.sha256(key.encode()).digest()
    octets = [digest[0] & 0xFC | 0x02, *digest[1:6]]
    return ":".join(f"{b:02X}" for b in octets)


@dataclass(slots=True)
class VirtualAccessory:
    info: AccessoryInfo
    connected: bool = False
    profile: str = "none"
    codec: str | None = None


class VirtualAccessories:
    """A set of virtual accessories. Each action returns the event it causes; the caller (scenario
    runner or a live driver) hands it to the route manager."""

    def __init__(self) -> None:
        self.devices: dict[str, VirtualAccessory] = {}
        self.executed: list[NegotiationCommand] = []

    def add(self, key: str, model_id: str, name: str, address: str | None = None,
            firmware: str | None = None) -> AccessoryInfo:
        info = AccessoryInfo(key, model_id, name, (address or synthetic_address(key)).upper(), firmware)
        self.devices[key] = VirtualAccessory(info)
        return info

    def owns(self, key: str) -> bool:
        return key in self.devices

    def connect(self, key: str) -> AccessoryEvent:
        dev = self.devices[key]
        dev.connected = True
        return Connected(dev.info)

    def disconnect(self, key: str) -> AccessoryEvent:
        dev = self.devices[key]
        dev.connected, dev.profile, dev.codec = False, "none", None
        return Disconnected(key)

    def rename(self, key: str, name: str) -> AccessoryEvent:
        dev = self.devices[key]
        dev.info = replace(dev.info, name=name)
        return Renamed(key, name)

    def battery(self, key: str, left=None, right=None, case=None) -> AccessoryEvent:
        return BatteryChanged(key, left, right, case)

    def ears(self, key: str, left=None, right=None) -> AccessoryEvent:
        return EarsChanged(key, left, right)

    def worn(self, key: str, worn: bool) -> AccessoryEvent:
        return WornChanged(key, worn)

    def case(self, key: str, open_: bool) -> AccessoryEvent:
        return CaseChanged(key, open_)

    def execute(self, command: NegotiationCommand) -> None:
        """Carry out a negotiation command (a virtual device always complies)."""
        self.executed.append(command)
        if isinstance(command, SwitchProfile) and command.key in self.devices:
            dev = self.devices[command.key]
            dev.profile, dev.codec = command.profile, command.codec
