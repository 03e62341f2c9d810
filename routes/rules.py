"""Every behaviour rule of the session model and the route policy, with the source it rests on.

Code refers to rules by id; ``routesim explain`` prints them; a test checks that every rule here is
exercised by a bundled scenario or a table-driven test. References are to ../shared/reference/.
"""
from __future__ import annotations

from dataclasses import dataclass

from profiles.provenance import Source, Tag


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    summary: str
    source: Source

    def __str__(self) -> str:
        return f"{self.id}: {self.summary} {self.source}"


def _r(id_: str, tag: Tag, ref: str, summary: str) -> Rule:
    return Rule(id_, summary, Source(tag, ref))


DOC, DTS, DEV, INF = Tag.DOC, Tag.DTS, Tag.DEV, Tag.INF

_RULES = (
    # Configuration: categories, modes, options
    _r("config.option-validity", DOC, "ios-audio-session §1.2 (H-Types)",
       "an option the category does not allow makes setCategory fail; state is left unchanged"),
    _r("config.invalid-error-code", INF, "ios-audio-session §1.4 (DEV audio_session#127 vs audiobookshelf#334)",
       "an invalid combination fails with badParam (-50); switch invalidOptionError gives 'what'"),
    _r("config.mode-validity", DOC, "ios-audio-session §2 (H-Types); DEV whisper.rn#238",
       "a mode the category does not support fails with badParam and leaves state unchanged"),
    _r("config.a2dp-cleared", DOC, "ios-audio-session §1.2, §3 (Doc-A2DP)",
       "allowBluetoothA2DP is implicitly cleared for record and multiRoute"),
    _r("config.a2dp-implicit", DOC, "ios-audio-session §3 (H-Types)",
       "output-only categories allow A2DP implicitly; it does not read back"),
    _r("config.ambient-mixes", DOC, "ios-audio-session §1.1 (ASPG-B)",
       "ambient is mixable implicitly"),
    _r("config.duck-implies-mix", DOC, "ios-audio-session §3 (H-Types)",
       "duckOthers and interruptSpokenAudioAndMixWithOthers set mixWithOthers, which reads back"),
    _r("config.chat-implies-hfp", DOC, "ios-audio-session §2 (Doc-voiceChat, H-Types)",
       "voiceChat and gameChat allow Bluetooth HFP implicitly"),
    _r("config.videochat-implies-speaker", DOC, "ios-audio-session §2 (H-Types)",
       "videoChat allows HFP and defaultToSpeaker implicitly"),
    _r("config.setmode-clears-options", DEV, "ios-audio-session §2.1 (forum 745968, WebRTC workaround)",
       "setMode keeps only the options the new mode implies (switch setModeClearsOptions)"),
    _r("config.setmode-keeps-options", DOC, "ios-audio-session §2.1 (H-Types says nothing of clearing)",
       "setMode keeps the explicit options and adds the mode's (setModeClearsOptions: false)"),
    _r("config.options-not-sticky", DOC, "ios-audio-session §1.1 (H-Types)",
       "options are not sticky across category changes: setCategory replaces them"),
    _r("config.option-platform", DOC, "ios-audio-session §1.2, §3 (latest header)",
       "an option newer than the platform does not exist there and fails with badParam"),
    # Routing
    _r("route.output-only-last-in", DOC, "ios-audio-session §4.1 (Doc-A2DP, H-Types), §4.3",
       "output-only categories use the most recently connected allowed output, else the speaker"),
    _r("route.hfp-only-not-for-playback", DOC, "ios-audio-session §4.1 (H-Types)",
       "HFP-only devices are not used by output-only categories"),
    _r("route.playandrecord-receiver", DOC, "ios-audio-session §1.1, §4.1 (ASPG-Basics, H-Types)",
       "playAndRecord with no external route plays through the receiver on iPhone"),
    _r("route.no-receiver-speaker", INF, "ios-audio-session §4.1 (a device with no receiver)",
       "a device with no receiver (iPad) uses the speaker where an iPhone uses the receiver"),
    _r("route.default-to-speaker", DOC, "ios-audio-session §3, §4.4 (H-Types)",
       "defaultToSpeaker uses the speaker instead of the receiver when no other route is connected"),
    _r("route.headset-over-default-to-speaker", DOC, "ios-audio-session §4.4 (QA1754, header)",
       "a headset connected later takes the route from defaultToSpeaker (switch headsetOverridesDefaultToSpeaker)"),
    _r("route.default-to-speaker-keeps", DOC, "ios-audio-session §4.4 (current defaultToSpeaker page)",
       "with headsetOverridesDefaultToSpeaker: false, a device connected later does not take the route"),
    _r("route.bt-needs-option", DOC, "ios-audio-session §4.1 (H-Types; DEV spotify#440)",
       "playAndRecord without a Bluetooth option ignores Bluetooth headsets"),
    _r("route.hfp-both-ways", DOC, "ios-audio-session §4.1 (Doc-allowBluetooth)",
       "an HFP route carries both input and output of the same device"),
    _r("route.a2dp-with-category-input", DOC, "ios-audio-session §4.1 (H-Types)",
       "A2DP output in playAndRecord records through the category-appropriate input (built-in or wired mic)"),
    _r("route.hfp-before-a2dp", DOC, "ios-audio-session §4.1 (H-Types, Doc-A2DP)",
       "on one device that supports both and with both allowed, HFP wins"),
    _r("route.last-in-wins", DOC, "ios-audio-session §4.3 (H-Types, QA1754); recency stack [INF]",
       "between devices the most recently connected allowed one wins; removing it falls back to the next"),
    _r("route.wired-headset", DOC, "ios-audio-session §4.1 (Doc-PortDescription)",
       "a wired headset gives Headphones out and HeadsetMic in"),
    _r("route.record-no-output", DOC, "ios-audio-session §1.1, §4.1 (Doc-record)",
       "record has no output; its input is the most recent allowed input"),
    _r("route.override-speaker", DOC, "ios-audio-session §4.4 (Doc-override, Doc-PortOverride.speaker)",
       "overrideOutputAudioPort(.speaker) routes to the speaker and the built-in mic regardless of other settings"),
    _r("route.override-cleared", DOC, "ios-audio-session §4.4 (H-Session17, QA1754)",
       "the speaker override lasts until the route next changes or an interruption"),
    _r("route.override-needs-playandrecord", DOC, "ios-audio-session §4.4 (PortOverride.speaker)",
       "the speaker override is valid only in playAndRecord; elsewhere it fails with badParam"),
    _r("route.preferred-input", DOC, "ios-audio-session §4.2 (Doc-setPreferredInput)",
       "a preferred input that is available selects the input"),
    _r("route.preferred-hfp-moves-output", DOC, "ios-audio-session §4.2 (Doc-allowBluetooth)",
       "preferring an HFP input moves the output to the same device's HFP"),
    _r("route.preferred-input-not-available", INF, "ios-audio-session §4.2 (the port must be in availableInputs)",
       "setPreferredInput with a port not in availableInputs fails with badParam"),
    _r("route.preferred-input-lost", DOC, "ios-audio-session §4.2 (Doc-preferredInput; DEV forum 737196)",
       "preferredInput reads nil once the port is gone, and a newly connected input takes over"),
    _r("route.picker", INF, "scenario-format decisions; ios-audio-session §4.5 (AVRoutePickerView)",
       "the user's route-picker choice holds until the route next changes; with an input device it takes the input too"),
    _r("route.quirk", INF, "spec/model-catalog.md (quirks); each quirk names its own report",
       "a model quirk changed the route"),
    _r("route.available-inputs", DOC, "ios-audio-session §4.6",
       "availableInputs follows the category and mode: none for output-only, HFP only with the HFP option"),
    _r("route.earbuds-out", INF, "scenario-format decisions; ios-audio-session §11 (automatic ear detection)",
       "both buds out leave the route; one bud out keeps it; back in returns it"),
    # Route-change notifications
    _r("notify.new-device", DOC, "ios-audio-session §6.1 (Doc-RouteChangeReason)",
       "a connected device that takes the route posts newDeviceAvailable"),
    _r("notify.old-device", DOC, "ios-audio-session §6.1 (Doc-RouteChangeReason)",
       "losing a device in the route posts oldDeviceUnavailable with the previous route"),
    _r("notify.category-change", DOC, "ios-audio-session §1.1, §6.1 (ASPG-Route)",
       "a category change posts categoryChange, even for the app's own setCategory"),
    _r("notify.config-route-change", INF, "ios-audio-session §12.5",
       "an option or mode change that moves the route posts categoryChange"),
    _r("notify.override", DOC, "ios-audio-session §4.4, §6.1 (H-Types)",
       "the speaker override, the route picker and a preferred-input move post override"),
    _r("notify.rename", INF, "ios-audio-session §11, §13.6 (not verified)",
       "renaming a device in the route posts routeConfigurationChange; elsewhere nothing"),
    _r("notify.always-posted", INF, "scenario-format decisions",
       "route changes are posted whether the session is active or not"),
    # Hardware format
    _r("format.built-in-48k", DEV, "ios-audio-session §10.1 (MobMuPlat#27, AudioKit PR#2935)",
       "built-in, wired and USB ports run at 48 kHz"),
    _r("format.a2dp-rate", INF, "ios-audio-session §10.1 (DEV deadbeef#1910); scenario-format decisions",
       "an A2DP output runs at the model's A2DP rate, and sets the session rate when input is elsewhere"),
    _r("format.hfp-codec-rate", DEV, "ios-audio-session §10.1 (HaishinKit#163, twilio#456, audiolab#35)",
       "an HFP route runs at its codec's rate: CVSD 8 kHz, mSBC 16 kHz, Apple LC3 24 kHz"),
    _r("format.no-input-zero-channels", DOC, "ios-audio-session §10.1 (H-Session17 getters return 0)",
       "inputNumberOfChannels is 0 with no input route or an inactive session"),
    _r("format.channels", INF, "scenario-format decisions",
       "HFP is mono both ways; built-in, wired and A2DP outputs are stereo"),
    _r("format.preferred-rate-not-honoured", DEV, "ios-audio-session §7.3 (openradar 19156110), §10.1 (audiolab#35)",
       "a preferred sample rate reads back but the hardware keeps the route's rate"),
    _r("format.io-buffer", DEV, "ios-audio-session §10.1 (webrtc-sdk RTCAudioSessionConfiguration.m)",
       "IOBufferDuration is a power-of-two frame count near the preferred duration (10 ms at 48 kHz gives 512 frames)"),
    _r("format.input-channels-incompatible", DOC, "ios-audio-session §7.2 (incompatibleCategory)",
       "setPreferredInputNumberOfChannels in a category without input fails with incompatibleCategory"),
    # Activation and other apps
    _r("activate.background-non-mixable", DOC, "ios-audio-session §7.2 (cannotInterruptOthers); scenario-format decisions",
       "a non-mixable activation from the background fails with cannotInterruptOthers unless the app is Now Playing"),
    _r("activate.call-priority", DOC, "ios-audio-session §7.1 (H-Session17)",
       "while another app hosts a call, record and playAndRecord activation fails with insufficientPriority"),
    _r("activate.deactivate-busy", DOC, "ios-audio-session §7.1, §7.2 (isBusy)",
       "deactivating with I/O running deactivates anyway and reports isBusy (iOS 8+)"),
    _r("activate.interrupts-non-mixable", DOC, "ios-audio-session §1.1, §8.1 (ASPG)",
       "a non-mixable activation interrupts other non-mixable sessions; mixable ones keep playing"),
    _r("activate.ducks-others", DOC, "ios-audio-session §3 (H-Types duckOthers)",
       "duckOthers lowers other apps' audio while the session is active"),
    _r("activate.unduck-on-deactivate", DOC, "ios-audio-session §3 (H-Types duckOthers)",
       "other audio is un-ducked when the ducking session deactivates"),
    _r("activate.interrupt-spoken", DOC, "ios-audio-session §3 (H-Types interruptSpokenAudioAndMixWithOthers)",
       "interruptSpokenAudioAndMixWithOthers interrupts other apps in spokenAudio mode and mixes with the rest"),
    _r("activate.notify-others", DOC, "ios-audio-session §7.1, §8.1",
       "notifyOthersOnDeactivation sends ended with shouldResume to the sessions this one interrupted"),
    _r("activate.others-resume", INF, "ios-audio-session §8.1 (what shouldResume is for)",
       "another app that was playing resumes when it gets ended with shouldResume"),
    _r("activate.own-player-not-other", DOC, "ios-audio-session §1.1 (ducking is of other apps' audio)",
       "the app's own player shares its session: never ducked by it, never 'other' audio"),
    _r("activate.implicit", DOC, "ios-audio-session §10.3 (ASPG 'Activating an Audio Session')",
       "playing or recording activates an inactive session implicitly"),
    _r("activate.suspended", DOC, "ios-audio-session §8.1 (H-Types: since iOS 10 sessions of suspended apps are deactivated)",
       "an app without background audio that goes to the background is suspended and its session deactivated silently"),
    # Interruptions
    _r("interrupt.began", DOC, "ios-audio-session §8.1 (ASPG-Int)",
       "an interruption deactivates the session and stops its audio; the app gets began"),
    _r("interrupt.ended-should-resume", DOC, "ios-audio-session §8.1",
       "when the interrupting app deactivates with notifyOthersOnDeactivation, the app gets ended with shouldResume"),
    _r("interrupt.mixable-not-interrupted", DOC, "ios-audio-session §1.1, §8.1 (ASPG)",
       "a mixable session is not interrupted by another app's non-mixable session"),
    _r("interrupt.secondary-hint", DOC, "ios-audio-session §8.1 (H-Types, H-Session17)",
       "a foreground app with an active session gets silenceSecondaryAudioHint begin/end as other primary audio starts/stops"),
    _r("interrupt.other-audio-playing", DOC, "ios-audio-session §8.1 (isOtherAudioPlaying)",
       "isOtherAudioPlaying counts every other app playing; the hint only non-mixable (primary) audio"),
    _r("interrupt.route-disconnected", DOC, "ios-audio-session §8.1 (H-Session17, iOS 17)",
       "on iOS 17+, a Now Playing session is interrupted with routeDisconnected when its route disconnects"),
    _r("interrupt.media-services-reset", DOC, "ios-audio-session §6.1 (QA1749)",
       "a media-services reset posts lost then reset; the session must be configured and activated again"),
)

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
