"""Clone adverts (proximity record of length 0x13): capod FakeAirPodsPro2Test.kt "user supplied" (a capture a
user gave) and FakeAirPodsGen1Test.kt "charging in box"; expected levels and charging are capod's. A clone
is decoded where the layout allows, flagged not genuine, and never given the model whose product id it
claims (gh:steam3d/MagicPods-Windows#21 logged such a record claiming AirPods 1st generation)."""
from __future__ import annotations

import pytest

from routesim.bt.adverts.decode import decode_proximity
from routesim.profiles.catalog import default_catalog


@pytest.mark.parametrize("payload,claims,batteries,charging", [
    ("07 13 01 14 20 75 AA 72 39 00 00 6F E4 E4 93 30 00 30 30 30 30", 0x2014, (100, 100, 20), (True, True, True)),
    ("07 13 01 0F 20 71 AA 37 32 00 10 00 64 64 FF 00 00 00 00 00 00", 0x200F, (100, 100, 70), (True, True, False)),
])
def test_clone_is_decoded_but_not_identified(payload, claims, batteries, charging):
    data = bytes.fromhex(payload)
    s = decode_proximity(data)
    assert s.genuine is False and s.model is None and s.model_id is None
    assert s.product_id == claims  # what it claims, shown as a claim only
    assert default_catalog().from_advertisement(data) is None  # identity never resolves a clone
    assert (s.left, s.right, s.case) == batteries
    assert (s.left_charging, s.right_charging, s.case_charging) == charging
    assert (s.left_in_ear, s.right_in_ear) == (False, False)
