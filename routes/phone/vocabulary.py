"""Apple's names, one canonical spelling each (Swift), with the Objective-C and raw spellings accepted.

Sources: AVAudioSessionTypes.h (categories, modes, options, port types, reasons), AudioSessionTypes.h
(error codes) [DOC H-Types, H-Errors]. Output always uses the canonical name.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import IntEnum


def _capital(name: str) -> str:
    return name[0].upper() + name[1:]


@dataclass(frozen=True)
class Vocabulary:
    """Canonical names of one kind, and every accepted spelling mapped to them."""

    kind: str
    canonical: tuple[str, ...]
    aliases: dict[str, str]

    def resolve(self, name: str) -> str:
        try:
            return self.aliases[name]
        except (KeyError, TypeError):
            raise UnknownName(self.kind, name, self.suggest(name)) from None

    def suggest(self, name: object) -> str | None:
        text = str(name)
        pool = list(self.aliases)
        match = difflib.get_close_matches(text, pool, n=1, cutoff=0.6)
        if not match:
            lowered = {a.lower(): a for a in pool}
            if text.lower() in lowered:
                match = [lowered[text.lower()]]
        return self.aliases[match[0]] if match else None

    def __contains__(self, name: object) -> bool:
        return name in self.aliases


class UnknownName(ValueError):
    def __init__(self, kind: str, name: object, suggestion: str | None):
        self.kind, self.name, self.suggestion = kind, name, suggestion
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")


def _vocab(kind: str, entries: dict[str, tuple[str, ...]]) -> Vocabulary:
    aliases: dict[str, str] = {}
    for canonical, extra in entries.items():
        for spelling in (canonical, *extra):
            aliases[spelling] = canonical
    return Vocabulary(kind, tuple(entries), aliases)


CATEGORIES = _vocab(
    "category",
    {c: (f"AVAudioSessionCategory{_capital(c)}",) for c in
     ("ambient", "soloAmbient", "playback", "record", "playAndRecord", "multiRoute", "audioProcessing")},
)

MODES = _vocab(
    "mode",
    {m: (f"AVAudioSessionMode{_capital(m)}",) for m in
     ("default", "voiceChat", "videoChat", "gameChat", "videoRecording", "measurement", "moviePlayback",
      "spokenAudio", "voicePrompt", "shortFormVideo", "dualRoute")},
)


class Option(IntEnum):
    """AVAudioSession.CategoryOptions bits [DOC H-Types, H-Types26]."""

    mixWithOthers = 0x1
    duckOthers = 0x2
    allowBluetoothHFP = 0x4
    defaultToSpeaker = 0x8
    interruptSpokenAudioAndMixWithOthers = 0x11
    allowBluetoothA2DP = 0x20
    allowAirPlay = 0x40
    overrideMutedMicrophoneInterruption = 0x80
    farFieldInput = 0x40000
    bluetoothHighQualityRecording = 0x80000


OPTIONS = _vocab(
    "category option",
    {
        o.name: (f"AVAudioSessionCategoryOption{_capital(o.name)}",)
        + (("allowBluetooth", "AVAudioSessionCategoryOptionAllowBluetooth") if o is Option.allowBluetoothHFP else ())
        for o in Option
    },
)

# Port types: canonical Swift name -> raw portType string [DOC H-Types; DEV touchHLE, gh:react-native-device-info/react-native-device-info#1020].
PORT_RAW = {
    "builtInMic": "MicrophoneBuiltIn",
    "headsetMic": "MicrophoneWired",
    "lineIn": "LineIn",
    "builtInReceiver": "Receiver",
    "builtInSpeaker": "Speaker",
    "headphones": "Headphones",
    "lineOut": "LineOut",
    "bluetoothA2DP": "BluetoothA2DPOutput",
    "bluetoothLE": "BluetoothLEOutput",
    "HDMI": "HDMIOutput",
    "airPlay": "AirPlay",
    "bluetoothHFP": "BluetoothHFP",
    "usbAudio": "USBAudio",
    "carAudio": "CarAudio",
}
PORTS = _vocab(
    "port type",
    {
        p: (raw, f"AVAudioSessionPort{_capital(p)}") + (("HDMI",) if p == "HDMI" else ())
        for p, raw in PORT_RAW.items()
    },
)


class RouteChangeReason(IntEnum):
    unknown = 0
    newDeviceAvailable = 1
    oldDeviceUnavailable = 2
    categoryChange = 3
    override = 4
    wakeFromSleep = 6
    noSuitableRouteForCategory = 7
    routeConfigurationChange = 8


REASONS = _vocab(
    "route-change reason",
    {r.name: (f"AVAudioSessionRouteChangeReason{_capital(r.name)}",) for r in RouteChangeReason},
)


class InterruptionReason(IntEnum):
    default = 0
    appWasSuspended = 1
    builtInMicMuted = 2
    sceneWasBackgrounded = 3
    routeDisconnected = 4
    deviceUnauthenticated = 5


INTERRUPTION_REASONS = _vocab(
    "interruption reason",
    {r.name: (f"AVAudioSessionInterruptionReason{_capital(r.name)}",) for r in InterruptionReason},
)


@dataclass(frozen=True)
class ErrorCode:
    name: str
    code: int
    fourcc: str | None
    meaning: str


# AVAudioSession.ErrorCode [DOC H-Errors].
ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("none", 0, None, "success"),
    ErrorCode("mediaServicesFailed", 1836282486, "msrv", "the session was used during or after a media-services failure"),
    ErrorCode("isBusy", 560030580, "!act", "deactivated while I/O was still running"),
    ErrorCode("incompatibleCategory", 560161140, "!cat", "the operation is not supported by the category"),
    ErrorCode("cannotInterruptOthers", 560557684, "!int", "a non-mixable session tried to activate in the background"),
    ErrorCode("missingEntitlement", 1701737535, "ent?", "missing entitlement"),
    ErrorCode("siriIsRecording", 1936290409, "siri", "not allowed while Siri records"),
    ErrorCode("cannotStartPlaying", 561015905, "!pla", "starting to play is not allowed"),
    ErrorCode("cannotStartRecording", 561145187, "!rec", "starting to record is not allowed"),
    ErrorCode("badParam", -50, None, "an illegal value"),
    ErrorCode("insufficientPriority", 561017449, "!pri", "another app (Phone, a call) controls audio"),
    ErrorCode("resourceNotAvailable", 561145203, "!res", "not enough hardware, e.g. no audio input"),
    ErrorCode("unspecified", 2003329396, "what", "unspecified"),
    ErrorCode("expiredSession", 561210739, "!ses", "the associated session was destroyed"),
    ErrorCode("sessionNotActive", 1768841571, "inac", "the session is not active"),
)
ERRORS_BY_NAME = {e.name: e for e in ERROR_CODES}
ERRORS_BY_CODE = {e.code: e for e in ERROR_CODES}
ERRORS = _vocab(
    "error",
    {
        e.name: ((e.fourcc, f"'{e.fourcc}'") if e.fourcc else ())
        + (f"AVAudioSessionErrorCode{_capital(e.name)}",)
        for e in ERROR_CODES
    },
)

NOTIFICATIONS = _vocab(
    "notification",
    {
        "routeChange": ("routeChangeNotification", "AVAudioSessionRouteChangeNotification"),
        "interruption": ("interruptionNotification", "AVAudioSessionInterruptionNotification"),
        "silenceSecondaryAudioHint": ("silenceSecondaryAudioHintNotification",
                                      "AVAudioSessionSilenceSecondaryAudioHintNotification"),
        "mediaServicesWereLost": ("mediaServicesWereLostNotification",
                                  "AVAudioSessionMediaServicesWereLostNotification"),
        "mediaServicesWereReset": ("mediaServicesWereResetNotification",
                                   "AVAudioSessionMediaServicesWereResetNotification"),
        "engineConfigurationChange": ("AVAudioEngineConfigurationChange", "AVAudioEngineConfigurationChangeNotification"),
        "availableInputsChange": ("availableInputsChangeNotification",
                                  "AVAudioSessionAvailableInputsChangeNotification"),
        "didActivate": ("provider(_:didActivate:)", "providerDidActivate"),
        "didDeactivate": ("provider(_:didDeactivate:)", "providerDidDeactivate"),
        "timedOutPerforming": ("provider(_:timedOutPerforming:)", "providerTimedOutPerforming"),
        "providerDidReset": ("providerDidReset(_:)", "didReset"),
    },
)

CALLKIT_ACTIONS = ("startCall", "answerCall", "endCall", "setHeldCall")
