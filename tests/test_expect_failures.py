"""Every expectation key can fail: a wrong value is a failed expectation (exit 1, not an invalid
scenario, exit 2), the message names the file and line, what was expected and what was observed, and
the same case with the right value passes. One row per key, form and comparison operator.

Each row is run twice through ``routesim run``: with the wrong expectation (one failing check, the
message asserted on its text) and with the right one (exit 0). A checker that lets any expectation
hold always, or that compares too little (a list's length, a number with ``>=`` for ``==``), fails
one of these rows.
"""
from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

import pytest

from routesim.routes.cli.main import main
from routesim.routes.phone.errors import AppException, SessionError
from routesim.routes.phone.notifications import Notification
from routesim.routes.scenario.expectations import Check, error_matches, note_matches
from routesim.routes.scenario.model import ErrorMatch, NoteMatch

# The worlds the expectations look at. The `expect:` step is appended after the last line, so its line
# number is the number of lines here plus one.

# playAndRecord with A2DP output: in builtInMic, out the AirPods over A2DP (AAC); duckOthers ducks the
# music; the battery step reports left and right only.
ROUTE_WORLD = """\
name: one wrong expectation
accessories:
  pods: {model: airpods-pro-2, name: "Kim's AirPods", address: "AA:BB:CC:DD:EE:01", connected: true}
others:
  music: {category: playback, playing: true}
steps:
  - session.setCategory: {category: playAndRecord, options: [allowBluetoothA2DP, duckOthers]}
  - session.setActive: true
  - battery: {accessory: pods, left: 70, right: 60}
"""

# A voice-chat CallKit call on AirPods Pro 2 (HFP, LC3 at 24 kHz), with the engine running and a
# one-second 16 kHz mono LPCM recording (a 4096-byte header plus 32000 bytes of samples).
CALL_WORLD = """\
name: one wrong expectation in a call
accessories:
  pods: {model: airpods-pro-2, connected: true}
steps:
  - session.setCategory: {category: playAndRecord, mode: voiceChat}
  - callkit.reportIncoming: c1
  - callkit.answer: c1
  - wait: 1s
  - engine.start
  - recorder.record: {format: lpcm, sampleRate: 16000, channels: 1, duration: 1s}
"""

# Two CallKit calls, the held one merged into the active one's group.
MERGED_WORLD = """\
name: one wrong expectation about merged calls
steps:
  - session.setCategory: {category: playAndRecord, mode: voiceChat}
  - callkit.configure: {supportsGrouping: true, supportsUngrouping: true}
  - callkit.reportIncoming: a
  - callkit.answer: a
  - callkit.hold: a
  - callkit.reportIncoming: b
  - callkit.answer: b
  - callkit.group: {call: a, with: b}
"""

# The same, then a second merge of the same pair, which the system refuses with invalidAction.
GROUP_WORLD = MERGED_WORLD + "  - callkit.group: {call: a, with: b}\n"

# An option invalid for the category: setCategory fails with badParam (-50).
ERROR_WORLD = """\
name: one wrong error expectation
steps:
  - session.setCategory: {category: playback, options: [defaultToSpeaker]}
"""

# A tap in the built-in mic's format, then an 8 kHz headset: the engine's restart raises.
EXCEPTION_WORLD = """\
name: one wrong exception expectation
accessories:
  headset: {model: generic-headset}
steps:
  - session.setCategory: {category: playAndRecord, options: [allowBluetoothHFP]}
  - session.setActive: true
  - engine.installTap: hardware
  - engine.start
  - connect: headset
  - engine.start
"""

# A step that succeeded.
SUCCESS_WORLD = """\
name: an error expected after a step that succeeded
steps:
  - session.setCategory: {category: playback}
"""

# A recording that fails: the default category has no input (the 552-byte AAC file, badParam).
BAD_RECORDING_WORLD = """\
name: one wrong expectation on a failed recording
steps:
  - recorder.record: {format: aac, sampleRate: 44100, duration: 2s}
"""


@dataclass(frozen=True)
class Row:
    id: str
    world: str
    wrong: str       # the expect body (YAML) that must fail
    right: str       # the same expectation with the value that holds
    key: str         # the check that fails, as the message names it
    expected: str    # the expected value as the message prints it (JSON)
    got: str         # the start of the observed value as the message prints it (JSON)


def row(id, world, wrong, right, key, expected, got) -> Row:
    return Row(id, world, wrong, right, key, expected, got)


ROWS = [
    # ------------------------------------------------------------------ route
    row("route-input-type", ROUTE_WORLD, "route: {inputs: [headsetMic]}", "route: {inputs: [builtInMic]}",
        "route", '{"inputs": ["headsetMic"]}', '{"inputs": [{"type": "builtInMic"'),
    row("route-output-type", ROUTE_WORLD, "route: {outputs: [bluetoothHFP]}", "route: {outputs: [bluetoothA2DP]}",
        "route", '{"outputs": ["bluetoothHFP"]}', '{"inputs": [{"type": "builtInMic"'),
    row("route-output-name", ROUTE_WORLD, "route: {outputs: [{name: Speaker}]}",
        "route: {outputs: [{name: \"Kim's AirPods\"}]}",
        "route", '{"outputs": [{"name": "Speaker"}]}', '{"inputs": [{"type": "builtInMic"'),
    row("route-output-uid", ROUTE_WORLD, 'route: {outputs: [{uid: "AA:BB:CC:DD:EE:01-tsco"}]}',
        'route: {outputs: [{uid: "AA:BB:CC:DD:EE:01-tacl"}]}',
        "route", '{"outputs": [{"uid": "AA:BB:CC:DD:EE:01-tsco"}]}', '{"inputs": [{"type": "builtInMic"'),
    row("route-one-field-wrong-of-three", ROUTE_WORLD,
        'route: {outputs: [{type: bluetoothA2DP, name: "Kim\'s AirPods", uid: "AA:BB:CC:DD:EE:02-tacl"}]}',
        'route: {outputs: [{type: bluetoothA2DP, name: "Kim\'s AirPods", uid: "AA:BB:CC:DD:EE:01-tacl"}]}',
        "route", '{"outputs": [{"type": "bluetoothA2DP", "name": "Kim\'s AirPods", "uid": "AA:BB:CC:DD:EE:02-tacl"}]}',
        '{"inputs": [{"type": "builtInMic"'),
    row("route-extra-port", ROUTE_WORLD, "route: {outputs: [bluetoothA2DP, builtInSpeaker]}",
        "route: {outputs: [bluetoothA2DP]}",
        "route", '{"outputs": ["bluetoothA2DP", "builtInSpeaker"]}', '{"inputs": [{"type": "builtInMic"'),
    row("route-empty-list-means-no-port", ROUTE_WORLD, "route: {inputs: []}", "route: {inputs: [builtInMic]}",
        "route", '{"inputs": []}', '{"inputs": [{"type": "builtInMic"'),
    # ------------------------------------------------------------------ notifications (exact list)
    row("notifications-wrong-name", ROUTE_WORLD, "notifications: [interruption, availableInputsChange]",
        "notifications: [routeChange, availableInputsChange]",
        "notifications", '["interruption", "availableInputsChange"]', '[{"routeChange": {"reason": "categoryChange"'),
    row("notifications-too-short", ROUTE_WORLD, "notifications: [routeChange]",
        "notifications: [routeChange, availableInputsChange]",
        "notifications", '["routeChange"]', '[{"routeChange": {"reason": "categoryChange"'),
    row("notifications-too-long", ROUTE_WORLD, "notifications: [routeChange, availableInputsChange, routeChange]",
        "notifications: [routeChange, availableInputsChange]",
        "notifications", '["routeChange", "availableInputsChange", "routeChange"]', '[{"routeChange"'),
    row("notifications-none-expected", ROUTE_WORLD, "notifications: []",
        "notifications: [routeChange, availableInputsChange]",
        "notifications", "[]", '[{"routeChange"'),
    row("notifications-out-of-order", ROUTE_WORLD, "notifications: [availableInputsChange, routeChange]",
        "notifications: [routeChange, availableInputsChange]",
        "notifications", '["availableInputsChange", "routeChange"]', '[{"routeChange"'),
    row("notifications-wrong-reason", ROUTE_WORLD,
        "notifications: [{routeChange: {reason: override}}, availableInputsChange]",
        "notifications: [{routeChange: {reason: categoryChange}}, availableInputsChange]",
        "notifications", '[{"routeChange": {"reason": "override"}}, "availableInputsChange"]', '[{"routeChange"'),
    row("notifications-wrong-previous-route", ROUTE_WORLD,
        "notifications: [{routeChange: {previousRoute: {outputs: [builtInSpeaker]}}}, availableInputsChange]",
        "notifications: [{routeChange: {previousRoute: {outputs: [bluetoothA2DP]}}}, availableInputsChange]",
        "notifications", '[{"routeChange": {"previousRoute": {"outputs": ["builtInSpeaker"]}}}, "availableInputsChange"]',
        '[{"routeChange"'),
    # ------------------------------------------------------------------ notificationsInclude
    row("include-absent-notification", ROUTE_WORLD, "notificationsInclude: [interruption]",
        "notificationsInclude: [availableInputsChange]",
        "notificationsInclude", '["interruption"]', '[{"routeChange"'),
    row("include-wrong-order", ROUTE_WORLD, "notificationsInclude: [availableInputsChange, routeChange]",
        "notificationsInclude: [routeChange, availableInputsChange]",
        "notificationsInclude", '["availableInputsChange", "routeChange"]', '[{"routeChange"'),
    row("include-one-posted-twice", ROUTE_WORLD, "notificationsInclude: [routeChange, routeChange]",
        "notificationsInclude: [routeChange]",
        "notificationsInclude", '["routeChange", "routeChange"]', '[{"routeChange"'),
    row("include-wrong-field", ROUTE_WORLD, "notificationsInclude: [{routeChange: {reason: newDeviceAvailable}}]",
        "notificationsInclude: [{routeChange: {reason: categoryChange}}]",
        "notificationsInclude", '[{"routeChange": {"reason": "newDeviceAvailable"}}]', '[{"routeChange"'),
    # ------------------------------------------------------------------ notificationsExclude
    row("exclude-posted-notification", ROUTE_WORLD, "notificationsExclude: [availableInputsChange]",
        "notificationsExclude: [interruption]",
        "notificationsExclude", '["availableInputsChange"]', '[{"availableInputsChange": {}}]'),
    row("exclude-matching-field", ROUTE_WORLD, "notificationsExclude: [{routeChange: {reason: categoryChange}}]",
        "notificationsExclude: [{routeChange: {reason: override}}]",
        "notificationsExclude", '[{"routeChange": {"reason": "categoryChange"}}]', '[{"routeChange"'),
    # ------------------------------------------------------------------ error
    row("error-wrong-name", ERROR_WORLD, "error: insufficientPriority", "error: badParam",
        "error", '"insufficientPriority"', '{"name": "badParam", "code": -50'),
    row("error-wrong-number", ERROR_WORLD, "error: 561017449", "error: -50",
        "error", '"insufficientPriority"', '{"name": "badParam", "code": -50'),
    row("error-wrong-four-char-code", ERROR_WORLD, 'error: "!pri"', 'error: badParam',
        "error", '"insufficientPriority"', '{"name": "badParam", "code": -50'),
    row("error-wrong-osstatus", ERROR_WORLD, "error: {code: -49}", "error: {code: -50}",
        "error", "-49", '{"name": "badParam", "code": -50'),
    row("error-wrong-exception-text", EXCEPTION_WORLD, "error: {exception: IsFormatSampleRateAndChannelCountValid}",
        'error: {exception: "format.sampleRate == hwFormat.sampleRate"}',
        "error", '{"exception": "IsFormatSampleRateAndChannelCountValid"}', '{"exception": '),
    row("error-wrong-callkit-name", GROUP_WORLD, "error: {callkit: maximumCallGroupsReached}",
        "error: {callkit: invalidAction}", "error", '"maximumCallGroupsReached"', '{"name": "invalidAction", "code": 6'),
    row("error-callkit-is-not-badparam", GROUP_WORLD, "error: {code: 6}", "error: {callkit: invalidAction}",
        "error", "6", '{"name": "invalidAction", "code": 6'),
    row("error-after-success", SUCCESS_WORLD, "error: badParam", "session: {category: playback}",
        "error", '"badParam"', "null"),
    row("error-not-expected", ERROR_WORLD, "session: {category: soloAmbient}", "error: badParam",
        "error", "null", '{"name": "badParam", "code": -50'),
    # ------------------------------------------------------------------ session fields
    row("session-category", ROUTE_WORLD, "session: {category: playback}", "session: {category: playAndRecord}",
        "session.category", '"playback"', '"playAndRecord"'),
    row("session-mode", ROUTE_WORLD, "session: {mode: voiceChat}", "session: {mode: default}",
        "session.mode", '"voiceChat"', '"default"'),
    row("session-options-missing-one", ROUTE_WORLD, "session: {categoryOptions: [allowBluetoothA2DP, duckOthers]}",
        "session: {categoryOptions: [duckOthers, mixWithOthers, allowBluetoothA2DP]}",
        "session.categoryOptions", '["allowBluetoothA2DP", "duckOthers"]',
        '["allowBluetoothA2DP", "duckOthers", "mixWithOthers"]'),
    row("session-options-empty", ROUTE_WORLD, "session: {categoryOptions: []}",
        "session: {categoryOptions: [allowBluetoothA2DP, duckOthers, mixWithOthers]}",
        "session.categoryOptions", "[]", '["allowBluetoothA2DP", "duckOthers", "mixWithOthers"]'),
    row("session-isActive", ROUTE_WORLD, "session: {isActive: false}", "session: {isActive: true}",
        "session.isActive", "false", "true"),
    row("session-sampleRate", ROUTE_WORLD, "session: {sampleRate: 96000}", "session: {sampleRate: 48000}",
        "session.sampleRate", "96000", "48000"),
    row("session-IOBufferDuration", ROUTE_WORLD, "session: {IOBufferDuration: 0.005}",
        "session: {IOBufferDuration: 0.021333333333333333}",
        "session.IOBufferDuration", "0.005", "0.021333"),
    row("session-inputNumberOfChannels", ROUTE_WORLD, "session: {inputNumberOfChannels: 2}",
        "session: {inputNumberOfChannels: 1}", "session.inputNumberOfChannels", "2", "1"),
    row("session-outputNumberOfChannels", ROUTE_WORLD, "session: {outputNumberOfChannels: 1}",
        "session: {outputNumberOfChannels: 2}", "session.outputNumberOfChannels", "1", "2"),
    row("session-preferredInput", ROUTE_WORLD, "session: {preferredInput: pods}", "session: {preferredInput: null}",
        "session.preferredInput", '"pods"', "null"),
    row("session-availableInputs", ROUTE_WORLD, "session: {availableInputs: [builtInMic, bluetoothHFP]}",
        "session: {availableInputs: [builtInMic]}",
        "session.availableInputs", '["builtInMic", "bluetoothHFP"]', '["builtInMic"]'),
    row("session-isOtherAudioPlaying", ROUTE_WORLD, "session: {isOtherAudioPlaying: false}",
        "session: {isOtherAudioPlaying: true}", "session.isOtherAudioPlaying", "false", "true"),
    row("session-secondaryAudioShouldBeSilencedHint", ROUTE_WORLD,
        "session: {secondaryAudioShouldBeSilencedHint: false}", "session: {secondaryAudioShouldBeSilencedHint: true}",
        "session.secondaryAudioShouldBeSilencedHint", "false", "true"),
    # ------------------------------------------------------------------ numbers: plain and each comparison
    row("number-plain-below-actual", ROUTE_WORLD, "session: {sampleRate: 44100}", "session: {sampleRate: 48000}",
        "session.sampleRate", "44100", "48000"),
    row("number-plain-above-actual", ROUTE_WORLD, "session: {sampleRate: 48001}", "session: {sampleRate: 48000}",
        "session.sampleRate", "48001", "48000"),
    row("number-quoted-plain", ROUTE_WORLD, 'session: {sampleRate: "44100"}', 'session: {sampleRate: "48000"}',
        "session.sampleRate", "44100", "48000"),
    row("number-eq", ROUTE_WORLD, 'session: {sampleRate: "==44100"}', 'session: {sampleRate: "==48000"}',
        "session.sampleRate", '"==44100"', "48000"),
    row("number-ne", ROUTE_WORLD, 'session: {sampleRate: "!=48000"}', 'session: {sampleRate: "!=44100"}',
        "session.sampleRate", '"!=48000"', "48000"),
    row("number-gt-equal", ROUTE_WORLD, 'session: {sampleRate: ">48000"}', 'session: {sampleRate: ">47999"}',
        "session.sampleRate", '">48000"', "48000"),
    row("number-ge", ROUTE_WORLD, 'session: {sampleRate: ">=48001"}', 'session: {sampleRate: ">=48000"}',
        "session.sampleRate", '">=48001"', "48000"),
    row("number-lt-equal", ROUTE_WORLD, 'session: {sampleRate: "<48000"}', 'session: {sampleRate: "<48001"}',
        "session.sampleRate", '"<48000"', "48000"),
    row("number-le", ROUTE_WORLD, 'session: {sampleRate: "<=47999"}', 'session: {sampleRate: "<=48000"}',
        "session.sampleRate", '"<=47999"', "48000"),
    row("number-float-tolerance-is-tight", ROUTE_WORLD, "session: {IOBufferDuration: 0.0213}",
        'session: {IOBufferDuration: "==0.021333333333333333"}',
        "session.IOBufferDuration", "0.0213", "0.021333"),
    # ------------------------------------------------------------------ others
    row("others-state", ROUTE_WORLD, "others: {music: playing}", "others: {music: ducked}",
        "others.music", '"playing"', '"ducked"'),
    # ------------------------------------------------------------------ accessories and battery
    row("accessory-profile", ROUTE_WORLD, "accessories: {pods: {profile: hfp}}", "accessories: {pods: {profile: a2dp}}",
        "accessories.pods.profile", '"hfp"', '"a2dp"'),
    row("accessory-codec", ROUTE_WORLD, "accessories: {pods: {codec: sbc}}", "accessories: {pods: {codec: aac}}",
        "accessories.pods.codec", '"sbc"', '"aac"'),
    row("accessory-codec-null", ROUTE_WORLD, "accessories: {pods: {codec: null}}", "accessories: {pods: {codec: aac}}",
        "accessories.pods.codec", "null", '"aac"'),
    row("accessory-name", ROUTE_WORLD, "accessories: {pods: {name: AirPods Pro}}",
        "accessories: {pods: {name: \"Kim's AirPods\"}}",
        "accessories.pods.name", '"AirPods Pro"', '"Kim\'s AirPods"'),
    row("battery-left", ROUTE_WORLD, "accessories: {pods: {battery: {left: 60}}}",
        "accessories: {pods: {battery: {left: 70}}}", "accessories.pods.battery.left", "60", "70"),
    row("battery-right-comparison", ROUTE_WORLD, 'accessories: {pods: {battery: {right: ">60"}}}',
        'accessories: {pods: {battery: {right: ">=60"}}}', "accessories.pods.battery.right", '">60"', "60"),
    row("battery-case-never-reported", ROUTE_WORLD, "accessories: {pods: {battery: {case: 40}}}",
        "accessories: {pods: {battery: {case: null}}}", "accessories.pods.battery.case", "40", "null"),
    row("battery-reported-not-null", ROUTE_WORLD, "accessories: {pods: {battery: {left: null}}}",
        "accessories: {pods: {battery: {left: 70}}}", "accessories.pods.battery.left", "null", "70"),
    # ------------------------------------------------------------------ calls
    row("calls-state", CALL_WORLD, "calls: {c1: held}", "calls: {c1: active}", "calls.c1", '"held"', '"active"'),
    row("call-groups", MERGED_WORLD, "callGroups: {a: [a]}", "callGroups: {a: [a, b]}", "callGroups.a",
        '["a"]', '["a", "b"]'),
    # ------------------------------------------------------------------ engine
    row("engine-running", CALL_WORLD, "engine: {running: false}", "engine: {running: true}",
        "engine.running", "false", "true"),
    row("engine-input-rate", CALL_WORLD, "engine: {inputFormat: {sampleRate: 48000}}",
        "engine: {inputFormat: {sampleRate: 24000}}", "engine.inputFormat.sampleRate", "48000", "24000"),
    row("engine-input-channels", CALL_WORLD, "engine: {inputFormat: {channels: 2}}",
        "engine: {inputFormat: {channels: 1}}", "engine.inputFormat.channels", "2", "1"),
    row("engine-output-rate", CALL_WORLD, "engine: {outputFormat: {sampleRate: 16000}}",
        "engine: {outputFormat: {sampleRate: 24000}}", "engine.outputFormat.sampleRate", "16000", "24000"),
    row("engine-output-channels", CALL_WORLD, "engine: {outputFormat: {channels: 2}}",
        "engine: {outputFormat: {channels: 1}}", "engine.outputFormat.channels", "2", "1"),
    # ------------------------------------------------------------------ recording
    row("recording-bytes", CALL_WORLD, "recording: {bytes: 36095}", "recording: {bytes: 36096}",
        "recording.bytes", "36095", "36096"),
    row("recording-bytes-comparison", CALL_WORLD, 'recording: {bytes: "<36096"}', 'recording: {bytes: ">30000"}',
        "recording.bytes", '"<36096"', "36096"),
    row("recording-success", CALL_WORLD, "recording: {success: false}", "recording: {success: true}",
        "recording.success", "false", "true"),
    row("recording-error-when-none", CALL_WORLD, "recording: {error: badParam}", "recording: {error: null}",
        "recording.error", '"badParam"', "null"),
    row("recording-no-error-when-one", BAD_RECORDING_WORLD, "recording: {error: null}",
        "recording: {error: badParam}", "recording.error", "null", '"badParam"'),
    row("recording-wrong-error", BAD_RECORDING_WORLD, "recording: {error: insufficientPriority}",
        "recording: {error: -50}", "recording.error", '"insufficientPriority"', '"badParam"'),
    row("recording-before-any-recording", SUCCESS_WORLD, "recording: {bytes: 552}", "recording: {error: null}",
        "recording.bytes", "552", "null"),
    # ------------------------------------------------------------------ audio (addition)
    row("audio-port", CALL_WORLD, "audio: {port: builtInSpeaker}", "audio: {port: bluetoothHFP}",
        "audio.port", '"builtInSpeaker"', '"bluetoothHFP"'),
    row("audio-codec", CALL_WORLD, "audio: {codec: msbc}", "audio: {codec: lc3-a127}",
        "audio.codec", '"msbc"', '"lc3-a127"'),
    row("audio-sampleRate", CALL_WORLD, "audio: {sampleRate: 48000}", "audio: {sampleRate: 24000}",
        "audio.sampleRate", "48000", "24000"),
    row("audio-channels", CALL_WORLD, "audio: {channels: 2}", "audio: {channels: 1}", "audio.channels", "2", "1"),
    row("audio-bandwidth", CALL_WORLD, 'audio: {bandwidth: ">16000"}', 'audio: {bandwidth: "<12000"}',
        "audio.bandwidth", '">16000"', ""),
    row("audio-level", CALL_WORLD, 'audio: {level: ">-6"}', 'audio: {level: "<-6"}', "audio.level", '">-6"', "-"),
    row("audio-snr", CALL_WORLD, 'audio: {snr: "<20"}', 'audio: {snr: ">20"}', "audio.snr", '"<20"', ""),
]


def _expect_line(world: str) -> int:
    return len(world.splitlines()) + 1


def _write(tmp_path, world: str, body: str) -> str:
    path = tmp_path / "case.scenario.yaml"
    path.write_text(world + "  - expect:\n" + textwrap.indent(body, "      ") + "\n")
    return str(path)


@pytest.mark.parametrize("case", ROWS, ids=[r.id for r in ROWS])
def test_wrong_value_fails_with_file_line_expected_and_observed(tmp_path, capsys, case):
    path = _write(tmp_path, case.world, case.wrong)
    assert main(["run", "-q", path]) == 1, capsys.readouterr()
    out = capsys.readouterr().out
    failures = [line.strip() for line in out.splitlines() if line.startswith(f"  {path}:")]
    assert len(failures) == 1, out  # exactly the one wrong value fails
    head = f"{path}:{_expect_line(case.world)}: {case.key}: expected {case.expected}, got "
    assert failures[0].startswith(head), out
    assert failures[0][len(head):].startswith(case.got), out


@pytest.mark.parametrize("case", ROWS, ids=[r.id for r in ROWS])
def test_right_value_passes(tmp_path, capsys, case):
    path = _write(tmp_path, case.world, case.right)
    assert main(["run", "-q", path]) == 0, capsys.readouterr().out


def test_every_expect_key_has_a_failing_row():
    """A key added to the format without a row here fails this test."""
    from routesim.routes.scenario.expect import EXPECT_FIELDS, SESSION

    covered = {r.key.split(".")[0] for r in ROWS} | {"rig"}  # rig: drift, not failure (test below)
    assert set(EXPECT_FIELDS.fields) <= covered, set(EXPECT_FIELDS.fields) - covered
    session_covered = {r.key.split(".")[1] for r in ROWS if r.key.startswith("session.")}
    assert set(SESSION.fields) <= session_covered, set(SESSION.fields) - session_covered


def test_json_carries_the_failed_check_with_expected_and_actual(tmp_path, capsys):
    path = _write(tmp_path, ROUTE_WORLD, "session: {sampleRate: 44100}")
    assert main(["run", "--format", "json", path]) == 1
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    checks = [c for s in obj["steps"] for c in s.get("checks", ()) if not c["pass"]]
    assert checks == [{"key": "session.sampleRate", "pass": False, "expected": 44100, "actual": 48000}]


RIG_WORLD = """\
name: the rig's facts disagree with the model
accessories:
  pods: {model: airpods-pro-2, connected: true}
steps:
  - session.setCategory: {category: playback}
"""


@pytest.mark.parametrize("body,drifts", [
    ("rig: {pods: {profile: hfp}}", True),     # the model carries A2DP for playback: the rig's HFP is drift
    ("rig: {pods: {profile: a2dp}}", False),
])
def test_a_wrong_rig_fact_is_drift_run_passes_replay_strict_fails(tmp_path, capsys, body, drifts):
    """`expect: rig` records what the rig showed; a disagreement with the model is drift: `run` marks it
    (~) and passes, `replay --strict` fails naming the line, the fact, the rig's value and the model's."""
    path = _write(tmp_path, RIG_WORLD, body)
    assert main(["run", path]) == 0
    out = capsys.readouterr().out
    assert ("~ rig.pods.profile" in out) is drifts, out
    assert main(["replay", "--strict", path]) == (1 if drifts else 0)
    out = capsys.readouterr().out
    if drifts:
        line = _expect_line(RIG_WORLD)
        assert any(f"L{line}" in row and "pods" in row and "profile" in row and "hfp" in row and "a2dp" in row
                   for row in out.splitlines()), out


def test_rig_codec_and_rate_drift_carry_the_rig_value_and_the_models(tmp_path, capsys):
    """The rig's codec and sample rate are compared with the model's view of the link while the accessory
    carries the route: SBC and 8 kHz (the call profile's rate) against AirPods playing over A2DP, which an
    iPhone feeds AAC at 44.1 or 48 kHz [DEV gh:DeaDBeeF-Player/deadbeef#1910; INF for iOS], are drift with both values."""
    path = _write(tmp_path, RIG_WORLD, "rig: {pods: {codec: sbc, sampleRate: 8000}}")
    assert main(["run", "--format", "json", path]) == 0
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    checks = {c["key"]: c for s in obj["steps"] for c in s.get("checks", ())}
    codec, rate = checks["rig.pods.codec"], checks["rig.pods.sampleRate"]
    assert (codec["pass"], codec["drift"], codec["expected"], codec["actual"]) == (False, True, "sbc", "aac")
    assert (rate["pass"], rate["drift"], rate["expected"]) == (False, True, 8000)
    assert rate["actual"] in (44100, 48000)
    # the rig showing the model's own rate is no drift: the comparison is with the model's value
    path = _write(tmp_path, RIG_WORLD, f"rig: {{pods: {{sampleRate: {rate['actual']}}}}}")
    assert main(["run", "--format", "json", path]) == 0
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    (same,) = [c for s in obj["steps"] for c in s.get("checks", ()) if c["key"] == "rig.pods.sampleRate"]
    assert same["pass"] is True


@pytest.mark.parametrize("check, shown", [
    (Check("k", False, 1, 2), {"key": "k", "pass": False, "expected": 1, "actual": 2}),
    (Check("k", True, 1, 1, message="why"), {"key": "k", "pass": True, "expected": 1, "actual": 1,
                                             "message": "why"}),
    (Check("k", False, 1, 2, drift=True), {"key": "k", "pass": False, "expected": 1, "actual": 2, "drift": True}),
    # a set is shown sorted by its text, whatever its members' types (the JSON report must not raise);
    # {9, 1} iterates as 9, 1 (int hashes are not randomised), so an unsorted set would show
    (Check("k", True, frozenset({1, "a"}), {"a"}), {"key": "k", "pass": True, "expected": [1, "a"],
                                                  "actual": ["a"]}),
    (Check("k", True, frozenset({9, 1}), [9, 1]), {"key": "k", "pass": True, "expected": [1, 9],
                                                  "actual": [9, 1]}),
])
def test_a_check_as_the_json_report_shows_it(check, shown):
    assert check.as_dict() == shown


def _note(name, **fields):
    return Notification(name, fields)


@pytest.mark.parametrize("match, note, matches", [
    (NoteMatch("routeChange", {"reason": 1}), _note("routeChange", reason=1), True),
    (NoteMatch("routeChange", {"reason": 1}), _note("routeChange", reason=2), False),
    (NoteMatch("routeChange", {"reason": 1}), _note("routeChange"), False),
    (NoteMatch("routeChange"), _note("interruption"), False),
    (NoteMatch("interruption", {"type": "began"}), _note("interruption", type="ended"), False),
], ids=["number-equal", "number-different", "number-missing", "other-name", "text-different"])
def test_a_notification_matcher_compares_each_given_field(match, note, matches):
    assert note_matches(match, note) is matches


@pytest.mark.parametrize("match, err, matches", [
    (ErrorMatch(name="badParam"), SessionError("badParam"), True),
    (ErrorMatch(name="badParam"), SessionError("unspecified"), False),
    (ErrorMatch(code=-50), SessionError("badParam"), True),
    (ErrorMatch(code=-50), SessionError("unspecified"), False),
    (ErrorMatch(exception="required condition"), AppException("required condition is false"), True),
    (ErrorMatch(exception="required condition"), SessionError("badParam"), False),
    (ErrorMatch(name="badParam"), AppException("badParam"), False),
], ids=["name", "other-name", "code", "other-code", "exception", "exception-vs-error", "error-vs-exception"])
def test_an_error_matcher_compares_name_code_or_exception(match, err, matches):
    assert error_matches(match, err) is matches
