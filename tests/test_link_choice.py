"""Which link a device gives the configuration (``device_link``), one device and configuration per row: the
link, and the rules behind the choice. Each row's expectation comes from the rule it pins:

- [DOC H-Types] record is input only, playback and the other output-only categories output only: a wired
  device without a microphone gives record nothing, one with a microphone gives it its wired link.
- [DOC H-Types26, Doc-bluetoothHighQualityRecording] bluetoothHighQualityRecording on a headset whose model
  does not support it: alone it changes nothing (route.bt-high-quality-ignored), with allowBluetoothHFP
  the headset falls back to plain HFP (route.bt-high-quality-fallback). Neither rule applies without the
  option, outside playAndRecord, or to a device with no microphone to record from.
- [INF live-rigs; PipeWire-bluez5, WirePlumber-0.4] on a rig the audio server picks the card profile: a
  device gives the route the link its server carries (route.rig-link), and only where the configuration
  allows that kind of link (HFP: playAndRecord or record with allowBluetoothHFP, on a model with a
  microphone; A2DP: allowBluetoothA2DP in an output category or playAndRecord). A link HFP does not have
  yet (a profile still coming up) does not stop the rig's HFP link from carrying the route.
"""
from __future__ import annotations

import dataclasses

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.routes.phone.config import Configuration
from routesim.routes.phone.policy import Device, PolicyState, _Trace, decide, device_link

CATALOG = default_catalog()
HQ = "bluetoothHighQualityRecording"

# id -> (model, category, options, device fields, link, rules fired, rules not fired)
ROWS = {
    # wired devices per category
    "headphones-give-record-nothing": ("wired-headphones", "record", (), {}, None, [], []),
    "a-wired-headset-records-wired": ("wired-headset", "record", (), {}, "wired", [], []),
    "headphones-play-wired": ("wired-headphones", "playback", (), {}, "wired", [], []),
    # bluetoothHighQualityRecording on a model without support
    "high-quality-alone-is-ignored": ("airpods-pro", "playAndRecord", (HQ,), {}, None,
                                      ["route.bt-high-quality-ignored"], ["route.bt-high-quality-fallback"]),
    "high-quality-alone-is-ignored-on-a-one-mic-headset": ("generic-headset", "playAndRecord", (HQ,), {}, None,
                                                           ["route.bt-high-quality-ignored"], []),
    "high-quality-with-hfp-falls-back-to-hfp": ("airpods-pro", "playAndRecord", (HQ, "allowBluetoothHFP"), {}, "hfp",
                                                ["route.bt-high-quality-fallback"], ["route.bt-high-quality-ignored"]),
    "no-high-quality-rule-without-the-option": ("airpods-pro", "playAndRecord", ("allowBluetoothHFP",), {}, "hfp",
                                                [], ["route.bt-high-quality-ignored", "route.bt-high-quality-fallback"]),
    "no-high-quality-rule-for-playback": ("airpods-pro", "playback", (), {}, "a2dp",
                                          [], ["route.bt-high-quality-ignored", "route.bt-high-quality-fallback"]),
    "no-high-quality-rule-for-a-speaker-without-a-mic": ("generic-speaker", "playAndRecord", (HQ, "allowBluetoothA2DP"),
                                                         {}, "a2dp", [],
                                                         ["route.bt-high-quality-ignored", "route.bt-high-quality-fallback"]),
    # [DOC H-Types, Doc-allowBluetoothA2DP] with both Bluetooth options, playAndRecord takes HFP before A2DP
    # (route.hfp-before-a2dp); with one option, or in record, there is no such choice to explain
    "hfp-before-a2dp-with-both-options": ("airpods-pro", "playAndRecord", ("allowBluetoothHFP", "allowBluetoothA2DP"),
                                          {}, "hfp", ["route.hfp-before-a2dp"], []),
    "no-hfp-before-a2dp-with-the-hfp-option-alone": ("airpods-pro", "playAndRecord", ("allowBluetoothHFP",), {}, "hfp",
                                                     [], ["route.hfp-before-a2dp"]),
    "no-hfp-before-a2dp-in-record": ("airpods-pro", "record", ("allowBluetoothHFP",), {}, "hfp",
                                     [], ["route.hfp-before-a2dp"]),
    # the link a rig's audio server carries
    "rig-hfp-carries-play-and-record-while-ours-is-still-coming-up": (
        "airpods-pro", "playAndRecord", ("allowBluetoothHFP",), {"pending": frozenset({"hfp"}), "rig_link": "hfp"},
        "hfp", ["route.rig-link"], []),
    "rig-hfp-carries-record-while-ours-is-still-coming-up": (
        "airpods-pro", "record", ("allowBluetoothHFP",), {"pending": frozenset({"hfp"}), "rig_link": "hfp"},
        "hfp", ["route.rig-link"], []),
    "rig-hfp-carries-a-one-microphone-headset": (
        "generic-headset", "playAndRecord", ("allowBluetoothHFP",), {"pending": frozenset({"hfp"}), "rig_link": "hfp"},
        "hfp", ["route.rig-link"], []),
    "rig-hfp-without-the-hfp-option-gives-nothing": (
        "airpods-pro", "playAndRecord", ("allowBluetoothA2DP",), {"rig_link": "hfp"}, None, ["route.rig-link"], []),
    "rig-hfp-gives-playback-nothing": ("airpods-pro", "playback", (), {"rig_link": "hfp"}, None, ["route.rig-link"], []),
    "rig-a2dp-carries-play-and-record-with-the-a2dp-option": (
        "airpods-pro", "playAndRecord", ("allowBluetoothHFP", "allowBluetoothA2DP"), {"rig_link": "a2dp"}, "a2dp",
        ["route.rig-link"], []),
    "rig-a2dp-without-the-a2dp-option-gives-nothing": (
        "airpods-pro", "playAndRecord", ("allowBluetoothHFP",), {"rig_link": "a2dp"}, None, ["route.rig-link"], []),
    "rig-with-no-profile-gives-nothing": ("airpods-pro", "playback", (), {"rig_link": "none"}, None,
                                          ["route.rig-link"], []),
    "rig-carrying-our-link-is-no-rig-rule": ("airpods-pro", "playback", (), {"rig_link": "a2dp"}, "a2dp",
                                             [], ["route.rig-link"]),
}


@pytest.mark.parametrize("model, category, options, fields, link, fired, not_fired", ROWS.values(), ids=ROWS.keys())
def test_the_link_a_device_gives(model, category, options, fields, link, fired, not_fired):
    dev = Device("d", CATALOG.get(model), "D", "00:00:00:00:00:01", 1, **fields)
    trace = _Trace()
    assert device_link(dev, Configuration(category, explicit=frozenset(options)), trace) == link
    assert set(fired) <= set(trace.rules), list(trace.rules)
    assert not set(not_fired) & set(trace.rules), list(trace.rules)


# Output-only categories (playback here): id -> (devices (key, model, seq, device fields), output (type, owner),
# rules fired, rules not fired). [DOC Doc-A2DP, H-Types; QA1754] the newest allowed device plays
# (route.last-in-wins only when there is a choice); [DOC H-Types, Doc-A2DP] output-only categories do not use
# an HFP-only headset; a device whose A2DP is still coming up is passed over without that rule.
OUTPUT_ONLY_ROWS = {
    "one-device-is-no-last-in-choice": ([("pods", "airpods-pro", 1, {})], ("bluetoothA2DP", "pods"),
                                        ["route.output-only-last-in"], ["route.last-in-wins"]),
    "two-devices-the-newest-plays": ([("pods", "airpods-pro", 1, {}), ("spk", "generic-speaker", 2, {})],
                                     ("bluetoothA2DP", "spk"), ["route.last-in-wins"], []),
    "an-hfp-only-headset-does-not-play": ([("hs", "generic-hfp-only", 1, {})], ("builtInSpeaker", None),
                                          ["route.hfp-only-not-for-playback"], []),
    "a2dp-still-coming-up-is-no-hfp-only-headset": ([("pods", "airpods-pro", 1, {"pending": frozenset({"a2dp"})})],
                                                    ("builtInSpeaker", None), [], ["route.hfp-only-not-for-playback"]),
}


@pytest.mark.parametrize("devices, output, fired, not_fired", OUTPUT_ONLY_ROWS.values(), ids=OUTPUT_ONLY_ROWS.keys())
def test_playback_chooses(devices, output, fired, not_fired):
    devs = tuple(Device(k, CATALOG.get(m), k.title(), f"00:00:00:00:00:{seq:02X}", seq, **f) for k, m, seq, f in devices)
    decision = decide(PolicyState(Configuration("playback"), devs))
    assert [(p.type, p.owner) for p in decision.route.outputs] == [output]
    assert set(fired) <= set(decision.rules), decision.rules
    assert not set(not_fired) & set(decision.rules), decision.rules


@pytest.mark.parametrize("rig", [None, "hfp"])
def test_an_hfp_headset_without_a_microphone_gives_no_two_way_link(rig):
    # [DOC H-Types] HFP is the two-way link: it is chosen (and a rig's HFP used) to record from the headset,
    # so a model whose file lists HFP but no microphone (the format allows it) gives A2DP where allowed
    model = dataclasses.replace(CATALOG.get("generic-headset"), microphones=0)
    dev = Device("d", model, "D", "00:00:00:00:00:01", 1, rig_link=rig)
    config = Configuration("playAndRecord", explicit=frozenset({"allowBluetoothHFP", "allowBluetoothA2DP"}))
    assert device_link(dev, config, _Trace()) == (None if rig else "a2dp")


def test_carplay_output_uid_carries_the_cars_address():
    # [DEV gh:react-native-device-info/react-native-device-info#1020, hackmd-tacl-tsco] CarPlay's port uid is the
    # car's address followed by -Audio-AudioMain-1
    car = Device("car", CATALOG.get("carplay"), "My Car", "00:11:22:33:44:55", 1)
    decision = decide(PolicyState(Configuration("playback"), (car,)))
    assert [(p.type, p.uid) for p in decision.route.outputs] == [("carAudio", "00:11:22:33:44:55-Audio-AudioMain-1")]
