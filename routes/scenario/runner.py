"""Run a loaded scenario against a fresh phone on a virtual clock, step by step."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from routesim.api.phone import Phone as ApiPhone
from routesim.routes.phone.errors import AppException, SessionError, StepError
from routesim.routes.scenario.expectations import Check, Observation, check_expect, error_matches
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.ports import Route
from routesim.routes.scenario.model import Expect, Scenario, Step
from routesim.routes.phone.session import AppState


@dataclass(slots=True)
class StepResult:
    step: Step
    time: float
    route: Route
    notifications: list[Notification] = field(default_factory=list)
    error: BaseException | None = None
    checks: list[Check] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    quirks: list[Any] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # what the app could read after the step (snapshot)

    @property
    def ok(self) -> bool:
        return all(c.ok or c.drift for c in self.checks)


@dataclass(slots=True)
class ScenarioResult:
    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)
    invalid: str | None = None  # a scenario error: the step cannot be performed (exit 2)

    @property
    def passed(self) -> bool:
        return self.invalid is None and not self.failures  # one pass over the checks, not a call per step

    @property
    def failures(self) -> list[tuple[StepResult, Check]]:
        return [(s, c) for s in self.steps for c in s.checks if not c.ok and not c.drift]

    @property
    def drift(self) -> list[tuple[StepResult, Check]]:
        """Where the rig's facts (``expect: rig``) and the model's view disagree: reported, not failed."""
        return [(s, c) for s in self.steps for c in s.checks if c.drift and not c.ok]


class ScenarioRun:
    """One scenario's world: a :class:`routesim.Phone` (virtual clock, session model, route manager, virtual
    accessories, the attached call and audio models) set up as the scenario says. Every step is one of
    the phone's public methods (``STEP_HANDLERS`` below)."""

    def __init__(self, scenario: Scenario, catalog, *, snapshots: bool = False, timeline: bool = True):
        self.scenario = scenario
        self.snapshots = snapshots  # record StepResult.state (timelines, the matrix); off for speed
        self.catalog = catalog
        app = scenario.app
        self.sim = ApiPhone(
            platform=scenario.platform,
            hardware=scenario.hardware.device,
            hfp_codecs=scenario.hardware.hfp_codecs,
            behavior=dict(scenario.behavior),
            app=AppState(app.state, app.background_audio, app.context, app.record_permission, app.now_playing,
                         app.extension),
            catalog=catalog,
            timeline=timeline,  # run_scenario keeps none: its results are the record
        )
        self.clock = self.sim.clock
        self.phone = self.sim.model
        self.manager = self.sim.manager
        self.virtual = self.sim.virtual
        self.extras = self.sim.parts.extras  # expect keys served by extensions (calls, engine, ...)
        for spec in scenario.accessories.values():
            self.sim.add_accessory(spec.id, spec.model, name=spec.name, address=spec.address, firmware=spec.firmware)
        for spec in scenario.accessories.values():
            if spec.connected:
                self.sim.connect(spec.id, silent=True)
        for spec in scenario.others.values():
            self.sim.add_other(spec.id, spec.category, spec.mode, spec.options, spec.playing)
        self.phone.pending.clear()
        self.phone.commands.clear()
        self._seen = 0  # notifications already attributed to a step
        self._consumed: list[Notification] = []

    def snapshot(self) -> dict[str, Any]:
        """The session's state after a step, for timelines and the matrix: activation, the hardware rate,
        the link each Bluetooth accessory carries, other apps and calls."""
        phone = self.phone
        calls = getattr(self, "calls", None)
        return {
            "active": phone.active,
            "sampleRate": phone.sample_rate,
            "links": {key: _link(phone.accessory_view(key)) for key in self.scenario.accessories
                      if phone.accessories[key].connected},
            "others": {oid: o.state for oid, o in phone.others.items()},
            "calls": dict(calls.states()) if calls is not None else {},
        }

    def attached(self, name: str) -> Any:
        """The model an extension attached to this run (``run.engine``, ``run.calls``, ...)."""
        return self.sim.parts.attached(name)

    def __getattr__(self, name: str) -> Any:
        # run.calls, run.engine, ...: the models the extensions attached to the phone's parts
        if name.startswith("_") or name == "sim":
            raise AttributeError(name)
        return getattr(self.sim.parts, name)

    # ------------------------------------------------------------------ steps
    def perform(self, step: Step) -> None:
        handler = STEP_HANDLERS.get(step.op)
        if handler is None:
            raise StepError(f"step {step.op} is not modelled yet")
        handler(self.sim, step.arg)
        self.clock.run_due()

    def run(self) -> ScenarioResult:
        result = ScenarioResult(self.scenario)
        failed: StepResult | None = None  # a step that failed and awaits `expect: error`
        phone = self.phone
        for step in self.scenario.steps:
            route_before = phone.route
            if step.op == "expect":
                res = StepResult(step, self.clock.now(), route_before)
                phone.begin_step()  # reading state can exercise rules too (availableInputs, formats)
                try:
                    res.checks = self._check(step.arg, failed)
                    res.notifications = self._consumed  # what this expect saw (replay --update rewrites it)
                    res.rules = list(phone.fired)
                except StepError as e:
                    result.invalid = f"{self.scenario.file}:{step.line}: {e}"
                    result.steps.append(res)
                    return result
                failed = None
                result.steps.append(res)
                continue
            if failed is not None:
                failed.checks.append(_unexpected_error(failed))
                failed = None
            error = None
            try:
                self.perform(step)
            except (SessionError, AppException) as e:
                error = e
            except StepError as e:
                result.invalid = f"{self.scenario.file}:{step.line}: {step.op}: {e}"
                result.steps.append(StepResult(step, 0.0, route_before))
                return result
            pending = phone.pending
            res = StepResult(step, self.clock.now(), phone.route, pending[self._seen:], error, [], list(phone.fired),
                             list(phone.decision.quirks), self.snapshot() if self.snapshots else {})
            self._seen = len(pending)
            if error is not None:
                failed = res
            result.steps.append(res)
        if failed is not None:
            failed.checks.append(_unexpected_error(failed))
        return result

    def _check(self, expect: Expect, failed: StepResult | None) -> list[Check]:
        notes = self.manager.take_notifications()
        self._consumed = notes
        self._seen = 0
        checks = check_expect(expect, Observation(self.phone, notes, self.extras))
        if expect.error is not None:
            if failed is None:
                checks.append(Check("error", False, expect.error, None, "the step before this expect succeeded"))
            else:
                checks.append(Check("error", error_matches(expect.error, failed.error), expect.error,
                                    _error_value(failed.error)))
        elif failed is not None:
            checks.append(_unexpected_error(failed))
        return checks


def _error_value(err: BaseException | None) -> Any:
    if isinstance(err, SessionError):
        return {"name": err.name, "code": err.code, "detail": err.detail}
    if err is not None:
        return {"exception": str(err)}
    return None


def _unexpected_error(res: StepResult) -> Check:
    return Check("error", False, None, _error_value(res.error),
                 f"{res.step.op} failed with {res.error} and no `expect: error` follows it")


def run_scenario(scenario: Scenario, catalog, *, snapshots: bool = False) -> ScenarioResult:
    """The scenario's result. The phone keeps no timeline (the result records every step, its notifications
    and rules); build a :class:`ScenarioRun` to read the phone's timeline too."""
    return ScenarioRun(scenario, catalog, snapshots=snapshots, timeline=False).run()


def _link(view: dict[str, Any]) -> str:
    return f"{view['profile']}/{view['codec']}" if view.get("codec") else str(view["profile"])


# ---------------------------------------------------------------------- step handlers
# Each step is one public method of routesim.Phone, called with the step's normalised argument
# (routesim.routes.scenario.steps).
def _ears(sim: ApiPhone, a: dict[str, Any]) -> None:
    if a.get("case"):
        sim.ears(a["accessory"], case=a["case"])
    else:
        sim.ears(a["accessory"], left=a.get("left"), right=a.get("right"))


STEP_HANDLERS: dict[str, Callable[[ApiPhone, Any], None]] = {
    "wait": lambda sim, seconds: sim.advance(seconds),
    "connect": lambda sim, a: sim.connect(a),
    "disconnect": lambda sim, a: sim.disconnect(a),
    "rename": lambda sim, a: sim.rename(a["accessory"], a["name"]),
    "battery": lambda sim, a: sim.battery(a["accessory"], left=a.get("left"), right=a.get("right"),
                                          case=a.get("case")),
    "ears": _ears,
    "worn": lambda sim, a: sim.worn(a["accessory"], a["worn"]),
    "profile": lambda sim, a: sim.link_changed(a["accessory"], a["profile"], a.get("codec")),
    "pickRoute": lambda sim, a: sim.pick_route(a),
    "app": lambda sim, a: sim.set_app_state(a),
    "others.play": lambda sim, a: sim.other_play(a),
    "others.stop": lambda sim, a: sim.other_stop(a),
    "player.play": lambda sim, a: sim.player(True),
    "player.stop": lambda sim, a: sim.player(False),
    "system": lambda sim, a: sim.media_services_reset(),
    "session.setCategory": lambda sim, a: sim.set_category(a["category"], a["mode"], a["options"]),
    "session.setMode": lambda sim, a: sim.set_mode(a),
    "session.setActive": lambda sim, a: sim.set_active(a["active"], a.get("options", ())),
    "session.setPreferredInput": lambda sim, a: sim.set_preferred_input(a),
    "session.overrideOutputAudioPort": lambda sim, a: sim.override_output(a),
    "session.setPreferredSampleRate": lambda sim, a: sim.set_preferred_sample_rate(a),
    "session.setPreferredIOBufferDuration": lambda sim, a: sim.set_preferred_io_buffer_duration(a),
    "session.setPreferredInputNumberOfChannels": lambda sim, a: sim.set_preferred_input_channels(a),
    "session.setPrefersNoInterruptionsFromSystemAlerts":
        lambda sim, v: sim.set_prefers_no_interruptions_from_system_alerts(v),
    "session.setPrefersInterruptionOnRouteDisconnect":
        lambda sim, v: sim.set_prefers_interruption_on_route_disconnect(v),
    "callkit.configure": lambda sim, a: sim.callkit.configure(
        supports_holding=a.get("supportsHolding"), maximum_call_groups=a.get("maximumCallGroups"),
        maximum_calls_per_call_group=a.get("maximumCallsPerCallGroup"), supports_grouping=a.get("supportsGrouping"),
        supports_ungrouping=a.get("supportsUngrouping")),
    "callkit.reportIncoming": lambda sim, a: sim.callkit.report_incoming(a["call"]),
    "callkit.startCall": lambda sim, a: sim.callkit.start_call(
        a["call"], fulfill_after=a["fulfillAfter"], connect_after=a["connectAfter"], result=a["result"]),
    "callkit.answer": lambda sim, a: sim.callkit.answer(a["call"], fulfill_after=a["fulfillAfter"],
                                                        result=a["result"]),
    "callkit.hold": lambda sim, a: sim.callkit.hold(a["call"], fulfill_after=a["fulfillAfter"]),
    "callkit.unhold": lambda sim, a: sim.callkit.unhold(a["call"], fulfill_after=a["fulfillAfter"]),
    "callkit.end": lambda sim, a: sim.callkit.end(a["call"], by=a["by"], fulfill_after=a["fulfillAfter"]),
    "callkit.speaker": lambda sim, a: sim.callkit.speaker(bool(a)),
    "cellular.incoming": lambda sim, a: sim.cellular.incoming(a["call"]),
    "cellular.answer": lambda sim, a: sim.cellular.answer(a["call"], hold_others=a["holdOthers"]),
    "cellular.decline": lambda sim, a: sim.cellular.decline(a["call"]),
    "cellular.end": lambda sim, a: sim.cellular.end(a["call"], by=a["by"]),
    "engine.start": lambda sim, a: sim.engine.start(),
    "engine.stop": lambda sim, a: sim.engine.stop(),
    "engine.installTap": lambda sim, a: sim.engine.install_tap(a["format"] if isinstance(a, dict) else "hardware"),
    "engine.removeTap": lambda sim, a: sim.engine.remove_tap(),
    "engine.setVoiceProcessingEnabled": lambda sim, a: sim.engine.set_voice_processing_enabled(a),
    "recorder.record": lambda sim, a: sim.recorder.record(
        format=a["format"], sample_rate=float(a["sampleRate"]), channels=int(a["channels"]),
        duration=float(a["duration"]), wait=a.get("wait", True)),
    "callkit.reset": lambda sim, a: sim.callkit.reset(),
    "callkit.group": lambda sim, a: sim.callkit.group(a["call"], a["with"], fulfill_after=a["fulfillAfter"]),
    "callkit.ungroup": lambda sim, a: sim.callkit.ungroup(a["call"], fulfill_after=a["fulfillAfter"]),
    "capture.start": lambda sim, a: sim.capture.start(
        automatically_configures_session=a["automaticallyConfiguresApplicationAudioSession"],
        mix_with_others=a["configuresApplicationAudioSessionToMixWithOthers"]),
    "capture.stop": lambda sim, a: sim.capture.stop(),
}
