"""Passive scanning on the fake: ``org.bluez.AdvertisementMonitorManager1`` on the adapter.

What bluetoothd does (BlueZ ``doc/org.bluez.AdvertisementMonitorManager.rst``, ``src/adv_monitor.c``): a
client calls ``RegisterMonitor(o root)`` and exports ``org.bluez.AdvertisementMonitor1`` objects at or
under ``root``; bluetoothd reads each monitor's ``Type`` (only ``or_patterns``) and ``Patterns``
(``a(yyay)``: start position, AD type, bytes), calls ``Activate`` on it, and from then on reports
matching devices through the usual Device1 signals and ``DeviceFound(o)``. Unlike discovery this
leaves the adapter's ``Discovering`` alone. ``UnregisterMonitor(o)`` ends it.

bleak exports its monitor only after ``RegisterMonitor`` returns, so the fake looks for it a few
times before giving up.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import DBusError, Message, MessageType, Variant

log = logging.getLogger("routesim.bt.fake_bluez")

MONITOR_MANAGER = "org.bluez.AdvertisementMonitorManager1"
MONITOR = "org.bluez.AdvertisementMonitor1"
AD_MANUFACTURER = 0xFF


@dataclass
class Monitor:
    sender: str
    root: str
    path: str | None = None  # the monitor object found at or under root
    patterns: list[tuple[int, int, bytes]] = field(default_factory=list)
    active: bool = False


def manager_properties() -> dict[str, Variant]:
    return {"SupportedMonitorTypes": Variant("as", ["or_patterns"]), "SupportedFeatures": Variant("as", []),
            "SupportedDeviceIDs": Variant("aq", [])}


class AdvertMonitors:
    """Mixed into :class:`bt.fake_bluez.FakeBluez` (its ``_bus``, ``devices``, ``_sync`` and ``_tasks``).
    ``monitor_support = False`` makes the fake a bluetoothd without ``--experimental``."""

    monitor_support = True

    @property
    def monitors(self) -> dict[tuple[str, str], Monitor]:
        return self.__dict__.setdefault("_monitors", {})

    def _monitor_call(self, msg: Message, member: str) -> Message | bool:
        sender = msg.sender or ""
        if member == "RegisterMonitor" and msg.signature == "o":
            key = (sender, msg.body[0])
            if key in self.monitors:
                raise DBusError("org.bluez.Error.AlreadyExists", "Already Exists")
            mon = self.monitors[key] = Monitor(sender, msg.body[0])
            task = asyncio.ensure_future(self._activate(mon))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return Message.new_method_return(msg)
        if member == "UnregisterMonitor" and msg.signature == "o":
            if self.monitors.pop((sender, msg.body[0]), None) is None:
                raise DBusError("org.bluez.Error.DoesNotExist", "Does Not Exist")
            return Message.new_method_return(msg)
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"AdvertisementMonitorManager1.{member} not supported")

    async def _activate(self, mon: Monitor) -> None:
        for _ in range(40):  # up to about 1 s for the client to export the monitor
            await asyncio.sleep(0.025)
            if self.monitors.get((mon.sender, mon.root)) is not mon or self._bus is None:
                return
            props = await self._monitor_props(mon.sender, mon.root)
            if props is not None:
                break
        else:
            log.info("no AdvertisementMonitor1 at %s of %s", mon.root, mon.sender)
            return
        if props.get("Type") != "or_patterns":
            log.info("monitor %s: unsupported type %r", mon.root, props.get("Type"))
            return
        mon.path = mon.root
        mon.patterns = [(int(p[0]), int(p[1]), bytes(p[2])) for p in props.get("Patterns", [])]
        await self._call_monitor(mon, "Activate", "", [])
        mon.active = True
        # bluetoothd hears the advertisers around again: a fresh RSSI for each match, and DeviceFound
        for dev in self.devices.values():
            if self._matches(mon, dev):
                dev.rssi = (dev.rssi if dev.rssi is not None else -60) + (1 if (dev.rssi or 0) % 2 == 0 else -1)
                await self._call_monitor(mon, "DeviceFound", "o", [dev.path])
        self._sync()

    async def _monitor_props(self, sender: str, path: str) -> dict[str, Any] | None:
        assert self._bus is not None
        reply = await self._bus.call(Message(destination=sender, path=path, interface="org.freedesktop.DBus.Properties",
                                             member="GetAll", signature="s", body=[MONITOR]))
        if reply.message_type is not MessageType.METHOD_RETURN:
            return None
        return {k: v.value for k, v in reply.body[0].items()}

    async def _call_monitor(self, mon: Monitor, member: str, signature: str, body: list[Any]) -> None:
        if self._bus is None or mon.path is None:
            return
        await self._bus.call(Message(destination=mon.sender, path=mon.path, interface=MONITOR, member=member,
                                     signature=signature, body=body))

    @staticmethod
    def _matches(mon: Monitor, dev: Any) -> bool:
        """An or_patterns match on the manufacturer data (the only AD structure the fake advertises):
        the AD data is the company id (little endian) followed by the payload."""
        for cid, data in (dev.manufacturer_data or {}).items():
            ad = cid.to_bytes(2, "little") + bytes(data)
            for start, ad_type, value in mon.patterns:
                if ad_type == AD_MANUFACTURER and ad[start:start + len(value)] == value:
                    return True
        return False

    def passive_listeners(self) -> list[Monitor]:
        """Active monitors (for tests: who is scanning passively)."""
        return [m for m in self.monitors.values() if m.active]
