"""The category, mode and option rules, one row per rule, straight against routes/phone/config.py.

Every row is read from the header comments the rules cite [DOC H-Types: the category/option matrix and
the mode table; H-Types26: dualRoute, farFieldInput and bluetoothHighQualityRecording, with the iOS
version each first appears in], not from what the model prints. A refused combination must be refused
with the right error (the scenario's ``invalidOptionError`` switch for invalid combinations, ``badParam``
for a name the platform does not have yet), the right rule id (what ``explain`` shows) and a message that
names what is wrong.
"""
from __future__ import annotations

import pytest

from routesim.profiles.platform import Platform
from routesim.routes.phone.config import Configuration, check_mode, check_options, implied_rules
from routesim.routes.phone.errors import SessionError

IOS_26_2 = Platform.parse("ios-26.2")
SWITCH = "unspecified"  # what a scenario's invalidOptionError switch names; refusals must pass it through

# category, mode, options, platform -> refused with (error, rule, words the message must hold), or None (valid)
OPTION_ROWS = [
    # audioProcessing: "No longer supported" since iOS 10 [DOC H-Types]
    ("audioProcessing", "default", (), IOS_26_2,
     (SWITCH, "config.option-validity", ["audioProcessing", "no longer supported"])),
    # the matrix [DOC H-Types]
    ("playAndRecord", "default", ("defaultToSpeaker",), IOS_26_2, None),
    ("playback", "default", ("defaultToSpeaker",), IOS_26_2,
     (SWITCH, "config.option-validity", ["option defaultToSpeaker", "category playback"])),
    ("record", "default", ("mixWithOthers",), IOS_26_2,
     (SWITCH, "config.option-validity", ["option mixWithOthers", "category record"])),
    ("soloAmbient", "default", ("duckOthers",), IOS_26_2,
     (SWITCH, "config.option-validity", ["option duckOthers", "category soloAmbient"])),
    # multiRoute: mixWithOthers, duckOthers and interruptSpokenAudioAndMixWithOthers with mode default only
    ("multiRoute", "default", ("mixWithOthers",), IOS_26_2, None),
    ("multiRoute", "default", ("duckOthers",), IOS_26_2, None),
    ("multiRoute", "default", ("interruptSpokenAudioAndMixWithOthers",), IOS_26_2, None),
    ("multiRoute", "dualRoute", ("allowBluetoothHFP", "mixWithOthers"), IOS_26_2,
     (SWITCH, "config.option-validity", ["option mixWithOthers", "multiRoute", "mode default"])),
    ("multiRoute", "dualRoute", ("allowBluetoothHFP", "duckOthers"), IOS_26_2,
     (SWITCH, "config.option-validity", ["option duckOthers", "multiRoute", "mode default"])),
    # multiRoute + allowBluetoothHFP: only in mode dualRoute, which needs it [DOC H-Types26]
    ("multiRoute", "dualRoute", ("allowBluetoothHFP",), IOS_26_2, None),
    ("multiRoute", "default", ("allowBluetoothHFP",), IOS_26_2,
     (SWITCH, "config.option-validity", ["allowBluetoothHFP", "multiRoute", "mode dualRoute"])),
    ("multiRoute", "dualRoute", (), IOS_26_2,
     (SWITCH, "config.option-validity", ["mode dualRoute", "needs allowBluetoothHFP"])),
    ("playAndRecord", "default", ("allowBluetoothHFP",), IOS_26_2, None),
    # bluetoothHighQualityRecording: iOS 26.0, playAndRecord, mode default only [DOC H-Types26]
    ("playAndRecord", "default", ("bluetoothHighQualityRecording",), IOS_26_2, None),
    ("playAndRecord", "voiceChat", ("bluetoothHighQualityRecording",), IOS_26_2,
     (SWITCH, "config.option-validity", ["bluetoothHighQualityRecording", "mode default"])),
    ("playAndRecord", "default", ("bluetoothHighQualityRecording",), Platform.parse("ios-18.4"),
     ("badParam", "config.option-platform", ["option bluetoothHighQualityRecording", "before iOS 26.0"])),
    # farFieldInput: iOS 26.2, needs allowBluetoothHFP, except in multiRoute (mode dualRoute) [DOC H-Types26]
    ("playAndRecord", "default", ("farFieldInput", "allowBluetoothHFP"), IOS_26_2, None),
    ("record", "default", ("farFieldInput",), IOS_26_2,
     (SWITCH, "config.option-validity", ["farFieldInput needs allowBluetoothHFP"])),
    ("multiRoute", "dualRoute", ("farFieldInput", "allowBluetoothHFP"), IOS_26_2, None),
    # multiRoute's farFieldInput is not refused for itself: what is missing is dualRoute's allowBluetoothHFP
    ("multiRoute", "dualRoute", ("farFieldInput",), IOS_26_2,
     (SWITCH, "config.option-validity", ["mode dualRoute", "needs allowBluetoothHFP"])),
    ("playAndRecord", "default", ("farFieldInput", "allowBluetoothHFP"), Platform.parse("ios-26.1"),
     ("badParam", "config.option-platform", ["option farFieldInput", "before iOS 26.2"])),
    # overrideMutedMicrophoneInterruption: iOS 14.5 [DOC H-Types]
    ("playAndRecord", "default", ("overrideMutedMicrophoneInterruption",), Platform.parse("ios-14.5"), None),
    ("playAndRecord", "default", ("overrideMutedMicrophoneInterruption",), Platform.parse("ios-14.4"),
     ("badParam", "config.option-platform", ["option overrideMutedMicrophoneInterruption", "before iOS 14.5"])),
]


def _refusal(call) -> SessionError | None:
    try:
        call()
    except SessionError as err:
        return err
    return None


@pytest.mark.parametrize("category, mode, options, platform, refused", OPTION_ROWS,
                         ids=[f"{c}-{m}-{'+'.join(o) or 'none'}-{p}" for c, m, o, p, _ in OPTION_ROWS])
def test_option_rule(category, mode, options, platform, refused):
    err = _refusal(lambda: check_options(category, mode, frozenset(options), platform, SWITCH))
    if refused is None:
        assert err is None, f"refused a valid combination: {err}"
        return
    assert err is not None, "accepted an invalid combination"
    name, rule, words = refused
    assert (err.name, err.rule) == (name, rule)
    assert err.detail.startswith(words[0]), err.detail  # the message says first what is wrong
    for word in words:
        assert word in err.detail, (word, err.detail)


# category, mode, platform -> refused with (rule, words), or None; a mode error is always badParam
MODE_ROWS = [
    ("playAndRecord", "voiceChat", IOS_26_2, None),
    ("playback", "voiceChat", IOS_26_2, ["mode voiceChat", "category playback", "valid: playAndRecord"]),
    ("record", "videoRecording", IOS_26_2, None),
    ("playback", "videoRecording", IOS_26_2, ["mode videoRecording", "valid: playAndRecord, record"]),
    ("ambient", "voicePrompt", IOS_26_2, None),  # the header names no category for voicePrompt
    ("ambient", "default", IOS_26_2, None),
    ("playback", "shortFormVideo", Platform.parse("ios-26.0"), None),
    ("playback", "shortFormVideo", Platform.parse("ios-18.6"), ["mode shortFormVideo", "before iOS 26.0"]),
    ("multiRoute", "dualRoute", Platform.parse("ios-26.1"), ["mode dualRoute", "before iOS 26.2"]),
    ("playAndRecord", "dualRoute", IOS_26_2, ["mode dualRoute", "category playAndRecord", "valid: multiRoute"]),
]


@pytest.mark.parametrize("category, mode, platform, refused", MODE_ROWS,
                         ids=[f"{c}-{m}-{p}" for c, m, p, _ in MODE_ROWS])
def test_mode_rule(category, mode, platform, refused):
    err = _refusal(lambda: check_mode(category, mode, platform))
    if refused is None:
        assert err is None, f"refused a valid mode: {err}"
        return
    assert err is not None, "accepted an invalid mode"
    assert (err.name, err.rule) == ("badParam", "config.mode-validity")
    assert err.detail.startswith(refused[0]), err.detail
    for word in refused:
        assert word in err.detail, (word, err.detail)


# categoryOptions as read back, the options routing obeys, and the rule ids explain shows for them
# [DOC H-Types: duckOthers and interruptSpokenAudioAndMixWithOthers imply mixWithOthers; A2DP is implied
# for output-only categories and cleared for record and multiRoute; ambient mixes; voiceChat and gameChat
# imply allowBluetoothHFP; videoChat implies allowBluetoothHFP and defaultToSpeaker].
READBACK_ROWS = [
    # category, mode, explicit -> readback, effective, implied rule ids
    ("playback", "default", {"duckOthers"}, {"duckOthers", "mixWithOthers"},
     {"duckOthers", "mixWithOthers", "allowBluetoothA2DP"}, ["config.a2dp-implicit", "config.duck-implies-mix"]),
    ("playAndRecord", "default", {"interruptSpokenAudioAndMixWithOthers"},
     {"interruptSpokenAudioAndMixWithOthers", "mixWithOthers"},
     {"interruptSpokenAudioAndMixWithOthers", "mixWithOthers"}, ["config.duck-implies-mix"]),
    ("record", "default", {"allowBluetoothA2DP"}, set(), set(), ["config.a2dp-cleared"]),
    ("multiRoute", "default", {"allowBluetoothA2DP", "mixWithOthers"}, {"mixWithOthers"}, {"mixWithOthers"},
     ["config.a2dp-cleared"]),
    ("playAndRecord", "default", {"allowBluetoothA2DP"}, {"allowBluetoothA2DP"}, {"allowBluetoothA2DP"}, []),
    ("ambient", "default", set(), set(), {"mixWithOthers", "allowBluetoothA2DP"},
     ["config.ambient-mixes", "config.a2dp-implicit"]),
    ("soloAmbient", "default", set(), set(), {"allowBluetoothA2DP"}, ["config.a2dp-implicit"]),
    ("playAndRecord", "voiceChat", set(), set(), {"allowBluetoothHFP"}, ["config.chat-implies-hfp"]),
    ("playAndRecord", "gameChat", set(), set(), {"allowBluetoothHFP"}, ["config.chat-implies-hfp"]),
    ("playAndRecord", "videoChat", set(), set(), {"allowBluetoothHFP", "defaultToSpeaker"},
     ["config.videochat-implies-speaker"]),
    ("playAndRecord", "measurement", set(), set(), set(), []),
]


@pytest.mark.parametrize("category, mode, explicit, readback, effective, rules", READBACK_ROWS,
                         ids=[f"{c}-{m}-{'+'.join(sorted(e)) or 'none'}" for c, m, e, *_ in READBACK_ROWS])
def test_readback_effective_and_implied_rules(category, mode, explicit, readback, effective, rules):
    config = Configuration(category, mode, frozenset(explicit))
    assert config.readback == readback
    assert config.effective == effective
    assert config.mixable == ("mixWithOthers" in effective)
    assert implied_rules(config) == rules


# The categoryOptions bit values [DOC H-Types: AVAudioSessionCategoryOptions; H-Types26 for the iOS 26 ones].
BIT_ROWS = [
    ({"mixWithOthers"}, 0x1),
    ({"duckOthers"}, 0x1 | 0x2),  # reads back with mixWithOthers
    ({"allowBluetoothHFP", "defaultToSpeaker"}, 0x4 | 0x8),
    ({"interruptSpokenAudioAndMixWithOthers"}, 0x11),
    ({"allowBluetoothA2DP", "allowAirPlay"}, 0x20 | 0x40),
    ({"overrideMutedMicrophoneInterruption"}, 0x80),
    ({"farFieldInput", "bluetoothHighQualityRecording"}, 0x40000 | 0x80000),
    (set(), 0),
]


@pytest.mark.parametrize("explicit, bits", BIT_ROWS, ids=[hex(b) for _, b in BIT_ROWS])
def test_option_bits(explicit, bits):
    assert Configuration("playAndRecord", "default", frozenset(explicit)).option_bits() == bits


@pytest.mark.parametrize("category, has_input, has_output", [
    ("ambient", False, True), ("soloAmbient", False, True), ("playback", False, True),
    ("record", True, False), ("playAndRecord", True, True), ("multiRoute", True, True),
])
def test_input_and_output_by_category(category, has_input, has_output):
    # [DOC H-Types: the category table: which categories record, which play]
    config = Configuration(category)
    assert (config.has_input, config.has_output) == (has_input, has_output)
