"""What the fake bluetoothd does for an audio server (PipeWire's bluez5 plugin, or anything speaking
the same D-Bus API): registrations, A2DP stream configuration, transports, and HFP connections.

As bluetoothd does it [DEV BlueZ-Media1, BlueZ-MediaTransport1], and as PipeWire's bluez5 plugin expects
it [DEV PipeWire-bluez5]; "observed" marks what a run with Debian 12's PipeWire 0.3.65 showed [INF]:

- ``Media1.RegisterApplication(o, a{sv})`` on the adapter: bluetoothd reads the application's
  ``GetManagedObjects`` for its ``MediaEndpoint1`` objects, then replies; ``RegisterEndpoint(o, a{sv})``
  is the older one-endpoint path. ``ProfileManager1.RegisterProfile(o, s, a{sv})`` on ``/org/bluez``
  registers an external profile (PipeWire: HFP audio gateway ``0000111f``, hands-free ``0000111e``);
  ``AgentManager1`` takes pairing agents (kept, never asked anything here).
- When a device's A2DP connects: for the headset's codecs, best first, the first local source
  endpoint with that codec whose ``SelectConfiguration(ay)`` accepts the headset's capabilities gets a
  new ``MediaTransport1`` (``…/sepN/fdM``) through ``SetConfiguration(o, a{sv})``; the transport's
  ``UUID`` is the local endpoint's (A2DP Source ``0000110a``: with ``0000110b`` PipeWire only offers an
  audio-gateway profile, observed). ``SetConfiguration`` on a remote endpoint (``sepN``) switches
  codec: the old transport is cleared (``ClearConfiguration``), a new one configured.
- ``Acquire``/``TryAcquire`` return ``(h fd, q read MTU, q write MTU)`` on a ``SOCK_SEQPACKET``
  socketpair whose other end the virtual headset reads (:class:`SbcStream` counts what arrives);
  ``TryAcquire`` only while ``pending``; ``Release`` takes the state back to ``idle``.
- When a device's HFP connects: ``Profile1.NewConnection(o device, h fd, a{sv})`` on the profile
  registered for the audio-gateway role, with one end of a stream socketpair; the virtual headset speaks
  the hands-free side on the other (:class:`hfp.HandsFree`). On disconnect: ``RequestDisconnection``.
- An audio server that leaves the bus loses its registrations (NameOwnerChanged), as in bluetoothd.

Without an audio server registered none of this runs: the fake keeps its own simpler transports.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Coroutine

from dbus_fast import DBusError, Message, MessageFlag, MessageType, Variant

from routesim.bt.bluez.constants import A2DP_SOURCE, ENDPOINT, HFP_AG, HFP_HF, HSP_AG, HSP_HS, HSP_HS_ALT, TRANSPORT

from routesim.bt.fake_bluez.a2dp import SbcStream, matches, sink_capabilities
from routesim.bt.fake_bluez.device import FakeDevice
from routesim.bt.fake_bluez.hfp import HandsFree
from routesim.bt.fake_bluez.interfaces import AGENT_MANAGER, MEDIA, PROFILE, PROFILE_MANAGER

log = logging.getLogger("routesim.bt.fake_bluez")

BLUEZ_ROOT = "/org/bluez"
ERR = "org.bluez.Error."

# L2CAP MTU of the A2DP media channel handed out with the transport fd (what PipeWire got in the trial).
A2DP_MTU = 895
# Remote role (the headset's Device1.UUIDs) -> the local role a profile must be registered for.
LOCAL_ROLE = {HFP_HF: HFP_AG, HSP_HS: HSP_AG, HSP_HS_ALT: HSP_AG}
CALL_TIMEOUT = 10.0


@dataclass(frozen=True)
class LocalEndpoint:
    """An audio server's ``MediaEndpoint1`` (e.g. PipeWire's ``/MediaEndpoint/A2DPSource/sbc``)."""

    sender: str
    path: str
    uuid: str
    codec: int
    capabilities: bytes


@dataclass(frozen=True)
class RegisteredProfile:
    sender: str
    path: str
    uuid: str


@dataclass
class A2dpLink:
    """A configured A2DP stream: the local endpoint it runs to, the remote codec and configuration, and
    while acquired the headset's end of the socket."""

    endpoint: LocalEndpoint
    codec: str
    configuration: bytes
    sock: socket.socket | None = None
    owner: str | None = None  # who acquired it (until Release)
    reader: threading.Thread | None = None
    streams: list[SbcStream] = field(default_factory=list)  # one per acquisition

    @property
    def stream(self) -> SbcStream | None:
        return self.streams[-1] if self.streams else None


@dataclass
class HfpLink:
    profile: RegisteredProfile
    headset: HandsFree
    task: asyncio.Task[None]


class AudioServerHost:
    """Mixed into :class:`bt.fake_bluez.FakeBluez`, whose bus, devices, ``_sync``, ``_emit`` and task set
    it uses."""

    endpoints: dict[tuple[str, str], LocalEndpoint]
    profiles: dict[tuple[str, str], RegisteredProfile]
    agents: dict[str, str]

    # -- state -------------------------------------------------------------------------------------------
    def _init_audio_host(self) -> None:
        self.endpoints = {}
        self.profiles = {}
        self.agents = {}
        self.audio_changed = asyncio.Condition()  # notified whenever a link, transport or registration changes

    @property
    def audio_server(self) -> bool:
        """True once an audio server registered A2DP endpoints or an HFP/HSP profile."""
        return bool(self.endpoints or self.profiles)

    def _forget_audio_server(self, sender: str | None = None) -> None:
        """Registrations go when their owner leaves the bus (or, with ``sender`` None, when we stop)."""
        self.endpoints = {k: v for k, v in self.endpoints.items() if sender is not None and k[0] != sender}
        self.profiles = {k: v for k, v in self.profiles.items() if sender is not None and k[0] != sender}
        self.agents = {k: v for k, v in self.agents.items() if sender is not None and k != sender}
        for dev in self.devices.values():
            if dev.a2dp_link is not None and (sender is None or dev.a2dp_link.endpoint.sender == sender):
                self._close_a2dp(dev, notify=False)
            if dev.hfp_link is not None and (sender is None or dev.hfp_link.profile.sender == sender):
                self._close_hfp(dev, notify=False)
        self._sync()
        self._audio_notify()

    def _audio_notify(self) -> None:
        async def notify() -> None:
            async with self.audio_changed:
                self.audio_changed.notify_all()

        self._spawn(notify())

    async def wait_audio(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (re-checked on every audio change and every 50 ms)."""
        async def until() -> None:
            while not predicate():
                async with self.audio_changed:
                    try:
                        await asyncio.wait_for(self.audio_changed.wait(), 0.05)
                    except asyncio.TimeoutError:
                        pass

        await asyncio.wait_for(until(), timeout)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    # -- method calls ------------------------------------------------------------------------------------
    def _audio_call(self, msg: Message, path: str, iface: str, member: str) -> Message | bool | None:
        """Media1 / ProfileManager1 / AgentManager1 / remote MediaEndpoint1 / audio-server transports;
        None when the call is not one of these."""
        sender = msg.sender or ""
        if iface == MEDIA and path == self.adapter_path:
            return self._media_call(msg, sender, member)
        if iface == PROFILE_MANAGER and path == BLUEZ_ROOT:
            if member == "RegisterProfile" and msg.signature == "osa{sv}":
                obj, uuid, _opts = msg.body
                if (sender, obj) in self.profiles:
                    raise DBusError(ERR + "AlreadyExists", "Already Exists")
                self.profiles[(sender, obj)] = RegisteredProfile(sender, obj, uuid.lower())
                self._emit(Message.new_method_return(msg))
                self._bring_up_all()
                return True
            if member == "UnregisterProfile" and msg.signature == "o":
                if self.profiles.pop((sender, msg.body[0]), None) is None:
                    raise DBusError(ERR + "DoesNotExist", "Does Not Exist")
                return Message.new_method_return(msg)
        if iface == AGENT_MANAGER and path == BLUEZ_ROOT:
            if member == "RegisterAgent" and msg.signature == "os":
                self.agents[sender] = msg.body[0]
                return Message.new_method_return(msg)
            if member in ("UnregisterAgent", "RequestDefaultAgent") and msg.signature == "o":
                if self.agents.get(sender) != msg.body[0]:
                    raise DBusError(ERR + "DoesNotExist", "Does Not Exist")
                if member == "UnregisterAgent":
                    del self.agents[sender]
                return Message.new_method_return(msg)
        if iface == ENDPOINT and member == "SetConfiguration" and msg.signature == "oa{sv}":
            dev = next((d for d in self.devices.values() if path.startswith(d.path + "/sep")), None)
            if dev is not None and self.audio_server:
                self._spawn(self._switch_codec(msg, dev, path))
                return True
        if iface == TRANSPORT:
            dev = next((d for d in self.devices.values() if d.a2dp_link and d.transport_path == path), None)
            if dev is not None:
                return self._transport_call(msg, dev, member)
        return None

    def _media_call(self, msg: Message, sender: str, member: str) -> Message | bool:
        if member == "RegisterApplication" and msg.signature == "oa{sv}":
            self._spawn(self._register_application(msg, sender, msg.body[0]))
            return True
        if member == "RegisterEndpoint" and msg.signature == "oa{sv}":
            obj, props = msg.body
            self._add_endpoint(sender, obj, props)
            self._emit(Message.new_method_return(msg))
            self._bring_up_all()
            return True
        if member in ("UnregisterEndpoint", "UnregisterApplication") and msg.signature == "o":
            root = msg.body[0]
            gone = [k for k in self.endpoints if k[0] == sender and (k[1] == root or k[1].startswith(root.rstrip("/") + "/"))]
            if not gone:
                raise DBusError(ERR + "DoesNotExist", "Does Not Exist")
            for key in gone:
                del self.endpoints[key]
            return Message.new_method_return(msg)
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"Media1.{member} not supported")

    def _add_endpoint(self, sender: str, path: str, props: dict[str, Variant]) -> None:
        try:
            ep = LocalEndpoint(sender, path, props["UUID"].value.lower(), int(props["Codec"].value),
                               bytes(props.get("Capabilities", Variant("ay", b"")).value))
        except (KeyError, TypeError, ValueError):
            raise DBusError(ERR + "InvalidArguments", "Invalid arguments in method call") from None
        self.endpoints[(sender, path)] = ep

    async def _register_application(self, msg: Message, sender: str, root: str) -> None:
        """bluetoothd reads the application's objects before it answers RegisterApplication."""
        try:
            reply = await self._call(sender, root, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", [])
            found = 0
            for path, ifaces in reply.body[0].items():
                if ENDPOINT in ifaces:
                    self._add_endpoint(sender, path, ifaces[ENDPOINT])
                    found += 1
            if not found:
                raise DBusError(ERR + "InvalidArguments", "No endpoint or player found")
        except DBusError as exc:
            self._emit(Message.new_error(msg, exc.type, exc.text))
            return
        self._emit(Message.new_method_return(msg))
        self._bring_up_all()

    def _name_owner_changed(self, msg: Message) -> None:
        name, old, new = msg.body
        if name.startswith(":") and old and not new:
            if any(k[0] == name for k in self.endpoints) or any(k[0] == name for k in self.profiles):
                self._forget_audio_server(name)

    # -- bringing profiles up and down -------------------------------------------------------------------
    def _bring_up_all(self) -> None:
        for dev in self.devices.values():
            if dev.connected:
                self._spawn(self._bring_up(dev))

    async def _bring_up(self, dev: FakeDevice, a2dp_wanted: bool = True, hfp_wanted: bool = True) -> None:
        """The headset's profiles connect, one at a time per device: HFP first, then A2DP."""
        async with dev.profile_lock:
            if hfp_wanted and dev.connected and dev.accessory.has_hfp and dev.hfp_link is None:
                await self._connect_hfp(dev)
            if a2dp_wanted and dev.connected and dev.accessory.has_a2dp and dev.a2dp_link is None:
                await self._configure_a2dp(dev)

    def _hfp_profile(self, dev: FakeDevice) -> RegisteredProfile | None:
        wanted = {LOCAL_ROLE[u] for u in dev.accessory.uuids if u in LOCAL_ROLE}
        # HFP before HSP when the headset has both (bluetoothd tries the richer profile)
        return next((p for p in sorted(self.profiles.values(), key=lambda p: p.uuid != HFP_AG) if p.uuid in wanted), None)

    def _a2dp_sources(self) -> list[LocalEndpoint]:
        return [e for e in self.endpoints.values() if e.uuid == A2DP_SOURCE]

    async def _configure_a2dp(self, dev: FakeDevice) -> None:
        for codec in dev.accessory.a2dp_codecs:
            caps = sink_capabilities(codec)
            for ep in self._a2dp_sources():
                if not matches(codec, ep.codec, ep.capabilities):
                    continue
                try:
                    reply = await self._call(ep.sender, ep.path, ENDPOINT, "SelectConfiguration", "ay", [caps])
                except DBusError as exc:
                    log.info("%s refused %s capabilities of %s: %s", ep.path, codec, dev.address, exc.text)
                    continue
                await self._set_configuration(dev, ep, codec, bytes(reply.body[0]))
                return
        log.info("no audio-server endpoint speaks any A2DP codec of %s (%s)", dev.address, dev.accessory.a2dp_codecs)

    async def _set_configuration(self, dev: FakeDevice, ep: LocalEndpoint, codec: str, config: bytes) -> None:
        dev.sep_index = dev.accessory.a2dp_codecs.index(codec) + 1
        dev.codec = codec
        dev.a2dp_link = A2dpLink(ep, codec, config)
        dev.open_transport()
        self._sync()  # the transport object exists before the endpoint hears of it, as in bluetoothd
        props = dict(self._tree.get(dev.transport_path, {}).get(TRANSPORT, {}))
        try:
            await self._call(ep.sender, ep.path, ENDPOINT, "SetConfiguration", "oa{sv}", [dev.transport_path, props])
        except DBusError as exc:
            log.info("%s refused the configuration of %s: %s", ep.path, dev.address, exc.text)
            dev.a2dp_link = None
            dev.a2dp_up = False
            self._sync()
        self._audio_notify()

    async def _switch_codec(self, msg: Message, dev: FakeDevice, sep_path: str) -> None:
        """``MediaEndpoint1.SetConfiguration`` on the headset's endpoint: reconfigure to that codec."""
        local, props = msg.body
        ep = self.endpoints.get((msg.sender or "", local))
        index = int(sep_path.rsplit("sep", 1)[1]) if sep_path.rsplit("sep", 1)[1].isdigit() else 0
        codecs = dev.accessory.a2dp_codecs
        if ep is None or not 1 <= index <= len(codecs) or "Capabilities" not in props or not dev.connected:
            self._emit(Message.new_error(msg, ERR + "InvalidArguments", "Invalid arguments in method call"))
            return
        async with dev.profile_lock:
            if dev.a2dp_link is not None:
                self._close_a2dp(dev)
                self._sync()
            await self._set_configuration(dev, ep, codecs[index - 1], bytes(props["Capabilities"].value))
        if dev.a2dp_link is None:
            self._emit(Message.new_error(msg, ERR + "Failed", "Unable to select configuration"))
        else:
            self._emit(Message.new_method_return(msg))

    async def _connect_hfp(self, dev: FakeDevice) -> None:
        profile = self._hfp_profile(dev)
        if profile is None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        headset = HandsFree(codecs=dev.accessory.hfp_codecs)
        opts = {"Version": Variant("q", 0x0108), "Features": Variant("q", headset.features & 0x3F)}
        try:
            await self._call(profile.sender, profile.path, PROFILE, "NewConnection", "oha{sv}",
                             [dev.path, 0, opts], unix_fds=[theirs.fileno()])
        except DBusError as exc:
            log.info("%s refused the HFP connection of %s: %s", profile.path, dev.address, exc.text)
            ours.close()
            return
        finally:
            theirs.close()
        task = asyncio.ensure_future(headset.run(ours))
        task.add_done_callback(lambda _t: self._hfp_ended(dev, headset))
        dev.hfp_link = HfpLink(profile, headset, task)
        self._spawn(self._note_slc(dev, headset))

    async def _note_slc(self, dev: FakeDevice, headset: HandsFree) -> None:
        waiter = asyncio.ensure_future(headset.connected.wait())
        await asyncio.wait([waiter, asyncio.ensure_future(headset.closed.wait())], return_when=asyncio.FIRST_COMPLETED)
        if headset.connected.is_set() and dev.hfp_link is not None and dev.hfp_link.headset is headset:
            dev.hfp_up = True  # battery reports start with the HFP link
            self._sync()
        self._audio_notify()

    def _hfp_ended(self, dev: FakeDevice, headset: HandsFree) -> None:
        if dev.hfp_link is not None and dev.hfp_link.headset is headset:
            dev.hfp_link = None
            dev.hfp_up = False
            self._sync()
        self._audio_notify()

    def _close_hfp(self, dev: FakeDevice, notify: bool = True) -> None:
        link, dev.hfp_link = dev.hfp_link, None
        if link is None:
            return
        if notify:
            self._send_no_reply(link.profile.sender, link.profile.path, PROFILE, "RequestDisconnection", "o", [dev.path])
        link.headset.close()
        link.task.cancel()
        dev.hfp_up = False

    def _close_a2dp(self, dev: FakeDevice, notify: bool = True) -> None:
        """The stream goes: the endpoint hears ``ClearConfiguration`` and the transport object goes."""
        link, dev.a2dp_link = dev.a2dp_link, None
        if link is None:
            return
        if notify:
            self._send_no_reply(link.endpoint.sender, link.endpoint.path, ENDPOINT, "ClearConfiguration", "o",
                                [dev.transport_path])
        self._close_stream_socket(link)
        dev.a2dp_up = False
        dev.transport_state = "idle"

    def _drop_audio_links(self, dev: FakeDevice) -> None:
        self._close_hfp(dev)
        self._close_a2dp(dev)

    # -- the transport ----------------------------------------------------------------------------------
    def _transport_call(self, msg: Message, dev: FakeDevice, member: str) -> Message | bool:
        link = dev.a2dp_link
        assert link is not None
        if member in ("Acquire", "TryAcquire"):
            if link.owner is not None:
                raise DBusError(ERR + "NotAuthorized", "Operation Not Authorized")
            if member == "TryAcquire" and dev.transport_state != "pending":
                raise DBusError(ERR + "NotAvailable", "Operation currently not available")
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            link.sock, link.owner = ours, msg.sender or ""
            stream = SbcStream()
            link.streams.append(stream)
            # a thread of its own reads the stream: the source's socket buffer holds ~150 ms, and an
            # event loop shared with a test on two busy cores can stall longer (PipeWire then drops packets)
            loop = asyncio.get_running_loop()
            link.reader = threading.Thread(target=self._read_stream, args=(loop, link, ours, stream),
                                           name=f"a2dp-{dev.address}", daemon=True)
            link.reader.start()
            reply = Message.new_method_return(msg, "hqq", [0, A2DP_MTU, A2DP_MTU], unix_fds=[theirs.fileno()])
            self._emit(reply, after=theirs.close)
            dev.transport_state = "active"
            self._sync()
            self._audio_notify()
            return True
        if member == "Release":
            if link.owner != (msg.sender or ""):
                raise DBusError(ERR + "NotAuthorized", "Operation Not Authorized")
            link.owner = None
            self._close_stream_socket(link)
            dev.transport_state = "idle"
            self._reply_then_sync(Message.new_method_return(msg))
            self._audio_notify()
            return True
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"MediaTransport1.{member} not supported")

    def _read_stream(self, loop: asyncio.AbstractEventLoop, link: A2dpLink, sock: socket.socket,
                     stream: SbcStream) -> None:
        """One packet per read (SOCK_SEQPACKET), until the source closes its copy of the fd or we
        shut ours. The transport stays acquired until Release, as in bluetoothd, whose own copy of the
        socket stays open."""
        try:
            while True:
                packet = sock.recv(65536)
                if not packet:
                    break
                if link.codec == "sbc":
                    stream.feed(packet)
                else:
                    stream.packets += 1
        except OSError:
            pass
        if not loop.is_closed():
            loop.call_soon_threadsafe(self._audio_notify)

    def _close_stream_socket(self, link: A2dpLink) -> None:
        sock, link.sock = link.sock, None
        reader, link.reader = link.reader, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader (close alone would not)
            except OSError:
                pass
            if reader is not None:
                reader.join(1.0)
            sock.close()

    # -- outgoing calls ---------------------------------------------------------------------------------
    async def _call(self, dest: str, path: str, iface: str, member: str, signature: str, body: list[Any],
                    unix_fds: list[int] | None = None) -> Message:
        """A method call to an audio server, signature given explicitly (never guessed from
        introspection); its error raised as :class:`DBusError`."""
        if self._bus is None:
            raise DBusError(ERR + "Failed", "bluetoothd is stopping")
        msg = Message(destination=dest, path=path, interface=iface, member=member, signature=signature,
                      body=body, unix_fds=unix_fds or [])
        reply = await asyncio.wait_for(self._bus.call(msg), CALL_TIMEOUT)
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            raise DBusError(reply.error_name or ERR + "Failed", str(reply.body[0]) if reply.body else "")
        return reply

    def _send_no_reply(self, dest: str, path: str, iface: str, member: str, signature: str, body: list[Any]) -> None:
        self._emit(Message(destination=dest, path=path, interface=iface, member=member, signature=signature,
                           body=body, flags=MessageFlag.NO_REPLY_EXPECTED))


def _log_failure(task: "asyncio.Task[Any]") -> None:
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        if not isinstance(exc, (asyncio.TimeoutError, ConnectionError)):
            log.error("fake bluetoothd audio task failed", exc_info=exc)
        else:
            log.info("fake bluetoothd audio task: %r", exc)
