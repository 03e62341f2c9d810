"""The model catalog, its loader, identity resolution and quirks.

Expected values come from the catalog's fixed ids and the public sources' examples (RDK-modalias,
MagicPodsCore, capod's test vectors; keys in docs/sources.md), typed in here, never derived from the catalog
under test.
"""
from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from routesim.profiles.catalog import (
    Catalog,
    CatalogError,
    NoAudioProfile,
    UnknownModel,
    default_catalog,
    load_catalog,
    load_models_dir,
    load_quirks_dir,
)
from routesim.profiles.codecs import CODECS
from routesim.profiles.model import Profile, Transport
from routesim.profiles.platform import Platform
from routesim.profiles.provenance import Tag
from routesim.profiles.quirks import EFFECTS, lint, parse_firmware, session_matches


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


# --- the fixed ids ---------------------------------------------------------------------------------------

SPEC = [  # id, product ID, kind (the catalog's fixed ids; product IDs from MagicPodsCore, capod)
    ("airpods-1", 0x2002, "earbuds"),
    ("airpods-2", 0x200F, "earbuds"),
    ("airpods-3", 0x2013, "earbuds"),
    ("airpods-4", 0x2019, "earbuds"),
    ("airpods-4-anc", 0x201B, "earbuds"),
    ("airpods-pro", 0x200E, "earbuds"),
    ("airpods-pro-2", 0x2014, "earbuds"),
    ("airpods-pro-2-usbc", 0x2024, "earbuds"),
    ("airpods-pro-3", 0x2027, "earbuds"),
    ("airpods-max", 0x200A, "over-ear"),
    ("airpods-max-usbc", 0x201F, "over-ear"),
    ("powerbeats-pro", 0x200B, "earbuds"),
    ("beats-fit-pro", 0x2012, "earbuds"),
    ("beats-studio-buds", 0x2011, "earbuds"),
    ("beats-solo-3", 0x2006, "on-ear"),
    ("generic-headset", None, "headset"),
    ("generic-wideband-headset", None, "headset"),
    ("generic-speaker", None, "speaker"),
    ("generic-hfp-only", None, "headset"),
    ("wired-headset", None, "wired"),
    ("wired-headphones", None, "wired"),
    ("usb-audio", None, "wired"),
    ("carplay", None, "car"),
]


@pytest.mark.parametrize("model_id,product_id,kind", SPEC, ids=[row[0] for row in SPEC])
def test_spec_id_exists_with_its_product_id_and_kind(catalog, model_id, product_id, kind):
    model = catalog.get(model_id)
    assert model_id in catalog
    assert model.product_id == product_id
    assert model.kind.value == kind
    assert model.vendor_id == (0x004C if product_id is not None else None)


def test_catalog_order_follows_the_spec(catalog):
    assert catalog.ids()[: len(SPEC)] == [row[0] for row in SPEC]
    assert [m.id for m in catalog.models()] == catalog.ids()


def test_unknown_id_suggests_a_close_one(catalog):
    with pytest.raises(UnknownModel) as e:
        catalog.get("airpods-pro2")
    assert isinstance(e.value, KeyError)
    assert str(e.value) == "unknown model 'airpods-pro2'; did you mean 'airpods-pro-2'?"


def test_default_catalog_is_cached_and_loaded_from_the_package(catalog):
    assert default_catalog() is catalog
    assert all(m.origin == f"fixtures/models/{m.id}.yaml" for m in catalog.models())


# --- whole-catalog invariants -----------------------------------------------------------------------------

FACTS = ["name", "product", "kind", "transport", "vendor_id", "product_id", "advert_model", "profiles",
         "microphones", "in_ear_detection", "has_case", "battery"]


def _all_models():
    return default_catalog().models()


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: m.id)
def test_every_fact_has_a_tagged_source(model):
    facts = list(FACTS)
    if model.has_a2dp:
        facts += ["a2dp_codecs", "a2dp_sample_rate"]
    if model.has_hfp:
        facts += ["hfp_codecs"]
    if not model.is_bluetooth:
        facts += ["output_port", "input_port"]
    missing = [f for f in facts if f not in model.sources]
    assert not missing, f"{model.id}: no source for {missing}"
    for fact in facts:
        source = model.sources[fact]
        assert isinstance(source.tag, Tag) and source.ref.strip(), (model.id, fact)
    for support in model.hfp_codecs:
        assert support.source is not None and isinstance(support.source.tag, Tag), (model.id, support.codec)


def test_no_two_models_share_a_product_id(catalog):
    keys = [(m.vendor_id, m.product_id) for m in catalog.models() if m.product_id is not None]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: m.id)
def test_model_is_consistent(model):
    assert model.advert_model == model.product_id
    if model.has_hfp and model.microphones > 0:
        assert model.hfp_codecs, "an HFP model with a microphone needs an HFP codec"
    if model.has_a2dp:
        assert model.a2dp_codecs and "sbc" in model.a2dp_codecs
        assert all(CODECS[c].link.value == "a2dp" for c in model.a2dp_codecs)
    assert all(CODECS[s.codec].link.value == "hfp" for s in model.hfp_codecs)
    if model.is_bluetooth:
        assert model.profiles and model.output_port is None and model.input_port is None
    else:
        assert not model.profiles and model.output_port is not None
        assert (model.input_port is not None) == (model.microphones > 0)
    if "case" in model.battery:
        assert model.has_case
    if model.vendor_id == 0x004C:  # AirPods and Beats: the phone prefers AAC (gh:DeaDBeeF-Player/deadbeef#1910)
        assert model.a2dp_codecs == ("aac", "sbc")
        assert Profile.AAP in model.profiles


@pytest.mark.parametrize(
    "model_id,platform,offered,codec,rate",
    [
        ("airpods-pro-2", "ios-18.0", {"cvsd", "msbc", "lc3-a127"}, "lc3-a127", 24000),
        ("airpods-pro-2", "ios-17.4", {"cvsd", "msbc", "lc3-a127"}, "msbc", 16000),
        ("airpods-pro-2", "ios-18.0", {"cvsd", "msbc"}, "msbc", 16000),
        ("airpods-2", "ios-18.0", {"cvsd", "msbc", "lc3-a127"}, "msbc", 16000),
        ("airpods-pro", "ios-26.0", {"cvsd", "msbc", "lc3-a127"}, "msbc", 16000),
        ("airpods-max", "ios-26.0", {"cvsd", "msbc", "lc3-a127"}, "msbc", 16000),
        ("generic-headset", "ios-26.0", {"cvsd", "msbc", "lc3-a127"}, "cvsd", 8000),
        ("generic-wideband-headset", "ios-26.0", {"cvsd", "msbc", "lc3-a127"}, "msbc", 16000),
        ("generic-wideband-headset", "ios-26.0", {"cvsd"}, "cvsd", 8000),
    ],
)
def test_hfp_codec_and_rate_per_platform(catalog, model_id, platform, offered, codec, rate):
    support = catalog.get(model_id).hfp_codec(offered, Platform.parse(platform))
    assert support is not None and support.codec == codec and support.sample_rate == rate


@pytest.mark.parametrize(
    "model_id,output,input_",
    [
        ("wired-headset", "headphones", "headsetMic"),
        ("wired-headphones", "headphones", None),
        ("usb-audio", "usbAudio", "usbAudio"),
        ("carplay", "carAudio", "carAudio"),
    ],
)
def test_wired_usb_and_car_port_types(catalog, model_id, output, input_):
    model = catalog.get(model_id)
    assert (model.output_port, model.input_port) == (output, input_)
    assert model.has_input == (input_ is not None)


@pytest.mark.parametrize(
    "model_id,has_a2dp,has_hfp,has_input",
    [
        ("generic-headset", True, True, True),
        ("generic-speaker", True, False, False),
        ("generic-hfp-only", False, True, True),
    ],
)
def test_generic_models(catalog, model_id, has_a2dp, has_hfp, has_input):
    model = catalog.get(model_id)
    assert (model.has_a2dp, model.has_hfp, model.has_input) == (has_a2dp, has_hfp, has_input)
    assert model.product_id is None and model.modalias_prefix is None


def test_bundled_quirks_lint_clean(catalog):
    assert lint(catalog) == []
    assert catalog.quirks(), "the iOS 17 AirPods Pro 2 quirk is bundled"


# --- identity from real-form strings and bytes ------------------------------------------------------------


@pytest.mark.parametrize(
    "modalias,expected",
    [
        ("bluetooth:v004Cp2014dD408", "airpods-pro-2"),  # RDK-modalias, a real Modalias
        ("bluetooth:v004Cp2014d0B21", "airpods-pro-2"),  # the version field is firmware, not a model key
        ("bluetooth:v004cp2014dd408", "airpods-pro-2"),
        ("bluetooth:v004Cp2016d0001", "beats-studio-buds-plus"),  # a real Modalias (gh:maniacx/Bluetooth-Battery-Meter#124)
        ("bluetooth:v004Cp20FEd0001", None),  # a product number no source gives
        ("usb:v05ACp2014d0100", None),  # USB-IF vendor numbering: not a Bluetooth Device ID
        ("bluetooth:v0075p2014d0100", None),  # another vendor's product 0x2014
        ("bluetooth:v004C", None),
        ("", None),
    ],
)
def test_from_modalias(catalog, modalias, expected):
    model = catalog.from_modalias(modalias)
    assert (model.id if model else None) == expected


def _hex(text: str) -> bytes:
    return bytes.fromhex(text)


ADVERT_A = _hex("07 19 01 14 20 2B 9A 8F 01 00 04 0F 26 1A C4 2B FA 2F B9 B6 08 CD 60 CB DF 75 AB")  # capod AirPodsPro2Test.kt
ADVERT_B = _hex("07 19 01 0F 20 02 F9 8F 01 00 05 F2 7E 14 E0 54 0A 53 69 5B 7D F2 15 1F D7 B1 12")  # capod AirPodsGen2Test.kt
ADVERT_C = _hex("07 19 01 14 20 55 88 F9 51 00 04")  # capod's charging-in-case vector, first 11 bytes


@pytest.mark.parametrize(
    "payload,expected",
    [
        (ADVERT_A, "airpods-pro-2"),
        (ADVERT_B, "airpods-2"),
        (bytearray(ADVERT_A), "airpods-pro-2"),
        (_hex("10 05 01 18 4C 1A 2B") + ADVERT_A, "airpods-pro-2"),  # a Nearby Info TLV first (furiousMAC)
        (ADVERT_C, None),  # the TLV says 25 bytes but 9 follow
        (ADVERT_A[:2] + b"\x00" + ADVERT_A[3:], None),  # prefix 0x00: pairing mode, other layout (furiousMAC)
        (_hex("07 13 01 02 20") + bytes(17), None),  # clone length 0x13 (gh:steam3d/MagicPods-Windows#21)
        (_hex("12 19 00") + bytes(25), None),  # Find My, not proximity pairing
        (b"", None),
    ],
)
def test_from_advertisement(catalog, payload, expected):
    model = catalog.from_advertisement(payload)
    assert (model.id if model else None) == expected


@pytest.mark.parametrize(
    "wire,expected",  # advert bytes 3-4 as MagicPodsCore, capod and librepods give them
    [
        ("02 20", "airpods-1"), ("0F 20", "airpods-2"), ("13 20", "airpods-3"), ("19 20", "airpods-4"),
        ("1B 20", "airpods-4-anc"), ("0E 20", "airpods-pro"), ("14 20", "airpods-pro-2"),
        ("24 20", "airpods-pro-2-usbc"), ("27 20", "airpods-pro-3"), ("0A 20", "airpods-max"),
        ("1F 20", "airpods-max-usbc"), ("0B 20", "powerbeats-pro"), ("12 20", "beats-fit-pro"),
        ("11 20", "beats-studio-buds"), ("06 20", "beats-solo-3"),
        ("20 14", None),  # big-endian misreading (furiousMAC/OpenPods print order)
        ("2D 20", "airpods-max-2"), ("1D 20", "powerbeats-pro-2"), ("03 20", "powerbeats-3"),
        ("0D 20", "powerbeats-4"), ("2F 20", "powerbeats-fit"), ("05 20", "beats-x"), ("10 20", "beats-flex"),
        ("0C 20", "beats-solo-pro"), ("25 20", "beats-solo-4"), ("26 20", "beats-solo-buds"),
        ("09 20", "beats-studio-3"), ("17 20", "beats-studio-pro"), ("16 20", "beats-studio-buds-plus"),
        ("FE 20", None),  # a product number no source gives
    ],
)
def test_advert_model_field_per_reference_table(catalog, wire, expected):
    payload = ADVERT_A[:3] + _hex(wire) + ADVERT_A[5:]
    model = catalog.from_advertisement(payload)
    assert (model.id if model else None) == expected


AIRPODS_PRO_2_UUIDS = [  # the RDK fixture's Device1.UUIDs (RDK-modalias)
    "00001000-0000-1000-8000-00805f9b34fb", "0000110b-0000-1000-8000-00805f9b34fb",
    "0000110c-0000-1000-8000-00805f9b34fb", "0000110d-0000-1000-8000-00805f9b34fb",
    "0000110e-0000-1000-8000-00805f9b34fb", "0000111e-0000-1000-8000-00805f9b34fb",
    "00001200-0000-1000-8000-00805f9b34fb", "74ec2172-0bad-4d01-8f77-997b2be0722a",
]


@pytest.mark.parametrize(
    "uuids,expected",
    [
        (AIRPODS_PRO_2_UUIDS, "generic-headset"),
        ([u.upper() for u in AIRPODS_PRO_2_UUIDS], "generic-headset"),
        (["0000110B-0000-1000-8000-00805F9B34FB", "00001108-0000-1000-8000-00805f9b34fb"], "generic-headset"),
        (["0000110b-0000-1000-8000-00805f9b34fb", "0000110e-0000-1000-8000-00805f9b34fb"], "generic-speaker"),
        (["0000111e-0000-1000-8000-00805f9b34fb", "00001200-0000-1000-8000-00805f9b34fb"], "generic-hfp-only"),
        (["111e", "0x110B"], "generic-headset"),
    ],
)
def test_generic_for_uuids(catalog, uuids, expected):
    assert catalog.generic_for_uuids(uuids).id == expected


@pytest.mark.parametrize(
    "uuids",
    [
        ["0000110a-0000-1000-8000-00805f9b34fb"],  # an A2DP *source* (a phone), not a sink
        ["74ec2172-0bad-4d01-8f77-997b2be0722a"],
        [],
    ],
)
def test_generic_for_uuids_without_audio_profile(catalog, uuids):
    with pytest.raises(NoAudioProfile):
        catalog.generic_for_uuids(uuids)


# --- quirks -----------------------------------------------------------------------------------------------

QUIRK_ID = "airpods-pro-2-ios17-a2dp-output-to-speaker"


@pytest.mark.parametrize(
    "model_id,platform,expected",
    [
        ("airpods-pro-2", "ios-17.0", [QUIRK_ID]),
        ("airpods-pro-2", "ios-17.4", [QUIRK_ID]),
        ("airpods-pro-2-usbc", "ios-17.6.1", [QUIRK_ID]),
        ("airpods-pro-2", "ios-16.7", []),
        ("airpods-pro-2", "ios-18.0", []),
        ("airpods-pro", "ios-17.4", []),  # AirPods Pro 1 worked in the report
        ("airpods-pro-3", "ios-17.4", []),
        ("generic-headset", "ios-17.4", []),
        ("airpods-pro-2", "visionos-1", []),
    ],
)
def test_quirks_for(catalog, model_id, platform, expected):
    quirks = catalog.quirks_for(catalog.get(model_id), Platform.parse(platform), None)
    assert [q.id for q in quirks] == expected


def test_bundled_quirk_content(catalog):
    (quirk,) = catalog.get("airpods-pro-2").quirks
    assert quirk.id == QUIRK_ID
    assert (quirk.effect, dict(quirk.params)) == ("output-fallback", {"output": "builtInSpeaker"})
    assert quirk.product_ids == (0x2014, 0x2024) and quirk.vendor_id == 0x004C
    assert quirk.source.tag is Tag.DEV and "audio_session#120" in quirk.source.ref
    assert quirk.confidence == "single developer report"
    assert catalog.get("airpods-pro-2-usbc").quirks == (quirk,)


@pytest.mark.parametrize(
    "category,mode,options,expected",
    [
        ("playAndRecord", "default", ["allowBluetoothA2DP"], True),
        ("playAndRecord", "voiceChat", ["allowBluetoothA2DP", "defaultToSpeaker"], True),
        ("playAndRecord", "default", ["allowBluetoothA2DP", "allowBluetoothHFP"], False),
        ("playAndRecord", "default", ["allowBluetoothA2DP", "allowBluetooth"], False),  # pre-iOS 26 name
        ("playAndRecord", "default", [], False),
        ("playback", "default", ["allowBluetoothA2DP"], False),
    ],
)
def test_bundled_quirk_when_conditions(catalog, category, mode, options, expected):
    (quirk,) = catalog.get("airpods-pro-2").quirks
    assert session_matches(quirk, category, mode, options) is expected


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


USER_QUIRK = """
quirks:
  - id: {id}
    effect: {effect}
    params: {params}
    match: {{product_ids: [{pids}]{firmware}}}
    platform: "{platform}"
    when: {when}
    source: "[DEV] a rig log"
    confidence: one rig
    summary: test quirk
"""


def _quirk(id="user-quirk", effect="negotiation-delay", params="{delay: 500ms}", pids="0x2014", firmware="",
           platform=">=17.0", when="{}"):
    fw = f', firmware: "{firmware}"' if firmware else ""
    return USER_QUIRK.format(id=id, effect=effect, params=params, pids=pids, firmware=fw, platform=platform,
                             when=when)


def test_user_quirk_replaces_bundled_one_with_the_same_id(tmp_path):
    _write(tmp_path, "mine.yaml", _quirk(id=QUIRK_ID, effect="output-fallback", params="{output: builtInReceiver}",
                                         pids="0x2014, 0x2024", platform=">=17.0,<18"))
    catalog = load_catalog([tmp_path])
    (quirk,) = catalog.get("airpods-pro-2").quirks
    assert quirk.params == {"output": "builtInReceiver"} and quirk.origin == str(tmp_path / "mine.yaml")
    assert len(catalog.quirks()) == len(default_catalog().quirks())
    assert lint(catalog) == []


@pytest.mark.parametrize(
    "firmware_range,firmware,applies",
    [
        (">=6A300,<7A305", "6F8", True),
        (">=6A300,<7A305", "7A305", False),
        (">=6A300,<7A305", None, True),  # unknown firmware: firmware-scoped quirks apply
        (">=6.8", "6.10", True),
        (">=6.8", "6.7", False),
    ],
)
def test_firmware_scoped_user_quirk(tmp_path, firmware_range, firmware, applies):
    _write(tmp_path, "fw.yaml", _quirk(firmware=firmware_range))
    catalog = load_catalog([tmp_path])
    quirks = catalog.quirks_for(catalog.get("airpods-pro-2"), Platform.parse("ios-18.1"), firmware)
    assert ("user-quirk" in [q.id for q in quirks]) is applies


def test_user_quirk_delay_is_normalised_to_seconds(tmp_path):
    _write(tmp_path, "d.yaml", _quirk(params="{delay: 500ms}"))
    (quirk,) = [q for q in load_catalog([tmp_path]).quirks() if q.id == "user-quirk"]
    assert quirk.params == {"delay": 0.5}


@pytest.mark.parametrize("text,expected", [("6.8", (6, 8)), ("7A305", (7, 1, 305)), ("6F8", (6, 6, 8))])
def test_parse_firmware(text, expected):
    assert parse_firmware(text) == expected


@pytest.mark.parametrize("text", ["", "v6", "6..8", "7a305"])
def test_parse_firmware_rejects(text):
    with pytest.raises(ValueError):
        parse_firmware(text)


@pytest.mark.parametrize(
    "files,fragment",
    [
        ({"a.yaml": _quirk(pids="0x9999")}, "unreachable: no catalog model has product id(s) 0x9999"),
        ({"a.yaml": _quirk(platform=">=18,<17")}, "unreachable: platform range >=18,<17 is empty"),
        ({"a.yaml": _quirk(platform=">=30")}, "outside the modelled iOS"),
        ({"a.yaml": _quirk(when="{options_include: [allowBluetoothA2DP], options_exclude: [allowBluetoothA2DP]}")},
         "unreachable: options both included and excluded: allowBluetoothA2DP"),
        ({"a.yaml": _quirk(), "b.yaml": _quirk()}, "duplicate id"),
        ({"a.yaml": _quirk(id="first", platform=">=17.0"), "b.yaml": _quirk(id="second", platform=">=18.0,<19")},
         "shadowed by"),
    ],
)
def test_lint_finds(tmp_path, files, fragment):
    for name, text in files.items():
        _write(tmp_path, name, text)
    problems = lint(load_catalog([tmp_path]))
    assert any(fragment in p for p in problems), problems


def test_lint_accepts_disjoint_quirks(tmp_path):
    _write(tmp_path, "a.yaml", _quirk(id="first", platform=">=17.0,<18"))
    _write(tmp_path, "b.yaml", _quirk(id="second", platform=">=18.0"))
    _write(tmp_path, "c.yaml", _quirk(id="third", platform=">=18.0", pids="0x200E"))
    assert lint(load_catalog([tmp_path])) == []


def test_every_effect_has_a_parameter_schema():
    assert set(EFFECTS) == {"output-fallback", "profile-refused", "profile-delayed", "codec-unavailable",
                            "sample-rate-forced", "extra-route-change", "negotiation-delay"}
    assert all(e.params for e in EFFECTS.values())


# --- bad files give precise errors ------------------------------------------------------------------------

GOOD_MODEL = """
id: test-buds
device:
  name: Test Buds
  product: Test Buds (1st generation)
  kind: earbuds
  transport: bluetooth
  source: "[INF] test"
identity:
  vendor_id: 0x004C
  product_id: 0x2099
  advert_model: 0x2099
  source: "[DEV] test table"
profiles:
  supported: [a2dp, hfp]
  source: "[INF] test"
a2dp:
  codecs: [aac, sbc]
  sample_rate: 48000
  source: "[INF] test"
hfp:
  codecs:
    - {codec: msbc, source: "[INF] test"}
    - {codec: cvsd, source: "[INF] test"}
hardware:
  microphones: 2
  in_ear_detection: true
  case: true
  battery: [left, right, case]
  source: "[INF] test"
"""


def _line_of(text: str, needle: str) -> int:
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_good_model_file_loads(tmp_path):
    _write(tmp_path, "test-buds.yaml", GOOD_MODEL)
    (model,) = load_models_dir(tmp_path)
    assert model.id == "test-buds" and model.product_id == 0x2099 and model.transport is Transport.BLUETOOTH
    assert model.sources["product_id"].tag is Tag.DEV


@pytest.mark.parametrize(
    "old,new,field,message",
    [
        ("  microphones: 2", "  microphone: 2", "hardware.microphone", "unknown key; did you mean 'microphones'?"),
        ("codecs: [aac, sbc]", "codecs: [acc, sbc]", "a2dp.codecs[0]", "unknown A2DP codec 'acc'; did you mean 'aac'?"),
        ("codecs: [aac, sbc]", "codecs: [aac, msbc]", "a2dp.codecs[1]",
         "'msbc' is an HFP codec; A2DP codecs are sbc, aac, aptx, ldac"),
        ("{codec: msbc,", "{codec: aac,", "hfp.codecs[0].codec", "'aac' is an A2DP codec; HFP codecs are"),
        ("supported: [a2dp, hfp]", "supported: [a2dp, hfp, le_audio]", "profiles.supported[2]",
         "unknown profile 'le_audio'; did you mean 'le-audio'?"),
        ("  product_id: 0x2099", '  product_id: "0x2099"', "identity.product_id",
         "expected an integer or null, got the string '0x2099'; write e.g. 0x2014; unquote it"),
        ("  in_ear_detection: true", "  in_ear_detection: yes please", "hardware.in_ear_detection",
         "expected true or false"),
        ("  advert_model: 0x2099", "  advert_model: 0x9920", "identity.advert_model",
         "the advert model field is the product id sent little-endian; set it to 0x2099"),
        ('  source: "[DEV] test table"', '  source: "[FOO] test table"', "identity.source",
         "must start with one of [DOC], [DTS], [DEV], [INF]"),
        ("  kind: earbuds", "  kind: earbud", "device.kind", "unknown kind 'earbud'; did you mean 'earbuds'?"),
        ("  battery: [left, right, case]", "  battery: [left, right, case, single]", "hardware.battery",
         "'single' excludes left/right/case"),
        ("  sample_rate: 48000", "  sample_rate: 16000", "a2dp.sample_rate", "16000 Hz is not an A2DP sample rate"),
        ("id: test-buds", "id: other-buds", "id", "differs from the file name 'test-buds'"),
        ("  name: Test Buds", "  name: !!python/object:os.system Test", "device.name", "is not allowed"),
    ],
)
def test_bad_model_field_is_reported_at_its_line(tmp_path, old, new, field, message):
    text = textwrap.dedent(GOOD_MODEL)
    assert old in text
    bad = text.replace(old, new, 1)
    path = _write(tmp_path, "test-buds.yaml", bad)
    with pytest.raises(CatalogError) as e:
        load_models_dir(tmp_path)
    line = _line_of(bad, new.strip().split("#")[0][:20])
    assert str(e.value).startswith(f"{path}:{line}: field '{field}': "), str(e.value)
    assert message in str(e.value)


def test_missing_source_is_reported(tmp_path):
    bad = textwrap.dedent(GOOD_MODEL).replace('  source: "[DEV] test table"\n', "")
    path = _write(tmp_path, "test-buds.yaml", bad)
    with pytest.raises(CatalogError) as e:
        load_models_dir(tmp_path)
    assert str(e.value).startswith(f"{path}:{_line_of(bad, 'vendor_id')}: field 'identity.vendor_id': no source;")
    assert len(e.value.errors) == 3  # vendor_id, product_id, advert_model


def test_exact_error_text(tmp_path):
    bad = textwrap.dedent(GOOD_MODEL).replace("  case: true", "  cases: true")
    path = _write(tmp_path, "test-buds.yaml", bad)
    with pytest.raises(CatalogError) as e:
        load_models_dir(tmp_path)
    line = _line_of(bad, "cases:")
    assert e.value.errors[0] == f"{path}:{line}: field 'hardware.cases': unknown key; did you mean 'case'?"


def test_duplicate_product_id_across_files(tmp_path):
    _write(tmp_path, "test-buds.yaml", GOOD_MODEL)
    other = _write(tmp_path, "test-buds-2.yaml", GOOD_MODEL.replace("id: test-buds", "id: test-buds-2"))
    with pytest.raises(CatalogError) as e:
        load_models_dir(tmp_path)
    line = _line_of(GOOD_MODEL, "product_id")
    assert str(e.value) == (
        f"{tmp_path / 'test-buds.yaml'}:{line}: field 'identity.product_id': 0x2099 is also test-buds-2's "
        f"({other}:{line}); each product id names one model"
    )


@pytest.mark.parametrize(
    "text,line,fragment",
    [
        ("id: x\ndevice: [unclosed\n", 3, "not valid YAML"),
        ("id: test-buds\nid: again\n", 2, "field 'id': duplicate key (first at line 1)"),
        ("", 1, "the file is empty"),
        ("id: a\n---\nid: b\n", 3, "a second YAML document"),
        ("- just\n- a list\n", 1, "expected a mapping, got a list"),
    ],
)
def test_broken_yaml_is_reported_at_its_line(tmp_path, text, line, fragment):
    path = tmp_path / "test-buds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as e:
        load_models_dir(tmp_path)
    assert str(e.value).startswith(f"{path}:{line}: "), str(e.value)
    assert fragment in str(e.value)


def test_order_file_must_list_every_model(tmp_path):
    _write(tmp_path, "test-buds.yaml", GOOD_MODEL)
    order = _write(tmp_path, "_catalog.yaml", "order: [test-bud]\n")
    with pytest.raises(CatalogError) as e:
        load_models_dir(tmp_path)
    assert f"{order}:1: field 'order[0]': no model file defines 'test-bud'; did you mean 'test-buds'?" in e.value.errors


@pytest.mark.parametrize(
    "kwargs,field,message",
    [
        (dict(effect="output-fallbak", params="{output: builtInSpeaker}"), "quirks[0].effect",
         "unknown effect 'output-fallbak'; did you mean 'output-fallback'?"),
        (dict(effect="output-fallback", params="{output: builtinSpeaker}"), "quirks[0].params.output",
         "did you mean 'builtInSpeaker'?"),
        (dict(effect="output-fallback", params="{output: builtInSpeaker, rate: 3}"), "quirks[0].params.rate",
         "unknown parameter for effect 'output-fallback'"),
        (dict(effect="profile-delayed", params="{profile: hfp}"), "quirks[0].params",
         "effect 'profile-delayed' needs delay"),
        (dict(effect="codec-unavailable", params="{codec: lc3}"), "quirks[0].params.codec", "unknown codec 'lc3'"),
        (dict(effect="sample-rate-forced", params="{link: sco, rate: 16000}"), "quirks[0].params.link",
         "unknown link 'sco'"),
        (dict(params="{delay: soon}"), "quirks[0].params.delay", "expected a delay"),
        (dict(when="{options_include: [allowBluetoothA2dp]}"), "quirks[0].when.options_include",
         "did you mean 'allowBluetoothA2DP'?"),
        (dict(when="{category: [playandrecord]}"), "quirks[0].when.category", "did you mean 'playAndRecord'?"),
        (dict(when="{route: [x]}"), "quirks[0].when.route", "unknown 'when' condition 'route'"),
        (dict(pids='"0x2014"'), "quirks[0].match.product_ids[0]", "expected an integer"),
        (dict(platform=">=17.x"), "quirks[0].platform", "must be '>=X.Y' or '<X.Y'"),
        (dict(firmware=">=7?305"), "quirks[0].match.firmware", "neither a dotted version"),
    ],
)
def test_bad_quirk_is_reported_at_its_line(tmp_path, kwargs, field, message):
    text = textwrap.dedent(_quirk(**kwargs)).lstrip("\n")
    path = _write(tmp_path, "q.yaml", text)
    with pytest.raises(CatalogError) as e:
        load_quirks_dir(tmp_path)
    head = field.split(".")[1].split("[")[0]  # the quirk key whose line holds the problem
    line = _line_of(text, f"{head}:")
    assert str(e.value).startswith(f"{path}:{line}: field '{field}': "), str(e.value)
    assert message in str(e.value)


def test_missing_quirk_provenance_is_an_error(tmp_path):
    text = textwrap.dedent(_quirk()).lstrip("\n").replace("    confidence: one rig\n", "")
    path = _write(tmp_path, "q.yaml", text)
    with pytest.raises(CatalogError) as e:
        load_quirks_dir(tmp_path)
    assert f"{path}:2: field 'quirks[0].confidence': missing;" in str(e.value)


def test_extra_quirk_dir_errors_surface_from_load_catalog(tmp_path):
    with pytest.raises(CatalogError) as e:
        load_catalog([tmp_path / "nowhere"])
    assert "not a directory of quirk files" in str(e.value)


def test_catalog_is_built_from_models_dir(tmp_path):
    _write(tmp_path, "test-buds.yaml", GOOD_MODEL)
    catalog = load_catalog(models_dir=tmp_path)
    assert catalog.ids() == ["test-buds"]
    assert catalog.from_modalias("bluetooth:v004Cp2099d0001").id == "test-buds"
    assert any("unreachable" in p for p in lint(catalog))  # the bundled quirk's product ids are not here


def test_models_are_frozen(catalog):
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.get("airpods-1").name = "x"  # type: ignore[misc]


def test_anchors_and_aliases_are_rejected(tmp_path):
    text = textwrap.dedent(GOOD_MODEL).replace("  supported: [a2dp, hfp]", "  supported: &p [a2dp, hfp]")
    text = text.replace("  battery: [left, right, case]", "  battery: *p")
    path = _write(tmp_path, "test-buds.yaml", text)
    with pytest.raises(CatalogError) as e:
        load_models_dir(tmp_path)
    line = _line_of(text, "battery: *p")
    assert str(e.value) == (f"{path}:{line}: field 'hardware.battery': anchors and aliases are not allowed; "
                            f"write the value out")
