"""A headset model as the catalog describes it. Instances come only from data files (``profiles.catalog``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from routesim.profiles.codecs import CODECS
from routesim.profiles.platform import Platform, VersionRange
from routesim.profiles.provenance import Source


class Profile(str, Enum):
    A2DP = "a2dp"
    HFP = "hfp"
    AVRCP = "avrcp"
    LE_AUDIO = "le-audio"
    AAP = "aap"  # Apple's accessory protocol (battery, ear detection, noise control)


class Transport(str, Enum):
    BLUETOOTH = "bluetooth"  # Classic: A2DP output port, HFP input+output port
    WIRED = "wired"  # headphones jack / Lightning / USB-C analogue headset
    USB = "usb"  # USB audio interface
    CAR = "car"  # CarPlay head unit


class Kind(str, Enum):
    EARBUDS = "earbuds"
    OVER_EAR = "over-ear"
    ON_EAR = "on-ear"
    HEADSET = "headset"
    SPEAKER = "speaker"
    WIRED = "wired"
    CAR = "car"


@dataclass(frozen=True, slots=True)
class HfpCodecSupport:
    """One HFP codec the model negotiates, on the phone platforms where it does."""

    codec: str
    platform: VersionRange = VersionRange()
    source: Source | None = None

    @property
    def sample_rate(self) -> int:
        return CODECS[self.codec].sample_rate


@dataclass(frozen=True, slots=True)
class Quirk:
    """A firmware or platform behaviour that departs from the general rules. Matched by product ID and
    firmware, never by name. ``effect`` is a name from ``profiles.quirks.EFFECTS``."""

    id: str
    effect: str
    params: Mapping[str, Any]
    firmware: VersionRange
    platform: VersionRange
    when: Mapping[str, Any]
    source: Source
    confidence: str
    summary: str
    origin: str = ""  # file the quirk was loaded from
    product_ids: tuple[int, ...] = ()  # Device ID product numbers it matches (never a name)
    vendor_id: int = 0x004C  # Device ID vendor (Bluetooth SIG company id) of those product numbers

    def __hash__(self) -> int:
        # Equal quirks have the same id and file; hashing those keeps hash and == consistent, where the
        # generated hash would fail on the mapping fields. Route decisions are cached by state.
        return hash((self.id, self.origin))

    def applies(self, platform: Platform, firmware: tuple[int, ...] | None) -> bool:
        if not platform.is_ios and (self.platform.low or self.platform.high):
            return False
        if not self.platform.contains(platform.version):
            return False
        if firmware is not None and not self.firmware.contains(firmware):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    name: str  # factory name, what a freshly reset device calls itself
    kind: Kind
    transport: Transport
    profiles: frozenset[Profile]
    vendor_id: int | None = None
    product_id: int | None = None
    a2dp_codecs: tuple[str, ...] = ()  # in the order the phone prefers them
    a2dp_sample_rate: int = 48000
    hfp_codecs: tuple[HfpCodecSupport, ...] = ()  # best first
    microphones: int = 0
    in_ear_detection: bool = False
    has_case: bool = False
    battery: tuple[str, ...] = ()  # parts that report a level: left, right, case, or single
    output_port: str | None = None  # wired/usb/car: the iOS port type of its output
    input_port: str | None = None  # wired/usb/car: the iOS port type of its input (None: no mic)
    high_quality_recording: bool = False  # iOS 26 bluetoothHighQualityRecording: full-band both ways
    input_rate: int | None = None  # wired/usb/car: the rate its microphone imposes on a route using it (Hz)
    advert_model: int | None = None  # Continuity proximity-pairing model field (same number as product_id)
    advert_worn: str | None = None  # how its adverts say "being worn" (profiles.continuity.WORN_RULES); None: they don't
    sources: Mapping[str, Source] = field(default_factory=dict)  # fact name -> where it comes from
    quirks: tuple[Quirk, ...] = ()
    origin: str = ""  # the data file this model was loaded from
    product: str = ""  # marketing name, e.g. "AirPods Pro (2nd generation, Lightning)"
    # Derived from the fields above when the model is made; the route policy reads them for every device
    # of every decision, so they are plain attributes rather than properties.
    has_a2dp: bool = field(init=False, repr=False, compare=False, default=False)
    has_hfp: bool = field(init=False, repr=False, compare=False, default=False)
    is_bluetooth: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_a2dp", Profile.A2DP in self.profiles)
        object.__setattr__(self, "has_hfp", Profile.HFP in self.profiles)
        object.__setattr__(self, "is_bluetooth", self.transport is Transport.BLUETOOTH)

    def __hash__(self) -> int:
        # As for Quirk: equal models share id and file (the generated hash fails on the mapping fields).
        return hash((self.id, self.origin))

    @property
    def has_head_detection(self) -> bool:
        """Headphones that sense being worn (not in-ear detection): their adverts carry a worn state."""
        return self.advert_worn is not None

    @property
    def has_input(self) -> bool:
        if self.is_bluetooth:
            return self.has_hfp and self.microphones > 0
        return self.input_port is not None

    @property
    def modalias_prefix(self) -> str | None:
        if self.vendor_id is None or self.product_id is None:
            return None
        return f"bluetooth:v{self.vendor_id:04X}p{self.product_id:04X}"

    def hfp_codec(self, offered: frozenset[str] | set[str], platform: Platform) -> HfpCodecSupport | None:
        """The HFP codec the phone and the model settle on: the model's best codec the phone offers
        on this platform (HFP codec negotiation picks the best common codec: HFP-spec, PipeWire-bluez5)."""
        for support in self.hfp_codecs:
            if support.codec in offered and support.platform.contains(platform.version):
                return support
        return None

    def a2dp_codec(self) -> str | None:
        return self.a2dp_codecs[0] if self.a2dp_codecs else None
