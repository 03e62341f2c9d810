"""Audio I/O transitions as table rows: start state, event, expected notifications / error, end state.

Engine, recorder and capture models on the table rig (tests/phone_rig.py). Each row's expectation comes
from the public source its comment cites (keys in docs/sources.md) or the decisions in
docs/scenario-format.md, not from the model. Rows run on iOS 18.0 where notifications are compared
exactly (availableInputsChange exists from iOS 26 and is not what these rows are about).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from routesim.routes.audio.capture import Capture
from routesim.routes.audio.engine import EXC_INPUT_HW_INVALID, EXC_INVALID, EXC_RATE, EXC_SECOND_TAP, Engine
from routesim.routes.phone.errors import AppException, SessionError, StepError
from routesim.routes.audio.recorder import EMPTY_M4A_BYTES, FMT_UNSUPPORTED, Recorder
from routesim.routes.phone.session import AppState
from tests.phone_rig import Rig, make_rig

RC, ECC = "routeChange", ("engineConfigurationChange",)
PAR_HFP = dict(category="playAndRecord", options=("allowBluetoothHFP",))
MUSIC = ("playback", "default", (), True)


@dataclass
class AudioRig:
    rig: Rig
    engine: Engine
    recorder: Recorder
    capture: Capture

    @property
    def phone(self):
        return self.rig.phone


def make(*, running: bool = False, tap: bool = False, platform: str = "ios-18.0", **setup: Any) -> AudioRig:
    rig = make_rig(platform=platform, **setup)
    a = AudioRig(rig, Engine(rig.phone), Recorder(rig.phone), Capture(rig.phone))
    if tap:
        a.engine.install_tap("hardware")
    if running:
        a.engine.start()
    rig.fired.update(rig.phone.fired)
    rig.manager.take_notifications()
    return a


@dataclass
class Row:
    id: str
    setup: dict
    event: Callable[[AudioRig], Any]
    notes: list[tuple] | None = None
    error: str | None = None  # SessionError name, or the start of an AppException message, or "StepError"
    after: dict[str, Any] = field(default_factory=dict)


READERS: dict[str, Callable[[AudioRig], Any]] = {
    "running": lambda a: a.engine.running,
    "active": lambda a: a.phone.active,
    "mode": lambda a: a.phone.config.mode,
    "category": lambda a: a.phone.config.category,
    "options": lambda a: set(a.phone.config.readback),
    "input": lambda a: a.engine.input_format().as_dict(),
    "tap": lambda a: a.engine.tap.as_dict() if a.engine.tap else None,
    "bytes": lambda a: a.recorder.last.bytes,
    "success": lambda a: a.recorder.last.success,
    "code": lambda a: a.recorder.last.error_code,
    "others": lambda a: {k: o.state for k, o in a.phone.others.items()},
    "route": lambda a: a.rig.route(),
}


def do(a: AudioRig, event: Callable[[AudioRig], Any]) -> str | None:
    phone = a.phone
    phone.begin_step()
    try:
        event(a)
        return None
    except SessionError as e:
        return e.name
    except AppException as e:
        return str(e)
    except StepError:
        return "StepError"
    finally:
        a.rig.manager.flush()
        a.rig.fired.update(phone.fired)


def connect(key: str) -> Callable[[AudioRig], Any]:
    return lambda a: a.rig.connect(key)


ROWS = [
    # [DEV gh:AudioKit/AudioKit#2030]: a tap at a rate other than the hardware input rate (HFP 8 kHz) raises
    Row("tap-48k-on-cvsd-hfp-raises", dict(**PAR_HFP, active=True, devices=(("h", "generic-headset"),)),
        lambda a: a.engine.install_tap({"sampleRate": 48000, "channels": 1}), [], EXC_RATE, {"tap": None}),
    # [DEV gh:harmony-one/x#160]: inactive session -> 0 Hz / 0 ch input -> IsFormatSampleRateAndChannelCountValid
    Row("tap-on-inactive-session-raises", dict(category="playAndRecord"),
        lambda a: a.engine.install_tap("hardware"), [], EXC_INVALID,
        {"input": {"sampleRate": 0, "channels": 0}}),
    # [DOC Doc-AVAudioEngineConfigurationChange] / [DOC H-Session17]: a category without input gives the same 0 Hz / 0 ch input
    Row("tap-in-playback-raises", dict(category="playback", active=True),
        lambda a: a.engine.install_tap("hardware"), [], EXC_INVALID),
    # scenario-format engine.installTap: a second tap without removing the first raises
    Row("second-tap-raises", dict(category="playAndRecord", active=True, tap=True),
        lambda a: a.engine.install_tap("hardware"), [], EXC_SECOND_TAP),
    # [DOC Doc-AVAudioEngineConfigurationChange]: removing the tap first makes a new tap fine
    Row("remove-then-install", dict(category="playAndRecord", active=True, tap=True),
        lambda a: (a.engine.remove_tap(), a.engine.install_tap("hardware")), [], None,
        {"tap": {"sampleRate": 48000, "channels": 1}}),
    # [DOC ASPG-Activate]: starting I/O activates an inactive session
    Row("start-activates-session", dict(category="playAndRecord"),
        lambda a: a.engine.start(), [], None, {"running": True, "active": True}),
    # [DOC Doc-AVAudioEngineConfigurationChange]: input node in use, category lost its input -> invalid input format at start
    Row("start-with-tap-after-input-lost", dict(category="playAndRecord", active=True, tap=True),
        lambda a: (a.rig.call("set_category", "playback", "default", ()), a.engine.start()), None,
        EXC_INPUT_HW_INVALID, {"running": False}),
    # [DOC Doc-AVAudioEngineConfigurationChange] + docs/scenario-format.md: rate 48k -> 8k while running: routeChange, then engineConfigurationChange; stopped
    Row("hfp-connect-while-running", dict(**PAR_HFP, active=True, running=True, tap=True,
                                          spare=(("h", "generic-headset"),)),
        connect("h"), [(RC, "newDeviceAvailable"), ECC], None,
        {"running": False, "input": {"sampleRate": 8000, "channels": 1}, "tap": {"sampleRate": 48000, "channels": 1}}),
    # [DEV gh:AudioKit/AudioKit#2030]: restarting with the tap's old 48 kHz format on the 8 kHz route raises
    Row("restart-with-stale-tap", dict(**PAR_HFP, active=True, running=True, tap=True,
                                       spare=(("h", "generic-headset"),)),
        lambda a: (a.rig.connect("h"), a.engine.start()), None, EXC_RATE, {"running": False}),
    # [DOC Doc-AVAudioEngineConfigurationChange]: back to the built-in mic (8k -> 48k) is a change too
    Row("hfp-disconnect-while-running", dict(**PAR_HFP, active=True, devices=(("h", "generic-headset"),),
                                             running=True, tap=True),
        lambda a: a.rig.disconnect("h"), [(RC, "oldDeviceUnavailable"), ECC], None, {"running": False}),
    # [DOC Doc-AVAudioEngineConfigurationChange]: same rate and channel counts (receiver -> speaker, both 48 kHz stereo): no configuration change
    Row("override-speaker-same-format", dict(category="playAndRecord", active=True, running=True),
        lambda a: a.rig.call("override_output", "speaker"), [(RC, "override")], None, {"running": True}),
    # contract: a stopped engine gets none
    Row("stopped-engine-no-change", dict(**PAR_HFP, active=True, running=True, spare=(("h", "generic-headset"),)),
        lambda a: (a.engine.stop(), a.rig.connect("h")), [(RC, "newDeviceAvailable")], None, {"running": False}),
    # [DOC ASPG-Int] + docs/scenario-format.md: an interruption stops the engine, no configuration change
    Row("interruption-stops-engine",
        dict(category="playAndRecord", active=True, running=True, others={"music": ("playback", "default", (), False)}),
        lambda a: a.rig.call("other_play", "music"), [("interruption", "began")], None, {"running": False}),
    # [DOC H-Session17], [DOC H-Errors]: deactivating with the engine running deactivates anyway and reports isBusy
    Row("deactivate-running-engine-isbusy", dict(category="playAndRecord", active=True, running=True),
        lambda a: a.rig.call("set_active", False), [], "isBusy", {"running": False, "active": False}),
    # QA1749: a media-services reset stops the engine
    Row("media-reset-stops-engine", dict(category="playAndRecord", active=True, running=True),
        lambda a: a.rig.call("media_services_reset"), [("mediaServicesWereLost",), ("mediaServicesWereReset",)],
        None, {"running": False}),
    # [DOC QA1803]: voice processing without a chat mode sets voiceChat (HFP allowed: headset takes route)
    Row("voice-processing-sets-voicechat", dict(category="playAndRecord", active=True,
                                                devices=(("h", "generic-wideband-headset"),)),
        lambda a: a.engine.set_voice_processing(True), [(RC, "categoryChange")], None,
        {"mode": "voiceChat", "route": (("bluetoothHFP",), ("bluetoothHFP",))}),
    # [DOC H-Types]: not when the mode is already videoChat or gameChat
    Row("voice-processing-keeps-videochat", dict(category="playAndRecord", mode="videoChat", active=True),
        lambda a: a.engine.set_voice_processing(True), [], None, {"mode": "videoChat"}),
    Row("voice-processing-keeps-gamechat", dict(category="playAndRecord", mode="gameChat"),
        lambda a: a.engine.set_voice_processing(True), [], None, {"mode": "gameChat"}),
    # [DOC H-Types]: voiceChat is playAndRecord-only; elsewhere the mode stays [INF]
    Row("voice-processing-in-playback", dict(category="playback"),
        lambda a: a.engine.set_voice_processing(True), [], None, {"mode": "default"}),
    # [DEV forum-tag-recorder-552-bytes] + docs/scenario-format.md: no input category -> activates, 0-channel source, -50, 552 bytes, success false
    Row("record-soloambient-552", dict(),
        lambda a: a.recorder.record("aac", 22050, 1, 5.0), [], None,
        {"active": True, "bytes": EMPTY_M4A_BYTES, "success": False, "code": -50}),
    Row("record-ambient-552", dict(category="ambient", active=True),
        lambda a: a.recorder.record("aac", 44100, 1, 1.0), [], None, {"bytes": 552, "success": False, "code": -50}),
    # [DOC ASPG-Activate]: with input the recording works; 1 s of 16-bit stereo 48 kHz PCM is 192,000 bytes of samples
    Row("record-lpcm-size", dict(category="record"),
        lambda a: a.recorder.record("lpcm", 48000, 2, 1.0), [], None, {"success": True, "code": None}),
    # [DOC Doc-AVAudioRecorder] + [INF]: AAC has no 96 kHz rate
    Row("record-aac-96k-refused", dict(category="playAndRecord", active=True),
        lambda a: a.recorder.record("aac", 96000, 1, 1.0), [], None, {"success": False, "code": FMT_UNSUPPORTED}),
    # [DOC H-Errors] + [INF]: the implicit activation refused in the background -> no file
    Row("record-background-refused", dict(category="playAndRecord", app=AppState(state="background")),
        lambda a: a.recorder.record("aac", 44100, 1, 1.0), [], None,
        {"success": False, "bytes": 0, "active": False}),
    # [DOC Doc-AVCaptureSession] + docs/scenario-format.md: automatic configuration -> playAndRecord, not mixable, activates
    Row("capture-auto-interrupts-music", dict(category="playback", options=("mixWithOthers",), active=True,
                                              others={"music": MUSIC}),
        lambda a: a.capture.start(True, False), [(RC, "categoryChange")], None,
        {"category": "playAndRecord", "options": set(), "others": {"music": "interrupted"}}),
    # [DOC Doc-AVCaptureSession: iOS 18]: configuresApplicationAudioSessionToMixWithOthers adds mixWithOthers
    Row("capture-auto-mixes-ios18", dict(others={"music": MUSIC}),
        lambda a: a.capture.start(True, True), [(RC, "categoryChange")], None,
        {"options": {"mixWithOthers"}, "active": True, "others": {"music": "playing"}}),
    # the property does not exist before iOS 18: a scenario error
    Row("capture-mix-before-ios18", dict(platform="ios-17.4"),
        lambda a: a.capture.start(True, True), [], "StepError", {"category": "soloAmbient"}),
    # contract: starting one while one runs is a scenario error
    Row("capture-twice", dict(category="playAndRecord"),
        lambda a: (a.capture.start(False, False), a.capture.start(False, False)), None, "StepError"),
    # [DOC Doc-AVCaptureSession]: automatic configuration off -> the session as the app left it (activated to record)
    Row("capture-manual-leaves-session", dict(category="playAndRecord", options=("mixWithOthers",),
                                              others={"music": MUSIC}),
        lambda a: a.capture.start(False, False), [], None,
        {"options": {"mixWithOthers"}, "active": True, "others": {"music": "playing"}}),
    # [INF]: stop puts the app's configuration back; the music it interrupted may resume
    Row("capture-stop-restores", dict(category="playback", options=("mixWithOthers",), active=True,
                                      others={"music": MUSIC}),
        lambda a: (a.capture.start(True, False), a.rig.notes(), a.capture.stop()), [(RC, "categoryChange")], None,
        {"category": "playback", "options": {"mixWithOthers"}, "others": {"music": "playing"}}),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_audio_io_transition(row: Row):
    setup = dict(row.setup)
    a = make(**setup)
    error = do(a, row.event)
    if row.error is None:
        assert error is None
    else:
        assert error is not None and error.startswith(row.error), error
    if row.notes is not None:
        assert a.rig.notes() == row.notes
    for name, expected in row.after.items():
        assert READERS[name](a) == expected, name


def fired_by_rows() -> set[str]:
    fired: set[str] = set()
    for row in ROWS:
        a = make(**row.setup)
        do(a, row.event)
        fired |= a.rig.fired
    return fired


def test_lpcm_file_is_header_plus_samples():
    a = make(category="record")
    rec = a.recorder.record("lpcm", 48000, 2, 1.0)
    assert rec.bytes == 4096 + 192_000  # the header, then 48,000 frames x 2 channels x 2 bytes


def test_aac_file_grows_with_duration_and_channels():
    a = make(category="record")
    one = a.recorder.record("aac", 44100, 1, 1.0).bytes
    ten = a.recorder.record("aac", 44100, 1, 10.0).bytes
    stereo = a.recorder.record("aac", 44100, 2, 10.0).bytes
    assert EMPTY_M4A_BYTES < one < ten < stereo


def test_engine_is_io_for_deactivation_and_recorder_is_not_after_it_finishes():
    a = make(category="playAndRecord")
    a.recorder.record("aac", 44100, 1, 1.0)
    assert not a.phone.io_running()
    a.engine.start()
    assert a.phone.io_running()
