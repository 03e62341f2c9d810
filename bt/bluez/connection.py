"""The backend's D-Bus connection: connect and subscribe, keep the object tree in sync, survive.

All incoming messages are handled synchronously in wire order by one handler, including the replies
to ``GetNameOwner``/``GetManagedObjects`` (matched by serial), so a signal that arrives right after a
snapshot is applied on top of it, never overwritten by it.

Two things can go away: bluetoothd (``org.bluez`` changes owner: everything it said is void, and the
new owner's tree is read again) and our own bus connection (the supervisor reconnects with
exponential backoff and resyncs). The announcer's diffing turns either into only real changes.

bluetoothd leaving the bus does not drop its devices at once: they count as connected for
``restart_grace`` seconds, so a restart that kept the links (the new bluetoothd finds them up) announces
nothing [INF]. Each of these happenings is reported once through ``report_status`` (one line in
``routesim watch``); a bluetoothd that owns the name but does not answer is reported after
``answer_timeout`` seconds instead of being waited on.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any, Callable, Protocol

from dbus_fast import BusType, DBusError, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import AuthError, InvalidAddressError

from routesim.bt.dbus_util import consume_result, disconnect, disconnected
from routesim.bt.bluez.announcer import Announcer
from routesim.bt.bluez.constants import BLUEZ, DBUS, FAKE_PIPEWIRE, FAKE_PIPEWIRE_IFACE, FAKE_PIPEWIRE_PATH, OBJECT_MANAGER, PROPERTIES
from routesim.bt.bluez.errors import BluezError, NoBus, NoPermission, NotAnswering, NotConnected
from routesim.bt.bluez.object_tree import ObjectTree
from routesim.bt.bluez.pipewire import CardTable

log = logging.getLogger("routesim.bt.bluez")

DBUS_PATH = "/org/freedesktop/DBus"


class Settings(Protocol):
    """Read from the backend at each use, so changing them on a running backend takes effect."""

    bus_address: str
    live: bool
    clock: Any
    backoff: tuple[float, float]
    call_timeout: float
    answer_timeout: float
    restart_grace: float

    def report_status(self, kind: str, text: str) -> None: ...


class BluezConnection:
    def __init__(self, tree: ObjectTree, cards: CardTable, announcer: Announcer, settings: Settings):
        self.tree = tree
        self.cards = cards
        self.announcer = announcer
        self.settings = settings
        self.bus: MessageBus | None = None
        self.owner: str | None = None  # unique name owning org.bluez
        self.pw_owner: str | None = None  # owner of the fake PipeWire (private buses only)
        self._pending: dict[int, Callable[[Message], None]] = {}  # reply serial -> in-order handler
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._left_at: float | None = None  # when bluetoothd left, until it is back
        self._left_reported = False
        self._grace_timer: Any = None
        self._retry: asyncio.Task[None] | None = None
        self.reconnects = 0
        self.resyncs = 0

    # -- lifecycle ------------------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, subscribe, read the tree."""
        self._stopping = False
        await self._connect_and_sync(initial=True)

    def supervise(self) -> None:
        """From now on, reconnect (and resync) whenever the connection drops."""
        self._supervisor = asyncio.ensure_future(self._supervise())

    async def close(self) -> None:
        self._stopping = True
        self._cancel_grace()
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._supervisor is not None:
            self._supervisor.cancel()
            try:
                await self._supervisor
            except (asyncio.CancelledError, Exception):
                pass
            self._supervisor = None
        bus, self.bus = self.bus, None
        await disconnect(bus)

    async def _connect_and_sync(self, initial: bool = False) -> None:
        address = self.settings.bus_address
        try:
            bus = MessageBus(bus_address=address, bus_type=BusType.SYSTEM)
        except InvalidAddressError as exc:
            raise NoBus(f"invalid D-Bus address {address!r}: {exc}") from None
        try:
            await asyncio.wait_for(bus.connect(), 10)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NoBus(f"no D-Bus system bus at {address} ({exc.strerror or exc})") from None
        except PermissionError:
            raise NoPermission(f"permission denied connecting to the system bus at {address}") from None
        except AuthError as exc:
            raise NoPermission(f"the system bus at {address} refused authentication: {exc}") from None
        except (asyncio.TimeoutError, OSError) as exc:
            raise NoBus(f"cannot connect to D-Bus at {address}: {exc}") from None
        sock = getattr(bus, "_sock", None)
        if isinstance(sock, socket.socket):
            # dbus-fast treats EAGAIN on send as fatal: room for a burst of our own calls (profile switches)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.bus = bus
        disconnected(bus)  # from now on, a connection that dies leaves no unretrieved future behind
        self._pending.clear()
        bus.add_message_handler(self._handle)
        try:
            await self._subscribe_and_sync(bus, initial)
        except BaseException:
            if self.bus is bus and not initial:
                bus.disconnect()  # a half-made connection: the supervisor makes a new one
            raise

    async def _subscribe_and_sync(self, bus: MessageBus, initial: bool) -> None:
        rules = [
            f"type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{BLUEZ}'",
            f"type='signal',sender='{BLUEZ}',interface='{OBJECT_MANAGER}',path='/'",
            f"type='signal',sender='{BLUEZ}',interface='{PROPERTIES}',member='PropertiesChanged',path_namespace='/org/bluez'",
        ]
        if not self.settings.live:
            rules += [
                f"type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{FAKE_PIPEWIRE}'",
                f"type='signal',sender='{FAKE_PIPEWIRE}',interface='{FAKE_PIPEWIRE_IFACE}'",
            ]
        try:
            for rule in rules:
                await self.call(DBUS, DBUS_PATH, DBUS, "AddMatch", "s", [rule])
        except DBusError as exc:
            raise NoPermission(f"the bus refused a signal subscription ({exc.type}: {exc.text})") from None
        try:
            await self._resync()
        except NotAnswering as exc:
            if initial:
                raise
            self._not_answering(exc)

    async def _supervise(self) -> None:
        """Wait for the bus connection to drop; reconnect with exponential backoff and resync."""
        while not self._stopping:
            bus = self.bus
            if bus is None:
                return
            try:
                # shield: cancelling the supervisor must not cancel dbus-fast's own disconnect future
                await asyncio.shield(disconnected(bus))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("bus connection lost: %s", exc)
            if self._stopping:
                return
            address = self.settings.bus_address
            clock = self.settings.clock
            lost_at = clock.now()
            log.info("lost the D-Bus connection to %s; reconnecting", address)
            delay, cap = self.settings.backoff
            said = False  # a blip is one line when it is over; an outage longer than the grace says so then too
            while not self._stopping:
                await clock.sleep(delay)
                try:
                    await self._connect_and_sync()
                    self.reconnects += 1
                    away = clock.now() - lost_at
                    self.settings.report_status(
                        "bus-back", f"reconnected to {address} after {_span(away)}" if said
                        else f"the D-Bus connection to {address} dropped; reconnected after {_span(away)}")
                    break
                except BluezError as exc:
                    log.info("reconnect failed: %s", exc)
                    if not said and clock.now() - lost_at >= self.settings.restart_grace:
                        said = True
                        self.settings.report_status(
                            "bus-lost", f"lost the D-Bus connection to {address}; reconnecting ({exc})")
                    delay = min(cap, delay * 2)

    # -- calls ----------------------------------------------------------------------------------------
    async def call(self, dest: str, path: str, iface: str, member: str, signature: str, body: list[Any]) -> Message:
        """A method call; :class:`DBusError` for an error reply, :class:`NotConnected` without a bus."""
        bus = self.bus
        if bus is None or not bus.connected:
            raise NotConnected(f"not connected to D-Bus at {self.settings.bus_address}")
        msg = Message(destination=dest, path=path, interface=iface, member=member, signature=signature, body=body)
        # Not bus.call(): dbus-fast drops the future of the send inside it, and when that write fails
        # (EAGAIN in a burst, a connection going away) asyncio logs "Future exception was never retrieved".
        reply_fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def on_reply(reply: Message) -> None:
            if not reply_fut.done():
                reply_fut.set_result(reply)

        self._send_ordered(msg, on_reply)
        gone = asyncio.ensure_future(asyncio.shield(disconnected(bus)))
        gone.add_done_callback(consume_result)
        try:
            await asyncio.wait([reply_fut, gone], timeout=self.settings.call_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not reply_fut.done():
            self._pending.pop(msg.serial, None)
            reply_fut.cancel()
            if bus.connected:
                raise asyncio.TimeoutError()
            raise NotConnected(f"lost the D-Bus connection to {self.settings.bus_address}")
        reply = reply_fut.result()
        if reply.message_type is MessageType.ERROR:
            raise DBusError(reply.error_name or "org.freedesktop.DBus.Error.Failed", reply.body[0] if reply.body else "")
        return reply

    async def owner_pid(self, name: str) -> int | None:
        """The process id behind a bus name (for messages that name who holds something)."""
        try:
            reply = await self.call(DBUS, DBUS_PATH, DBUS, "GetConnectionUnixProcessID", "s", [name])
        except (DBusError, BluezError, asyncio.TimeoutError):
            return None
        return reply.body[0] if reply.body and isinstance(reply.body[0], int) else None

    async def _name_owner(self, name: str) -> str | None:
        try:
            reply = await self.call(DBUS, DBUS_PATH, DBUS, "GetNameOwner", "s", [name])
        except DBusError:
            return None
        return reply.body[0] if reply.body and isinstance(reply.body[0], str) else None

    def _send_ordered(self, msg: Message, callback: Callable[[Message], None]) -> None:
        """Send a call whose reply is handled inside the message handler, in wire order with signals."""
        bus = self.bus
        if bus is None or not bus.connected:
            return  # the connection is going: the supervisor resyncs on the next one
        msg.serial = bus.next_serial()
        self._pending[msg.serial] = callback
        try:
            bus.send(msg).add_done_callback(consume_result)
        except (OSError, EOFError) as exc:
            self._pending.pop(msg.serial, None)
            log.info("send failed: %s", exc)

    # -- resync -----------------------------------------------------------------------------------------
    async def _resync(self) -> None:
        """Ask who owns org.bluez, then read the whole tree. Both replies are applied where they fall
        among the signals, so nothing a signal says is overwritten by an older snapshot."""
        self.resyncs += 1
        if not self.settings.live:
            self.pw_owner = await self._name_owner(FAKE_PIPEWIRE)
            if self.pw_owner:
                await self._read_cards()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def finish() -> None:
            if not done.done():
                done.set_result(None)

        def on_objects(reply: Message) -> None:
            if reply.message_type is MessageType.METHOD_RETURN and reply.signature == "a{oa{sa{sv}}}":
                if reply.sender == self.owner and self.tree.replace(reply.body[0]):
                    self.announcer.reconcile_all()
            elif reply.error_name in ("org.freedesktop.DBus.Error.ServiceUnknown",
                                      "org.freedesktop.DBus.Error.NameHasNoOwner",
                                      # the bus says so when the owner disconnects with our call unanswered
                                      "org.freedesktop.DBus.Error.NoReply"):
                log.info("bluetoothd left before it answered GetManagedObjects")  # NameOwnerChanged tells the rest
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
            if self._left_at is not None:
                self._owner_back()
            self._send_ordered(
                Message(destination=BLUEZ, path="/", interface=OBJECT_MANAGER, member="GetManagedObjects"), on_objects
            )

        self._send_ordered(
            Message(destination=DBUS, path=DBUS_PATH, interface=DBUS, member="GetNameOwner", signature="s", body=[BLUEZ]),
            on_owner,
        )
        bus = self.bus
        assert bus is not None
        gone = asyncio.ensure_future(asyncio.shield(disconnected(bus)))
        gone.add_done_callback(consume_result)
        timeout = self.settings.answer_timeout
        try:
            await asyncio.wait([done, gone], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not done.done():
            done.cancel()  # a late answer is still applied when it comes (its handler stays registered)
            if bus.connected:
                owner = self.owner or "?"
                pid = await self.owner_pid(owner) if self.owner else None
                raise NotAnswering(
                    f"bluetoothd does not answer: {BLUEZ} is owned by {owner}{f' (pid {pid})' if pid else ''} on "
                    f"{self.settings.bus_address}, but GetManagedObjects got no reply within {timeout:g} s")
            raise NotConnected(f"lost the D-Bus connection to {self.settings.bus_address} while reading BlueZ")

    async def _resync_safely(self) -> None:
        try:
            await self._resync()
        except NotAnswering as exc:
            self._not_answering(exc)
        except (NotConnected, OSError, EOFError) as exc:
            log.info("resync failed: %s", exc)  # the connection is going: the supervisor takes over
        except Exception as exc:
            log.warning("resync failed: %s", exc)

    def _not_answering(self, exc: NotAnswering) -> None:
        """Say so once, then keep asking (with backoff) until it answers or the owner changes."""
        self.settings.report_status("bluetoothd-silent", str(exc))
        if self._retry is None or self._retry.done():
            self._retry = asyncio.ensure_future(self._retry_resync(self.owner))

    async def _retry_resync(self, owner: str | None) -> None:
        delay, cap = self.settings.backoff
        while not self._stopping and self.owner == owner and owner is not None:
            await self.settings.clock.sleep(max(delay, 0.5))
            if self.owner != owner or self._stopping:
                return
            try:
                await self._resync()
                self.settings.report_status("bluetoothd-answers", "bluetoothd answers again")
                return
            except NotAnswering:
                delay = min(cap, delay * 2)
            except Exception as exc:
                log.info("resync failed: %s", exc)
                return

    # -- bluetoothd leaving and coming back ------------------------------------------------------------
    def _bluetoothd_left(self) -> None:
        """Its devices stay announced for ``restart_grace``: a restart that kept the links says nothing."""
        self._left_at = self.settings.clock.now()
        self._left_reported = False
        self._cancel_grace()
        grace = self.settings.restart_grace
        if grace <= 0:
            self._grace_over()
        else:
            self._grace_timer = self.settings.clock.call_later(grace, self._grace_over)

    def _grace_over(self) -> None:
        self._grace_timer = None
        if self.owner is None and self._left_at is not None and not self._left_reported:
            self._left_reported = True
            self.settings.report_status("bluetoothd-gone", "bluetoothd left the bus; its devices count as disconnected")
            self.announcer.reconcile_all()

    def _owner_back(self) -> None:
        self._cancel_grace()
        away = self.settings.clock.now() - (self._left_at or 0.0)
        if not self._left_reported:  # back within the grace: what it has not shown yet may still come
            self.announcer.hold_losses_until = (self._left_at or 0.0) + self.settings.restart_grace
        if self._left_reported:
            self.settings.report_status("bluetoothd-back", f"bluetoothd is back on the bus (away {_span(away)})")
        else:
            self.settings.report_status("bluetoothd-restarted", f"bluetoothd restarted (away {_span(away)})")
        self._left_at = None
        self._left_reported = False

    def _cancel_grace(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None

    async def _read_cards(self) -> None:
        try:
            reply = await asyncio.wait_for(
                self.call(FAKE_PIPEWIRE, FAKE_PIPEWIRE_PATH, FAKE_PIPEWIRE_IFACE, "ListCards", "", []),
                min(0.5, self.settings.answer_timeout))
        except (DBusError, asyncio.TimeoutError) as exc:
            log.info("fake PipeWire ListCards failed: %s", exc)
            return
        if reply.signature != "a(sss)":
            return
        self.cards.clear()
        for card, profile, codec in reply.body[0]:
            self.cards.note(card, profile, codec)

    def _on_bluez_owner(self, new: str | None) -> None:
        if new == self.owner:
            return
        if self.owner is not None:
            log.info("bluetoothd left the bus")
        self._set_owner(None)  # everything the old owner said is void
        if new is not None:
            log.info("bluetoothd is on the bus again; resyncing")
            self.owner = new
            if self._left_at is not None:
                self._owner_back()  # said before the changes its objects bring
            task = asyncio.ensure_future(self._resync_safely())
            task.add_done_callback(consume_result)

    def _set_owner(self, owner: str | None) -> None:
        if owner != self.owner or owner is None:
            was = self.owner
            self.owner = owner
            if owner is None:
                self.tree.clear()
                self.cards.clear()
                if was is not None:
                    self._bluetoothd_left()
                elif self._left_at is None:
                    self.announcer.reconcile_all()

    # -- message handling (synchronous, in wire order) --------------------------------------------------
    def _handle(self, msg: Message) -> None:
        try:
            mtype = msg.message_type
            if mtype is MessageType.METHOD_RETURN or mtype is MessageType.ERROR:
                cb = self._pending.pop(msg.reply_serial, None)
                if cb is not None:
                    cb(msg)
            elif mtype is MessageType.SIGNAL:
                self._on_signal(msg)
        except Exception as exc:  # a bad message must never take the backend down; one line (traceback at debug)
            log.warning("error handling %s %s.%s on %s: %s: %s; ignored", msg.message_type, msg.interface,
                        msg.member, msg.path, type(exc).__name__, " ".join(str(exc).split())[:200])
            log.debug("the traceback", exc_info=True)

    def _on_signal(self, msg: Message) -> None:
        if msg.interface == DBUS and msg.member == "NameOwnerChanged" and msg.sender == DBUS:
            if msg.signature == "sss":
                name, _old, new = msg.body
                if name == BLUEZ:
                    self._on_bluez_owner(new or None)
                elif name == FAKE_PIPEWIRE and not self.settings.live:
                    self.pw_owner = new or None
            return
        if msg.sender is not None and msg.sender == self.pw_owner and msg.interface == FAKE_PIPEWIRE_IFACE:
            if msg.member == "CardProfileChanged" and msg.signature == "sss":
                address = self.cards.note(*msg.body)
                if address:
                    self.announcer.reconcile_address(address)
            return
        if msg.sender is None or msg.sender != self.owner:
            return  # impostors: only bluetoothd's own signals describe its tree
        if msg.interface == OBJECT_MANAGER and msg.path == "/":
            if msg.member == "InterfacesAdded":
                if msg.signature != "oa{sa{sv}}":
                    log.warning("InterfacesAdded with signature %r ignored", msg.signature)
                elif self.tree.add_interfaces(msg.body[0], msg.body[1]):
                    self.announcer.reconcile_path(msg.body[0])
            elif msg.member == "InterfacesRemoved":
                if msg.signature != "oas":
                    log.warning("InterfacesRemoved with signature %r ignored", msg.signature)
                    return
                removed = self.tree.remove_interfaces(msg.body[0], msg.body[1])
                if removed is not None:
                    self.announcer.reconcile_path(msg.body[0], removed)
        elif msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
            path = msg.path or ""
            if msg.signature != "sa{sv}as":
                log.warning("PropertiesChanged with signature %r on %s ignored", msg.signature, msg.path)
            elif self.tree.change_properties(path, *msg.body):
                self.announcer.reconcile_path(path)


def _span(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
