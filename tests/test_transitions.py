"""Route and session transitions as table rows: start state, event, expected notifications, end state.

Each row's expectation comes from the public source its comment cites (keys in docs/sources.md), not from
the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import pytest

from routesim.routes.phone.errors import StepError
from routesim.profiles.catalog import default_catalog
from routesim.routes.audio.engine import Engine
from routesim.routes.phone.config import Configuration
from routesim.routes.phone.policy import Device, PolicyState, decide
from routesim.routes.phone.session import AppState
from tests.phone_rig import Rig, make_rig

RC = "routeChange"
AIC = ("availableInputsChange",)  # iOS 26+: availableInputs changed (H-Types26), after the routeChange
HFP, A2DP, MIC, RCV, SPK = "bluetoothHFP", "bluetoothA2DP", "builtInMic", "builtInReceiver", "builtInSpeaker"


@dataclass
class Row:
    id: str
    setup: dict
    event: Callable[[Rig], Any]
    notes: list[tuple]
    route: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    error: str | None = None
    after: dict[str, Any] = field(default_factory=dict)  # name -> expected, read by READERS
    message: str | None = None  # the error's text after its name, as the app's log shows it
    fires: tuple[str, ...] = ()  # rules the (last) step fires, as `explain` lists them
    decided: tuple[str, ...] = ()  # rules behind the route decision after the event
    not_decided: tuple[str, ...] = ()  # rules that must not be behind it
    note_rules: list[str | None] | None = None  # the rule of each notification, in order


READERS: dict[str, Callable[[Rig], Any]] = {
    "active": lambda r: r.phone.active,
    "options": lambda r: set(r.phone.config.readback),
    "category": lambda r: r.phone.config.category,
    "mode": lambda r: r.phone.config.mode,
    "override": lambda r: r.phone.override_speaker,
    "preferredInput": lambda r: r.phone.preferred_input,
    "sampleRate": lambda r: r.phone.sample_rate,
    "ioBufferFrames": lambda r: round(r.phone.io_buffer_duration * r.phone.sample_rate),
    "inputChannels": lambda r: r.phone.input_channels,
    "others": lambda r: {k: o.state for k, o in r.phone.others.items()},
    "commands": lambda r: [(c.key, c.profile, c.codec) for c in r.virtual.executed],
    "connected": lambda r: r.phone.accessory_view("p")["connected"],  # as the Python API's state() shows it
    "picked": lambda r: r.phone.picked,
    "stepRules": lambda r: r.phone.fired,  # what explain shows for the last step  # the route picker's standing choice
    "rigLink": lambda r: r.phone.accessories["p"].rig_link,  # the link the rig carries, as rig.py compares it
    "rigLinks": lambda r: {k: a.rig_link for k, a in r.phone.accessories.items()},
    "noteRules": lambda r: [n.rule for n in r.taken],  # the rule explain shows for each notification
    "interruptionReasons": lambda r: [n.fields.get("reason") for n in r.taken if n.name == "interruption"],
    "ioRunning": lambda r: bool(r.phone.io_running()),  # what a later deactivation finds busy
    "inputName": lambda r: r.phone.route.inputs[0].name,
    "inputUid": lambda r: r.phone.route.inputs[0].uid,
    "outputOwners": lambda r: tuple(p.owner for p in r.phone.route.outputs),  # accessory keys
    "links": lambda r: {k: link.profile for k, link in r.phone.decision.links.items()},
}


def start_engine(r: Rig) -> None:
    """The app starts an AVAudioEngine (it activates the session implicitly)."""
    r.manager.call(Engine(r.phone).start)

PAR_HFP = dict(category="playAndRecord", options=("allowBluetoothHFP",))
MUSIC = ("playback", "default", (), True)
HP = "headphones"
NOW_PLAYING = dict(category="playback", active=True, app=AppState(now_playing=True))
OFF_LEAVES = {"headOffLeavesRoute": True}

ROWS = [
    # [DOC H-Types] / [DOC Doc-RouteChangeReason]: losing the device in use posts oldDeviceUnavailable; output-only floor is the speaker
    Row("playback-airpods-disconnect", dict(category="playback", devices=(("p", "airpods-pro"),)),
        lambda r: r.disconnect("p"), [(RC, "oldDeviceUnavailable")], ((), (SPK,)), after={"connected": False}),
    # Doc-PortDescription: a wired headset gives Headphones + HeadsetMic
    Row("playandrecord-wired-headset-connect", dict(category="playAndRecord", spare=(("w", "wired-headset"),)),
        lambda r: r.connect("w"), [(RC, "newDeviceAvailable"), AIC], (("headsetMic",), ("headphones",))),
    # QA1754: plugging a headset ends the override (a route change), the headset takes the route
    Row("override-cleared-by-new-headset", dict(**PAR_HFP, spare=(("h", "generic-headset"),)),
        lambda r: (r.call("override_output", "speaker"), r.notes(), r.manager.dispatch(r.virtual.connect("h"))),
        [(RC, "newDeviceAvailable"), AIC], ((HFP,), (HFP,)), after={"override": False}),
    # ASPG-Route: the app's own category change posts categoryChange
    Row("category-change-posts", dict(category="playAndRecord"),
        lambda r: r.call("set_category", "playback", "default", ()), [(RC, "categoryChange"), AIC], ((), (SPK,))),
    # [INF]: the same configuration again changes nothing and posts nothing
    Row("same-category-again-silent", dict(category="playback"),
        lambda r: r.call("set_category", "playback", "default", ()), [], ((), (SPK,))),
    # [DOC H-Types] / [DEV gh:ryanheise/audio_session#127]: defaultToSpeaker is playAndRecord only; failure leaves state unchanged
    Row("invalid-option-badparam", dict(category="playback"),
        lambda r: r.call("set_category", "playback", "default", ("defaultToSpeaker",)), [], ((), (SPK,)),
        error="badParam", after={"options": set(), "category": "playback"}),
    # behaviour switch invalidOptionError: 'what'
    Row("invalid-option-what-switch", dict(category="playback", behavior={"invalidOptionError": "unspecified"}),
        lambda r: r.call("set_category", "ambient", "default", ("allowBluetoothHFP",)), [], None,
        error="unspecified", after={"category": "playback"}),
    # H-Types26: bluetoothHighQualityRecording exists from iOS 26.0
    Row("option-newer-than-platform", dict(platform="ios-18.0"),
        lambda r: r.call("set_category", "playAndRecord", "default", ("bluetoothHighQualityRecording",)), [], None,
        error="badParam", after={"category": "soloAmbient"}),
    # [DOC H-Types] / Doc-A2DP: allowBluetoothA2DP is implicitly cleared for record
    Row("record-clears-a2dp", dict(),
        lambda r: r.call("set_category", "record", "default", ("allowBluetoothA2DP",)), [(RC, "categoryChange"), AIC],
        ((MIC,), ()), after={"options": set()}),
    # [DOC H-Types]: a multiRoute mixing option needs mode default
    Row("multiroute-option-needs-default-mode", dict(),
        lambda r: r.call("set_category", "multiRoute", "measurement", ("mixWithOthers",)), [], None,
        error="badParam"),
    # H-Types: multiRoute sends to every eligible output, last-in input
    Row("multiroute-usb-and-headphones", dict(devices=(("hp", "wired-headphones"), ("usb", "usb-audio"))),
        lambda r: r.call("set_category", "multiRoute", "default", ()), [(RC, "categoryChange"), AIC],
        (("usbAudio",), ("usbAudio", "headphones")), after={"outputOwners": ("usb", "hp")}),
    # [DOC H-Types]: record with allowBluetoothHFP takes the HFP input; record has no output
    Row("record-hfp-input", dict(category="record", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"),)),
        lambda r: None, [], ((HFP,), ()), decided=("route.record-no-output", "route.hfp-both-ways"),
        not_decided=("route.last-in-wins",)),
    # Doc-PortOverride.speaker: valid only in playAndRecord
    Row("override-outside-playandrecord", dict(category="playback"),
        lambda r: r.call("override_output", "speaker"), [], ((), (SPK,)), error="badParam",
        message="the speaker override is valid only in playAndRecord", fires=("route.override-needs-playandrecord",)),
    # [DOC Doc-setPreferredInput] + [INF]: a preferred input must be one of availableInputs
    Row("preferred-input-not-available", dict(category="playAndRecord", devices=(("h", "generic-headset"),)),
        lambda r: r.call("set_preferred_input", "h"), [], ((MIC,), (RCV,)), error="badParam",
        message="h is not in availableInputs", fires=("route.preferred-input-not-available",)),
    # Doc-allowBluetooth: preferring the HFP input moves the output too (reason override [DEV so-mirror-31993722])
    Row("preferred-hfp-moves-output",
        dict(category="playAndRecord", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"), ("w", "wired-headset"))),
        lambda r: r.call("set_preferred_input", "h"), [(RC, "override")], ((HFP,), (HFP,)),
        after={"preferredInput": "h"}, not_decided=("route.picker",)),
    # Doc-preferredInput, [DEV forum-737196]: a newly plugged mic takes over and preferredInput reads nil
    Row("new-mic-clears-preference",
        dict(category="playAndRecord", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"),),
             spare=(("w", "wired-headset"),)),
        lambda r: (r.call("set_preferred_input", "builtInMic"), r.notes(), r.connect("w")),
        [(RC, "newDeviceAvailable"), AIC], (("headsetMic",), ("headphones",)), after={"preferredInput": None}),
    # H-Errors (incompatibleCategory): input channels in a category without input
    Row("input-channels-in-playback", dict(category="playback"),
        lambda r: r.call("set_preferred_input_channels", 1), [], None, error="incompatibleCategory",
        message="category playback has no input", fires=("format.input-channels-incompatible",)),
    # [DOC H-Errors] / docs/scenario-format.md: a non-mixable activation from the background fails unless Now Playing
    Row("background-activation-non-mixable",
        dict(category="playback", app=AppState(state="background", background_audio=True)),
        lambda r: r.call("set_active", True), [], None, error="cannotInterruptOthers", after={"active": False}),
    Row("background-activation-now-playing",
        dict(category="playback", app=AppState(state="background", background_audio=True, now_playing=True)),
        lambda r: r.call("set_active", True), [], None, after={"active": True}),
    # H-Session17: while another app hosts a call, playAndRecord activation fails; playback may activate
    Row("call-priority-blocks-playandrecord", dict(category="playAndRecord"),
        lambda r: (setattr(r.phone, "call_holder", "Phone"), r.call("set_active", True)), [], None,
        error="insufficientPriority", after={"active": False}),
    Row("call-priority-allows-playback", dict(category="playback"),
        lambda r: (setattr(r.phone, "call_holder", "Phone"), r.call("set_active", True)), [], None,
        after={"active": True}),
    # [DOC H-Session17]: deactivating with I/O running deactivates anyway and reports isBusy
    Row("deactivate-with-player-busy", dict(category="playback", active=True),
        lambda r: (r.call("player", True), r.call("set_active", False)), [], None, error="isBusy",
        message="deactivated while I/O was running (the session is inactive anyway)",
        fires=("activate.deactivate-busy",), after={"active": False, "ioRunning": False}),
    # H-Types: a suspended app's session is deactivated, and it is not told
    Row("background-without-audio-mode-suspends", dict(category="playback", active=True),
        lambda r: r.call("set_app_state", "background"), [], None, after={"active": False}),
    # [DEV WebRTC-RTCAudioSessionConfiguration]: 10 ms at 48 kHz is 512 frames
    Row("io-buffer-10ms", dict(category="playAndRecord"),
        lambda r: r.call("set_preferred_io_buffer_duration", 0.01), [], None, after={"ioBufferFrames": 512}),
    # [DOC H-Session17] / [DEV gh:lionheart/openradar-mirror#19156110, gh:deeeed/audiolab#35]: a preferred rate the route cannot do is not honoured
    Row("preferred-rate-not-honoured", dict(category="playAndRecord"),
        lambda r: r.call("set_preferred_sample_rate", 16000.0), [], None, after={"sampleRate": 48000}),
    # [DOC ASPG-Activate]: playing activates an inactive session implicitly
    Row("player-activates-implicitly", dict(category="playback"),
        lambda r: r.call("player", True), [], None, after={"active": True}),
    # [DOC H-Session17]: an inactive session reads 0 input channels
    Row("inactive-zero-input-channels", dict(category="playAndRecord"),
        lambda r: None, [], None, after={"inputChannels": 0}),
    # [DEV gh:react-native-device-info/react-native-device-info#1020] / [INF]: a rename of a device in the route posts routeConfigurationChange; elsewhere nothing
    Row("rename-in-route", dict(category="playback", devices=(("p", "airpods-pro"),)),
        lambda r: r.manager.dispatch(r.virtual.rename("p", "xxxx")), [(RC, "routeConfigurationChange")],
        ((), (A2DP,)), after={"noteRules": ["notify.rename"]}),
    Row("rename-not-in-route", dict(category="playAndRecord", devices=(("p", "airpods-pro"),)),
        lambda r: r.manager.dispatch(r.virtual.rename("p", "xxxx")), [], ((MIC,), (RCV,))),
    # H-Types: interruptSpokenAudioAndMixWithOthers interrupts spokenAudio apps, mixes with the rest
    Row("interrupt-spoken-audio",
        dict(category="playback", options=("interruptSpokenAudioAndMixWithOthers",),
             others={"podcast": ("playback", "spokenAudio", (), True), "music": MUSIC}),
        lambda r: r.call("set_active", True), [], None,
        after={"others": {"podcast": "interrupted", "music": "playing"}}),
    # QA1749: lost, then reset; the session is back to defaults and inactive
    Row("media-services-reset", dict(category="playAndRecord", active=True),
        lambda r: r.call("media_services_reset"), [("mediaServicesWereLost",), ("mediaServicesWereReset",)], None,
        after={"active": False, "category": "soloAmbient"},
        note_rules=["interrupt.media-services-reset", "interrupt.media-services-reset"]),
    # H-Session17 (iOS 17): the Now Playing session is interrupted when its route disconnects
    Row("now-playing-route-disconnected",
        dict(category="playback", active=True, devices=(("p", "airpods-pro"),), app=AppState(now_playing=True)),
        lambda r: r.disconnect("p"), [(RC, "oldDeviceUnavailable"), ("interruption", "began")], ((), (SPK,)),
        after={"active": False}),
    # [DOC H-Types] + bt commands: moving a headset to HFP asks the device for the HFP profile with its codec
    Row("hfp-switch-command", dict(category="playback", devices=(("h", "generic-wideband-headset"),)),
        lambda r: r.call("set_category", "playAndRecord", "voiceChat", ()), [(RC, "categoryChange"), AIC],
        ((HFP,), (HFP,)), after={"commands": [("h", "hfp", "msbc")], "sampleRate": 16000}),
    # QA1754: an interruption ends the speaker override
    Row("interruption-clears-override",
        dict(category="playAndRecord", active=True, others={"music": ("playback", "default", (), False)}),
        lambda r: (r.call("override_output", "speaker"), r.notes(), r.call("other_play", "music")),
        [("interruption", "began"), (RC, "override")], ((MIC,), (RCV,)), after={"override": False}),
    # [DOC H-Session17]: before iOS 26 there is no availableInputsChange
    Row("no-available-inputs-change-before-ios-26", dict(platform="ios-18.0", category="playAndRecord",
                                                         spare=(("w", "wired-headset"),)),
        lambda r: r.connect("w"), [(RC, "newDeviceAvailable")], (("headsetMic",), ("headphones",))),
    # contract: pickRoute offers only what the picker shows; the receiver only in playAndRecord on iPhone
    Row("picker-receiver-in-playandrecord", dict(category="playAndRecord", options=("defaultToSpeaker",)),
        lambda r: r.call("pick_route", "receiver"), [(RC, "override")], ((MIC,), (RCV,))),
    # H-Types vs Doc-defaultToSpeaker: with the switch off a later headset does not take defaultToSpeaker's route
    Row("default-to-speaker-keeps-with-switch",
        dict(category="playAndRecord", options=("defaultToSpeaker", "allowBluetoothHFP"),
             behavior={"headsetOverridesDefaultToSpeaker": False}, spare=(("h", "generic-headset"),)),
        lambda r: r.connect("h"),
        [AIC], ((MIC,), (SPK,))),
    # route.rig-link / notify.rig-link [INF, live-rigs, WirePlumber-0.4, Doc-RouteChangeReason]: on a rig the
    # route can use only the link the audio server carries, where the category allows that kind of link; the
    # app hears routeConfigurationChange, and the phone asks for nothing (its wanted link did not change)
    Row("rig-switches-a2dp-airpods-to-hfp-without-the-hfp-option",
        dict(category="playAndRecord", options=("allowBluetoothA2DP",), devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "hfp"),
        [(RC, "routeConfigurationChange")], ((MIC,), (RCV,)), after={"commands": []}),
    Row("rig-puts-hfp-airpods-back-on-a2dp",
        dict(category="playAndRecord", options=("allowBluetoothHFP", "allowBluetoothA2DP"),
             devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "a2dp"),
        [(RC, "routeConfigurationChange"), AIC], ((MIC,), (A2DP,)), after={"commands": []}),
    Row("rig-carries-hfp-for-playback",
        dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "hfp"),
        [(RC, "routeConfigurationChange")], ((), (SPK,)), after={"commands": []}),
    # ...but when the app's own change makes the phone want another link, the phone's choice leads at once
    # (as on an iPhone) and the switch goes to the accessory; the rig's next report pins the link again
    Row("phone-asks-for-hfp-while-the-rig-carries-a2dp",
        dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: (r.call("rig_link_changed", "p", "a2dp"), r.notes(),
                   r.call("set_category", "playAndRecord", "voiceChat", ())),
        [(RC, "categoryChange"), AIC], ((HFP,), (HFP,)), after={"commands": [("p", "hfp", "lc3-a127")]}),
    Row("rig-confirms-the-link-the-phone-uses",
        dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "a2dp"),
        [], ((), (A2DP,)), after={"commands": []}),
    Row("rig-puts-a2dp-airpods-back-on-hfp",
        dict(category="playAndRecord", options=("allowBluetoothHFP", "allowBluetoothA2DP"),
             devices=(("p", "airpods-pro-2"),)),
        lambda r: (r.call("rig_link_changed", "p", "a2dp"), r.notes(), r.call("rig_link_changed", "p", "hfp")),
        [(RC, "routeConfigurationChange"), AIC], ((HFP,), (HFP,)),
        after={"rigLink": "hfp", "noteRules": ["notify.rig-link", "notify.available-inputs-change"]}),
    # the phone's choice leads for a device the rig kept out of the route too, once the app's change makes the
    # phone want it, and for one the phone stops wanting (it asks for no profile); the rig's pin is dropped
    Row("phone-wants-the-headset-the-rig-kept-out",
        dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: (r.call("rig_link_changed", "p", "hfp"), r.notes(),
                   r.call("set_category", "playAndRecord", "voiceChat", ())),
        [(RC, "categoryChange"), AIC], ((HFP,), (HFP,)),
        after={"rigLink": None, "commands": [("p", "hfp", "lc3-a127")]}),
    Row("phone-stops-wanting-the-headset-the-rig-carries",
        dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: (r.call("rig_link_changed", "p", "a2dp"), r.notes(), r.call("set_category", "record", "default", ())),
        [(RC, "categoryChange"), AIC], ((MIC,), ()), after={"rigLink": None, "commands": [("p", "none", None)]}),
    # route.rig-link [INF, live-rigs] again, with two headsets: the rig pinned the older one while the phone
    # wanted the newer; once the newer leaves, the phone wants the older one's A2DP for playback, so the
    # phone's choice leads there and the rig's pin on it is dropped
    Row("phone-wants-the-second-headset-the-rig-pinned",
        dict(category="playback", devices=(("h", "generic-headset"), ("p", "airpods-pro-2"))),
        lambda r: (r.call("rig_link_changed", "h", "hfp"), r.notes(), r.disconnect("p")),
        [(RC, "oldDeviceUnavailable")], ((), (A2DP,)),
        after={"rigLinks": {"h": None, "p": None}, "outputOwners": ("h",)}),
    # a rig that carries no audio link for the device (its card profile off) takes it out of the route
    Row("rig-carries-no-link", dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "off"),
        [(RC, "routeConfigurationChange")], ((), (SPK,)), after={"rigLink": "none", "commands": []}),
    Row("rig-carries-nothing-known", dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", None),
        [(RC, "routeConfigurationChange")], ((), (SPK,)), after={"rigLink": "none"}),
    # the rig's link belongs to the connection: after a disconnect the reconnected device starts without one
    Row("rig-link-forgotten-on-disconnect", dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: (r.call("rig_link_changed", "p", "a2dp"), r.disconnect("p")),
        [(RC, "oldDeviceUnavailable")], ((), (SPK,)), after={"rigLink": None}),
    # the rig's report changes nothing the phone already shows: a link reported again, or any report for a
    # device that is not connected (rig.py reports only connected ones), moves no route and fires no rule
    Row("rig-reports-the-same-link-again", dict(category="playback", devices=(("p", "airpods-pro-2"),)),
        lambda r: (r.call("rig_link_changed", "p", "a2dp"), r.call("rig_link_changed", "p", "a2dp")),
        [], ((), (A2DP,)), after={"stepRules": [], "rigLink": "a2dp"}),
    Row("rig-report-for-a-disconnected-device-is-ignored", dict(category="playback", spare=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "a2dp"), [], ((), (SPK,)), after={"rigLink": None}),
    Row("rig-link-forgotten-when-an-unused-device-disconnects",
        dict(category="playback", devices=(("p", "airpods-pro-2"), ("w", "wired-headphones"))),
        lambda r: (r.call("rig_link_changed", "p", "a2dp"), r.disconnect("p")), [], ((), (HP,)),
        after={"rigLink": None}),
    # notify.rig-link [INF]: a link the rig switched changes that device's link, not the output the user picked
    # in the route picker (the device and its name stay): the picked speaker stays, no routeChange; only the
    # HFP input leaves availableInputs (H-Types26: availableInputsChange)
    Row("rig-switch-keeps-the-picked-speaker",
        dict(category="playAndRecord", options=("allowBluetoothHFP", "allowBluetoothA2DP"),
             devices=(("p", "airpods-pro-2"),)),
        lambda r: (r.call("pick_route", "speaker"), r.notes(), r.call("rig_link_changed", "p", "a2dp")),
        [AIC], ((MIC,), (SPK,)), after={"picked": "speaker", "rigLink": "a2dp"}),
    # route.head-off / route.earbuds-out: a step that moves no route shows its own rule and no routing rules
    Row("head-off-without-the-switch-routes-nothing", dict(category="playback", devices=(("m", "airpods-max"),)),
        lambda r: r.call("worn", "m", False), [], ((), (A2DP,)), after={"stepRules": ["route.head-off"]}),
    Row("headphones-on-again-with-the-switch-routes-nothing",
        dict(category="playback", devices=(("m", "airpods-max"),), behavior=OFF_LEAVES),
        lambda r: r.call("worn", "m", True), [], ((), (A2DP,)), after={"stepRules": ["route.head-off"]}),
    Row("one-bud-out-routes-nothing", dict(category="playback", devices=(("p", "airpods-pro"),)),
        lambda r: r.call("ears", "p", "out", None), [], ((), (A2DP,)), after={"stepRules": ["route.earbuds-out"]}),
    # contract (earbuds): a bud back in returns the route with newDeviceAvailable; one bud is enough
    Row("left-bud-back-in-returns-the-route", dict(category="playback", devices=(("p", "airpods-pro"),)),
        lambda r: (r.call("ears", "p", "out", "out"), r.notes(), r.call("ears", "p", "in", None)),
        [(RC, "newDeviceAvailable")], ((), (A2DP,))),
    Row("right-bud-back-in-returns-the-route", dict(category="playback", devices=(("p", "airpods-pro"),)),
        lambda r: (r.call("ears", "p", "out", "out"), r.notes(), r.call("ears", "p", None, "in")),
        [(RC, "newDeviceAvailable")], ((), (A2DP,))),
    # contract (earbuds: one bud out leaves the route where it is; last connected wins): one bud out of the
    # older pods changes nothing, not their place in the order either, so a category change keeps the headphones
    Row("one-bud-out-of-older-pods-keeps-their-place",
        dict(category="playback", devices=(("p", "airpods-pro"), ("w", "wired-headphones"))),
        lambda r: (r.call("ears", "p", "out", None), r.call("set_category", "ambient", "default", ())),
        [(RC, "categoryChange")], ((), (HP,))),
    # contract (earbuds: back in returns the route with newDeviceAvailable; last connected wins): buds back in
    # make the pods the newest device, so they take the route from headphones plugged in after them
    Row("buds-back-in-take-the-route-from-a-newer-device",
        dict(category="playback", devices=(("p", "airpods-pro"), ("w", "wired-headphones"))),
        lambda r: (r.call("ears", "p", "out", "out"), r.notes(), r.call("ears", "p", "in", "in")),
        [(RC, "newDeviceAvailable")], ((), (A2DP,))),
    # H-Session17 (iOS 17): the Now Playing session is interrupted (routeDisconnected) when its route's device
    # goes; both buds out is that (contract: earbuds); buds out of pods the route does not use are not
    Row("now-playing-both-buds-out-route-disconnected", dict(**NOW_PLAYING, devices=(("p", "airpods-pro"),)),
        lambda r: r.call("ears", "p", "out", "out"), [(RC, "oldDeviceUnavailable"), ("interruption", "began")],
        ((), (SPK,)), after={"active": False, "interruptionReasons": ["routeDisconnected"]}),
    Row("now-playing-buds-out-of-unused-pods",
        dict(**NOW_PLAYING, devices=(("p", "airpods-pro"), ("w", "wired-headphones"))),
        lambda r: r.call("ears", "p", "out", "out"), [], ((), (HP,)), after={"active": True}),
    Row("now-playing-route-disconnected-from-ios-17-0",
        dict(**NOW_PLAYING, platform="ios-17.0", devices=(("p", "airpods-pro"),)),
        lambda r: r.disconnect("p"), [(RC, "oldDeviceUnavailable"), ("interruption", "began")], ((), (SPK,)),
        after={"active": False, "interruptionReasons": ["routeDisconnected"]}),
    Row("no-route-disconnected-interruption-before-ios-17",
        dict(**NOW_PLAYING, platform="ios-16.4", devices=(("p", "airpods-pro"),)),
        lambda r: r.disconnect("p"), [(RC, "oldDeviceUnavailable")], ((), (SPK,)), after={"active": True}),
    # headOffLeavesRoute (scenario-format addition): headphones taken off act as both buds out, put back on as
    # both back in; without the switch taking them off changes no route and not their place in the order
    Row("head-off-now-playing-route-disconnected",
        dict(**NOW_PLAYING, devices=(("m", "airpods-max"),), behavior=OFF_LEAVES),
        lambda r: r.call("worn", "m", False), [(RC, "oldDeviceUnavailable"), ("interruption", "began")],
        ((), (SPK,)), after={"active": False, "interruptionReasons": ["routeDisconnected"]}),
    Row("head-off-of-unused-headphones",
        dict(**NOW_PLAYING, devices=(("m", "airpods-max"), ("w", "wired-headphones")), behavior=OFF_LEAVES),
        lambda r: r.call("worn", "m", False), [], ((), (HP,)), after={"active": True}),
    Row("headphones-put-on-take-the-route-from-a-newer-device",
        dict(category="playback", devices=(("m", "airpods-max"), ("w", "wired-headphones")), behavior=OFF_LEAVES),
        lambda r: (r.call("worn", "m", False), r.notes(), r.call("worn", "m", True)),
        [(RC, "newDeviceAvailable")], ((), (A2DP,))),
    Row("head-off-without-the-switch-keeps-their-place",
        dict(category="playback", devices=(("m", "airpods-max"), ("w", "wired-headphones"))),
        lambda r: (r.call("worn", "m", False), r.call("set_category", "ambient", "default", ())),
        [(RC, "categoryChange")], ((), (HP,))),
    # contract (pickRoute: the choice holds until the route next changes for another reason): a device the
    # route does not use leaving is no such change; the picked device leaving ends the choice
    Row("picked-speaker-outlives-an-unused-device-leaving",
        dict(category="playback", devices=(("w", "wired-headphones"), ("p", "airpods-pro"))),
        lambda r: (r.call("pick_route", "speaker"), r.notes(), r.disconnect("w")), [], ((), (SPK,)),
        after={"picked": "speaker"}),
    Row("picked-device-leaving-ends-the-choice",
        dict(category="playback", devices=(("p", "airpods-pro"), ("w", "wired-headphones"))),
        lambda r: (r.call("pick_route", "p"), r.notes(), r.disconnect("p")), [(RC, "oldDeviceUnavailable")],
        ((), (HP,)), after={"picked": None}),
    # ...and a new device taking the route ends it too (the route changed for another reason), so the next
    # change finds no choice standing
    Row("picked-speaker-ends-when-a-new-device-takes-the-route",
        dict(category="playback", devices=(("p", "airpods-pro"),), spare=(("w", "wired-headphones"),)),
        lambda r: (r.call("pick_route", "speaker"), r.notes(), r.connect("w")), [(RC, "newDeviceAvailable")],
        ((), (HP,)), after={"picked": None}),
    # no choice stands before the user makes one: a rig's report in the default category is decided
    # without the picker (contract: pickRoute's choice holds until the route next changes)
    Row("no-picker-choice-before-one-is-made", dict(devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "hfp"), [(RC, "routeConfigurationChange")], ((), (SPK,)),
        not_decided=("route.picker",), after={"picked": None}),
    # --- the session model's own steps, as the third mutation pass showed them unpinned ---
    # Doc-RouteChangeReason: a category change posts categoryChange (notify.category-change); a change of
    # options in the same category that moves the route posts categoryChange too, under its own rule
    # (notify.config-route-change) [ASPG-Route; INF scenario-format decisions]
    Row("category-change-names-its-rule", dict(category="playAndRecord"),
        lambda r: r.call("set_category", "playback", "default", ()), [(RC, "categoryChange"), AIC], ((), (SPK,)),
        note_rules=["notify.category-change", "notify.available-inputs-change"]),
    Row("options-moving-the-route-name-their-rule", dict(category="playAndRecord"),
        lambda r: r.call("set_category", "playAndRecord", "default", ("defaultToSpeaker",)), [(RC, "categoryChange")],
        ((MIC,), (SPK,)), note_rules=["notify.config-route-change"]),
    # [DOC H-Types26] shortFormVideo exists from iOS 26.0: asking for it earlier fails with badParam
    Row("mode-newer-than-platform", dict(platform="ios-18.0"),
        lambda r: r.call("set_category", "playback", "shortFormVideo", ()), [], None, error="badParam",
        message="mode shortFormVideo does not exist before iOS 26.0", after={"category": "soloAmbient"}),
    # bt commands follow what the phone wants: leaving voice chat asks the headset for A2DP (its codec), a
    # category without Bluetooth asks a headset on HFP for no profile, and a wired device gets no command
    Row("leaving-voice-chat-asks-for-a2dp", dict(category="playAndRecord", mode="voiceChat",
                                                 devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("set_category", "playback", "default", ()), [(RC, "categoryChange"), AIC], ((), (A2DP,)),
        after={"commands": [("p", "a2dp", "aac")]}),
    Row("record-without-bluetooth-asks-hfp-for-nothing", dict(category="playAndRecord", mode="voiceChat",
                                                              devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("set_category", "record", "default", ()), [(RC, "categoryChange"), AIC], ((MIC,), ()),
        after={"commands": [("p", "none", None)]}),
    Row("a-wired-device-gets-no-command", dict(category="playback", devices=(("w", "wired-headphones"),)),
        lambda r: r.disconnect("w"), [(RC, "oldDeviceUnavailable")], ((), (SPK,)), after={"commands": []}),
    # the picker is the user's choice: it replaces the app's speaker override [DOC QA1754: the override
    # lasts until the route changes] and posts override (contract)
    Row("pick-replaces-the-speaker-override",
        dict(category="playAndRecord", options=("allowBluetoothHFP",), devices=(("p", "airpods-pro"),)),
        lambda r: (r.call("override_output", "speaker"), r.notes(), r.call("pick_route", "p")),
        [(RC, "override")], ((HFP,), (HFP,)), after={"override": False, "picked": "p"}),
    # --- rules the mutation run showed unpinned (expectations from each rule's cited source) ---
    # [DOC H-Errors] badParam / [DEV forum-769168]: asking for more input channels than the route offers fails
    # with -50; fewer than one is no channel count at all [INF]; the route's own maximum is accepted
    Row("input-channels-zero", dict(category="playAndRecord", active=True),
        lambda r: r.call("set_preferred_input_channels", 0), [], None, error="badParam",
        message="0 input channels requested; the route offers 1",
        fires=("format.input-channels-bad-count",)),
    Row("input-channels-above-the-route", dict(category="playAndRecord", active=True),
        lambda r: r.call("set_preferred_input_channels", 2), [], None, error="badParam",
        message="2 input channels requested; the route offers 1",
        fires=("format.input-channels-bad-count",)),
    Row("input-channels-at-the-route-maximum", dict(category="playAndRecord", active=True),
        lambda r: r.call("set_preferred_input_channels", 1), [], None, after={"inputChannels": 1}),
    # [DOC H-Session17]: inputNumberOfChannels follows the preferred count within the route's maximum (USB: 2)
    Row("input-channels-fewer-than-usb-offers",
        dict(category="playAndRecord", active=True, devices=(("usb", "usb-audio"),)),
        lambda r: r.call("set_preferred_input_channels", 1), [], (("usbAudio",), ("usbAudio",)),
        after={"inputChannels": 1}),
    # [DOC H-Types]: voiceChat turns allowBluetoothHFP on, so the mode change moves the route; an option or
    # mode change posts categoryChange (notify.config-route-change [INF, Doc-RouteChangeReason])
    Row("mode-change-moves-route", dict(category="playAndRecord", devices=(("h", "generic-headset"),)),
        lambda r: r.call("set_mode", "voiceChat"), [(RC, "categoryChange"), AIC], ((HFP,), (HFP,)),
        note_rules=["notify.config-route-change", "notify.available-inputs-change"]),
    # [DOC H-Types26]: shortFormVideo exists from iOS 26.0; setMode checks the platform like setCategory
    Row("mode-newer-than-platform", dict(platform="ios-18.0", category="playAndRecord"),
        lambda r: r.call("set_mode", "shortFormVideo"), [], ((MIC,), (RCV,)), error="badParam",
        message="mode shortFormVideo does not exist before iOS 26.0", after={"mode": "default"}),
    # [DOC QA1749]: after a reset every setting is gone (no override, no preferred input, nothing playing)
    Row("media-services-reset-clears-choices", dict(**PAR_HFP, active=True, devices=(("h", "generic-headset"),)),
        lambda r: (r.call("set_preferred_input", "h"), r.call("override_output", "speaker"), r.call("player", True),
                   r.notes(), r.call("media_services_reset")),
        [("mediaServicesWereLost",), ("mediaServicesWereReset",)], ((), (A2DP,)),  # soloAmbient: A2DP implied
        not_decided=("route.picker",),
        after={"override": False, "preferredInput": None, "ioRunning": False, "active": False}),
    # [DOC H-Types26] + QA1749: availableInputs after the reset is the baseline; ambient has no input either,
    # so the next category change posts no availableInputsChange
    Row("media-services-reset-then-ambient", dict(),
        lambda r: (r.call("media_services_reset"), r.notes(), r.call("set_category", "ambient", "default", ())),
        [(RC, "categoryChange")], ((), (SPK,))),
    # [DOC H-Session17] (notifyOthersOnDeactivation) + H-Types (shouldResume): the app it interrupted resumes
    Row("notify-others-resumes-the-interrupted", dict(category="playback", active=True, others={"music": MUSIC}),
        lambda r: r.call("set_active", False, ("notifyOthersOnDeactivation",)), [], None,
        fires=("activate.notify-others", "activate.others-resume"), after={"others": {"music": "playing"}}),
    # ...and only the sessions this app interrupted: one another app interrupted stays interrupted
    Row("notify-others-leaves-another-apps-interruption",
        dict(category="playback", options=("mixWithOthers",),
             others={"music": MUSIC, "radio": ("playback", "default", (), False)}),
        lambda r: (r.call("other_play", "radio"), r.call("set_active", True),
                   r.call("set_active", False, ("notifyOthersOnDeactivation",))), [], None,
        after={"others": {"music": "interrupted", "radio": "playing"}}),
    # [DOC H-Types]: a suspended app's session is deactivated and its I/O (player, engine) stops with it
    Row("suspension-stops-the-player", dict(category="playback", active=True),
        lambda r: (r.call("player", True), r.call("set_app_state", "background")), [], None,
        fires=("activate.suspended",), after={"active": False, "ioRunning": False}),
    Row("suspension-stops-the-engine", dict(category="playback", active=True),
        lambda r: (start_engine(r), r.call("set_app_state", "background")), [], None,
        after={"active": False, "ioRunning": False}),
    # Doc-PortOverride: `none` gives back the category's route; the route picker played no part
    Row("override-speaker-then-none", dict(category="playAndRecord"),
        lambda r: (r.call("override_output", "speaker"), r.notes(), r.call("override_output", "none")),
        [(RC, "override")], ((MIC,), (RCV,)), not_decided=("route.picker",), after={"override": False}),
    # [DOC Doc-setPreferredInput, Doc-record]: in record the built-in mic can be preferred over a headset
    Row("record-prefers-the-built-in-mic",
        dict(category="record", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"),)),
        lambda r: r.call("set_preferred_input", "builtInMic"), [(RC, "override")], ((MIC,), ()),
        decided=("route.record-no-output", "route.preferred-input"),
        after={"preferredInput": "builtInMic", "inputName": "iPhone Microphone", "links": {}}),
    # ...and an older device over the newest; its HFP link carries the input (Doc-allowBluetooth)
    Row("record-prefers-the-older-headset",
        dict(category="record", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"), ("w", "wired-headset"))),
        lambda r: r.call("set_preferred_input", "h"), [(RC, "override")], ((HFP,), ()),
        decided=("route.preferred-input", "route.hfp-both-ways"), after={"links": {"h": "hfp"}}),
    # [DOC H-Types, QA1754]: without a preference the newest allowed input records (last-in wins)
    Row("record-newest-of-two",
        dict(category="record", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"), ("w", "wired-headset"))),
        lambda r: None, [], (("headsetMic",), ()), decided=("route.last-in-wins",),
        not_decided=("route.hfp-both-ways", "route.preferred-input"), after={"links": {"w": "wired"}}),
    # Doc-PortDescription / [DEV hackmd-tacl-tsco]: a CarPlay port's UID carries the car's address
    Row("record-from-carplay", dict(category="record", devices=(("car", "carplay"),)),
        lambda r: None, [], (("carAudio",), ()),
        after={"inputUid": lambda r: f"{r.phone.accessories['car'].info.address}-Audio-AudioMain-1"}),
    # route.rig-link [INF, live-rigs]: a rig carrying A2DP gives record no input from the pods
    Row("rig-a2dp-gives-record-no-input",
        dict(category="record", options=("allowBluetoothHFP",), devices=(("p", "airpods-pro-2"),)),
        lambda r: r.call("rig_link_changed", "p", "a2dp"), [(RC, "routeConfigurationChange"), AIC], ((MIC,), ()),
        decided=("route.rig-link",)),
    # [DOC H-Types]: without allowBluetoothHFP record cannot use the headset, so a preference for it cannot stand;
    # the built-in mic records (the same configuration category: categoryChange [INF notify.config-route-change])
    Row("record-preference-loses-its-link",
        dict(category="record", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"),)),
        lambda r: (r.call("set_preferred_input", "h"), r.notes(), r.call("set_category", "record", "default", ())),
        [(RC, "categoryChange"), AIC], ((MIC,), ())),
    # [INF] (route.picker): the app's own preferred input supersedes the user's picker choice, so the route goes
    # back to what the category gives (A2DP out, built-in mic in: Doc-A2DP) and the picker no longer decides
    Row("preferred-input-supersedes-the-picker",
        dict(category="playAndRecord", options=("allowBluetoothA2DP",), devices=(("p", "airpods-pro"),)),
        lambda r: (r.call("pick_route", "speaker"), r.notes(), r.call("set_preferred_input", "builtInMic")),
        [(RC, "override")], ((MIC,), (A2DP,)), not_decided=("route.picker",)),
    # H-Types: multiRoute without a wired input records from the built-in mic
    Row("multiroute-headphones-only", dict(devices=(("hp", "wired-headphones"),)),
        lambda r: r.call("set_category", "multiRoute", "default", ()), [(RC, "categoryChange"), AIC],
        ((MIC,), ("headphones",)), after={"inputName": "iPhone Microphone", "outputOwners": ("hp",)}),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_transition(row: Row):
    rig = make_rig(**row.setup)
    error = rig.do(row.event)
    assert (error.name if error else None) == row.error
    if row.message is not None:
        assert error.detail == row.message
    assert rig.notes() == row.notes
    if row.note_rules is not None:
        assert [n.rule for n in rig.taken] == row.note_rules
    assert set(row.fires) <= set(rig.phone.fired), rig.phone.fired
    assert set(row.decided) <= set(rig.phone.decision.rules), rig.phone.decision.rules
    assert not set(row.not_decided) & set(rig.phone.decision.rules), rig.phone.decision.rules
    if row.route is not None:
        assert rig.route() == row.route
    for name, expected in row.after.items():
        expected = expected(rig) if callable(expected) else expected  # a value that depends on the rig
        assert READERS[name](rig) == expected, name


def fired_by_rows() -> set[str]:
    """Rules the table exercises (the rule-coverage test adds these to the scenarios')."""
    fired: set[str] = set()
    for row in ROWS:
        rig = make_rig(**row.setup)
        rig.do(row.event)
        fired |= rig.fired
    return fired


# accessory.battery-parts [INF; capod, openpods; scenario-format: a single-unit headset uses left]: a model keeps
# the levels of the parts it has, and the rule says so only when a level was dropped.
# (model, levels reported, levels kept, rule fired)
BATTERY_ROWS = {
    "buds-and-case-keep-all-three": ("airpods-pro", {"left": 80, "right": 70, "case": 50},
                                     {"left": 80, "right": 70, "case": 50}, False),
    "buds-with-an-unknown-part-left-out": ("airpods-pro", {"left": 80, "right": None}, {"left": 80}, False),
    "single-unit-keeps-left-only": ("beats-solo-3", {"left": 60, "right": 50, "case": 40}, {"left": 60}, True),
    "single-unit-with-left-alone": ("beats-solo-3", {"left": 60}, {"left": 60}, False),
    "no-battery-keeps-nothing": ("wired-headphones", {"left": 60}, {}, True),
}


@pytest.mark.parametrize("model, levels, kept, fired", BATTERY_ROWS.values(), ids=BATTERY_ROWS.keys())
def test_battery_levels_a_model_keeps(model, levels, kept, fired):
    rig = make_rig(devices=(("p", model),))
    rig.phone.begin_step()
    rig.call("battery", "p", levels)
    assert rig.phone.accessory_view("p")["battery"] == kept
    assert ("accessory.battery-parts" in rig.phone.fired) is fired


# what the route picker offers [contract: pickRoute; the receiver only in playAndRecord on an iPhone, never a
# disconnected accessory; Doc-AVRoutePickerView: the picker lists the outputs the route can take]
# (setup, event before asking, offered, not offered)
PICKER_ROWS = {
    "playback-on-iphone": (dict(category="playback"), None, ["speaker"], ["receiver"]),
    "playandrecord-on-iphone": (dict(category="playAndRecord"), None, ["speaker", "receiver"], []),
    "playandrecord-on-ipad": (dict(category="playAndRecord", hardware="ipad"), None, ["speaker"], ["receiver"]),
    "wired-headphones": (dict(category="playback", devices=(("w", "wired-headphones"),)), None, ["w"], []),
    "airpods-for-playback": (dict(category="playback", devices=(("p", "airpods-pro"),)), None, ["p"], []),
    "airpods-with-both-buds-out": (dict(category="playback", devices=(("p", "airpods-pro"),)),
                                   lambda r: r.call("ears", "p", "out", "out"), [], ["p"]),
    "hfp-only-headset-in-playback": (dict(category="playback", devices=(("h", "generic-hfp-only"),)), None, [], ["h"]),
    "record-has-no-output-to-pick": (dict(category="record", options=("allowBluetoothHFP",),
                                          devices=(("h", "generic-headset"),)), None, [], ["h", "receiver"]),
}


@pytest.mark.parametrize("setup, event, offered, not_offered", PICKER_ROWS.values(), ids=PICKER_ROWS.keys())
def test_what_the_route_picker_offers(setup, event, offered, not_offered):
    rig = make_rig(**setup)
    if event:
        event(rig)
    offers = rig.phone.picker_offers()
    assert set(offered) <= set(offers) and not set(not_offered) & set(offers), offers


# a step the model cannot perform says what is wrong (a scenario error the user reads)
STEP_ERROR_ROWS = {
    "an-accessory-the-phone-does-not-know": (dict(), lambda r: r.call("disconnect", "x"), "no accessory 'x'"),
    "disconnect-when-not-connected": (dict(spare=(("p", "airpods-pro"),)), lambda r: r.call("disconnect", "p"),
                                      "accessory 'p' is not connected"),
    "ears-when-not-connected": (dict(spare=(("p", "airpods-pro"),)), lambda r: r.call("ears", "p", "out", None),
                                "accessory 'p' is not connected; its buds are in the case"),
    "worn-when-not-connected": (dict(spare=(("m", "airpods-max"),)), lambda r: r.call("worn", "m", False),
                                "accessory 'm' is not connected"),
    "pick-what-is-not-offered": (dict(category="playAndRecord", devices=(("w", "wired-headset"),)),
                                 lambda r: r.call("pick_route", "p"),
                                 "the route picker does not offer 'p' now (it offers speaker, receiver, w)"),
}


@pytest.mark.parametrize("setup, event, message", STEP_ERROR_ROWS.values(), ids=STEP_ERROR_ROWS.keys())
def test_an_accessory_step_that_cannot_be_done_says_why(setup, event, message):
    rig = make_rig(**setup)
    with pytest.raises(StepError) as err:
        event(rig)
    assert str(err.value) == message


# [DOC H-Types]: multiRoute's eligible outputs are USB, line out, headphones and HDMI (CarPlay is not one).
# No bundled model has a line-out or HDMI port, so these rows give a wired adapter each port type.
MULTIROUTE_OUTPUTS = [("lineOut", "lineOut"), ("HDMI", "HDMI"), ("usbAudio", "usbAudio"), ("carAudio", SPK)]


@pytest.mark.parametrize("port, expected", MULTIROUTE_OUTPUTS, ids=[p for p, _ in MULTIROUTE_OUTPUTS])
def test_multiroute_outputs(port: str, expected: str):
    adapter = replace(default_catalog().get("wired-headphones"), output_port=port)
    state = PolicyState(Configuration("multiRoute"), (Device("a", adapter, "Adapter", "00:00:00:00:00:0A", 1),))
    assert [p.type for p in decide(state).route.outputs] == [expected]


# [DOC H-Types26] bluetoothHighQualityRecording records from the Bluetooth headset in high quality; [INF] one
# microphone is enough for it, and a model the catalog marks as supporting it but which has no microphone
# has nothing to record from (the policy leaves it out, and without allowBluetoothHFP the call goes to the
# receiver). The bundled supporting models have several microphones, so these rows vary the count.
HQ_MICROPHONES = [(0, False), (1, True), (2, True)]


@pytest.mark.parametrize("microphones, high_quality", HQ_MICROPHONES, ids=[f"{m}-mics" for m, _ in HQ_MICROPHONES])
def test_high_quality_recording_needs_a_microphone(microphones: int, high_quality: bool):
    model = next(m for m in default_catalog().models() if m.high_quality_recording)
    headset = Device("a", replace(model, microphones=microphones), "Headset", "00:00:00:00:00:0A", 1)
    state = PolicyState(Configuration("playAndRecord", explicit=frozenset({"bluetoothHighQualityRecording"})),
                        (headset,))
    decision = decide(state)
    assert ("a" in decision.links and decision.links["a"].high_quality) is high_quality
    assert [p.type for p in decision.route.inputs] == (["bluetoothHFP"] if high_quality else ["builtInMic"])
    assert ("route.bt-high-quality" in decision.rules) is high_quality
