"""``routesim decode`` and ``identify --format json``: whole adverts from the command line. Payloads are the
public captures the per-model advert tests cite (capod tests, gh:adolfintel/OpenPods#124, capod#236)."""
from __future__ import annotations

import io
import json

import pytest

from routesim.routes.cli.main import main

PRO2 = "07 19 01 14 20 2B 9A 8F 01 00 04 0F 26 1A C4 2B FA 2F B9 B6 08 CD 60 CB DF 75 AB"  # capod AirPodsPro2Test
MAX_FLIPPED = "07 19 01 0A 20 02 05 80 04 0F 44 A7 60 9B F8 3C FD B1 D8 1C 61 EA 82 60 A3 2C 4E"  # OpenPods#124
MAX2_WORN = "07 19 01 2D 20 23 F6 8F 03 14 04 E1 8B 99 98 20 0B C3 C1 12 2D B0 43 98 94 D6 A0"  # capod AirPodsMax2Test
CLONE = "07 13 01 14 20 75 AA 72 39 00 00 6F E4 E4 93 30 00 30 30 30 30"  # capod FakeAirPodsPro2Test


def _json(capsys, *argv: str) -> list[dict]:
    assert main(["decode", *argv, "--format", "json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("advert,expect", [
    (PRO2, {"model": "airpods-pro-2", "genuine": True, "battery_layout": "dual",
            "left": {"battery": 100, "charging": False, "in_ear": True}, "case": {"battery": None, "charging": False},
            "connection_state_name": "idle", "worn": None}),
    (MAX_FLIPPED, {"model": "airpods-max", "battery_layout": "single", "single": {"battery": 50, "charging": False},
                   "worn": False, "worn_rule": "status-bit-5"}),
    (MAX2_WORN, {"model": "airpods-max-2", "worn": True, "worn_rule": "earcup-bits",
                 "worn_readings": {"status_bit_5": True, "earcup_any": True, "earcup_both": False}}),
    (CLONE, {"model": None, "genuine": False, "record_length": 0x13, "product_id": "0x2014",
             "case": {"battery": 20, "charging": True}, "undecoded": "6fe4e493300030303030"}),
])
def test_decode_json_gives_every_field(capsys, advert, expect):
    (obj,) = _json(capsys, advert)
    assert {k: obj[k] for k in expect} == expect


@pytest.mark.parametrize("spelling", [
    PRO2.replace(" ", ""),
    "4C 00 " + PRO2,  # the company id in front, as on air
    PRO2.replace(" ", ":"),
    "0x" + PRO2.replace(" ", ""),
    repr(bytes.fromhex(PRO2)),  # b'\x07\x19...' as Python prints bleak's bytes
])
def test_decode_accepts_bleak_manufacturer_data_spellings(capsys, spelling):
    (obj,) = _json(capsys, spelling)
    assert obj["model"] == "airpods-pro-2" and obj["data"] == PRO2.replace(" ", "").lower()


def test_decode_text_names_the_bytes_and_flags_clones(capsys):
    assert main(["decode", MAX_FLIPPED, CLONE]) == 0
    out = capsys.readouterr().out
    assert "headset       50% [byte 6 low nibble, byte 7 flags bit 0]" in out
    assert "worn          no [rule status-bit-5]" in out
    assert "clone: NOT a genuine device" in out and "airpods-pro-2" not in out


def test_decode_reads_one_advert_per_line_from_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"# two captures\n{PRO2}\n\n{MAX2_WORN}  # worn\n"))
    objs = _json(capsys, "-")
    assert [(o["input"], o["model"]) for o in objs] == [("<stdin>:2", "airpods-pro-2"), ("<stdin>:4", "airpods-max-2")]


@pytest.mark.parametrize("value,message", [
    ("zz", "argument 1: 'z' is not a hex digit; give the advert bytes as hex"),
    ("071", "argument 1: 3 hex digits is an odd count"),
    ("0719", "argument 1: record type 0x07 at offset 0 says 25 bytes follow but 0 do (truncated)"),
    ("0715" + "01" * 21, "length 0x15; genuine devices send 0x19, clones 0x13"),
    ("4c00", "argument 1: no bytes after the company id"),
    ("b'\\x07", "argument 1: not a complete bytes literal"),
])
def test_decode_bad_input_is_one_line_and_exit_2(capsys, value, message):
    assert main(["decode", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("routesim decode: ") and message in err


def test_decode_without_a_proximity_record_says_so_and_exits_1(capsys):
    assert main(["decode", "100501184c1a2b"]) == 1  # Nearby Info from a phone
    assert "no proximity-pairing record (type 0x07); Continuity types here: 0x10" in capsys.readouterr().out


@pytest.mark.parametrize("value,model,status", [
    ("bluetooth:v004Cp202Dd0001", "airpods-max-2", 0),
    (MAX2_WORN.replace(" ", ""), "airpods-max-2", 0),
    (CLONE.replace(" ", ""), None, 1),  # a clone never resolves to the genuine model
])
def test_identify_json(capsys, value, model, status):
    assert main(["identify", value, "--format", "json"]) == status
    assert json.loads(capsys.readouterr().out)["model"] == model
