"""Powerbeats (4th generation) adverts from capod's PowerBeats4Test.kt: one level of 20 % and the connection
state byte (music, idle, disconnected) as capod reads it."""
from __future__ import annotations

import pytest

from routesim.bt.adverts.decode import decode_proximity


@pytest.mark.parametrize("payload,state", [
    ("07 19 01 0D 20 00 02 80 01 00 05 07 C5 E1 9C BD 9A 05 0E AE 9E 56 53 2F F9 75 4A", "music"),
    ("07 19 01 0D 20 00 02 80 02 00 04 80 90 60 77 32 C2 0C 75 7A 3D 7E D7 1C 0E B8 43", "idle"),
    ("07 19 01 0D 20 00 02 80 01 00 00 25 DF 66 40 AF 44 7B 77 95 8F D1 92 50 26 11 74", "disconnected"),
])
def test_powerbeats_4_advert(payload, state):
    s = decode_proximity(bytes.fromhex(payload))
    assert s.model_id == "powerbeats-4"
    assert s.batteries() == (20, None, None)
    assert s.connection_state_name == state
