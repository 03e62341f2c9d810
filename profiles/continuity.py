"""Apple Continuity manufacturer data (company 0x004C): the TLV walk and the proximity-pairing TLV.

Pure and shared: :meth:`profiles.catalog.Catalog.from_advertisement` resolves the model from it and
:mod:`bt.adverts.decode` decodes the status fields from it, so both read the same bytes the same way.

Input is bleak's ``manufacturer_data[76]`` / BlueZ's ``ManufacturerData[0x004C]``: the company id is
already stripped, so byte 0 is the first TLV's type (capod ``ContinuityProtocol.kt``, furiousMAC).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

APPLE = 0x004C
PROXIMITY_PAIRING = 0x07  # furiousMAC apple_vals: "AirPods (Proximity Pairing)"
PROXIMITY_PAIRING_LENGTH = 0x19  # genuine devices; OpenPods, CAPod, MagicPodsCore filter on 07 19
# what clones send [DEV capod (FakeAirPods*.kt expect 19), gh:steam3d/MagicPods-Windows#21 (logged 07 13 01 02 20)]
CLONE_LENGTH = 0x13
WORN_RULES = (
    "status-bit-5",  # status bit 5 set while worn [DEV capod (AirPodsMax.kt, AirPodsMaxUsbc.kt isBeingWorn)]
    "earcup-bits",  # status bit 1 or bit 3, the two ear-cup sensors [DEV capod (AirPodsMax2.kt), gh:d4rken-org/capod#548]
)
STATUS_PREFIX = 0x01  # paired/status broadcast; 0x00 is pairing mode with another layout (furiousMAC)


class ContinuityError(ValueError):
    """Bytes that claim to be Continuity data but cannot be read as such; the message says what and where."""


@dataclass(frozen=True, slots=True)
class Tlv:
    type: int
    offset: int  # of the type byte in the payload
    value: bytes  # ``length`` bytes after the length byte

    @property
    def raw(self) -> bytes:
        """Type, length and value, as they appear in the payload."""
        return bytes((self.type, len(self.value))) + self.value


def iter_tlvs(payload: bytes | bytearray | memoryview) -> Iterator[Tlv]:
    """Walk type (1 byte), length (1 byte), value (``length`` bytes) records in order (CAPod
    ``ContinuityProtocol.kt`` loops the same way). Lazy: a fault is raised only when the walk reaches it,
    so callers that stop at the record they want are not hurt by a damaged record after it."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ContinuityError(f"Continuity data must be bytes, got {type(payload).__name__}")
    data = bytes(payload)
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise ContinuityError(f"a lone byte 0x{data[i]:02X} at offset {i} after the last record (no length byte)")
        kind, length = data[i], data[i + 1]
        value = data[i + 2:i + 2 + length]
        if len(value) < length:
            raise ContinuityError(
                f"record type 0x{kind:02X} at offset {i} says {length} bytes follow but {len(value)} do (truncated)"
            )
        yield Tlv(kind, i, value)
        i += 2 + length


def proximity_pairing(payload: bytes | bytearray | memoryview) -> bytes | None:
    """The first proximity-pairing record (type 0x07), 27 bytes from its type byte, so index ``n`` is byte
    ``n`` of the proximity-pairing layout (librepods, capod); ``None`` when the data hold no such record (other Continuity
    messages: Nearby Info from phones, Find My …).

    Raises :class:`ContinuityError` when a record before it is damaged, or when the 0x07 record is not the
    genuine status layout: another length (clones send 0x13: gh:steam3d/MagicPods-Windows#21), a truncated body, or a prefix other
    than 0x01 (0x00 is pairing mode, a different layout librepods skips and CAPod drops)."""
    for tlv in iter_tlvs(payload):
        if tlv.type != PROXIMITY_PAIRING:
            continue
        if len(tlv.value) != PROXIMITY_PAIRING_LENGTH:
            clone = " (clones send 0x13)" if len(tlv.value) == 0x13 else ""
            raise ContinuityError(
                f"proximity-pairing record has length 0x{len(tlv.value):02X}, not 0x19{clone}; not the status layout"
            )
        if tlv.value[0] != STATUS_PREFIX:
            raise ContinuityError(
                f"proximity-pairing prefix is 0x{tlv.value[0]:02X}, not 0x01 (0x00 is pairing mode, another layout)"
            )
        return tlv.raw
    return None


def proximity_record(payload: bytes | bytearray | memoryview) -> tuple[bytes, bool] | None:
    """The first proximity-pairing record with prefix 0x01, as ``(record, genuine)``: genuine devices send
    length 0x19 (27 bytes from the type byte); clones send 0x13 (21 bytes), whose bytes 0-10 follow the
    genuine layout (capod ``FakeAirPods*.kt`` and their tests) and whose last 10 bytes no source explains.
    ``None`` when the data hold no such record. Raises :class:`ContinuityError` for any other length, a
    truncated record or another prefix. Identity (:func:`proximity_pairing`) stays genuine-only."""
    for tlv in iter_tlvs(payload):
        if tlv.type != PROXIMITY_PAIRING:
            continue
        if len(tlv.value) not in (PROXIMITY_PAIRING_LENGTH, CLONE_LENGTH):
            raise ContinuityError(
                f"proximity-pairing record has length 0x{len(tlv.value):02X}; genuine devices send 0x19, clones 0x13"
            )
        if tlv.value[0] != STATUS_PREFIX:
            raise ContinuityError(
                f"proximity-pairing prefix is 0x{tlv.value[0]:02X}, not 0x01 (0x00 is pairing mode, another layout)"
            )
        return tlv.raw, len(tlv.value) == PROXIMITY_PAIRING_LENGTH
    return None


def product_id(record: bytes) -> int:
    """Bytes 3-4 of the proximity-pairing record: the product id, little-endian (wire ``14 20`` is 0x2014)."""
    return record[3] | (record[4] << 8)


__all__ = [
    "APPLE", "CLONE_LENGTH", "PROXIMITY_PAIRING", "PROXIMITY_PAIRING_LENGTH", "STATUS_PREFIX", "WORN_RULES", "ContinuityError", "Tlv",
    "iter_tlvs", "product_id", "proximity_pairing", "proximity_record",
]
