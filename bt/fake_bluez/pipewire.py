"""The fake's stand-in for PipeWire's card profiles: ``org.routesim.FakePipeWire``.

Card profiles (A2DP vs HFP) are PipeWire's business on Linux, not BlueZ's: the stand-in is a separate
well-known name, so a backend switches profiles on the fake bus the way it would with ``pactl`` on a
real one, and hears about switches it did not make (``CardProfileChanged``).
"""
from __future__ import annotations

from dbus_fast import DBusError, Message

from routesim.bt.bluez.constants import (
    CARD_PROFILE_A2DP,
    CARD_PROFILE_HFP,
    CARD_PROFILE_OFF,
    FAKE_PIPEWIRE_IFACE,
    FAKE_PIPEWIRE_PATH,
    INTROSPECTABLE,
    card_name,
    card_profile_to_profile,
)

from routesim.bt.fake_bluez.device import FakeDevice
from routesim.bt.fake_bluez.interfaces import introspect_pipewire


class PipeWireStandIn:
    """Mixed into :class:`bt.fake_bluez.FakeBluez`, whose devices, ``_sync`` and ``_emit`` it uses."""

    def switch_profile(self, address: str, profile: str) -> None:
        """What PipeWire does on ``pactl set-card-profile``: ``hfp`` brings HFP up (battery reports
        start) and leaves the A2DP transport idle; ``a2dp`` makes the transport active again."""
        dev = self.device(address)
        if self.audio_server:
            raise DBusError("org.routesim.Error.RealAudioServer",
                            "a real audio server has registered with this bluetoothd: switch its card with pactl")
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
                dev.open_transport()
            dev.transport_state = "active"
            self._set_card(dev, CARD_PROFILE_A2DP)
        elif profile == "none":
            dev.transport_state = "idle"
            self._set_card(dev, CARD_PROFILE_OFF)
        else:
            raise ValueError(f"unknown profile {profile!r}")
        self._sync()

    def _set_card(self, dev: FakeDevice, profile: str) -> None:
        dev.card_profile = profile
        if not self.pipewire or not self._online or self.audio_server:
            return  # a real audio server owns the cards: the stand-in stays quiet
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

    def _pipewire_call(self, msg: Message, path: str, iface: str, member: str) -> Message:
        if iface == INTROSPECTABLE and member == "Introspect":
            return Message.new_method_return(msg, "s", [introspect_pipewire(path)])
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
