"""Decode the status in an Apple proximity-pairing advert (Continuity type 0x07): pure, no bleak.

Layout and bit meanings: librepods ``linux/ble/blemanager.cpp`` and CAPod ``DualApplePods.kt`` agree on
the bytes, bits and nibbles; furiousMAC's ``proximity_pairing.md`` names the fields; CAPod's test vectors
(``AirPodsPro2Test.kt``, ``AirPodsGen2Test.kt``) are the worked examples. Every field below names its bits
in :data:`LAYOUT`, each with its source key (docs/sources.md). The 16 encrypted bytes (exact percentages)
need the per-device key fetched over AAP, so this decoder gives the public 10 % steps only.

Byte indices count from the record's type byte (``07``), i.e. index into ``manufacturer_data[76]`` when
the proximity record comes first; :func:`profiles.continuity.proximity_pairing` finds it wherever it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from routesim.profiles import continuity
from routesim.profiles.continuity import ContinuityError
from routesim.profiles.provenance import Source, Tag

Side = Literal["left", "right"]
Ear = Literal["in", "out"]

_53 = Source(Tag.DEV, "librepods (blemanager.cpp), capod (DualApplePods.kt): they agree")
_53_FM = Source(Tag.DEV, "librepods, capod; furiousMAC (its masks are the un-flipped case)")
_52 = Source(Tag.DEV, "furiousMAC, librepods, capod")
_SINGLE = Source(Tag.DEV, "capod (SingleApplePods.kt: low nibble, flags bit 0), openpods (PodsStatus.java: singleStatus "
                          "hex digit 13, chargeSingle bit 0): they agree")


@dataclass(frozen=True, slots=True)
class Bits:
    """One field of the record: where it is, what it means, who says so."""

    byte: int
    mask: int
    name: str
    meaning: str
    source: Source


LAYOUT: tuple[Bits, ...] = (
    Bits(3, 0xFF, "product_id", "bytes 3-4: product id, little-endian",
         Source(Tag.DEV, "furiousMAC, librepods, capod; MagicPodsCore (the same number as the Modalias product id)")),
    Bits(5, 0x01, "two_active", "status bit 0: two AirPods active (not used here)",
         Source(Tag.DEV, "MagicPodsCore")),
    Bits(5, 0x02, "in_ear_a", "status bit 1: in-ear flag A (left when x = 0, right when x = 1)", _53),
    Bits(5, 0x04, "both_in_case", "status bit 2: both pods in the case", _53),
    Bits(5, 0x08, "in_ear_b", "status bit 3: in-ear flag B (right when x = 0, left when x = 1)", _53),
    Bits(5, 0x10, "one_in_case", "status bit 4: one pod in the case", _53),
    Bits(5, 0x20, "left_primary", "status bit 5: primary pod is left (1) or right (0); clear = flipped", _53),
    Bits(5, 0x40, "broadcaster_in_case", "status bit 6: the broadcasting pod is in the case; "
         "x = flipped XOR bit 6; microphone pod is left when bit 5 XOR bit 6", _53),
    Bits(6, 0x0F, "pod_battery_low", "low nibble: left pod battery, right when flipped", _53),
    Bits(6, 0xF0, "pod_battery_high", "high nibble: right pod battery, left when flipped", _53),
    Bits(7, 0x10, "charging_0", "flags bit 0: left pod charging, right when flipped", _53_FM),
    Bits(7, 0x20, "charging_1", "flags bit 1: right pod charging, left when flipped", _53_FM),
    Bits(7, 0x40, "case_charging", "flags bit 2: case charging", _53_FM),
    Bits(7, 0x80, "flags_bit_3", "flags bit 3: unexplained (set in CAPod's test vectors with nobody charging)",
         Source(Tag.DEV, "capod (AirPodsPro2Test.kt, AirPodsGen2Test.kt)")),
    Bits(7, 0x0F, "case_battery", "low nibble: case battery (librepods' doc says the high nibble; its code and "
         "every other source use the low one)", _53),
    Bits(8, 0x07, "lid_counter", "lid byte bits 0-2: open counter", Source(Tag.DEV, "librepods, capod")),
    Bits(8, 0x08, "lid_closed", "lid byte bit 3: closed (1) / open (0), meaningful only while the broadcasting "
         "pod is in the case (status bit 6)", Source(Tag.DEV, "librepods, capod (AirPodsPro2Test.kt: lid open with both pods in the case)")),
    Bits(6, 0x0F, "single_battery", "single-unit models (catalog battery [single]): the one level is the low "
         "nibble whatever bit 5 says (chosen; librepods reads every device as pods, kept as left/right)", _SINGLE),
    Bits(7, 0x10, "single_charging", "single-unit models: flags bit 0 is the headset charging, not flipped", _SINGLE),
    Bits(5, 0x20, "worn_status_bit_5", "worn rule status-bit-5 (AirPods Max, Max USB-C): bit 5 set while worn; on "
         "the 2nd generation bit 5 is always set (capod AirPodsMax2.kt), so this reading is kept but not chosen there",
         Source(Tag.DEV, "capod (AirPodsMax.kt, AirPodsMaxUsbc.kt isBeingWorn); gh:adolfintel/OpenPods#124 (payloads)")),
    Bits(5, 0x0A, "worn_earcup_bits", "worn rule earcup-bits (AirPods Max 2): bit 1 OR bit 3, one per ear-cup "
         "sensor (chosen, as capod: Android often sees bit 1 only); both bits set is kept as worn_both_cups",
         Source(Tag.DEV, "capod (AirPodsMax2.kt isBeingWorn); gh:d4rken-org/capod#548 (0x23 Android, 0x2B macOS)")),
    Bits(9, 0xFF, "color", "colour code", _52),
    Bits(10, 0xFF, "connection_state", "connection state",
         Source(Tag.DEV, "librepods, capod; gh:adolfintel/OpenPods#34 (4 and 5 alternate)")),
)

#: Our choices where the sources differ or say nothing.
CHOICES: dict[str, Source] = {
    "scale": Source(Tag.INF, "librepods, capod (nibble n in 0-10 is n x 10 %; openpods shows n x 10 + 5)"),
    "over_100": Source(Tag.INF, "capod, librepods (nibbles 11-14 read as 100 %, as CAPod clamps and librepods' doc "
                                "says); furiousMAC ('have seen > 100 %')"),
    "unknown": Source(Tag.DEV, "librepods, capod, furiousMAC (nibble 0xF is unknown or not present, e.g. the case "
                               "with no pod in it)"),
    "lid": Source(Tag.INF, "capod (test vectors: the lid byte counts only while status bit 6, broadcaster in "
                           "the case, is set); otherwise None"),
    "which_pod_in_case": Source(Tag.INF, "bit 4 says one pod is in the case but no source says which; not guessed"),
    "encrypted": Source(Tag.INF, "capod, librepods (the 16 encrypted bytes need the AAP proximity key); not decoded"),
    "single": Source(Tag.INF, "capod, openpods: a model whose catalog battery is [single] reads the single_battery "
                              "row; librepods: the dual reading stays in left/right; an unknown model shows both"),
    "worn": Source(Tag.INF, "the model's catalog advert.worn rule picks the worn reading; models without one have none"),
    "clone": Source(Tag.INF, "capod (FakeAirPods*.kt), gh:steam3d/MagicPods-Windows#21: a record of length 0x13 is "
                             "a clone; bytes 0-10 read as the genuine layout, the last 10 bytes are not decoded, and it "
                             "is never given the model whose product id it claims"),
}

COLORS = {  # byte 9 (furiousMAC, librepods and capod agree)
    0x00: "white", 0x01: "black", 0x02: "red", 0x03: "blue", 0x04: "pink", 0x05: "grey", 0x06: "silver",
    0x07: "gold", 0x08: "rose gold", 0x09: "space grey", 0x0A: "dark blue", 0x0B: "light blue", 0x0C: "yellow",
}

CONNECTION_STATES = {  # byte 10 (librepods, capod; gh:adolfintel/OpenPods#34 saw 4 <-> 5)
    0x00: "disconnected", 0x04: "idle", 0x05: "music", 0x06: "call", 0x07: "ringing", 0x09: "hanging up",
}


def level(nibble: int) -> int | None:
    """A battery nibble as a percentage: 0-10 -> n x 10, 11-14 -> 100, 0xF -> None (:data:`CHOICES`)."""
    if nibble == 0xF:
        return None
    return min(nibble, 10) * 10


@dataclass(frozen=True, slots=True)
class ProximityStatus:
    """What one proximity-pairing advert says, sides already un-flipped."""

    product_id: int
    model: Any = field(repr=False)  # profiles.model.Model, or None when the catalog does not know the product id
    left: int | None  # battery %, in 10 % steps; None = unknown / pod absent
    right: int | None
    case: int | None
    left_charging: bool
    right_charging: bool
    case_charging: bool
    left_in_ear: bool
    right_in_ear: bool
    pods_in_case: int  # 0, 1 or 2 (status bits 2 and 4; which pod when only one is not known)
    broadcaster_in_case: bool  # status bit 6
    lid_open: bool | None  # None unless the broadcaster is in the case (the only time bit 3 counts)
    lid_counter: int
    primary: Side  # status bit 5
    microphone: Side  # bit 5 XOR bit 6
    color: int
    connection_state: int
    record: bytes = field(repr=False)  # the 27 bytes (21 for a clone), from the type byte
    genuine: bool = True  # False: a clone's 0x13 record (CHOICES["clone"]); model is then None
    single: int | None = None  # the single_battery reading, for single-unit models (CHOICES["single"])
    single_charging: bool = False
    worn_bit5: bool = False  # worn_status_bit_5 reading
    worn_cup_a: bool = False  # status bit 1 (an ear-cup sensor on AirPods Max 2)
    worn_cup_b: bool = False  # status bit 3

    @property
    def single_unit(self) -> bool:
        """The catalog says the model reports one battery (None when the model is unknown)."""
        return self.model is not None and tuple(getattr(self.model, "battery", ())) == ("single",)

    @property
    def worn_rule(self) -> str | None:
        return getattr(self.model, "advert_worn", None) if self.model is not None else None

    @property
    def worn(self) -> bool | None:
        """Being worn, by the model's catalog rule (CHOICES["worn"]); None for models without head detection."""
        rule = self.worn_rule
        if rule == "status-bit-5":
            return self.worn_bit5
        if rule == "earcup-bits":
            return self.worn_cup_a or self.worn_cup_b
        return None

    @property
    def worn_both_cups(self) -> bool:
        """The other Max 2 reading: both ear-cup bits set (what macOS sees while worn, gh:d4rken-org/capod#548)."""
        return self.worn_cup_a and self.worn_cup_b

    @property
    def flipped(self) -> bool:
        return self.primary == "right"

    @property
    def model_id(self) -> str | None:
        return self.model.id if self.model is not None else None

    @property
    def color_name(self) -> str | None:
        return COLORS.get(self.color)

    @property
    def connection_state_name(self) -> str | None:
        return CONNECTION_STATES.get(self.connection_state)

    def ears(self) -> tuple[Ear, Ear] | None:
        """("in"/"out", "in"/"out") for left and right, or None when the model has no ear detection (or is
        unknown): then the bits mean nothing (the catalog's ``in_ear_detection``)."""
        if self.model is None or not getattr(self.model, "in_ear_detection", False):
            return None
        return ("in" if self.left_in_ear else "out", "in" if self.right_in_ear else "out")

    def batteries(self) -> tuple[int | None, int | None, int | None]:
        """(left, right, case) restricted to the parts the model reports (the catalog's ``battery``); a
        single-unit model's one level comes as left (the battery step's convention); all None for an unknown
        model (nothing to attribute)."""
        if self.single_unit:
            return (self.single, None, None)
        parts = set(getattr(self.model, "battery", ()) or ())
        return (
            self.left if "left" in parts else None,
            self.right if "right" in parts else None,
            self.case if "case" in parts else None,
        )


def decode_proximity(payload: bytes | bytearray | memoryview, catalog: Any = None) -> ProximityStatus | None:
    """Decode Apple manufacturer data (company id stripped, bleak's ``manufacturer_data[76]``).

    Returns None when the data carry no proximity-pairing record (another Continuity message). Raises
    :class:`profiles.continuity.ContinuityError` (a ValueError) with a one-line reason for data that cannot
    be read: not bytes, a truncated record, a 0x07 record of a length other than 0x19 (genuine) or 0x13
    (a clone: decoded with ``genuine=False`` and no model) or a prefix other than 0x01 (0x00: pairing mode).
    ``catalog`` resolves the model from the product id (default: the bundled catalog)."""
    found = continuity.proximity_record(payload)
    if found is None:
        return None
    record, genuine = found
    if catalog is None:
        from routesim.profiles.catalog import default_catalog

        catalog = default_catalog()
    # The catalog's own resolution (one reading of bytes 3-4); a clone never gets the model it claims.
    model = catalog.from_advertisement(record) if genuine else None

    status, pods, flags_case, lid = record[5], record[6], record[7], record[8]
    flipped = not status & 0x20  # bit 5 clear: the right pod is primary (librepods, capod)
    in_case = bool(status & 0x40)  # bit 6
    bit1, bit3 = bool(status & 0x02), bool(status & 0x08)
    x = flipped != in_case  # x = flipped XOR bit 6 (librepods, capod)
    low, high = pods & 0x0F, pods >> 4
    flags = flags_case >> 4
    charging_0, charging_1 = bool(flags & 0x1), bool(flags & 0x2)
    return ProximityStatus(
        product_id=continuity.product_id(record),
        model=model,
        left=level(high if flipped else low),
        right=level(low if flipped else high),
        case=level(flags_case & 0x0F),
        left_charging=charging_1 if flipped else charging_0,
        right_charging=charging_0 if flipped else charging_1,
        case_charging=bool(flags & 0x4),
        left_in_ear=bit3 if x else bit1,
        right_in_ear=bit1 if x else bit3,
        pods_in_case=2 if status & 0x04 else 1 if status & 0x10 else 0,
        broadcaster_in_case=in_case,
        lid_open=(not lid & 0x08) if in_case else None,
        lid_counter=lid & 0x07,
        primary="right" if flipped else "left",
        microphone="left" if bool(status & 0x20) != in_case else "right",
        color=record[9],
        connection_state=record[10],
        record=record,
        genuine=genuine,
        single=level(low),
        single_charging=charging_0,
        worn_bit5=bool(status & 0x20),
        worn_cup_a=bit1,
        worn_cup_b=bit3,
    )


__all__ = [
    "CHOICES", "COLORS", "CONNECTION_STATES", "ContinuityError", "LAYOUT", "Bits", "ProximityStatus",
    "decode_proximity", "level",
]
