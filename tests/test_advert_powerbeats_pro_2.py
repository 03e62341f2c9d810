"""Powerbeats Pro 2 adverts from capod's PowerBeatsPro2Test.kt; expected values are capod's assertions
(dual layout: left, right, case, charging, microphone pod, colour)."""
from __future__ import annotations

import pytest

from routesim.bt.adverts.decode import decode_proximity


@pytest.mark.parametrize("payload,batteries,charging,mic", [
    # batteries (left, right, case); charging (left, right, case)
    ("07 19 01 1D 20 2B AA 8F 01 02 04 30 42 6F CE 74 EE ED 56 AF 4E 31 16 9D 00 D7 DE",
     (100, 100, None), (False, False, False), "left"),
    ("07 19 01 1D 20 73 AA 98 32 02 04 7D 47 B0 15 DE 5F B6 6B CB 46 F9 16 5C 88 4F 4E",
     (100, 100, 80), (True, False, False), "right"),
])
def test_powerbeats_pro_2_advert(payload, batteries, charging, mic):
    s = decode_proximity(bytes.fromhex(payload))
    assert s.model_id == "powerbeats-pro-2"
    assert s.batteries() == batteries
    assert (s.left_charging, s.right_charging, s.case_charging) == charging
    assert s.microphone == mic and s.color_name == "red"
