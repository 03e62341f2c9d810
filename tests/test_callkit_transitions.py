"""CallKit and cellular calls as table rows: start state, event, expected notifications, end state.

Each row's expectation comes from the public source its comment cites (keys in docs/sources.md), not
from the model. Start states are built by the named recipes in START; the event runs on
the virtual clock, so delayed fulfils and timeouts happen inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from routesim.routes.phone.callkit import CallCenter
from routesim.routes.phone.cellular import Cellular
from routesim.routes.phone.errors import StepError
from tests.phone_rig import Rig, make_rig

RC, ACT, DEACT, INT, TO = "routeChange", "didActivate", "didDeactivate", "interruption", "timedOutPerforming"
MIC, RCV, SPK = "builtInMic", "builtInReceiver", "builtInSpeaker"
VOICE = dict(category="playAndRecord", mode="voiceChat")


@dataclass
class Ctx:
    rig: Rig
    center: CallCenter
    cell: Cellular
    error_text: str = ""  # what the user reads of the step's error (StepError or the session/CallKit error)
    error_rule: str | None = None  # the rule a refused CallKit request names (shown by `explain`)

    def _do(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return self.rig.manager.call(fn, *args)
        finally:
            self.rig.fired.update(self.rig.phone.fired)  # each call starts a new step: keep its rules

    def ck(self, method: str, *args: Any) -> Any:
        return self._do(getattr(self.center, method), *args)

    def gsm(self, method: str, *args: Any) -> Any:
        return self._do(getattr(self.cell, method), *args)

    def app(self, method: str, *args: Any) -> Any:
        return self._do(getattr(self.rig.phone, method), *args)

    def wait(self, seconds: float) -> None:
        self.rig.clock.advance(seconds)
        self.rig.fired.update(self.rig.phone.fired)


def notes(ctx: Ctx) -> list[tuple]:
    out = []
    for n in ctx.rig.manager.take_notifications():
        if n.name == "availableInputsChange":
            continue  # iOS 26's companion of a routeChange (a routing rule), not a call notification
        detail = {RC: "reason", INT: "type", TO: "action"}.get(n.name)
        detail = n.fields.get(detail) if detail else None
        out.append((n.name, detail) if detail else (n.name,))
    return out


# ---------------------------------------------------------------------- start states
def _ringing(c: Ctx) -> None:
    c.ck("report_incoming", "v")


def _active(c: Ctx) -> None:
    _ringing(c)
    c.ck("answer", "v")


def _held_for_gsm(c: Ctx) -> None:
    _active(c)
    c.gsm("incoming", "g")
    c.gsm("answer", "g", True)


def _held_after_remote_end(c: Ctx) -> None:
    _held_for_gsm(c)
    c.gsm("end", "g", "remote")


def _unheld_without_activation(c: Ctx) -> None:
    _held_after_remote_end(c)
    c.ck("unhold", "v")


def _app_active(c: Ctx) -> None:
    c.app("set_active", True)


def _speaker_call_ended(c: Ctx) -> None:
    _active(c)
    c.ck("speaker", True)
    c.ck("end", "v", "local", 0.0)


def _no_holding_active(c: Ctx) -> None:
    c.ck("configure", False, None, None)
    _active(c)


def _gsm_ringing(c: Ctx) -> None:
    c.app("set_active", True)
    c.gsm("incoming", "g")


def _gsm_answered(c: Ctx) -> None:
    _gsm_ringing(c)
    c.gsm("answer", "g", False)


def _first_call_done(c: Ctx) -> None:
    _active(c)
    c.ck("end", "v", "local", 0.0)


def _held_and_active(c: Ctx) -> None:
    """v held, w answered and active; both reported with supportsGrouping and supportsUngrouping."""
    c.ck("configure", None, None, None, True, True)
    _active(c)
    c.ck("hold", "v")
    c.ck("report_incoming", "w")
    c.ck("answer", "w")


def _merged(c: Ctx) -> None:
    _held_and_active(c)
    c.ck("group", "v", "w")


def _merged_held(c: Ctx) -> None:
    _merged(c)
    c.ck("hold", "w")


def _merged_no_ungrouping(c: Ctx) -> None:
    """v and w merged; both reported with supportsGrouping but not supportsUngrouping."""
    c.ck("configure", None, None, None, True, False)
    _active(c)
    c.ck("hold", "v")
    c.ck("report_incoming", "w")
    c.ck("answer", "w")
    c.ck("group", "v", "w")


def _held_grouping_and_active_without(c: Ctx) -> None:
    """v held, reported with supportsGrouping; w active, reported after a configuration without it."""
    c.ck("configure", None, None, None, True, True)
    _active(c)
    c.ck("hold", "v")
    c.ck("configure", None, None, None, False, False)
    c.ck("report_incoming", "w")
    c.ck("answer", "w")


def _held_and_active_no_grouping(c: Ctx) -> None:
    _active(c)
    c.ck("hold", "v")
    c.ck("report_incoming", "w")
    c.ck("answer", "w")


START: dict[str, Callable[[Ctx], None]] = {
    "held-and-active": _held_and_active,
    "merged": _merged,
    "merged-held": _merged_held,
    "held-and-active-no-grouping": _held_and_active_no_grouping,
    "merged-no-ungrouping": _merged_no_ungrouping,
    "held-grouping-and-active-without": _held_grouping_and_active_without,
    "idle": lambda c: None,
    "ringing": _ringing,
    "active": _active,
    "held-for-gsm": _held_for_gsm,
    "held-after-remote-end": _held_after_remote_end,
    "unheld-without-activation": _unheld_without_activation,
    "app-active": _app_active,
    "speaker-call-ended": _speaker_call_ended,
    "no-holding-active": _no_holding_active,
    "gsm-ringing": _gsm_ringing,
    "gsm-answered": _gsm_answered,
    "first-call-done": _first_call_done,
}


@dataclass
class Row:
    id: str
    start: str
    event: Callable[[Ctx], Any]
    notes: list[tuple]
    calls: dict[str, str] | None = None
    error: str | None = None  # an AVAudioSession error name, or "StepError" (a scenario error)
    after: dict[str, Any] = field(default_factory=dict)
    setup: dict = field(default_factory=lambda: dict(VOICE))
    message: str | None = None  # text the error's message must contain (what the user reads)
    fires: tuple[str, ...] = ()  # rule ids the step must fire (as `explain` names them)
    error_rule: str | None = None  # the rule a refused CallKit request names


READERS: dict[str, Callable[[Ctx], Any]] = {
    "groups": lambda c: c.center.groups(),
    "active": lambda c: c.rig.phone.active,
    "category": lambda c: c.rig.phone.config.category,
    "inputChannels": lambda c: c.rig.phone.input_channels,
    "route": lambda c: c.rig.route(),
    "others": lambda c: {k: o.state for k, o in c.rig.phone.others.items()},
}

LENIENT = {"callkitManualActivation": "lenient"}
PLAYBACK = dict(category="playback")

ROWS = [
    # [DOC Doc-didActivate, Doc-didDeactivate], [DOC Doc-didActivate]: a fulfilled answer activates, then didActivate
    Row("answer-fulfilled-activates", "ringing", lambda c: c.ck("answer", "v"), [(ACT,)], {"v": "active"},
        after={"active": True}),
    # [DOC Doc-CXStartCallAction, Doc-didActivate]: fulfilled start activates; connecting until connected
    Row("start-connecting-then-active", "idle", lambda c: c.ck("start_call", "v", 0.0, 2.0), [(ACT,)],
        {"v": "connecting"}),
    Row("start-connected-after-delay", "idle", lambda c: (c.ck("start_call", "v", 0.0, 2.0), c.wait(2.0)),
        [(ACT,)], {"v": "active"}),
    # [DOC Doc-PushKit-VoIP]: the answer fulfil may be delayed; connecting meanwhile, no activation yet
    Row("answer-delayed-connecting", "ringing", lambda c: c.ck("answer", "v", 1.5), [], {"v": "connecting"},
        after={"active": False}),
    Row("answer-delayed-then-activates", "ringing", lambda c: (c.ck("answer", "v", 1.5), c.wait(1.5)),
        [(ACT,)], {"v": "active"}),
    # [DOC Doc-didActivate, Doc-didDeactivate], [INF]: a failed answer ends the call, nothing activates
    Row("answer-failed-ends", "ringing", lambda c: c.ck("answer", "v", 0.0, "fail"), [], {"v": "ended"}),
    # [DEV forum-715488, gh:opentok/CallKit#20]
    Row("hold-deactivates", "active", lambda c: c.ck("hold", "v"), [(DEACT,)], {"v": "held"},
        after={"active": False}, fires=("callkit.hold-deactivates",)),
    # [DEV forum-715488 (scenarios 2-3)]
    Row("unhold-activates", "active", lambda c: (c.ck("hold", "v"), notes(c), c.ck("unhold", "v")), [(ACT,)],
        {"v": "active"}, after={"active": True}, fires=("callkit.unhold-activates",)),
    # [DOC Doc-didActivate, Doc-didDeactivate]
    Row("local-end-deactivates", "active", lambda c: c.ck("end", "v", "local", 0.0), [(DEACT,)], {"v": "ended"},
        after={"active": False}, fires=("callkit.end-deactivates",)),
    Row("remote-end-deactivates", "active", lambda c: c.ck("end", "v", "remote", 0.0), [(DEACT,)],
        {"v": "ended"}, fires=("callkit.end-deactivates",)),
    Row("decline-voip-nothing", "ringing", lambda c: c.ck("end", "v", "local", 0.0), [], {"v": "ended"}),
    # [INF] / [DTS forum-749202]: refuse (default): the app's own setActive during the call fails
    Row("manual-activation-refused-while-ringing", "ringing", lambda c: c.app("set_active", True), [],
        error="insufficientPriority", after={"active": False}),
    # [INF] / [DTS forum-749202, forum-783870]: lenient: succeeds, then no didActivate and one-way audio
    Row("manual-activation-lenient-skips-did-activate", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v")), [], {"v": "active"},
        after={"active": True, "inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    Row("lenient-app-active-before-call-skips", "app-active", lambda c: (_ringing(c), c.ck("answer", "v")), [],
        {"v": "active"}, after={"inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    # [DTS forum-783870] + [INF]: the one-way input lasts for the call: after it ends, the app's own activation
    # records again; the system never activated the app's session, so there is no didDeactivate either
    Row("lenient-one-way-ends-with-the-call", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v"), c.ck("end", "v", "local", 0.0),
                   c.app("set_active", True)), [], {"v": "ended"},
        after={"active": True, "inputChannels": 1}, setup=dict(VOICE, behavior=LENIENT)),
    # [INF] refuse: a session active before the call is taken over: didActivate
    Row("refuse-app-active-before-call-promoted", "app-active", lambda c: (_ringing(c), c.ck("answer", "v")),
        [(ACT,)], {"v": "active"}, after={"inputChannels": 1}),
    # [DEV forum-749202, forum-715488 (scenario 1)]
    Row("gsm-local-end-auto-unholds", "held-for-gsm", lambda c: c.gsm("end", "g", "local"), [(ACT,)],
        {"v": "active", "g": "ended"}, after={"active": True}),
    # [DTS forum-749202]
    Row("gsm-remote-end-stays-held", "held-for-gsm", lambda c: c.gsm("end", "g", "remote"), [],
        {"v": "held", "g": "ended"}),
    Row("unhold-after-remote-end-no-did-activate", "held-after-remote-end", lambda c: c.ck("unhold", "v"), [],
        {"v": "active"}, after={"active": False}, fires=("callkit.remote-end-no-activation",)),
    Row("setactive-after-remote-end-unhold-refused", "unheld-without-activation",
        lambda c: c.app("set_active", True), [], error="insufficientPriority", after={"active": False}),
    Row("setactive-after-remote-end-unhold-lenient-one-way", "unheld-without-activation",
        lambda c: c.app("set_active", True), [], after={"active": True, "inputChannels": 0},
        setup=dict(VOICE, behavior=LENIENT)),
    # [DEV forum-715488, gh:opentok/CallKit#20: "including Hold & Accept"]
    Row("hold-and-accept-deactivates", "active", lambda c: (c.gsm("incoming", "g"), c.gsm("answer", "g", True)),
        [(DEACT,)], {"v": "held", "g": "active"}),
    # [DEV forum-715488 (scenarios 2-3)]: resuming ours activates; the Phone app's call is held [INF]
    Row("swap-to-voip-holds-gsm", "held-for-gsm", lambda c: c.ck("unhold", "v"), [(ACT,)],
        {"v": "active", "g": "held"}, after={"active": True}, fires=("callkit.swap-holds-cellular",)),
    Row("swap-back-to-gsm", "held-for-gsm", lambda c: (c.ck("unhold", "v"), notes(c), c.ck("hold", "v")),
        [(DEACT,)], {"v": "held", "g": "active"}, after={"active": False}),
    # [INF] call waiting: a ringing cellular call does not interrupt the CallKit session
    Row("gsm-rings-during-voip-call-waiting", "active", lambda c: c.gsm("incoming", "g"), [],
        {"v": "active", "g": "ringing"}, after={"active": True}),
    # [INF]: End & Accept ends our call
    Row("end-and-accept-ends-voip", "active", lambda c: (c.gsm("incoming", "g"), c.gsm("answer", "g", False)),
        [(DEACT,)], {"v": "ended", "g": "active"}),
    # [INF]: supportsHolding false: no hold, no Hold & Accept (scenario errors)
    Row("no-holding-hold-and-accept-not-offered", "no-holding-active",
        lambda c: (c.gsm("incoming", "g"), c.gsm("answer", "g", True)), [], error="StepError"),
    Row("no-holding-hold-not-offered", "no-holding-active", lambda c: c.ck("hold", "v"), [], error="StepError",
        message="call 'v' was reported with supportsHolding: false; the system offers no hold",
        fires=("callkit.holding-unsupported",)),
    # [DOC H-CXProvider, Doc-CXProviderConfiguration]: timeouts end the call; a late fulfil is ignored
    Row("answer-timeout", "ringing", lambda c: (c.ck("answer", "v", 12.0), c.wait(12.0)), [(TO, "answerCall")],
        {"v": "ended"}, after={"active": False}),
    Row("start-timeout-ties-go-to-the-timeout", "idle", lambda c: (c.ck("start_call", "v", 2.0), c.wait(5.0)),
        [(TO, "startCall")], {"v": "ended"}, setup=dict(VOICE, behavior={"callkitActionTimeout": 2.0})),
    Row("end-timeout-deactivates-after", "active", lambda c: (c.ck("end", "v", "local", 11.0), c.wait(11.0)),
        [(TO, "endCall"), (DEACT,)], {"v": "ended"}),
    Row("hold-timeout-ends-call", "active", lambda c: (c.ck("hold", "v", 20.0), c.wait(20.0)),
        [(TO, "setHeldCall"), (DEACT,)], {"v": "ended"}),
    # [DTS forum-783870]: 18.4.1+ drops the activation unless configured since the previous report
    Row("drops-did-activate-without-configure", "first-call-done",
        lambda c: (c.ck("report_incoming", "w"), c.ck("answer", "w")), [], {"w": "active"},
        after={"active": False}, setup=dict(VOICE, platform="ios-18.4.1", behavior={"callkitDropsDidActivate": True})),
    Row("configure-before-report-keeps-did-activate", "first-call-done",
        lambda c: (c.ck("configure"), c.ck("report_incoming", "w"), c.ck("answer", "w")), [(ACT,)], {"w": "active"},
        setup=dict(VOICE, platform="ios-18.4.1", behavior={"callkitDropsDidActivate": True})),
    # [INF]: beyond maximumCallGroups the new call ends at once
    Row("max-call-groups", "active", lambda c: (c.ck("configure", None, 1, None), c.ck("report_incoming", "w")),
        [], {"v": "active", "w": "ended"}),
    # Grouping (CXSetGroupCallAction). [DOC Doc-CXSetGroupCallAction, Doc-callUUIDToGroupWith]: the call joins
    # the other's group; [INF] the held side joins the conversation and the app's one session stays up (no
    # didActivate, no didDeactivate)
    Row("group-merges-held-into-active", "held-and-active", lambda c: c.ck("group", "v", "w"), [],
        {"v": "active", "w": "active"}, after={"active": True, "groups": {"v": ["v", "w"], "w": ["v", "w"]}},
        fires=("callkit.group-merges", "callkit.group-one-session")),
    Row("group-delayed-fulfil-merges-later", "held-and-active", lambda c: c.ck("group", "v", "w", 1.0), [],
        {"v": "held", "w": "active"}, after={"groups": {"v": ["v"], "w": ["w"]}}),
    # [INF] a group is held and resumed as one: one didDeactivate, one didActivate
    Row("hold-merged-call-holds-group", "merged", lambda c: c.ck("hold", "w"), [(DEACT,)],
        {"v": "held", "w": "held"}, after={"active": False}, fires=("callkit.group-holds-together",)),
    Row("unhold-merged-call-resumes-group", "merged-held", lambda c: c.ck("unhold", "v"), [(ACT,)],
        {"v": "active", "w": "active"}, after={"active": True}, fires=("callkit.group-holds-together",)),
    # [INF] two held calls merged stay held: nothing activates
    Row("group-two-held-stays-held", "merged-held", lambda c: (c.ck("ungroup", "v"), c.ck("group", "v", "w")), [],
        {"v": "held", "w": "held"}, after={"active": False}),
    # [DOC Doc-callUUIDToGroupWith (nil)] + [INF] taken private: v stays active, w waits on hold, no session change
    Row("ungroup-takes-call-private", "merged", lambda c: c.ck("ungroup", "v"), [], {"v": "active", "w": "held"},
        after={"active": True, "groups": {"v": ["v"], "w": ["w"]}}, fires=("callkit.ungroup-private",)),
    # [INF] a member's end leaves the rest of the group as it was
    Row("end-one-of-group-keeps-session", "merged", lambda c: c.ck("end", "w", "remote", 0.0), [],
        {"v": "active", "w": "ended"}, after={"active": True, "groups": {"v": ["v"], "w": []}}),
    # [DOC Doc-CXProviderConfiguration]: a merged pair is one group, so a third call fits under maximumCallGroups 2
    Row("merged-pair-counts-as-one-group", "merged", lambda c: c.ck("report_incoming", "x"), [],
        {"x": "ringing"}),
    # [DOC Doc-CXErrorCodeRequestTransactionError]: refused requests fail at once, nothing changes
    Row("ungroup-beyond-max-call-groups", "merged",
        lambda c: (c.ck("configure", None, 1, None, True, True), c.ck("ungroup", "v")), [],
        {"v": "active", "w": "active"}, error="maximumCallGroupsReached",
        message="ungrouping 'v' would make 2 call groups (maximumCallGroups 1)",
        error_rule="callkit.ungroup-max-groups"),
    Row("group-without-supports-grouping", "held-and-active-no-grouping", lambda c: c.ck("group", "v", "w"), [],
        {"v": "held", "w": "active"}, error="invalidAction",
        message="call 'v' was reported with supportsGrouping: false", error_rule="callkit.grouping-unsupported"),
    Row("group-beyond-max-calls-per-group", "held-and-active",
        lambda c: (c.ck("configure", None, None, 1, True, True), c.ck("group", "v", "w")), [],
        {"v": "held", "w": "active"}, error="invalidAction",
        message="the group of 'w' already has maximumCallsPerCallGroup (1) calls",
        error_rule="callkit.max-calls-per-group"),
    Row("group-with-ended-call", "held-and-active", lambda c: (c.ck("end", "v", "remote", 0.0), c.ck("group", "w", "v")),
        [], {"w": "active"}, error="unknownCallUUID", message="call 'v' is ended", error_rule="callkit.group-refused"),
    Row("group-ringing-call", "merged", lambda c: (c.ck("report_incoming", "x"), c.ck("group", "x", "v")), [],
        {"x": "ringing"}, error="invalidAction",
        message="call 'x' is ringing; only calls in progress can be grouped", error_rule="callkit.group-refused"),
    Row("ungroup-lone-call", "active", lambda c: c.ck("ungroup", "v"), [], {"v": "active"}, error="invalidAction",
        message="call 'v' is not in a group", error_rule="callkit.group-refused"),
    # [DTS forum-800247]: the call UI's speaker, and its persistence into the next call
    Row("speaker-button", "active", lambda c: c.ck("speaker", True), [(RC, "override")],
        after={"route": ((MIC,), (SPK,))}, fires=("callkit.speaker",)),
    Row("speaker-persists-into-next-call", "speaker-call-ended",
        lambda c: (c.app("override_output", "none"), c.ck("report_incoming", "w"), c.ck("answer", "w")),
        [(RC, "override"), (ACT,)], {"w": "active"}, after={"route": ((MIC,), (SPK,))}),
    Row("speaker-without-call-ui", "idle", lambda c: c.ck("speaker", True), [], error="StepError",
        message="callkit.speaker: no CallKit call is up, so there is no call UI to tap"),
    # [DTS forum-749202 "similar to PlayAndRecord"] + [INF]: an app that never configured playAndRecord
    Row("call-session-default-routing", "ringing", lambda c: c.ck("answer", "v"), [(RC, "categoryChange"), (ACT,)],
        {"v": "active"}, after={"category": "playback", "route": ((MIC,), (RCV,))}, setup=PLAYBACK),
    Row("call-session-default-restored", "active", lambda c: c.ck("end", "v", "remote", 0.0),
        [(DEACT,), (RC, "categoryChange")], after={"category": "playback", "route": ((), (SPK,))}, setup=PLAYBACK),
    # [DEV twilio-interruptions] + [DOC ASPG-Int]: non-CallKit session and a cellular call
    Row("gsm-ring-interrupts", "app-active", lambda c: c.gsm("incoming", "g"), [(INT, "began")], {"g": "ringing"},
        after={"active": False}, setup=PLAYBACK),
    Row("gsm-decline-ended", "gsm-ringing", lambda c: c.gsm("decline", "g"), [(INT, "ended")], {"g": "ended"},
        setup=PLAYBACK),
    Row("gsm-answered-ended", "gsm-answered", lambda c: c.gsm("end", "g", "remote"), [(INT, "ended")],
        setup=PLAYBACK),
    Row("gsm-answered-no-ended-legacy", "gsm-answered", lambda c: c.gsm("end", "g", "local"), [],
        setup=dict(PLAYBACK, behavior={"interruptionEndedAfterAnsweredCall": False})),
    # [DOC H-Session17]: record-capable activation fails while the Phone app hosts the call
    Row("gsm-call-priority", "gsm-answered", lambda c: c.app("set_active", True), [], error="insufficientPriority",
        setup=dict(category="playAndRecord")),
    Row("gsm-call-priority-allows-playback", "gsm-answered", lambda c: c.app("set_active", True), [],
        after={"active": True}, setup=PLAYBACK),
    # [DOC H-Types, ASPG-Int], [INF]: phone calls interrupt mixable sessions, unless the switch is off
    Row("gsm-interrupts-mixable", "app-active", lambda c: c.gsm("incoming", "g"), [(INT, "began")],
        setup=dict(category="playback", options=("mixWithOthers",))),
    Row("gsm-spares-mixable-switch", "app-active", lambda c: c.gsm("incoming", "g"), [], after={"active": True},
        setup=dict(category="playback", options=("mixWithOthers",), behavior={"phoneCallsInterruptMixable": False})),
    # [DOC H-Session17]: prefersNoInterruptionsFromSystemAlerts: only answering interrupts
    Row("gsm-alert-preference-ring", "app-active",
        lambda c: (setattr(c.rig.phone, "prefers_no_interruptions_from_alerts", True), c.gsm("incoming", "g")), [],
        after={"active": True}, setup=PLAYBACK),
    Row("gsm-alert-preference-answer", "app-active",
        lambda c: (setattr(c.rig.phone, "prefers_no_interruptions_from_alerts", True), c.gsm("incoming", "g"),
                   c.gsm("answer", "g", False)), [(INT, "began")], setup=PLAYBACK),
    # [INF]: other apps' audio is interrupted by the call and resumes after it
    Row("gsm-others-resume", "idle", lambda c: (c.gsm("incoming", "g"), c.gsm("decline", "g")), [],
        after={"others": {"music": "playing"}},
        setup=dict(PLAYBACK, others={"music": ("playback", "default", (), True)})),
    # Requests and steps that cannot be done say why (the text the user reads) and change nothing
    # [DOC Doc-CXErrorCodeRequestTransactionError], [INF]
    Row("group-already-in-the-group", "merged", lambda c: c.ck("group", "v", "w"), [], {"v": "active", "w": "active"},
        error="invalidAction", message="call 'v' is already in the group of 'w'", error_rule="callkit.group-refused"),
    Row("group-unknown-call", "active", lambda c: c.ck("group", "v", "zz"), [], {"v": "active"},
        error="unknownCallUUID",
        message="call 'zz' is not one of the app's CallKit calls", error_rule="callkit.group-refused"),
    Row("ungroup-ended-call", "first-call-done", lambda c: c.ck("ungroup", "v"), [], {"v": "ended"},
        error="unknownCallUUID", message="call 'v' is ended", error_rule="callkit.group-refused"),
    Row("end-ended-call", "first-call-done", lambda c: c.ck("end", "v", "local", 0.0), [], {"v": "ended"},
        error="StepError", message="call 'v' has already ended"),
    Row("hold-ringing-call", "ringing", lambda c: c.ck("hold", "v"), [], {"v": "ringing"},
        error="StepError", message="call 'v' is ringing; only a call in progress can be held"),
    Row("unhold-active-call", "active", lambda c: c.ck("unhold", "v"), [], {"v": "active"},
        error="StepError", message="call 'v' is active, not held"),
    Row("answer-active-call", "active", lambda c: c.ck("answer", "v"), [], {"v": "active"},
        error="StepError", message="call 'v' is active, not ringing: there is nothing to answer"),
    Row("ungroup-without-supports-ungrouping", "merged-no-ungrouping", lambda c: c.ck("ungroup", "v"), [],
        {"v": "active", "w": "active"}, error="invalidAction",
        message="call 'v' was reported with supportsUngrouping: false", error_rule="callkit.grouping-unsupported"),
    # [DOC H-CXProvider, Doc-timedOutPerforming]: a setGroupCall action that times out ends its call; the rest of
    # the group keeps the session [INF]
    Row("ungroup-timeout-ends-call", "merged", lambda c: (c.ck("ungroup", "v", 20.0), c.wait(20.0)),
        [(TO, "setGroupCall")], {"v": "ended", "w": "active"}, after={"active": True}),
    Row("group-into-a-lone-call-without-supports-grouping", "held-grouping-and-active-without",
        lambda c: c.ck("group", "v", "w"), [], {"v": "held", "w": "active"}, error="invalidAction",
        message="call 'w' was reported with supportsGrouping: false", error_rule="callkit.grouping-unsupported"),
    Row("group-timeout-ends-call", "held-and-active", lambda c: (c.ck("group", "v", "w", 20.0), c.wait(20.0)),
        [(TO, "setGroupCall")], {"v": "ended", "w": "active"}, after={"active": True}),
    # [DTS forum-800247] + [INF]: the call UI (and its speaker button) is up while any call rings, connects, is
    # active or held; the override reroutes only while the call session is active
    Row("speaker-while-ringing-no-reroute", "ringing", lambda c: c.ck("speaker", True), [], fires=("callkit.speaker",)),
    Row("speaker-while-held-no-reroute", "active", lambda c: (c.ck("hold", "v"), notes(c), c.ck("speaker", True)), [],
        {"v": "held"}, fires=("callkit.speaker",)),
    Row("speaker-while-connecting", "idle",
        lambda c: (c.ck("start_call", "v", 0.0, 2.0), notes(c), c.ck("speaker", True)),
        [(RC, "override")], {"v": "connecting"}, after={"route": ((MIC,), (SPK,))}),
    # [DOC H-CXProvider]: providerDidReset ends every call; the call session goes as when the last call ends
    Row("provider-reset-ends-every-call", "held-and-active", lambda c: c.ck("reset"),
        [("providerDidReset",), (DEACT,)], {"v": "ended", "w": "ended"}, after={"active": False},
        fires=("callkit.provider-reset",)),
]


def build(row: Row) -> Ctx:
    rig = make_rig(**row.setup)
    center = CallCenter(rig.phone, rig.clock, rig.manager.flush)
    ctx = Ctx(rig, center, Cellular(center))
    rig.do(lambda r: START[row.start](ctx))
    rig.manager.take_notifications()
    return ctx


def run_row(row: Row) -> tuple[Ctx, str | None]:
    ctx = build(row)
    try:
        error = ctx.rig.do(lambda r: row.event(ctx))
    except StepError as e:
        ctx.rig.fired.update(ctx.rig.phone.fired)
        ctx.error_text = str(e)
        return ctx, "StepError"
    ctx.error_text = str(error) if error else ""
    ctx.error_rule = getattr(error, "rule", None)
    return ctx, error.name if error else None


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_call_transition(row: Row):
    ctx, error = run_row(row)
    assert error == row.error
    assert notes(ctx) == row.notes
    if row.calls is not None:
        states = ctx.center.states()
        assert {k: states.get(k) for k in row.calls} == row.calls
    for name, expected in row.after.items():
        assert READERS[name](ctx) == expected, name
    if row.message is not None:
        # the whole message: a StepError's text, or a CallKit/session error's text after its "domain.name (code): "
        assert ctx.error_text == row.message or ctx.error_text.endswith(": " + row.message), ctx.error_text
    if row.error_rule is not None:
        assert ctx.error_rule == row.error_rule
    assert set(row.fires) <= ctx.rig.fired, sorted(set(row.fires) - ctx.rig.fired)


def fired_by_rows() -> set[str]:
    """Rules the table exercises (the rule-coverage test adds these to the scenarios')."""
    fired: set[str] = set()
    for row in ROWS:
        ctx, _ = run_row(row)
        fired |= ctx.rig.fired
    return fired
