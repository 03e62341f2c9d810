"""playAndRecord's route choice, one policy state per row: which device plays and records, over which link, and
the rules behind the decision (what `explain` shows). Each row's expectation comes from the rule it pins:

- [DOC H-Types] playAndRecord without allowBluetoothHFP or allowBluetoothA2DP ignores Bluetooth headsets
  (`route.bt-needs-option`); a device that fits none of the options given is passed over without that rule.
- [DOC H-Types; QA1754] between allowed devices the newest wins (`route.last-in-wins`, only when there is a
  choice), and the next allowed one takes over when one is passed over.
- [DOC Doc-setPreferredInput, Doc-allowBluetooth] preferring another input takes a headset off HFP (HFP
  carries both sides); with allowBluetoothA2DP it keeps playing over A2DP, without it it is dropped.
  Preferring a headset's HFP input moves the output to it too (`route.preferred-hfp-moves-output`).
- [DOC Doc-defaultToSpeaker; DEV gh:expo/expo#37580] with headsetOverridesDefaultToSpeaker off, a device
  connected after the speaker was pinned does not take the route; one connected before it does.
- [INF scenario-format; DOC Doc-AVRoutePickerView] the route picker's choice holds over last-in wins.
"""
from __future__ import annotations

import dataclasses

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.profiles.platform import Platform
from routesim.routes.phone.config import Configuration
from routesim.routes.phone.policy import Device, PolicyState, decide

CATALOG = default_catalog()
A2DP, BOTH = frozenset({"allowBluetoothA2DP"}), frozenset({"allowBluetoothHFP", "allowBluetoothA2DP"})
HFP = frozenset({"allowBluetoothHFP"})


def _devices(*specs: tuple[str, str, int]) -> tuple[Device, ...]:
    return tuple(Device(key, CATALOG.get(model), key.title(), f"00:00:00:00:00:{seq:02X}", seq)
                 for key, model, seq in specs)


# id -> (options, devices (key, model, seq), state fields, (input types), (output (type, owner))s, fired, not fired)
ROWS = {
    "no-bluetooth-option-ignores-the-headset": (
        frozenset(), [("pods", "airpods-pro", 1)], {},
        ["builtInMic"], [("builtInReceiver", None)], ["route.bt-needs-option"], []),
    "a2dp-only-speaker-with-the-hfp-option-is-passed-over-quietly": (
        HFP, [("spk", "generic-speaker", 1)], {},
        ["builtInMic"], [("builtInReceiver", None)], [], ["route.bt-needs-option"]),
    "hfp-only-headset-with-the-a2dp-option-is-passed-over-quietly": (
        A2DP, [("hs", "generic-hfp-only", 1)], {},
        ["builtInMic"], [("builtInReceiver", None)], [], ["route.bt-needs-option"]),
    "a-passed-over-newer-device-leaves-the-older-one": (
        HFP, [("pods", "airpods-pro", 1), ("spk", "generic-speaker", 2)], {},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")], ["route.hfp-both-ways"], ["route.last-in-wins"]),
    "one-device-is-no-last-in-choice": (
        HFP, [("pods", "airpods-pro", 1)], {},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")], [], ["route.last-in-wins"]),
    "two-devices-newest-wins": (
        HFP, [("pods", "airpods-pro", 1), ("hs", "generic-headset", 2)], {},
        ["bluetoothHFP"], [("bluetoothHFP", "hs")], ["route.last-in-wins"], []),
    "built-in-mic-preferred-headset-plays-over-a2dp": (
        BOTH, [("pods", "airpods-pro", 1)], {"preferred_input": "builtInMic"},
        ["builtInMic"], [("bluetoothA2DP", "pods")], ["route.preferred-input", "route.a2dp-with-category-input"],
        ["route.hfp-both-ways"]),
    "built-in-mic-preferred-without-a2dp-option-drops-the-headset": (
        HFP, [("pods", "airpods-pro", 1)], {"preferred_input": "builtInMic"},
        ["builtInMic"], [("builtInReceiver", None)], ["route.preferred-input"], ["route.bt-needs-option"]),
    "another-headsets-input-preferred-the-newer-one-is-dropped": (
        HFP, [("pods", "airpods-pro", 1), ("hfp", "generic-hfp-only", 2)], {"preferred_input": "pods"},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")],
        ["route.preferred-input", "route.preferred-hfp-moves-output"], []),
    "older-headsets-hfp-input-preferred-moves-the-output": (
        BOTH, [("pods", "airpods-pro", 1), ("hs", "generic-headset", 2)], {"preferred_input": "pods"},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")],
        ["route.preferred-input", "route.preferred-hfp-moves-output"], ["route.last-in-wins"]),
    "device-connected-after-the-speaker-pin-keeps-off": (
        frozenset({"allowBluetoothHFP", "defaultToSpeaker"}), [("pods", "airpods-pro", 2)], {"speaker_pinned_seq": 1},
        ["builtInMic"], [("builtInSpeaker", None)], ["route.default-to-speaker-keeps"],
        ["route.headset-over-default-to-speaker"]),
    "device-connected-before-the-speaker-pin-takes-the-route": (
        frozenset({"allowBluetoothHFP", "defaultToSpeaker"}), [("pods", "airpods-pro", 1)], {"speaker_pinned_seq": 1},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")], ["route.headset-over-default-to-speaker"],
        ["route.default-to-speaker-keeps"]),
    "kept-off-newer-device-leaves-the-older-one": (
        frozenset({"allowBluetoothHFP", "defaultToSpeaker"}), [("pods", "airpods-pro", 1), ("hs", "generic-headset", 2)],
        {"speaker_pinned_seq": 1},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")], ["route.default-to-speaker-keeps"], []),
    "default-to-speaker-without-a-device": (
        frozenset({"defaultToSpeaker"}), [], {},
        ["builtInMic"], [("builtInSpeaker", None)], [], ["route.headset-over-default-to-speaker"]),
    "a-device-without-default-to-speaker": (
        HFP, [("pods", "airpods-pro", 1)], {},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")], [], ["route.headset-over-default-to-speaker"]),
    # [DOC H-Types; QA1754] a wired headset plays and records through its own microphone
    "wired-headset-records-through-its-mic": (
        frozenset(), [("hs", "wired-headset", 1)], {},
        ["headsetMic"], [("headphones", "hs")], ["route.wired-headset"], []),
    "usb-interface-is-no-wired-headset": (
        frozenset(), [("usb", "usb-audio", 1)], {},
        ["usbAudio"], [("usbAudio", "usb")], [], ["route.wired-headset"]),
    "picked-older-device-holds-over-last-in": (
        HFP, [("pods", "airpods-pro", 1), ("hs", "generic-headset", 2)], {"picked": "pods"},
        ["bluetoothHFP"], [("bluetoothHFP", "pods")], ["route.picker"], []),
}


@pytest.mark.parametrize("options, devices, fields, inputs, outputs, fired, not_fired", ROWS.values(), ids=ROWS.keys())
def test_play_and_record_chooses(options, devices, fields, inputs, outputs, fired, not_fired):
    state = PolicyState(Configuration("playAndRecord", explicit=options), _devices(*devices), **fields)
    decision = decide(state)
    assert [p.type for p in decision.route.inputs] == inputs
    assert [(p.type, p.owner) for p in decision.route.outputs] == outputs
    assert set(fired) <= set(decision.rules), decision.rules
    assert not set(not_fired) & set(decision.rules), decision.rules


IOS_17 = Platform("ios", (17, 4, 0))


def _pods_with_the_output_fallback_quirk(output: str | None = None) -> Device:
    """A model the bundled catalog gives an output-fallback quirk on iOS 17, with its quirks there; ``output``
    replaces the quirk's output parameter (a user's quirk file may name the receiver)."""
    model = next(m for m in CATALOG.models()
                 if any(q.effect == "output-fallback" for q in CATALOG.quirks_for(m, IOS_17, None)))
    quirks = tuple(dataclasses.replace(q, params={**q.params, "output": output})
                   if output and q.effect == "output-fallback" else q
                   for q in CATALOG.quirks_for(model, IOS_17, None))
    return Device("pods", model, "Pods", "00:00:00:00:00:01", 1, quirks=quirks)


def test_a_quirk_that_moves_a2dp_output_to_the_speaker_keeps_the_preferred_input():
    # [DEV the catalog's output-fallback quirk, iOS 17 with allowBluetoothA2DP; DOC Doc-setPreferredInput]:
    # the output falls back to the speaker and the preferred built-in microphone still records
    decision = decide(PolicyState(Configuration("playAndRecord", explicit=A2DP), (_pods_with_the_output_fallback_quirk(),),
                                  platform=IOS_17, preferred_input="builtInMic"))
    assert [p.type for p in decision.route.inputs] == ["builtInMic"]
    assert [p.type for p in decision.route.outputs] == ["builtInSpeaker"]
    assert {"route.quirk", "route.preferred-input"} <= set(decision.rules), decision.rules


@pytest.mark.parametrize("hardware, name", [("iphone", "iPhone Microphone"), ("ipad", "iPad Microphone")])
def test_the_built_in_microphone_is_the_hardwares(hardware, name):
    # [DEV gh:react-native-device-info/react-native-device-info#1020] port names per device
    decision = decide(PolicyState(Configuration("playAndRecord"), hardware=hardware))
    assert [p.name for p in decision.route.inputs] == [name]


@pytest.mark.parametrize("hardware, name", [("iphone", "iPhone Microphone"), ("ipad", "iPad Microphone")])
def test_a_preferred_built_in_microphone_beside_a2dp_output_is_the_hardwares(hardware, name):
    # [DOC Doc-setPreferredInput] the preferred built-in mic records while the AirPods play over A2DP;
    # [DEV gh:react-native-device-info/react-native-device-info#1020] its name per device
    decision = decide(PolicyState(Configuration("playAndRecord", explicit=A2DP), _devices(("pods", "airpods-pro", 1)),
                                  hardware=hardware, preferred_input="builtInMic"))
    assert [(p.type, p.name) for p in decision.route.inputs] == [("builtInMic", name)]
    assert [p.type for p in decision.route.outputs] == ["bluetoothA2DP"]


@pytest.mark.parametrize("output", ["builtInSpeaker", "builtInReceiver"])
def test_an_output_fallback_quirk_falls_back_to_the_output_it_names(output):
    # [quirk vocabulary: output-fallback "falls back to the given built-in output"]
    pods = _pods_with_the_output_fallback_quirk(output)
    decision = decide(PolicyState(Configuration("playAndRecord", explicit=A2DP), (pods,), platform=IOS_17))
    assert [p.type for p in decision.route.outputs] == [output]
