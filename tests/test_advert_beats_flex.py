"""Beats Flex adverts captured by users in gh:adolfintel/OpenPods#105 and capod's "random neighbour"
(capod BeatsFlexText.kt); expected levels are capod's: the low nibble is the one battery."""
from __future__ import annotations

import pytest

from routesim.bt.adverts.decode import decode_proximity


@pytest.mark.parametrize("payload,single,colour", [
    ("07 19 01 10 20 0A F4 8F 00 01 00 C4 71 9F 9C EF A2 E3 BA 66 FE 1D 45 9F C9 2F A0", 40, "black"),
    ("07 19 01 10 20 0A F6 8F 02 4F 00 95 68 94 9E 99 D6 90 F4 5E 68 3C 58 21 68 9F 0D", 60, None),
])
def test_beats_flex_advert(payload, single, colour):
    s = decode_proximity(bytes.fromhex(payload))
    assert s.model_id == "beats-flex"
    assert s.batteries() == (single, None, None)
    assert s.worn is None and s.ears() is None  # no sensors
    assert s.color_name == colour
