"""AirPods Max (USB-C): the payload in gh:d4rken-org/capod#236 (capod AirPodsMaxUsbcTest.kt): one level of
50 %, not charging. Worn follows the catalog's status-bit-5 rule for this model (capod AirPodsMaxUsbc.kt)."""
from __future__ import annotations

from routesim.bt.adverts.decode import decode_proximity

PAYLOAD = "07 19 01 1F 20 2B 05 80 03 12 C5 2E 8B F9 9A 7E 19 7B 63 0F 30 6E D7 3B E2 EC 32"


def test_airpods_max_usbc_advert():
    s = decode_proximity(bytes.fromhex(PAYLOAD))
    assert s.model_id == "airpods-max-usbc" and s.product_id == 0x201F
    assert (s.single, s.single_charging) == (50, False)
    assert s.batteries() == (50, None, None)
    assert s.worn is True  # status 0x2B: bit 5 set
    assert s.ears() is None  # head detection is not in-ear detection
