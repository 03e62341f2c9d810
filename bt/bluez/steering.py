"""One steering watcher per adapter on a bus: the lock a watcher takes before it switches anything.

Two ``watch --apply`` on one rig used to send opposite profile switches at the same instant. The lock
is the D-Bus well-known name ``io.routesim.Steering.<adapter>`` requested on the watched bus itself
[INF]: it is keyed by bus and adapter by construction, the bus daemon releases it the moment the
process dies (even on ``kill -9``), and whoever holds it can be named (its pid, from the bus). A bus
whose policy does not let us own that name (the system bus allows only names it lists) falls back to
an advisory ``flock`` on a file named after the bus address and the adapter in the temporary
directory; the kernel releases that with the process too.
"""
from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import tempfile
from typing import Any

from dbus_fast import BusType, Message, MessageType, NameFlag, RequestNameReply
from dbus_fast.aio import MessageBus

from routesim.bt.bluez.constants import DBUS
from routesim.bt.dbus_util import disconnect, disconnected

log = logging.getLogger("routesim.bt.bluez")

PREFIX = "io.routesim.Steering."
DBUS_PATH = "/org/freedesktop/DBus"


def lock_name(adapter: str) -> str:
    return PREFIX + adapter


class SteeringLocks:
    """``await acquire()``; then ``held`` says whether this process may steer; ``why_not()`` names the
    other watcher; ``await release()`` at the end."""

    def __init__(self, bus_address: str, adapters: list[str]):
        self.bus_address = bus_address
        self.adapters = adapters or ["hci0"]
        self._bus: MessageBus | None = None
        self._files: list[int] = []
        self._refused: dict[str, str] = {}  # adapter -> who holds it
        self.held = False

    async def acquire(self) -> bool:
        try:
            self._bus = await asyncio.wait_for(
                MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM).connect(), 5)
        except Exception as exc:  # the backend reached this bus a moment ago: say it, do not steer
            self._refused = {a: f"could not connect for the steering lock ({exc})" for a in self.adapters}
            return False
        disconnected(self._bus)  # a bus that goes away (restart) leaves no unretrieved future
        for adapter in self.adapters:
            holder = await self._take(adapter)
            if holder is not None:
                self._refused[adapter] = holder
        self.held = not self._refused
        if not self.held:
            await self.release()
        return self.held

    def why_not(self) -> str:
        return "; ".join(f"another watcher steers {a} on this bus ({who})" for a, who in self._refused.items())

    async def _take(self, adapter: str) -> str | None:
        """None when we hold it now, else who does."""
        assert self._bus is not None
        name = lock_name(adapter)
        reply = await self._bus.call(Message(destination=DBUS, path=DBUS_PATH, interface=DBUS, member="RequestName",
                                             signature="su", body=[name, int(NameFlag.DO_NOT_QUEUE)]))
        if reply.message_type is MessageType.METHOD_RETURN:
            if RequestNameReply(reply.body[0]) in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
                return None
            return await self._holder(name)
        log.info("cannot own %s on %s (%s); using a lock file", name, self.bus_address, reply.error_name)
        return self._flock(adapter)

    async def _holder(self, name: str) -> str:
        assert self._bus is not None
        owner = await self._ask("GetNameOwner", name)
        pid = await self._ask("GetConnectionUnixProcessID", owner) if owner else None
        return f"pid {pid}, {owner}" if pid else (owner or "unknown")

    async def _ask(self, member: str, arg: Any) -> Any:
        assert self._bus is not None
        reply = await self._bus.call(Message(destination=DBUS, path=DBUS_PATH, interface=DBUS, member=member,
                                             signature="s", body=[arg]))
        return reply.body[0] if reply.message_type is MessageType.METHOD_RETURN and reply.body else None

    def _flock(self, adapter: str) -> str | None:
        digest = hashlib.sha256(self.bus_address.encode()).hexdigest()[:16]
        path = os.path.join(tempfile.gettempdir(), f"routesim-steering-{digest}-{adapter}.lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return f"lock file {path} is held"
        self._files.append(fd)
        return None

    async def release(self) -> None:
        for fd in self._files:
            os.close(fd)
        self._files.clear()
        bus, self._bus = self._bus, None
        await disconnect(bus)
        self.held = False
