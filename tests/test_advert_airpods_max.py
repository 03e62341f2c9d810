"""AirPods Max (Lightning) adverts, payloads captured by users: gh:adolfintel/OpenPods#124 (first two) and
the capod test suite's "some dude at the gym" capture (capod AirPodsMaxTest.kt); expected values are capod's
assertions: one headset level from the low nibble, charging from flags bit 0, worn from status bit 5."""
from __future__ import annotations

import pytest

from routesim.bt.adverts.decode import decode_proximity

CASES = [
    # payload, single %, charging, worn, dual reading (left, right) librepods would give, colour
    ("07 19 01 0A 20 62 04 80 01 0F 40 0D 70 50 16 F2 40 83 16 BF 10 16 34 9B 74 84 E8", 40, False, True, (40, 0), None),
    # status 0x02: bit 5 clear ("flipped" in the dual layout); capod still reads the low nibble: 50 %
    ("07 19 01 0A 20 02 05 80 04 0F 44 A7 60 9B F8 3C FD B1 D8 1C 61 EA 82 60 A3 2C 4E", 50, False, False, (0, 50), None),
    ("07 19 01 0A 20 23 07 80 03 03 65 1F 28 32 D0 D9 71 43 00 9A 40 E7 6B EA 6C 2C FB", 70, False, True, (70, 0), "blue"),
    # capod's "wear status" case: the same capture with bit 5 cleared (0x23 -> 0x03)
    ("07 19 01 0A 20 03 07 80 03 03 65 1F 28 32 D0 D9 71 43 00 9A 40 E7 6B EA 6C 2C FB", 70, False, False, (0, 70), "blue"),
]


@pytest.mark.parametrize("payload,single,charging,worn,dual,colour", CASES)
def test_airpods_max_advert(payload, single, charging, worn, dual, colour):
    s = decode_proximity(bytes.fromhex(payload))
    assert s.model_id == "airpods-max" and s.genuine
    assert s.single == single and s.single_charging is charging
    assert s.batteries() == (single, None, None)  # the one level, as left; no right, no case
    assert s.worn is worn and s.worn_rule == "status-bit-5"
    assert (s.left, s.right) == dual  # the other (dual-layout) reading stays available
    assert s.color_name == colour
