"""Driving a running fake from outside: the D-Bus interface ``io.routesim.FakeBluez1``.

``routesim fake-bluez`` owns ``io.routesim.FakeBluez`` on its private bus and serves this interface at
``/io/routesim/FakeBluez`` on a connection of its own (so it stays while the fake bluetoothd restarts).
We chose D-Bus over a socket protocol of our own: the private bus is already there, its address is the
one thing a rig script has exported, and ``routesim fake-bluez ctl …``, ``busctl`` and ``dbus-send``
all speak it without a second socket or a parser of ours. Every method takes strings and numbers only:

    Add(s model, s address, s name) -> s address   Remove(s address)
    Connect(s address)  Disconnect(s address)  Rename(s address, s name)
    Ears(s address, s left, s right)               ("in" / "out")
    Battery(s address, i left, i right, i case)    (-1: unknown; Battery1 shows the left level)
    Lid(s address, b open)
    Profile(s address, s profile)                  ("a2dp" / "hfp": a switch the audio server makes itself)
    Restart(d down_for, b keep_connections)        (bluetoothd restarts on the same bus)
    List() -> s                                    (one line per device)
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from dbus_fast import BusType, DBusError, Message, MessageType, NameFlag, RequestNameReply
from dbus_fast.aio import MessageBus

from routesim.bt.dbus_util import consume_result, disconnect, disconnected
from routesim.bt.fake_bluez.accessory import accessory_from_model
from routesim.bt.fake_bluez.advert import APPLE, proximity_pairing

log = logging.getLogger("routesim.bt.fake_bluez")

NAME = "io.routesim.FakeBluez"
PATH = "/io/routesim/FakeBluez"
IFACE = "io.routesim.FakeBluez1"
ERROR = "io.routesim.FakeBluez.Error"

SIGNATURES = {
    "Add": ("sss", "s"), "Remove": ("s", ""), "Connect": ("s", ""), "Disconnect": ("s", ""),
    "Rename": ("ss", ""), "Ears": ("sss", ""), "Battery": ("siii", ""), "Lid": ("sb", ""),
    "Profile": ("ss", ""), "Restart": ("db", ""), "List": ("", "s"),
}


@dataclass(frozen=True)
class AdvertState:
    """What a device's proximity adverts say (sent from their own rotating-style address)."""

    address: str
    product_id: int
    left: int | None = 80
    right: int | None = 80
    case: int | None = 60
    left_in_ear: bool = True
    right_in_ear: bool = True
    lid_open: bool = True

    def payload(self) -> bytes:
        data = bytearray(proximity_pairing(self.product_id, left=self.left, right=self.right, case=self.case,
                                           left_in_ear=self.left_in_ear, right_in_ear=self.right_in_ear))
        # byte 8: the lid counter; bit 3 set means the lid is closed
        data[8] = (data[8] & ~0x08) | (0 if self.lid_open else 0x08)
        return bytes(data)


class FakeControl:
    """Serves ``io.routesim.FakeBluez1`` for ``fake`` (a started :class:`FakeBluez`)."""

    def __init__(self, fake: Any, catalog: Any):
        self.fake = fake
        self.catalog = catalog
        self.adverts: dict[str, AdvertState] = {}  # device address -> its advert
        self._bus: MessageBus | None = None
        self._restarting: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        bus = await MessageBus(bus_address=self.fake.bus_address, bus_type=BusType.SYSTEM).connect()
        bus.add_message_handler(self._handle)
        disconnected(bus)
        reply = await bus.request_name(NAME, NameFlag.DO_NOT_QUEUE)
        if reply is not RequestNameReply.PRIMARY_OWNER:
            bus.disconnect()
            raise RuntimeError(f"could not own {NAME}: {reply.name} (another fake-bluez on this bus?)")
        self._bus = bus

    async def stop(self) -> None:
        bus, self._bus = self._bus, None
        await disconnect(bus)

    # -- what the methods do -----------------------------------------------------------------------------
    def add(self, model_id: str, address: str, name: str, *, connected: bool = False) -> str:
        fake = self.fake
        model = self.catalog.get(model_id)  # KeyError/ValueError: unknown model
        if not address:
            n = 1
            while f"AA:BB:CC:DD:EE:{n:02X}" in fake.devices:
                n += 1
            address = f"AA:BB:CC:DD:EE:{n:02X}"
        address = address.upper()
        fake.add_device(accessory_from_model(model, address, name=name or f"Kim\u2019s {model.name}", battery=80),
                        connected=connected)
        if model.product_id is not None and model.vendor_id == APPLE:
            advert = AdvertState("5E" + address[2:], model.product_id)
            self.adverts[address] = advert
            fake.add_advert(advert.address, {APPLE: advert.payload()})
        return address

    def remove(self, address: str) -> None:
        address = address.upper()
        self.fake.remove_device(address)
        advert = self.adverts.pop(address, None)
        if advert is not None:
            self.fake.remove_device(advert.address)

    def _advert(self, address: str, **changes: Any) -> None:
        address = address.upper()
        advert = self.adverts.get(address)
        if advert is None:
            raise ValueError(f"{address} sends no proximity adverts (not an Apple model)")
        self.adverts[address] = advert = replace(advert, **changes)
        self.fake.update_advert(advert.address, {APPLE: advert.payload()})

    def ears(self, address: str, left: str, right: str) -> None:
        for value in (left, right):
            if value not in ("in", "out"):
                raise ValueError(f"ear state {value!r}: use in or out")
        self._advert(address, left_in_ear=left == "in", right_in_ear=right == "in")

    def battery(self, address: str, left: int, right: int, case: int) -> None:
        levels = [None if v < 0 else v for v in (left, right, case)]
        for v in levels:
            if v is not None and v > 100:
                raise ValueError(f"battery level {v}: use 0-100, or -1 for unknown")
        self.fake.set_battery(address, levels[0])
        if address.upper() in self.adverts:
            self._advert(address, left=levels[0], right=levels[1], case=levels[2])

    def list(self) -> str:
        lines = []
        for d in self.fake.devices.values():
            if not d.paired:
                continue
            state = "connected" if d.connected else "not connected"
            lines.append(f"{d.address}  {d.alias_value!r}  {d.accessory.model_id or '-'}  {state}"
                         f"  card {d.card_profile or '-'}  battery {d.battery if d.battery is not None else '-'}")
        return "\n".join(lines)

    # -- D-Bus ---------------------------------------------------------------------------------------------
    def _handle(self, msg: Message) -> Any:
        if msg.message_type is not MessageType.METHOD_CALL or msg.path != PATH:
            return None
        if msg.interface == "org.freedesktop.DBus.Introspectable" and msg.member == "Introspect":
            return Message.new_method_return(msg, "s", [_introspect()])
        if msg.interface not in (IFACE, None):
            return None
        sig = SIGNATURES.get(msg.member or "")
        if sig is None or msg.signature != sig[0]:
            want = f"({sig[0]})" if sig else f"one of {', '.join(SIGNATURES)}"
            return Message.new_error(msg, ERROR + ".InvalidArgs", f"{msg.member}({msg.signature}): expected {want}")
        try:
            result = self._dispatch(msg.member or "", list(msg.body))
        except (KeyError, ValueError, DBusError) as exc:
            text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            return Message.new_error(msg, ERROR + ".Failed", str(text))
        if sig[1]:
            return Message.new_method_return(msg, sig[1], [result])
        return Message.new_method_return(msg)

    def _dispatch(self, member: str, args: list[Any]) -> Any:
        fake = self.fake
        if member == "Add":
            return self.add(*args)
        if member == "Remove":
            return self.remove(args[0])
        if member == "Connect":
            return fake.connect(args[0])
        if member == "Disconnect":
            return fake.disconnect(args[0])
        if member == "Rename":
            return fake.rename_remote(args[0], args[1] or None)
        if member == "Ears":
            return self.ears(*args)
        if member == "Battery":
            return self.battery(*args)
        if member == "Lid":
            return self._advert(args[0], lid_open=bool(args[1]))
        if member == "Profile":
            if args[1] not in ("a2dp", "hfp"):
                raise ValueError(f"profile {args[1]!r}: use a2dp or hfp")
            return fake.switch_profile(args[0], args[1])
        if member == "Restart":
            down_for, keep = float(args[0]), bool(args[1])
            if not 0 <= down_for <= 60:
                raise ValueError("down_for: 0 to 60 seconds")
            task = asyncio.ensure_future(fake.restart(down_for=down_for, keep_connections=keep))
            task.add_done_callback(consume_result)
            self._restarting = task
            return None
        if member == "List":
            return self.list()
        raise ValueError(member)


def _introspect() -> str:
    from dbus_fast.signature import get_signature_tree

    methods = []
    for name, (ins, out) in SIGNATURES.items():
        args = "".join(f'<arg type="{t.signature}" direction="in"/>' for t in get_signature_tree(ins).types)
        if out:
            args += f'<arg type="{out}" direction="out"/>'
        methods.append(f'<method name="{name}">{args}</method>')
    return (f'<node><interface name="{IFACE}">{"".join(methods)}</interface>'
            '<interface name="org.freedesktop.DBus.Introspectable"><method name="Introspect">'
            '<arg type="s" direction="out"/></method></interface></node>')


async def call(bus_address: str, member: str, *args: Any) -> Any:
    """One control call from another process (``routesim fake-bluez ctl``): the reply's value, or
    :class:`RuntimeError` with the fake's one-line reason."""
    sig = SIGNATURES[member][0]
    bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
    try:
        reply = await asyncio.wait_for(bus.call(Message(destination=NAME, path=PATH, interface=IFACE, member=member,
                                                        signature=sig, body=list(args))), 10)
    finally:
        bus.disconnect()
    if reply.message_type is MessageType.ERROR:
        text = reply.body[0] if reply.body else reply.error_name
        if reply.error_name == "org.freedesktop.DBus.Error.ServiceUnknown":
            text = f"no routesim fake-bluez runs on {bus_address} (nobody owns {NAME})"
        raise RuntimeError(text)
    return reply.body[0] if reply.body else None
