"""Scenario loader: good files normalise as the contract says; bad ones name file, line and the fix."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from routesim.profiles.platform import Platform
from routesim.routes.scenario import (
    BEHAVIOR_DEFAULTS, AccessorySpec, Comparison, ErrorMatch, Expect, Hardware, NoteMatch, PortMatch, RouteMatch,
    ScenarioError, Step, iter_scenario_files, load_path, load_text, number_matches,
)

MODELS = frozenset({"airpods-pro", "airpods-pro-2", "airpods-max", "generic-headset", "wired-headset", "carplay"})
FILE = "t.scenario.yaml"

HEADER = """\
name: test
accessories:
  pods: {model: airpods-pro, connected: true}
  car: {model: carplay}
others:
  music: {category: playback, playing: true}
steps:
"""
STEP_LINE = HEADER.count("\n") + 1   # the line of the first step


def load(text: str) -> list:
    return load_text(textwrap.dedent(text), FILE, MODELS)


def one_step(step_yaml: str) -> Step:
    """The last step of a scenario made of HEADER and the given step(s) (one YAML list item each)."""
    return load_text(HEADER + textwrap.indent(textwrap.dedent(step_yaml), "  "), FILE, MODELS)[0].steps[-1]


# ---------------------------------------------------------------- steps normalise

STEP_CASES = [
    ("- wait: 250ms", "wait", 0.25),
    ("- wait: 1.5s", "wait", 1.5),
    ("- wait: 2m", "wait", 120.0),
    ("- wait: 3", "wait", 3.0),
    ("- wait: 0.5", "wait", 0.5),
    ("- connect: car", "connect", "car"),
    ("- disconnect: pods", "disconnect", "pods"),
    ("- rename: {accessory: pods, name: Kim's Pods}", "rename", {"accessory": "pods", "name": "Kim's Pods"}),
    ("- battery: {accessory: pods, left: 80}", "battery", {"accessory": "pods", "left": 80, "right": None, "case": None}),
    ("- ears: {accessory: pods, left: out}", "ears", {"accessory": "pods", "left": "out", "right": None}),
    ("- ears: {accessory: pods, case: closed}", "ears", {"accessory": "pods", "case": "closed"}),
    ("- pickRoute: speaker", "pickRoute", "speaker"),
    ("- pickRoute: pods", "pickRoute", "pods"),
    ("- app: background", "app", "background"),
    ("- others.play: music", "others.play", "music"),
    ("- player.play", "player.play", None),
    ("- engine.start:", "engine.start", None),
    ("- system: mediaServicesReset", "system", "mediaServicesReset"),
    ("- session.setCategory: {category: AVAudioSessionCategoryPlayAndRecord, mode: voiceChat,"
     " options: [allowBluetooth, defaultToSpeaker, allowBluetoothHFP]}",
     "session.setCategory",
     {"category": "playAndRecord", "mode": "voiceChat", "options": ("allowBluetoothHFP", "defaultToSpeaker")}),
    ("- session.setCategory: {category: playback}", "session.setCategory",
     {"category": "playback", "mode": "default", "options": ()}),
    ("- session.setMode: AVAudioSessionModeVideoChat", "session.setMode", "videoChat"),
    ("- session.setActive: true", "session.setActive", {"active": True, "options": ()}),
    ("- session.setActive: {active: false, options: [notifyOthersOnDeactivation]}", "session.setActive",
     {"active": False, "options": ("notifyOthersOnDeactivation",)}),
    ("- session.setPreferredInput: pods", "session.setPreferredInput", "pods"),
    ("- session.setPreferredInput: builtInMic", "session.setPreferredInput", "builtInMic"),
    ("- session.setPreferredInput: null", "session.setPreferredInput", None),
    ("- session.overrideOutputAudioPort: speaker", "session.overrideOutputAudioPort", "speaker"),
    ("- session.setPreferredSampleRate: 48000", "session.setPreferredSampleRate", 48000.0),
    ("- session.setPreferredIOBufferDuration: 0.005", "session.setPreferredIOBufferDuration", 0.005),
    ("- session.setPreferredIOBufferDuration: 5ms", "session.setPreferredIOBufferDuration", 0.005),
    ("- session.setPreferredInputNumberOfChannels: 2", "session.setPreferredInputNumberOfChannels", 2),
    ("- session.setPrefersNoInterruptionsFromSystemAlerts: true",
     "session.setPrefersNoInterruptionsFromSystemAlerts", True),
    ("- callkit.configure: {supportsHolding: false}", "callkit.configure", {"supportsHolding": False}),
    ("- callkit.configure", "callkit.configure", {}),
    ("- callkit.reportIncoming: {call: c1}", "callkit.reportIncoming", {"call": "c1"}),
    ("- callkit.startCall: {call: c1, fulfillAfter: 500ms}", "callkit.startCall",
     {"call": "c1", "fulfillAfter": 0.5, "connectAfter": 0.0, "result": "fulfill"}),
    ("- callkit.reportIncoming: {call: c1}\n- callkit.answer: {call: c1, result: fail}", "callkit.answer",
     {"call": "c1", "fulfillAfter": 0.0, "result": "fail"}),
    ("- callkit.reportIncoming: {call: c1}\n- callkit.hold: {call: c1}", "callkit.hold",
     {"call": "c1", "fulfillAfter": 0.0}),
    ("- callkit.reportIncoming: {call: c1}\n- callkit.end: {call: c1, by: remote}", "callkit.end",
     {"call": "c1", "by": "remote", "fulfillAfter": 0.0}),
    ("- callkit.speaker: true", "callkit.speaker", True),
    ("- callkit.configure: {supportsGrouping: true, supportsUngrouping: false}", "callkit.configure",
     {"supportsGrouping": True, "supportsUngrouping": False}),
    ("- callkit.reportIncoming: a\n- callkit.reportIncoming: b\n- callkit.group: {call: b, with: a}", "callkit.group",
     {"call": "b", "with": "a", "fulfillAfter": 0.0}),
    ("- callkit.reportIncoming: a\n- callkit.ungroup: a", "callkit.ungroup", {"call": "a", "fulfillAfter": 0.0}),
    ("- cellular.incoming: {call: p}", "cellular.incoming", {"call": "p"}),
    ("- cellular.incoming: {call: p}\n- cellular.answer: {call: p, holdOthers: true}", "cellular.answer",
     {"call": "p", "holdOthers": True}),
    ("- cellular.incoming: {call: p}\n- cellular.end: {call: p}", "cellular.end", {"call": "p", "by": "local"}),
    ("- engine.installTap: {format: hardware}", "engine.installTap", {"format": "hardware"}),
    ("- engine.installTap: {format: {sampleRate: 16000, channels: 1}}", "engine.installTap",
     {"format": {"sampleRate": 16000.0, "channels": 1}}),
    ("- engine.setVoiceProcessingEnabled: true", "engine.setVoiceProcessingEnabled", True),
    ("- recorder.record", "recorder.record", {"format": "aac", "sampleRate": 44100.0, "channels": 1, "duration": 1.0}),
    ("- recorder.record: {format: lpcm, duration: 2s}", "recorder.record",
     {"format": "lpcm", "sampleRate": 44100.0, "channels": 1, "duration": 2.0}),
    ("- capture.start", "capture.start", {"automaticallyConfiguresApplicationAudioSession": True,
                                          "configuresApplicationAudioSessionToMixWithOthers": False}),
    ("- capture.stop", "capture.stop", None),
]


@pytest.mark.parametrize("step_yaml, op, arg", STEP_CASES, ids=[c[0].split("\n")[-1][2:40] for c in STEP_CASES])
def test_step_normalises(step_yaml, op, arg):
    step = one_step(step_yaml)
    assert step.op == op
    assert step.arg == arg
    assert type(step.arg) is type(arg)


# ---------------------------------------------------------------- expect normalises

def expect_of(body: str) -> Expect:
    step = one_step("- expect:\n" + textwrap.indent(textwrap.dedent(body), "    "))
    assert step.op == "expect" and isinstance(step.arg, Expect)
    return step.arg


EXPECT_CASES = [
    ("route: {inputs: [builtInMic], outputs: [BluetoothA2DPOutput]}", "route",
     RouteMatch([PortMatch("builtInMic")], [PortMatch("bluetoothA2DP")])),
    ("route: {outputs: [{type: AVAudioSessionPortBluetoothHFP, name: Kim's AirPods}]}", "route",
     RouteMatch(None, [PortMatch("bluetoothHFP", "Kim's AirPods")])),
    ("notifications: []", "notifications", []),
    ("notifications: [AVAudioSessionRouteChangeNotification, didActivate]", "notifications",
     [NoteMatch("routeChange"), NoteMatch("didActivate")]),
    ("notifications:\n  - routeChangeNotification: {reason: AVAudioSessionRouteChangeReasonOverride,"
     " previousRoute: {outputs: [builtInReceiver]}}", "notifications",
     [NoteMatch("routeChange", {"reason": "override", "previousRoute": RouteMatch(None, [PortMatch("builtInReceiver")])})]),
    ("notificationsInclude: [{interruption: {type: began, reason: default, shouldResume: false}}]",
     "notifications_include", [NoteMatch("interruption", {"type": "began", "reason": "default", "shouldResume": False})]),
    ("notificationsExclude: [AVAudioEngineConfigurationChange, {silenceSecondaryAudioHint: {type: end}}]",
     "notifications_exclude", [NoteMatch("engineConfigurationChange"), NoteMatch("silenceSecondaryAudioHint", {"type": "end"})]),
    ("notifications: [{timedOutPerforming: {action: answerCall}}]", "notifications",
     [NoteMatch("timedOutPerforming", {"action": "answerCall"})]),
    ("error: insufficientPriority", "error", ErrorMatch("insufficientPriority", 561017449)),
    ("error: '!pri'", "error", ErrorMatch("insufficientPriority", 561017449)),
    ("error: 561017449", "error", ErrorMatch("insufficientPriority", 561017449)),
    ("error: -50", "error", ErrorMatch("badParam", -50)),
    ("error: {code: -50}", "error", ErrorMatch("badParam", -50)),
    ("error: {code: 'fmt?'}", "error", ErrorMatch(None, int.from_bytes(b"fmt?", "big"))),
    ("error: {code: 12345}", "error", ErrorMatch(None, 12345)),
    ("error: {exception: 'required condition is false'}", "error", ErrorMatch(exception="required condition is false")),
    ("session: {category: AVAudioSessionCategoryPlayAndRecord, mode: default,"
     " categoryOptions: [allowBluetooth, mixWithOthers], isActive: true, sampleRate: 16000,"
     " IOBufferDuration: '<0.02', preferredInput: pods, availableInputs: [builtInMic, BluetoothHFP]}",
     "session",
     {"category": "playAndRecord", "mode": "default",
      "categoryOptions": frozenset({"allowBluetoothHFP", "mixWithOthers"}), "isActive": True, "sampleRate": 16000,
      "IOBufferDuration": Comparison("<", 0.02), "preferredInput": "pods",
      "availableInputs": ["builtInMic", "bluetoothHFP"]}),
    ("session: {preferredInput: null}", "session", {"preferredInput": None}),
    ("others: {music: interrupted}", "others", {"music": "interrupted"}),
    ("engine: {running: true, inputFormat: {sampleRate: 48000, channels: '>=1'}}", "engine",
     {"running": True, "inputFormat": {"sampleRate": 48000, "channels": Comparison(">=", 1)}}),
    ("recording: {bytes: '>1000', error: badParam, success: false}", "recording",
     {"bytes": Comparison(">", 1000), "error": ErrorMatch("badParam", -50), "success": False}),
    ("recording: {bytes: '552'}", "recording", {"bytes": 552}),
    ("error: {callkit: maximumCallGroupsReached}", "error",
     ErrorMatch("maximumCallGroupsReached", 7, domain="CXErrorCodeRequestTransactionError")),
    ("accessories: {pods: {profile: hfp, codec: msbc, name: x, battery: {left: '<=20'}}}", "accessories",
     {"pods": {"profile": "hfp", "codec": "msbc", "name": "x", "battery": {"left": Comparison("<=", 20)}}}),
]


@pytest.mark.parametrize("body, attr, value", EXPECT_CASES, ids=[c[0][:40] for c in EXPECT_CASES])
def test_expect_normalises(body, attr, value):
    assert getattr(expect_of(body), attr) == value


def test_expect_calls_after_the_call_exists_and_bare_expect():
    step = one_step("- cellular.incoming: {call: p}\n- expect: {calls: {p: ringing}}")
    assert step.arg.calls == {"p": "ringing"}
    bare = one_step("- expect")
    assert bare.arg == Expect(line=STEP_LINE)


@pytest.mark.parametrize("cmp, actual, holds", [
    (Comparison(">", 1000), 1001, True), (Comparison(">", 1000), 1000, False),
    (Comparison("<=", 16000), 16000, True), (Comparison("!=", 8000), 8000.0, False),
    (Comparison("==", 0.1), 0.1 + 0.2 - 0.2, True), (Comparison(">", 1), None, False),
])
def test_comparison_holds(cmp, actual, holds):
    assert cmp.holds(actual) is holds
    assert number_matches(cmp, actual) is holds


def test_plain_number_compares_equal():
    assert number_matches(48000, 48000.0) and not number_matches(48000, 44100)


# ---------------------------------------------------------------- the top level normalises

def test_full_top_level():
    (s,) = load("""\
        name: top
        description: |
          two
          lines
        platform: visionos-2
        hardware: {device: ipad, hfpCodecs: [cvsd, msbc]}
        app: {state: background, backgroundAudio: true, nowPlaying: true}
        accessories:
          pods: {model: airpods-pro, name: "Kim's AirPods Pro", address: "aa:bb:cc:dd:ee:ff", firmware: "6.8", connected: true}
          cans: {model: airpods-max}
        others:
          music: {category: AVAudioSessionCategoryPlayback, options: [mixWithOthers], playing: true}
        behavior: {setModeClearsOptions: false, callkitActionTimeout: 500ms, invalidOptionError: "'what'"}
        steps: []
        """)
    assert s.name == "top" and s.description == "two\nlines\n"
    assert s.platform == Platform.parse("visionos-2")
    assert s.hardware == Hardware("ipad", frozenset({"cvsd", "msbc"}))
    assert (s.app.state, s.app.background_audio, s.app.now_playing, s.app.context) == ("background", True, True, "app")
    assert list(s.accessories) == ["pods", "cans"]
    assert s.accessories["pods"] == AccessorySpec("pods", "airpods-pro", "Kim's AirPods Pro", "AA:BB:CC:DD:EE:FF",
                                                  "6.8", True, 9)
    assert s.accessories["cans"].connected is False and s.accessories["cans"].address is None
    assert s.others["music"].category == "playback" and s.others["music"].options == ("mixWithOthers",)
    assert s.others["music"].mode == "default" and s.others["music"].playing is True
    assert s.behavior == {**BEHAVIOR_DEFAULTS, "setModeClearsOptions": False, "callkitActionTimeout": 0.5,
                          "invalidOptionError": "unspecified"}


def test_platform_mapping_and_extension_kind():
    (s,) = load("""\
        name: vision
        platform: {os: visionos-2.0, simulator: true}
        app: {extension: quickLookPreview}
        steps: []
        """)
    assert (s.platform.os, s.platform.version, s.platform.simulator) == ("visionos", (2, 0, 0), True)
    assert (s.app.context, s.app.extension) == ("extension", "quickLookPreview")
    (d,) = load("name: d\nplatform: visionos-2\nsteps: []\n")
    assert d.platform.simulator is False and d.app.extension is None and d.app.context == "app"


def test_defaults():
    (s,) = load("name: minimal\nsteps: [player.play]\n")
    assert s.platform == Platform.parse("ios-26.0")
    assert s.hardware == Hardware("iphone", None)
    assert s.app.state == "foreground" and s.app.record_permission == "granted"
    assert s.accessories == {} and s.others == {}
    assert s.behavior == BEHAVIOR_DEFAULTS and set(s.behavior) == set(BEHAVIOR_DEFAULTS)
    assert s.steps == [Step("player.play", None, 2)]


def test_several_documents():
    scenarios = load("""\
        name: one
        steps: [engine.start]
        ---
        name: two
        steps:
          - wait: 1s
        ---
        """)
    assert [(s.name, s.index, s.line) for s in scenarios] == [("one", 0, 1), ("two", 1, 4)]
    assert scenarios[1].steps[0].line == 6


def test_merge_keys_and_anchors():
    (s,) = load("""\
        name: anchors
        accessories:
          a: &base {model: airpods-pro, connected: true}
          b: {<<: *base, connected: false}
        steps: []
        """)
    assert s.accessories["b"].model == "airpods-pro" and s.accessories["b"].connected is False


def test_files(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.scenario.yaml").write_text("name: b\nsteps: []\n")
    (tmp_path / "a.scenario.yaml").write_text("name: a\nsteps: []\n")
    (tmp_path / "notes.yaml").write_text("x: 1\n")
    files = iter_scenario_files([tmp_path])
    assert files == [tmp_path / "a.scenario.yaml", tmp_path / "sub" / "b.scenario.yaml"]
    assert load_path(files[1], MODELS)[0].file == str(files[1])


# ---------------------------------------------------------------- bad input: file:line and the fix

BAD_CASES = [
    # (id, yaml, line, message fragments)
    ("platform simulator not a bool", "name: x\nplatform: {os: visionos-2.0, simulator: yes please}\nsteps: []\n", 2,
     ["platform.simulator", "expected true or false"]),
    ("platform mapping unknown key", "name: x\nplatform: {os: visionos-2.0, device: simulator}\nsteps: []\n", 2,
     ["platform", "unknown key 'device'", "expected os or simulator"]),
    ("platform mapping without os", "name: x\nplatform: {simulator: true}\nsteps: []\n", 2,
     ["platform", "missing required key 'os'"]),
    ("platform mapping bad os", "name: x\nplatform: {os: tvos-2}\nsteps: []\n", 2,
     ["platform.os", "not of the form ios-MAJOR"]),
    ("unknown extension kind", "name: x\napp: {extension: quicklook}\nsteps: []\n", 2,
     ["app.extension", "not one of quickLookPreview", "did you mean 'quickLookPreview'"]),
    ("extension with context app", "name: x\napp: {context: app, extension: quickLookPreview}\nsteps: []\n", 2,
     ["app", "context says app", "write context: extension"]),
    ("callkit error name", HEADER + "  - callkit.configure\n  - expect:\n      error: {callkit: tooManyCalls}\n",
     STEP_LINE + 2, ["expect.error.callkit", "'tooManyCalls'", "maximumCallGroupsReached"]),
    ("misspelt category", HEADER + "  - session.setCategory: {category: playAndRecrod}\n", STEP_LINE,
     ["session.setCategory.category", "unknown category 'playAndRecrod'", "did you mean 'playAndRecord'"]),
    ("unquoted address", "name: x\naccessories:\n  p:\n    model: airpods-pro\n    address: 10:20:30:40:50:59\nsteps: []\n",
     5, ["accessories.p.address", "base-60", 'quote it: address: "10:20:30:40:50:59"']),
    ("bad address", "name: x\naccessories:\n  p: {model: airpods-pro, address: 'AA:BB:CC'}\nsteps: []\n",
     3, ["accessories.p.address", "'AA:BB:CC' is not a Bluetooth address"]),
    ("firmware float", "name: x\naccessories:\n  p: {model: airpods-pro, firmware: 6.8}\nsteps: []\n",
     3, ["accessories.p.firmware", "the number 6.8", 'quote it: firmware: "6.8"']),
    ("name yes", "name: yes\nsteps: []\n", 1, ["name:", "the boolean true", 'quote it: name: "yes"']),
    ("error tag", HEADER + "  - session.setActive: true\n  - expect:\n      error: !pri\n", STEP_LINE + 2,
     ["expect.error", "!pri as a tag", 'quote it: error: "!pri"']),
    ("empty other-app id", "name: x\nothers:\n  '': {category: playback}\nsteps: []\n", 3,
     ["others", "other-app id '' must be non-empty with no surrounding spaces"]),
    ("other app named app", "name: x\nothers:\n  app: {category: playback}\nsteps: []\n", 3,
     ["others", "'app' is reserved for the scenario's own app"]),
    ("empty call id", HEADER + "  - cellular.incoming: ''\n", STEP_LINE,
     ["cellular.incoming.call", "call id '' must be non-empty"]),
    ("padded call id", HEADER + "  - callkit.startCall: {call: ' out'}\n", STEP_LINE,
     ["callkit.startCall.call", "call id ' out' must be non-empty with no surrounding spaces"]),
    ("unknown step", HEADER + "  - sesion.setActive: true\n", STEP_LINE,
     ["unknown step 'sesion.setActive'", "did you mean 'session.setActive'"]),
    ("unknown behavior switch", "name: x\nbehavior:\n  setModeClearOptions: false\nsteps: []\n", 3,
     ["behavior", "unknown key 'setModeClearOptions'", "did you mean 'setModeClearsOptions'"]),
    ("platform ios-11", "name: x\nplatform: ios-11\nsteps: []\n", 2, ["platform", "outside the modelled range 12 to 27"]),
    ("platform float", "name: x\nplatform: 17.4\nsteps: []\n", 2, ["platform", "expected a platform such as ios-17.4"]),
    ("two keys in one step", HEADER + "  - wait: 1s\n    connect: car\n", STEP_LINE,
     ["exactly one key", "wait, connect", "own `- ` line"]),
    ("step args not indented", HEADER + "  - session.setCategory:\n    category: playback\n", STEP_LINE,
     ["exactly one key", "indent the arguments of session.setCategory"]),
    ("setActive wrong type", HEADER + "  - session.setActive: yes please\n", STEP_LINE,
     ["session.setActive.active", "expected true or false, got the text 'yes please'"]),
    ("setActive list", HEADER + "  - session.setActive: [true]\n", STEP_LINE,
     ["session.setActive", "expected a mapping with active or options, got a list"]),
    ("unknown accessory in connect", HEADER + "  - connect: podz\n", STEP_LINE,
     ["connect: unknown accessory 'podz'", "not declared in `accessories`", "known: pods, car",
      "did you mean 'pods'"]),
    ("unknown model", "name: x\naccessories:\n  p: {model: airpods-pro2}\nsteps: []\n", 3,
     ["accessories.p.model", "unknown model 'airpods-pro2'", "did you mean 'airpods-pro-2'"]),
    ("reserved accessory id", "name: x\naccessories:\n  speaker: {model: carplay}\nsteps: []\n", 3,
     ["'speaker' is reserved"]),
    ("unknown top-level key", "name: x\nstep: []\n", 2, ["unknown top-level key 'step'", "did you mean 'steps'"]),
    ("missing steps", "name: x\n", 1, ["missing required top-level key 'steps'"]),
    ("missing model", "name: x\naccessories:\n  p: {name: P}\nsteps: []\n", 3, ["accessories.p", "missing required key 'model'"]),
    ("duplicate key", "name: x\nname: y\nsteps: []\n", 2, ["'name' appears twice (first on line 1)"]),
    ("bad duration", HEADER + "  - wait: 2h\n", STEP_LINE, ["wait: expected a duration such as 250ms"]),
    ("negative duration", HEADER + "  - wait: -1\n", STEP_LINE, ["wait: expected a duration", "got -1"]),
    ("step needs argument", HEADER + "  - connect\n", STEP_LINE, ["connect: needs a value: accessory id"]),
    ("arg-less step given one", HEADER + "  - engine.start: now\n", STEP_LINE, ["engine.start: takes no argument"]),
    ("unknown option", HEADER + "  - session.setCategory: {category: playback, options: [allowBluetoothA2dp]}\n",
     STEP_LINE, ["session.setCategory.options[0]", "did you mean 'allowBluetoothA2DP'"]),
    ("setActive option", HEADER + "  - session.setActive: {active: false, options: [mixWithOthers]}\n", STEP_LINE,
     ["unknown setActive option 'mixWithOthers'"]),
    ("unknown other app", HEADER + "  - others.play: radio\n", STEP_LINE, ["unknown other app 'radio'"]),
    ("call never introduced", HEADER + "  - callkit.answer: {call: c9}\n", STEP_LINE,
     ["callkit.answer.call: unknown call 'c9': no earlier step"]),
    ("battery range", HEADER + "  - battery: {accessory: pods, left: 120}\n", STEP_LINE,
     ["battery.left", "at most 100"]),
    ("ears both shapes", HEADER + "  - ears: {accessory: pods, left: in, case: open}\n", STEP_LINE,
     ["either left/right or case"]),
    ("unquoted comparison, block", HEADER + "  - expect:\n      recording:\n        bytes: >1000\n", STEP_LINE + 2,
     ["not valid YAML", 'quote comparisons']),
    ("unquoted comparison", HEADER + "  - expect:\n      recording: {bytes: >1000}\n", STEP_LINE + 1,
     ["not valid YAML", 'quote comparisons']),
    ("bad comparison", HEADER + "  - expect:\n      recording: {bytes: 'more than 5'}\n", STEP_LINE + 1,
     ["recording.bytes", "comparison in quotes"]),
    ("unknown expect key", HEADER + "  - expect: {rout: {outputs: [builtInSpeaker]}}\n", STEP_LINE,
     ["expect: unknown key 'rout'", "did you mean 'route'"]),
    ("unknown port", HEADER + "  - expect: {route: {outputs: [bluetoothA2dp]}}\n", STEP_LINE,
     ["expect.route.outputs[0]", "did you mean 'bluetoothA2DP'"]),
    ("unknown notification", HEADER + "  - expect: {notifications: [routeChanged]}\n", STEP_LINE,
     ["unknown notification 'routeChanged'", "did you mean 'routeChange'"]),
    ("unknown reason", HEADER + "  - expect: {notifications: [{routeChange: {reason: oldDeviceUnavailble}}]}\n",
     STEP_LINE, ["expect.notifications[0].routeChange.reason", "did you mean 'oldDeviceUnavailable'"]),
    ("unknown error name", HEADER + "  - expect: {error: insufficentPriority}\n", STEP_LINE,
     ["unknown error 'insufficentPriority'", "did you mean 'insufficientPriority'"]),
    ("hfp codec", "name: x\nhardware: {hfpCodecs: [msbcc]}\nsteps: []\n", 2, ["hardware.hfpCodecs[0]", "did you mean 'msbc'"]),
    ("behavior value", "name: x\nbehavior: {callkitManualActivation: lax}\nsteps: []\n", 2,
     ["behavior.callkitManualActivation", "refuse or lenient"]),
    ("alias cycle", "name: x\nsteps: &s [*s]\n", 2, ["cycle"]),
    ("not a mapping", "- a\n- b\n", 1, ["a scenario is a mapping"]),
    ("invalid yaml", "name: [x\nsteps: []\n", 2, ["not valid YAML"]),
    ("empty file", "# nothing\n", 1, ["holds no scenario"]),
    ("second document bad", "name: a\nsteps: []\n---\nname: b\nsteps: [bogus]\n", 5, ["unknown step 'bogus'"]),
]


@pytest.mark.parametrize("text, line, fragments", [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_input(text, line, fragments):
    with pytest.raises(ScenarioError) as info:
        load_text(text, FILE, MODELS)
    e = info.value
    assert (e.file, e.line) == (FILE, line), str(e)
    assert str(e) == f"{FILE}:{line}: {e.message}"
    for fragment in fragments:
        assert fragment in e.message, str(e)


def test_unreadable_and_non_utf8(tmp_path: Path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_path(tmp_path / "missing.scenario.yaml", MODELS)
    bad = tmp_path / "bad.scenario.yaml"
    bad.write_bytes(b"name: x\nsteps: []\n# \xff\n")
    with pytest.raises(ScenarioError) as info:
        load_path(bad, MODELS)
    assert info.value.line == 3 and "UTF-8" in info.value.message


@pytest.mark.parametrize("text", [
    "name: !!python/object/apply:os.system [echo hi]\nsteps: []\n",
    "name: x\napp: !!python/object:builtins.dict {state: foreground}\nsteps: []\n",
    "!!python/object/new:dict {name: x, steps: []}\n",
])
def test_never_constructs_python_objects(text):
    with pytest.raises(ScenarioError) as info:
        load_text(text, FILE, MODELS)
    assert info.value.line in (1, 2)


def test_alias_bomb_is_refused_quickly():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, cur in zip("abcdef", "bcdefg"):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_text("\n".join(lines) + "\nname: x\nsteps: []\n", FILE, MODELS)
