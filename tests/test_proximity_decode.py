"""The proximity-pairing status decoder against worked examples (CAPod's test vectors AirPodsPro2Test.kt /
AirPodsGen2Test.kt, with the values CAPod expects, decoded by the librepods/CAPod rules by hand), and
unreadable input: a clear error or None, never a crash."""
from __future__ import annotations

import subprocess
import sys

import pytest

from routesim.bt.adverts.decode import CHOICES, LAYOUT, ContinuityError, decode_proximity, level
from routesim.profiles.catalog import default_catalog
from routesim.profiles.continuity import iter_tlvs, proximity_pairing
from routesim.profiles.provenance import Tag


def _hex(text: str) -> bytes:
    return bytes.fromhex(text)


EXAMPLE_A = _hex("07 19 01 14 20 2B 9A 8F 01 00 04 0F 26 1A C4 2B FA 2F B9 B6 08 CD 60 CB DF 75 AB")
EXAMPLE_B = _hex("07 19 01 0F 20 02 F9 8F 01 00 05 F2 7E 14 E0 54 0A 53 69 5B 7D F2 15 1F D7 B1 12")
EXAMPLE_C_PRINTED = _hex("07 19 01 14 20 55 88 F9 51 00 04")  # both pods charging in the open case, first 11 bytes
# C's 16 encrypted bytes are left out; the decoder never reads them, so zeros stand in.
EXAMPLE_C = EXAMPLE_C_PRINTED + bytes(16)


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def test_example_a_airpods_pro_2_both_in_ear(catalog):
    s = decode_proximity(EXAMPLE_A, catalog)
    assert s.product_id == 0x2014 and s.model_id == "airpods-pro-2"  # "14 20" little-endian
    assert s.primary == "left" and not s.flipped  # bit 5 set
    assert not s.broadcaster_in_case  # bit 6 clear, x = 0
    assert (s.left_in_ear, s.right_in_ear) == (True, True)  # bit 1, bit 3
    assert s.pods_in_case == 0  # bits 2 and 4 clear
    assert (s.left, s.right) == (100, 90)  # 9A: left low nibble A, right high nibble 9
    assert (s.left_charging, s.right_charging, s.case_charging) == (False, False, False)  # flags 0x8
    assert s.case is None  # case nibble F
    assert s.lid_counter == 1 and s.lid_open is None  # not a case context: the lid state is meaningless
    assert s.color_name == "white" and s.connection_state_name == "idle"
    assert s.ears() == ("in", "in") and s.batteries() == (100, 90, None)
    assert s.microphone == "left"  # §5.3: the microphone pod is left when bit 5 XOR bit 6 (1 XOR 0)


def test_example_b_airpods_2_right_pod_primary_flipped(catalog):
    s = decode_proximity(EXAMPLE_B, catalog)
    assert s.product_id == 0x200F and s.model_id == "airpods-2"
    assert s.flipped and s.primary == "right"  # status 02: bit 5 clear
    assert not s.broadcaster_in_case  # bit 6 clear, x = 1
    assert (s.left_in_ear, s.right_in_ear) == (False, True)  # left = bit 3 = 0, right = bit 1 = 1
    assert (s.left, s.right) == (None, 90)  # F9 flipped: left high nibble F (absent), right low nibble 9
    assert s.case is None
    assert s.connection_state_name == "music"  # 05
    assert s.microphone == "right"  # bit 5 XOR bit 6 = 0 XOR 0
    assert s.lid_open is None
    assert s.ears() == ("out", "in")


def test_example_c_airpods_pro_2_charging_in_open_case(catalog):
    s = decode_proximity(EXAMPLE_C, catalog)
    assert s.model_id == "airpods-pro-2"
    assert s.broadcaster_in_case and s.pods_in_case == 2  # 0x55: bits 6, 4, 2, 0
    assert s.flipped  # bit 5 clear
    assert (s.left, s.right) == (80, 80)  # 88
    assert (s.left_charging, s.right_charging, s.case_charging) == (True, True, True)  # F9: flags F
    assert s.case == 90  # F9: case nibble 9
    assert s.lid_counter == 1 and s.lid_open is True  # 0x51: bit 3 = 0, broadcaster in the case: it counts
    assert s.color_name == "white"
    assert (s.left_in_ear, s.right_in_ear) == (False, False)
    assert s.ears() == ("out", "out")
    assert s.microphone == "left"  # bit 5 XOR bit 6 = 0 XOR 1


def test_only_the_left_pod_charging_is_not_the_case_charging(catalog):
    """Example A with byte 7 = 0x1F: flags 0x1, bit 0 only, the left pod (not flipped) charges (§5.3)."""
    s = decode_proximity(EXAMPLE_A[:7] + bytes([0x1F]) + EXAMPLE_A[8:], catalog)
    assert (s.left_charging, s.right_charging, s.case_charging) == (True, False, False)


def test_one_pod_in_the_ear_not_flipped(catalog):
    """Example A with status 0x29: bit 1 clear, bit 3 set; not flipped and not in the case (x = 0), so the
    left pod reads bit 1 and the right pod bit 3 (§5.3): only the right pod is in an ear."""
    s = decode_proximity(EXAMPLE_A[:5] + bytes([0x29]) + EXAMPLE_A[6:], catalog)
    assert (s.left_in_ear, s.right_in_ear) == (False, True)
    assert s.ears() == ("out", "in")


def test_a_single_unit_model_reads_flags_bit_0_as_its_charging(catalog):
    """Example A with AirPods Max's product id and byte 7 = 0x1F: flags bit 0, the headset charges (§5.3)."""
    s = decode_proximity(EXAMPLE_A[:3] + bytes([0x0A, 0x20]) + EXAMPLE_A[5:7] + bytes([0x1F]) + EXAMPLE_A[8:],
                         catalog)
    assert s.model_id == "airpods-max" and s.single_charging is True


def test_one_pod_in_the_case(catalog):
    """Example A with status 0x3B: bit 4 set, bit 2 clear, so one pod is in the case (§5.3)."""
    s = decode_proximity(EXAMPLE_A[:5] + bytes([0x3B]) + EXAMPLE_A[6:], catalog)
    assert s.pods_in_case == 1


def test_a_single_battery_model_reads_one_level_and_no_case(catalog):
    """Example C's bytes with AirPods Max's product id (0x200A): a single-battery model reads its one level
    from the low nibble of byte 6 (capod SingleApplePods.kt, openpods PodsStatus.java) as left; the right
    and case nibbles of C (80, 90) are not attributed to it."""
    s = decode_proximity(EXAMPLE_C[:3] + bytes([0x0A, 0x20]) + EXAMPLE_C[5:], catalog)
    assert s.model_id == "airpods-max"
    assert (s.left, s.right, s.case) == (80, 80, 90)  # the dual reading stays available
    assert s.batteries() == (s.single, None, None) and s.single == (EXAMPLE_C[6] & 0x0F) * 10


def test_without_a_catalog_the_bundled_one_resolves_the_model():
    s = decode_proximity(EXAMPLE_A)
    assert s.model_id == "airpods-pro-2" and s.record == EXAMPLE_A


def test_example_c_as_printed_is_truncated_not_decoded(catalog):
    with pytest.raises(ContinuityError, match="says 25 bytes follow but 9 do"):
        decode_proximity(EXAMPLE_C_PRINTED, catalog)
    assert catalog.from_advertisement(EXAMPLE_C_PRINTED) is None  # the catalog agrees


def test_the_catalog_and_the_decoder_read_the_model_the_same_way(catalog):
    for payload in (EXAMPLE_A, EXAMPLE_B, EXAMPLE_C):
        assert decode_proximity(payload, catalog).model is catalog.from_advertisement(payload)


@pytest.mark.parametrize("nibble,percent", [(0, 0), (1, 10), (9, 90), (10, 100), (11, 100), (14, 100), (15, None)])
def test_nibble_scale(nibble, percent):
    assert level(nibble) == percent


def test_primary_flip_swaps_batteries_and_charging_flags(catalog):
    left_primary = bytearray(EXAMPLE_A)
    left_primary[6], left_primary[7] = 0x3A, 0x1F  # left 100 (low), right 30 (high); flags bit 0
    s = decode_proximity(bytes(left_primary), catalog)
    assert (s.left, s.right, s.left_charging, s.right_charging) == (100, 30, True, False)
    right_primary = bytearray(left_primary)
    right_primary[5] &= ~0x20  # bit 5 clear: flipped
    s = decode_proximity(bytes(right_primary), catalog)
    assert (s.left, s.right, s.left_charging, s.right_charging) == (30, 100, False, True)


def test_lid_closed_when_the_broadcaster_is_in_the_case(catalog):
    closed = bytearray(EXAMPLE_C)
    closed[8] = 0x59  # bit 3 set
    assert decode_proximity(bytes(closed), catalog).lid_open is False


def test_a_proximity_record_after_another_message_is_found(catalog):
    nearby_info = _hex("10 05 01 18 4C 1A 2B")  # Nearby Info first (furiousMAC)
    assert decode_proximity(nearby_info + EXAMPLE_A, catalog).model_id == "airpods-pro-2"


def test_unknown_product_id_decodes_without_a_model(catalog):
    unknown = EXAMPLE_A[:3] + _hex("FE 20") + EXAMPLE_A[5:]  # 0x20FE: a product number no source gives
    s = decode_proximity(unknown, catalog)
    assert s.product_id == 0x20FE and s.model is None
    assert s.ears() is None and s.batteries() == (None, None, None)  # no model: nothing to attribute
    # the same with a case level in the record (Example C's F9: case nibble 9): still not attributed
    s = decode_proximity(EXAMPLE_C[:3] + _hex("FE 20") + EXAMPLE_C[5:], catalog)
    assert s.case == 90 and s.batteries() == (None, None, None)


def test_a_model_without_ear_detection_has_no_ears(catalog):
    solo3 = EXAMPLE_A[:3] + _hex("06 20") + EXAMPLE_A[5:]
    s = decode_proximity(solo3, catalog)
    assert s.model_id == "beats-solo-3" and s.ears() is None
    assert s.batteries() == (100, None, None)  # one battery: the low nibble (A), as left (capod, openpods)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        _hex("10 05 01 18 4C 1A 2B"),  # Nearby Info only (an iPhone)
        _hex("12 19") + bytes(25),  # Find My, not proximity pairing
    ],
)
def test_no_proximity_record_is_none(payload, catalog):
    assert decode_proximity(payload, catalog) is None


@pytest.mark.parametrize(
    "payload,message",
    [
        (EXAMPLE_A[:20], "truncated"),
        (EXAMPLE_A[:1], "lone byte"),
        (_hex("07 15 01 02 20") + bytes(18), "length 0x15; genuine devices send 0x19, clones 0x13"),
        (_hex("07 05 01 14 20 2B 9A"), "length 0x05"),
        (EXAMPLE_A[:2] + b"\x00" + EXAMPLE_A[3:], "prefix is 0x00, not 0x01 \\(0x00 is pairing mode"),
        (_hex("10 09 01"), "record type 0x10 at offset 0 says 9 bytes"),  # damaged record before any 0x07
        ("07190114", "must be bytes, got str"),
        (None, "must be bytes, got NoneType"),
        ([7, 0x19, 1], "must be bytes, got list"),
    ],
)
def test_unreadable_input_raises_a_clear_error(payload, message, catalog):
    with pytest.raises(ContinuityError, match=message):
        decode_proximity(payload, catalog)


def test_every_truncation_of_a_real_advert_is_a_clear_error_or_none(catalog):
    for n in range(len(EXAMPLE_A)):
        try:
            result = decode_proximity(EXAMPLE_A[:n], catalog)
        except ContinuityError:
            continue
        assert result is None, n


def test_tlv_walk_is_shared_and_lazy():
    records = list(iter_tlvs(_hex("10 02 AA BB") + EXAMPLE_A))
    assert [(r.type, r.offset, len(r.value)) for r in records] == [(0x10, 0, 2), (0x07, 4, 25)]
    assert proximity_pairing(EXAMPLE_A + b"\x42") == EXAMPLE_A  # a damaged tail after the record is not read


def test_every_bit_has_a_meaning_and_a_source():
    status_bits = {b.mask for b in LAYOUT if b.byte == 5 and b.mask & (b.mask - 1) == 0}  # one-bit rows
    assert status_bits == {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40}
    assert all({"librepods", "capod", "furiousMAC", "MagicPodsCore"} & set(str(b.source).replace(",", " ").split())
               for b in LAYOUT)
    assert all(b.source.ref.strip() and b.meaning.strip() for b in LAYOUT)
    assert all(b.source.tag is Tag.DEV for b in LAYOUT)
    assert {c.tag for c in CHOICES.values()} <= {Tag.DEV, Tag.INF}


def test_the_decoder_does_not_import_bleak():
    code = ("import sys, routesim.bt.adverts, routesim.bt.adverts.decode; "
            "assert 'bleak' not in sys.modules and 'dbus_fast' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
