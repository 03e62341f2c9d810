"""The state of one device on the fake, from which its D-Bus objects are computed."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Variant

from routesim.bt.bluez.constants import A2DP_CODEC_IDS, VENDOR_CODEC, VENDOR_CODECS

from routesim.bt.fake_bluez.accessory import VirtualAccessory


@dataclass
class FakeDevice:
    accessory: VirtualAccessory
    path: str
    name: str | None
    alias: str | None = None  # the stored local alias (None: Alias follows Name)
    paired: bool = True
    bonded: bool = True
    trusted: bool = True
    connected: bool = False
    services_resolved: bool = False
    reachable: bool = True  # False: Connect fails with a page timeout (buds in a closed case)
    a2dp_up: bool = False  # an A2DP stream is configured (transport exists)
    hfp_up: bool = False  # PipeWire's HFP service-level connection is up
    card_profile: str | None = None  # PipeWire card profile while connected
    transport_state: str = "idle"
    transport_index: int = -1  # fdN of the current (or last) transport; each new configuration is a new object
    codec: str = "sbc"
    volume: int = 127
    battery: int | None = None
    rssi: int | None = None
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    overrides: dict[str, dict[str, Variant | None]] = field(default_factory=dict)  # iface -> raw values
    # with an audio server registered (media.AudioServerHost): which remote endpoint (sepN, the Nth of
    # the model's A2DP codecs) the stream runs on, the stream and the HFP link, the transport's Delay
    sep_index: int = 1
    a2dp_link: Any = None  # media.A2dpLink
    hfp_link: Any = None  # media.HfpLink
    delay: int | None = None
    profile_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def address(self) -> str:
        return self.accessory.address

    @property
    def alias_value(self) -> str:
        if self.alias:
            return self.alias
        if self.name:
            return self.name
        return self.address.replace(":", "-")

    @property
    def sep_path(self) -> str:
        return f"{self.path}/sep{self.sep_index}"

    @property
    def transport_path(self) -> str:
        return f"{self.sep_path}/fd{self.transport_index}"

    def open_transport(self) -> None:
        """A new A2DP configuration: BlueZ never reuses a transport object, so it gets the next ``fdN``."""
        self.transport_index += 1
        self.a2dp_up = True
        self.transport_state = "idle"


def codec_config(codec: str) -> tuple[int, bytes]:
    """The MediaTransport1 ``Codec`` byte and ``Configuration`` bytes of an A2DP codec name."""
    if codec in A2DP_CODEC_IDS:
        return A2DP_CODEC_IDS[codec], b"\x21\x15\x02\x35" if codec == "sbc" else b"\x80\x01\x04\x03\x5b\x60"
    for (vendor, cid), name in VENDOR_CODECS.items():
        if name == codec:
            return VENDOR_CODEC, vendor.to_bytes(4, "little") + cid.to_bytes(2, "little") + b"\x22"
    raise ValueError(f"unknown A2DP codec {codec!r}")
