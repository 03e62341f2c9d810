"""What the rig itself shows for a device's audio link, read independently of the phone model: the card
profile (A2DP or HFP), the codec and the sample rate.

A recording keeps these apart from what the model decided, so a replay can say where the two disagree.
Three sources, best first:

- the audio server through ``pactl --format=json list cards`` / ``list sinks`` (the card's active
  profile; a node's ``api.bluez5.codec`` and its sample specification), when pactl and a server answer;
- the card profiles the backend follows (the fake's ``org.routesim.FakePipeWire`` on a private bus);
- BlueZ's ``MediaTransport1`` (``Codec`` and ``Configuration``: the A2DP codec and its sampling rate).

:class:`LinkFactSource` is the one interface a recorder reads; :class:`BluezLinkFacts` implements it
on a backend. Sampling-rate bits follow BlueZ's ``a2dp-codecs.h`` (``bluez-a2dp-codecs`` [DOC]); PipeWire's
names (card ``bluez_card.AA_BB_…``, profile names, ``api.bluez5.codec`` with underscores) follow its bluez5
plugin (``pw-bluez5`` [DOC]); the JSON output is ``pactl --format=json`` (``pactl-json`` [DOC]). Keys:
docs/sources.md.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from typing import Any, Protocol

from routesim.bt.bluez.constants import DEVICE, card_profile_to_profile
from routesim.bt.bluez.values import transport_codec
from routesim.profiles.codecs import CODECS


@dataclass(frozen=True, slots=True)
class LinkFacts:
    """One device's link as the rig shows it. ``card`` is the audio server's card profile name
    (``a2dp-sink``, ``headset-head-unit-msbc``) when one is known."""

    profile: str  # "a2dp" | "hfp" | "none"
    codec: str | None = None
    sample_rate: int | None = None
    card: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """As a scenario's ``expect: rig`` writes it (unknown facts left out)."""
        out: dict[str, Any] = {"profile": self.profile, "codec": self.codec}
        if self.sample_rate is not None:
            out["sampleRate"] = self.sample_rate
        if self.card is not None:
            out["card"] = self.card
        return out


class LinkFactSource(Protocol):
    """Where a recorder reads the rig's facts. ``refresh`` may ask an outside program (pactl) and is
    awaited now and then; ``facts`` answers at once from what was last read."""

    async def refresh(self) -> None: ...

    def facts(self, address: str) -> LinkFacts: ...


# ------------------------------------------------------------------ A2DP Configuration bytes
_SBC_RATES = {0x80: 16000, 0x40: 32000, 0x20: 44100, 0x10: 48000}
_AAC_RATES = {0x800: 8000, 0x400: 11025, 0x200: 12000, 0x100: 16000, 0x080: 22050, 0x040: 24000, 0x020: 32000,
              0x010: 44100, 0x008: 48000, 0x004: 64000, 0x002: 88200, 0x001: 96000}


def a2dp_sample_rate(codec: str | None, configuration: bytes | None) -> int | None:
    """The sampling rate an A2DP configuration selected (SBC: high nibble of byte 0; AAC: 12 bits from
    byte 1 and the high nibble of byte 2); None when the codec or the bytes say nothing we can read."""
    conf = bytes(configuration or b"")
    if codec == "sbc" and len(conf) >= 1:
        return _SBC_RATES.get(conf[0] & 0xF0)
    if codec == "aac" and len(conf) >= 3:
        return _AAC_RATES.get((conf[1] << 4) | (conf[2] >> 4))
    return None


def _codec_name(name: str | None) -> str | None:
    """PipeWire writes ``lc3_a127``; routesim's codec names use hyphens."""
    return name.replace("_", "-") if name else None


def _hfp_codec_from_card(card: str) -> str | None:
    """``headset-head-unit-msbc`` → ``msbc``; the bare name selects the best codec and says nothing."""
    for prefix in ("headset-head-unit-", "handsfree-head-unit-"):
        if card.startswith(prefix):
            return _codec_name(card[len(prefix):])
    return None


# ------------------------------------------------------------------ pactl
_RATE = re.compile(r"(\d+)\s*Hz")


def parse_pactl(cards_json: str, sinks_json: str = "[]") -> dict[str, dict[str, Any]]:
    """``pactl --format=json list cards`` (and ``list sinks``) → per Bluetooth address: the card's active
    profile (``card``), and from its sink the codec and sample rate. Malformed text gives ``{}``."""
    try:
        cards, sinks = json.loads(cards_json or "[]"), json.loads(sinks_json or "[]")
    except ValueError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, dict):
            continue
        address = _address_of(card)
        if address and isinstance(card.get("active_profile"), str):
            out.setdefault(address, {})["card"] = card["active_profile"]
    for sink in sinks if isinstance(sinks, list) else []:
        if not isinstance(sink, dict):
            continue
        address = _address_of(sink)
        if not address:
            continue
        props = sink.get("properties") if isinstance(sink.get("properties"), dict) else {}
        entry = out.setdefault(address, {})
        sink_kind = card_profile_to_profile(str(props.get("api.bluez5.profile", "")))
        card_kind = card_profile_to_profile(entry.get("card", ""))
        if sink_kind and card_kind and sink_kind != card_kind:
            continue  # a node of the profile the card is leaving: its codec and rate are no longer the link's
        if isinstance(props.get("api.bluez5.codec"), str):
            entry["codec"] = _codec_name(props["api.bluez5.codec"])
        spec = sink.get("sample_specification")
        rate = _RATE.search(spec) if isinstance(spec, str) else None
        if rate:
            entry["sampleRate"] = int(rate.group(1))
    return out


def _address_of(obj: dict[str, Any]) -> str | None:
    props = obj.get("properties") if isinstance(obj.get("properties"), dict) else {}
    address = props.get("api.bluez5.address")
    if isinstance(address, str) and re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", address):
        return address.upper()
    name = obj.get("name")
    m = re.match(r"bluez_(?:card|output|input)\.([0-9A-Fa-f]{2}(?:_[0-9A-Fa-f]{2}){5})", name or "")
    return m.group(1).replace("_", ":").upper() if m else None


async def read_pactl(pactl: str = "pactl") -> dict[str, dict[str, Any]] | None:
    """What the audio server says, or None when pactl is missing or no server answers."""
    from routesim.bt.bluez.errors import BluezError
    from routesim.bt.bluez.pipewire import run_pactl

    if shutil.which(pactl) is None:
        return None
    try:
        cards = await run_pactl(pactl, "--format=json", "list", "cards")
        sinks = await run_pactl(pactl, "--format=json", "list", "sinks")
    except BluezError:
        return None
    return parse_pactl(cards, sinks)


async def read_server_name(pactl: str = "pactl") -> str | None:
    """The audio server's own name (``pactl info``'s ``server_name``: ``PulseAudio (on PipeWire 0.3.65)``),
    or None when pactl is missing or no server answers."""
    from routesim.bt.bluez.errors import BluezError
    from routesim.bt.bluez.pipewire import run_pactl

    if shutil.which(pactl) is None:
        return None
    try:
        info = json.loads(await run_pactl(pactl, "--format=json", "info"))
    except (BluezError, ValueError):
        return None
    name = info.get("server_name") if isinstance(info, dict) else None
    return name if isinstance(name, str) and name else None


# ------------------------------------------------------------------ the backend's view
def link_facts(device: dict[str, Any] | None, transport: dict[str, Any] | None, card: str | None,
               card_codec: str | None, server: dict[str, Any] | None = None) -> LinkFacts:
    """Combine what BlueZ (``Device1``, ``MediaTransport1``), the followed card profile and the audio
    server (``server``: one entry of :func:`parse_pactl`) show for one device."""
    server = server or {}
    card = server.get("card", card)
    if not device or not device.get("Connected"):
        return LinkFacts("none", None, None, card)
    kind = card_profile_to_profile(card) if card else None
    a2dp_codec = transport_codec(transport) if transport else None
    if kind is None:  # no audio server to ask: BlueZ's transport is all there is
        kind = "a2dp" if transport and transport.get("State") == "active" else "none"
    if kind == "a2dp":
        codec = server.get("codec") or a2dp_codec or _codec_name(card_codec)
        rate = server.get("sampleRate") or (a2dp_sample_rate(a2dp_codec, transport.get("Configuration"))
                                            if transport else None)
        return LinkFacts("a2dp", codec, rate, card)
    if kind == "hfp":
        codec = server.get("codec") or _hfp_codec_from_card(card or "") or _codec_name(card_codec)
        known = CODECS.get(codec or "")
        rate = server.get("sampleRate") or (known.sample_rate if known else None)
        return LinkFacts("hfp", codec, rate, card)
    return LinkFacts("none", None, None, card)


class BluezLinkFacts:
    """:class:`LinkFactSource` on a running :class:`~routesim.bt.bluez.BluezBackend`; with ``pactl``
    (default: used when installed and a server answers) the audio server's word comes first."""

    def __init__(self, backend: Any, pactl: str | None = "pactl", every: float = 1.0):
        self.backend = backend
        self.pactl = pactl
        # seconds between two pactl runs, however often refresh is awaited (sooner after a card change)
        self.every = every
        self._server: dict[str, dict[str, Any]] = {}
        self._asked: float | None = None
        # the audio server's name, once it showed a card of a device: a recording says what its facts rest on
        self.server_name: str | None = None

    async def refresh(self) -> None:
        # on a private bus with only the fake's stand-in, its card profiles come over D-Bus already; with
        # a real audio server on it (the fake hosting PipeWire), the server is asked as on a rig
        if not self.pactl or not (self.backend.live or self.backend.follows_audio_server):
            return
        now = self.backend.clock.now()
        if self._asked is not None and now - self._asked < self.every and self._in_step():
            return
        self._asked = now
        self._server = await read_pactl(self.pactl) or {}
        if self.server_name is None and any("card" in self._server.get(a, {}) for a in self._addresses()):
            self.server_name = await read_server_name(self.pactl)

    def _addresses(self) -> list[str]:
        """The devices BlueZ lists on this bus (an audio server may have cards of other buses' devices)."""
        return [str((ifaces.get(DEVICE) or {}).get("Address", "")).upper()
                for _, ifaces in self.backend._tree.devices()]

    def _in_step(self) -> bool:
        """The server's last answer shows the Bluetooth cards and profiles the backend follows (``pactl
        subscribe``): after a switch, a new card or a card gone, the next refresh asks again instead of
        giving the old facts."""
        follower = getattr(self.backend, "_follower", None)
        if follower is None or not follower.ready:
            return True  # nothing followed to compare with: ask every ``every`` seconds
        followed = {c.address: c.active for c in follower.cards.values() if c.address}
        return followed == {a: e["card"] for a, e in self._server.items() if "card" in e}

    def facts(self, address: str) -> LinkFacts:
        address = address.upper()
        tree, cards = self.backend._tree, self.backend._cards
        for path, ifaces in tree.devices():
            device = ifaces.get(DEVICE) or {}
            if str(device.get("Address", "")).upper() == address:
                kind_codec = cards.profiles.get(address)
                return link_facts(device, tree.transport_of(path), cards.names.get(address),
                                  kind_codec[1] if kind_codec else None, self._server.get(address))
        return LinkFacts("none", None, None, self._server.get(address, {}).get("card"))
