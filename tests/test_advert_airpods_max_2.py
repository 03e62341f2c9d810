"""AirPods Max 2 adverts from capod's AirPodsMax2Test.kt (captures of an A3454; the 0x29 row is capod's
synthetic "one cup off" case from gh:d4rken-org/gh:d4rken-org/capod#548). Worn is status bit 1 OR bit 3 (the ear-cup
sensors); bit 5 is set whether worn or not on this generation, so the first-generation reading is wrong
here but stays available (worn_bit5), as does macOS's both-cups reading (worn_both_cups)."""
from __future__ import annotations

import pytest

from routesim.bt.adverts.decode import decode_proximity

TAIL = "F6 8F 03 14 04 E1 8B 99 98 20 0B C3 C1 12 2D B0 43 98 94 D6 A0"
CASES = [
    # status, worn (chosen), worn_both_cups (other reading)
    ("2B", True, True),    # both cups (what macOS sees, gh:d4rken-org/capod#548)
    ("20", False, False),  # bit 5 alone: not worn
    ("21", False, False),
    ("23", True, False),   # bit 1 only: worn as Android sees it (gh:d4rken-org/capod#548)
    ("29", True, False),   # synthetic: one cup off
]


@pytest.mark.parametrize("status,worn,both", CASES)
def test_airpods_max_2_worn(status, worn, both):
    s = decode_proximity(bytes.fromhex(f"07 19 01 2D 20 {status} {TAIL}"))
    assert s.model_id == "airpods-max-2" and s.worn_rule == "earcup-bits"
    assert s.worn is worn and s.worn_both_cups is both
    assert s.worn_bit5 is True  # the first-generation rule would say "worn" every time
    assert s.single == 60 and s.single_charging is False  # F6: low nibble 6
    assert s.batteries() == (60, None, None)
