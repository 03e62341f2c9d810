"""BeatsX: the advert captured in gh:adolfintel/OpenPods#105 (capod BeatsXTest.kt): one level of 50 %,
flags 0 (not charging), colour black."""
from __future__ import annotations

from routesim.bt.adverts.decode import decode_proximity

PAYLOAD = "07 19 01 05 20 00 F5 0F 01 01 00 6D CE C0 04 22 0A 85 31 2D 82 6B 42 80 01 20 1A"


def test_beats_x_advert():
    s = decode_proximity(bytes.fromhex(PAYLOAD))
    assert s.model_id == "beats-x" and s.product_id == 0x2005
    assert s.batteries() == (50, None, None) and s.single_charging is False
    assert s.color_name == "black"
