"""How the fake answers method calls: ObjectManager, Properties, Introspectable, Adapter1, Device1 and
MediaTransport1, with BlueZ's error names and its order of replies and signals.

One low-level message handler serves the data-driven tree instead of dbus-fast's ``ServiceInterface``
export: that export emits ``InterfacesAdded`` from the object's own path (BlueZ emits it from ``/``),
its ``GetManagedObjects`` omits the queried path, and its typed properties cannot be made to carry the
wrongly typed values that the backend must survive (python-dbusmock's BlueZ template publishes them;
bleak must not crash on them). A handler returns a reply, or True when it has sent the reply itself (before the signals).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from dbus_fast import DBusError, Message, MessageType, Variant

from routesim.bt.bluez.constants import (
    A2DP_SINK,
    ADAPTER,
    BLUEZ,
    CARD_PROFILE_A2DP,
    CARD_PROFILE_HFP,
    DEVICE,
    FAKE_PIPEWIRE,
    HFP_UUIDS,
    INTROSPECTABLE,
    OBJECT_MANAGER,
    PROPERTIES,
    TRANSPORT,
)

from routesim.bt.fake_bluez.device import FakeDevice
from routesim.bt.fake_bluez.interfaces import WRITABLE, introspect
from routesim.bt.fake_bluez.monitors import MONITOR_MANAGER

log = logging.getLogger("routesim.bt.fake_bluez")

ERR = "org.bluez.Error."
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"

# SetDiscoveryFilter's keys and their D-Bus types
_FILTER_KEYS = {"UUIDs": "as", "RSSI": "n", "Pathloss": "q", "Transport": "s", "DuplicateData": "b",
                "Discoverable": "b", "Pattern": "s", "AutoConnect": "b"}


class BluezMethods:
    """Mixed into :class:`bt.fake_bluez.FakeBluez`, whose state, link transitions, ``_sync`` and
    ``_emit`` it uses."""

    def _handle(self, msg: Message) -> Message | bool | None:
        if msg.message_type is MessageType.SIGNAL and msg.member == "NameOwnerChanged" and msg.signature == "sss":
            self._name_owner_changed(msg)  # an audio server leaving takes its registrations along
            return None
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
            return Message.new_method_return(msg, "s", [introspect(self._tree, path)])
        if path == "/" and iface in (OBJECT_MANAGER, "") and member == "GetManagedObjects":
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self._tree])
        node = self._tree.get(path)
        if node is None:
            raise DBusError("org.freedesktop.DBus.Error.UnknownObject", f"Object path {path} does not exist")
        if iface == PROPERTIES:
            return self._properties(msg, path, node, member)
        handled = self._audio_call(msg, path, iface, member)
        if handled is not None:
            return handled
        if iface == ADAPTER and path == self.adapter_path:
            return self._adapter_call(msg, member)
        if iface == MONITOR_MANAGER and path == self.adapter_path and MONITOR_MANAGER in node:
            return self._monitor_call(msg, member)
        dev = self._device_at(path)
        if iface == DEVICE and dev is not None and DEVICE in node:
            return self._device_call(msg, dev, member)
        if iface == TRANSPORT and TRANSPORT in node:
            if member in ("Acquire", "TryAcquire"):
                raise DBusError(ERR + "NotAvailable", "Operation currently not available")
            if member == "Release":
                return Message.new_method_return(msg)
        raise DBusError(
            UNKNOWN_METHOD,
            f'Method "{member}" with signature "{msg.signature}" on interface "{iface}" doesn\'t exist',
        )

    def _reply_then_sync(self, reply: Message) -> bool:
        """gdbus sends the reply first and the signals the call caused afterwards."""
        self._emit(reply)
        self._sync()
        return True

    # -- org.freedesktop.DBus.Properties -------------------------------------------------------------
    def _properties(self, msg: Message, path: str, node: dict[str, dict[str, Variant]], member: str) -> Message | bool:
        args = msg.body
        if member == "GetAll" and msg.signature == "s":
            if args[0] not in node:
                raise DBusError(INVALID_ARGS, f"No such interface '{args[0]}'")
            return Message.new_method_return(msg, "a{sv}", [node[args[0]]])
        if member == "Get" and msg.signature == "ss":
            props = node.get(args[0])
            if props is None:
                raise DBusError(INVALID_ARGS, f"No such interface '{args[0]}'")
            if args[1] not in props:
                raise DBusError(INVALID_ARGS, f"No such property '{args[1]}'")
            return Message.new_method_return(msg, "v", [props[args[1]]])
        if member == "Set" and msg.signature == "ssv":
            iface, name, value = args
            props = node.get(iface)
            if props is None:
                raise DBusError(INVALID_ARGS, f"No such interface '{iface}'")
            if name not in props and name not in WRITABLE.get(iface, ()):
                raise DBusError("org.freedesktop.DBus.Error.UnknownProperty", f"No such property '{name}'")
            if name not in WRITABLE.get(iface, ()):
                raise DBusError("org.freedesktop.DBus.Error.PropertyReadOnly", f"Property '{name}' is not writable")
            if name in props and value.signature != props[name].signature:
                raise DBusError(ERR + "InvalidArguments", "Invalid arguments in method call")
            self._set_property(path, iface, name, value.value)
            return self._reply_then_sync(Message.new_method_return(msg))
        raise DBusError(UNKNOWN_METHOD, f"Properties.{member} not supported")

    def _set_property(self, path: str, iface: str, name: str, value: Any) -> None:
        if iface == ADAPTER:
            if name == "Powered":
                self.set_powered(bool(value))
            return
        dev = self._device_at(path)
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
                elif d.transport_path == path and name == "Delay":
                    d.delay = int(value)

    # -- org.bluez.Adapter1 ------------------------------------------------------------------------------
    def _adapter_call(self, msg: Message, member: str) -> Message | bool:
        sender = msg.sender or ""
        if member == "StartDiscovery":
            if not self.powered:
                raise DBusError(ERR + "NotReady", "Resource Not Ready")
            if sender in self.discovery_sessions:
                raise DBusError(ERR + "InProgress", "Operation already in progress")
            self.discovery_sessions.add(sender)
            self._reply_then_sync(Message.new_method_return(msg))
            # bluetoothd hears the devices around again: every advertising device gets a fresh RSSI,
            # which is how scanners learn about devices that were already known.
            for dev in self.devices.values():
                if dev.rssi is not None or dev.manufacturer_data:
                    dev.rssi = (dev.rssi if dev.rssi is not None else -60) + (1 if (dev.rssi or 0) % 2 == 0 else -1)
            self._sync()
            return True
        if member == "StopDiscovery":
            if not self.powered:
                raise DBusError(ERR + "NotReady", "Resource Not Ready")
            if sender not in self.discovery_sessions:
                raise DBusError(ERR + "Failed", "No discovery started")
            self.discovery_sessions.discard(sender)
            return self._reply_then_sync(Message.new_method_return(msg))
        if member == "SetDiscoveryFilter" and msg.signature == "a{sv}":
            flt = msg.body[0]
            for key, value in flt.items():
                if _FILTER_KEYS.get(key) != value.signature:
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
            dev = self._device_at(msg.body[0])
            if dev is None:
                raise DBusError(ERR + "DoesNotExist", "Does Not Exist")
            self.remove_device(dev.address)
            return Message.new_method_return(msg)
        raise DBusError(UNKNOWN_METHOD, f"Adapter1.{member} not supported")

    # -- org.bluez.Device1 -------------------------------------------------------------------------------
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
            # the reply comes when the (possibly delayed) connection is made; other calls go on meanwhile
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
                self._close_a2dp(dev)
                dev.a2dp_up = False
            elif uuid in HFP_UUIDS:
                self._close_hfp(dev)
                dev.hfp_up = False  # battery reports stop with the HFP link
            self._sync()
            return Message.new_method_return(msg)
        if member == "Pair":
            if dev.paired:
                raise DBusError(ERR + "AlreadyExists", "Already Exists")
            dev.paired = dev.bonded = True
            return self._reply_then_sync(Message.new_method_return(msg))
        if member == "CancelPairing":
            raise DBusError(ERR + "DoesNotExist", "Does Not Exist")
        raise DBusError(UNKNOWN_METHOD, f"Device1.{member} not supported")

    async def _connect(self, msg: Message, dev: FakeDevice, uuid: str | None) -> None:
        try:
            if self.connect_delay:
                await self._clock.sleep(self.connect_delay)
            if not dev.reachable:
                self._emit(Message.new_error(msg, ERR + "Failed", "br-connection-page-timeout"))
                return
            if uuid is None:
                self._link_up(dev)
            elif self.audio_server:
                # the audio server's profiles: the reply comes once the profile is up (or failed to come up)
                if not dev.connected:
                    self._baseband_up(dev)
                await self._bring_up(dev, a2dp_wanted=uuid == A2DP_SINK, hfp_wanted=uuid in HFP_UUIDS)
            else:
                if not dev.connected:
                    self._baseband_up(dev)
                if uuid == A2DP_SINK and not dev.a2dp_up:
                    dev.open_transport()
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
