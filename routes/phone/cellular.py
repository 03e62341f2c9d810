"""Cellular (Phone app) calls and what they do to the app: interruptions of a non-CallKit session,
call priority, and the CallKit side effects (Hold & Accept, End & Accept, unhold after the call ends).

Rules (``cellular.*`` and a few ``callkit.*`` in routes/rules.py):

- Non-CallKit session [DEV twilio-interruptions; DOC H-Session17, H-Types, ASPG-Int]: the ringing call interrupts an active
  session (``began``, reason ``default`` from iOS 14.5 [INF]); with
  ``setPrefersNoInterruptionsFromSystemAlerts(true)`` only answering does (the Banner call style, the
  default for a phone in use) [DOC H-Session17]. Mixable sessions are interrupted too unless
  ``phoneCallsInterruptMixable: false`` [INF H-Types, ASPG-Int]. While the call rings or is up, the Phone app
  holds call priority (``phone.call_holder``): record/playAndRecord activation fails with
  ``insufficientPriority``. A declined call gives ``ended`` + ``shouldResume`` [DOC ASPG-Int]; an answered
  call gives it when the call ends if ``interruptionEndedAfterAnsweredCall`` (default) [DEV twilio-interruptions], and
  nothing with the switch off [DOC legacy kAudioSessionEndInterruption]. Other apps' audio is
  interrupted with the app and resumes when the call ends [INF].
- CallKit call in progress [DOC Doc-didActivate, Doc-didDeactivate]: the ringing cellular call is call waiting, not an interruption [INF].
  Answering with Hold & Accept holds the app's call (a set-held action the app fulfils at once [INF];
  ``didDeactivate``) [DEV forum-715488, gh:opentok/CallKit#20]; End & Accept ends it. When the cellular call then ends,
  a local end makes CallKit unhold the app's call and activate its session (``didActivate``) [DEV forum-749202, forum-715488]; a remote end leaves it held, and the user's later unhold brings no ``didActivate`` [DTS forum-749202].
"""
from __future__ import annotations

from routesim.routes.phone.callkit import ACTIVE, CONNECTING, ENDED, HELD, RINGING, Call, CallCenter
from routesim.routes.phone.errors import StepError
from routesim.routes.phone.others import INTERRUPTED, PLAYING


class Cellular:
    def __init__(self, center: CallCenter):
        self.center = center
        self.phone = center.phone

    @staticmethod
    def token(c: Call) -> str:
        return f"cellular:{c.id}"

    # ------------------------------------------------------------------ steps
    def incoming(self, call_id: str) -> None:
        center, phone = self.center, self.phone
        c = center.new_call(call_id, "cellular", RINGING)
        phone.call_holder = "Phone"
        phone._fire("cellular.call-priority")
        if center.system_active:
            phone._fire("callkit.call-waiting")  # our call keeps the session; the UI offers the choices
            return
        self._interrupt_others(c)
        self._interrupt_app(c, ringing=True)

    def answer(self, call_id: str, hold_others: bool) -> None:
        center, phone = self.center, self.phone
        c = center.call(call_id, "cellular")
        if c.state != RINGING:
            raise StepError(f"call {call_id!r} is {c.state}, not ringing: there is nothing to answer")
        ours = center.callkit_calls(CONNECTING, ACTIVE)
        if ours and hold_others:
            for o in ours:
                center._require_holding(o)
            phone._fire("callkit.hold-and-accept")
            for o in ours:
                center._held(o, c.id)
        elif ours:
            phone._fire("callkit.end-and-accept")
            for o in ours:
                center._end(o, "callkit.end-deactivates")
        c.state, c.answered = ACTIVE, True
        phone.call_holder = "Phone"
        phone._fire("cellular.answer")
        if c.deferred:
            c.deferred = False
            self._interrupt_app(c, ringing=False)

    def decline(self, call_id: str) -> None:
        c = self.center.call(call_id, "cellular")
        if c.state != RINGING:
            raise StepError(f"call {call_id!r} is {c.state}; only a ringing call can be declined")
        c.state = ENDED
        self._release(c)

    def end(self, call_id: str, by: str) -> None:
        center, phone = self.center, self.phone
        c = center.call(call_id, "cellular")
        if c.state not in (ACTIVE, HELD):
            raise StepError(f"call {call_id!r} is {c.state}; only an answered call can end "
                            "(a ringing one is declined)")
        c.state = ENDED
        self._release(c)
        for o in center.callkit_calls(HELD):
            if o.held_for != c.id:
                continue
            o.held_for = None
            if by == "local":
                # CallKit unholds the app's call (a set-held action the app fulfils) and activates [DEV forum-749202, forum-715488]
                phone._fire("callkit.local-end-auto-unhold")
                o.state, o.audio = ACTIVE, True
                center._system_activate(o)
            else:
                o.withheld = True
                phone._fire("callkit.remote-end-no-activation")

    # ------------------------------------------------------------------ the app's non-CallKit session
    def _interrupt_app(self, c: Call, *, ringing: bool) -> None:
        phone = self.phone
        if not phone.active:
            return
        if phone.config.mixable:
            if not phone.behavior["phoneCallsInterruptMixable"]:
                phone._fire("cellular.spares-mixable")
                return
            phone._fire("cellular.interrupts-mixable")
        if ringing and phone.prefers_no_interruptions_from_alerts and phone.platform.at_least(14, 5):
            c.deferred = True
            phone._fire("cellular.alert-preference")
            return
        phone._interrupt(reason="default", by=self.token(c), rule="cellular.interrupts")
        c.interrupted_app = True

    def _interrupt_others(self, c: Call) -> None:
        phone = self.phone
        for other in phone.others.values():
            if not other.sounding:
                continue
            if other.mixable and not phone.behavior["phoneCallsInterruptMixable"]:
                continue
            other.state, other.interrupted_by = INTERRUPTED, self.token(c)
            phone._fire("cellular.others")

    def _release(self, c: Call) -> None:
        center, phone = self.center, self.phone
        if not center.cellular_calls(RINGING, ACTIVE):
            phone.call_holder = None
        token = self.token(c)
        if c.interrupted_app and phone.interrupted_by == token:
            phone.interrupted_by = None
            if not c.answered:
                phone.post("interruption", "cellular.decline-ended", type="ended", shouldResume=True)
            elif phone.behavior["interruptionEndedAfterAnsweredCall"]:
                phone.post("interruption", "cellular.answered-ended", type="ended", shouldResume=True)
            else:
                phone._fire("cellular.answered-no-ended")
        for other in phone.others.values():
            if other.state == INTERRUPTED and other.interrupted_by == token:
                other.state, other.interrupted_by = PLAYING, None
                phone._fire("cellular.others")


# ---------------------------------------------------------------------- runner glue
def attach(run) -> None:
    run.cellular = Cellular(run.calls)
