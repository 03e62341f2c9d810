"""Apple Continuity proximity-pairing payloads (type 0x07, length 0x19), as BlueZ reports them in
``ManufacturerData[0x004C]`` (company ID stripped). Layout: librepods, capod, furiousMAC
(docs/sources.md)."""
from __future__ import annotations

APPLE = 0x004C


def _nibble(percent: int | None) -> int:
    if percent is None:
        return 0xF
    if not 0 <= percent <= 100:
        raise ValueError(f"battery percentage out of range: {percent}")
    return min(10, percent // 10)


def proximity_pairing(
    product_id: int,
    *,
    left: int | None = None,
    right: int | None = None,
    case: int | None = None,
    left_in_ear: bool = True,
    right_in_ear: bool = True,
    color: int = 0,
    state: int = 0x04,
) -> bytes:
    """27 bytes: 07 19 01 <pid LE> status batteries flags+case lid colour state + 16 opaque bytes.

    Built un-flipped (status bit 5 set: left pod primary, left battery in the low nibble)."""
    status = 0x20 | 0x01
    if left_in_ear:
        status |= 0x02
    if right_in_ear:
        status |= 0x08
    batteries = (_nibble(right) << 4) | _nibble(left)
    flags_case = 0x80 | _nibble(case)
    body = bytes(
        [0x07, 0x19, 0x01, product_id & 0xFF, (product_id >> 8) & 0xFF, status, batteries, flags_case, 0x01,
         color & 0xFF, state & 0xFF]
    )
    return body + bytes(16)  # stands in for the AES-encrypted part
