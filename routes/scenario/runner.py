"""Run a loaded scenario against a fresh phone on a virtual clock, step by step."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from routesim.bt.virtual import VirtualAccessories

from routesim.clock import VirtualClock
from routesim.routes.phone.config import Configuration
from routesim.routes.phone.errors import AppException, SessionError, StepError
from routesim.routes.scenario.extensions import EXTENSION_HANDLERS, EXTENSIONS
from routesim.routes.scenario.expectations import Check, Observation, check_expect, error_matches
from routesim.routes.live.manager import RouteManager
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.ports import Route
from routesim.routes.scenario.model import Expect, Scenario, Step
from routesim.routes.phone.session import AppState, Phone


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

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


@dataclass(slots=True)
class ScenarioResult:
    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)
    invalid: str | None = None  # a scenario error: the step cannot be performed (exit 2)

    @property
    def passed(self) -> bool:
        return self.invalid is None and all(s.ok for s in self.steps)

    @property
    def failures(self) -> list[tuple[StepResult, Check]]:
        return [(s, c) for s in self.steps for c in s.checks if not c.ok]


class ScenarioRun:
    """One scenario's world: clock, phone, virtual accessories, route manager."""

    def __init__(self, scenario: Scenario, catalog):
        self.scenario = scenario
        self.catalog = catalog
        self.clock = VirtualClock()
        app = scenario.app
        self.phone = Phone(
            platform=scenario.platform,
            hardware=scenario.hardware.device,
            hfp_offered=scenario.hardware.hfp_codecs,
            behavior=dict(scenario.behavior),
            app=AppState(app.state, app.background_audio, app.context, app.record_permission, app.now_playing),
            now=self.clock.now,
            schedule=self.clock.call_later,
        )
        self.virtual = VirtualAccessories()
        self.manager = RouteManager(self.phone, catalog)
        self.manager.add_sink(self.virtual)
        self.extras: dict[str, Callable[[], Any]] = {}  # expect keys served by extensions (calls, engine, ...)
        for spec in scenario.accessories.values():
            model = catalog.get(spec.model)
            info = self.virtual.add(spec.id, spec.model, spec.name or model.name, spec.address, spec.firmware)
            self.manager.ensure_accessory(info)
        for spec in scenario.accessories.values():
            if spec.connected:
                self.manager.dispatch(self.virtual.connect(spec.id), silent=True)
        for spec in scenario.others.values():
            self.phone.add_other(spec.id, Configuration(spec.category, spec.mode, frozenset(spec.options)), spec.playing)
        for attach in EXTENSIONS:
            attach(self)
        self.phone.pending.clear()
        self.phone.commands.clear()
        self._seen = 0  # notifications already attributed to a step

    def attached(self, name: str) -> Any:
        """The model an extension attached to this run (``run.engine``, ``run.calls``, ...)."""
        model = getattr(self, name, None)
        if model is None:
            raise StepError(f"the {name} model is not attached to this run")
        return model

    # ------------------------------------------------------------------ steps
    def perform(self, step: Step) -> None:
        handler = HANDLERS.get(step.op)
        if handler is None:
            raise StepError(f"step {step.op} is not modelled yet")
        handler(self, step.arg)
        self.clock.run_due()

    def run(self) -> ScenarioResult:
        result = ScenarioResult(self.scenario)
        failed: StepResult | None = None  # a step that failed and awaits `expect: error`
        for step in self.scenario.steps:
            phone = self.phone
            if step.op == "expect":
                res = StepResult(step, self.clock.now(), phone.route)
                phone.begin_step()  # reading state can exercise rules too (availableInputs, formats)
                try:
                    res.checks = self._check(step.arg, failed)
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
            res = StepResult(step, 0.0, phone.route)
            try:
                self.perform(step)
            except (SessionError, AppException) as e:
                res.error = e
                failed = res
            except StepError as e:
                result.invalid = f"{self.scenario.file}:{step.line}: {step.op}: {e}"
                result.steps.append(res)
                return result
            res.time = self.clock.now()
            res.route = phone.route
            res.notifications = phone.pending[self._seen:]
            self._seen = len(phone.pending)
            res.rules = list(phone.fired)
            res.quirks = list(phone.decision.quirks)
            result.steps.append(res)
        if failed is not None:
            failed.checks.append(_unexpected_error(failed))
        return result

    def _check(self, expect: Expect, failed: StepResult | None) -> list[Check]:
        notes = self.manager.take_notifications()
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


def run_scenario(scenario: Scenario, catalog) -> ScenarioResult:
    return ScenarioRun(scenario, catalog).run()


# ---------------------------------------------------------------------- step handlers
def _accessory_event(action: str) -> Callable[[ScenarioRun, Any], None]:
    def handler(run: ScenarioRun, arg: Any) -> None:
        if action == "connect":
            if run.phone.accessories[arg].connected:
                raise StepError(f"{arg} is already connected")
            run.manager.dispatch(run.virtual.connect(arg))
        elif action == "disconnect":
            run.manager.dispatch(run.virtual.disconnect(arg))
        elif action == "rename":
            run.manager.dispatch(run.virtual.rename(arg["accessory"], arg["name"]))
        elif action == "battery":
            run.manager.dispatch(run.virtual.battery(arg["accessory"], arg.get("left"), arg.get("right"), arg.get("case")))
        elif action == "worn":
            run.manager.dispatch(run.virtual.worn(arg["accessory"], arg["worn"]))
        elif action == "ears":
            if arg.get("case"):
                run.manager.dispatch(run.virtual.case(arg["accessory"], arg["case"] == "open"))
            else:
                run.manager.dispatch(run.virtual.ears(arg["accessory"], arg.get("left"), arg.get("right")))
    return handler


def _call(method: str, unpack: Callable[[Any], tuple] = lambda a: (a,)) -> Callable[[ScenarioRun, Any], None]:
    def handler(run: ScenarioRun, arg: Any) -> None:
        run.manager.call(getattr(run.phone, method), *unpack(arg))
    return handler


def _others(play: bool) -> Callable[[ScenarioRun, Any], None]:
    def handler(run: ScenarioRun, arg: str) -> None:
        run.manager.call(run.phone.other_play if play else run.phone.other_stop, arg)
    return handler


HANDLERS: dict[str, Callable[[ScenarioRun, Any], None]] = {
    "wait": lambda run, seconds: run.clock.advance(seconds),
    "connect": _accessory_event("connect"),
    "disconnect": _accessory_event("disconnect"),
    "rename": _accessory_event("rename"),
    "battery": _accessory_event("battery"),
    "ears": _accessory_event("ears"),
    "worn": _accessory_event("worn"),
    "pickRoute": _call("pick_route"),
    "app": _call("set_app_state"),
    "others.play": _others(True),
    "others.stop": _others(False),
    "player.play": _call("player", lambda a: (True,)),
    "player.stop": _call("player", lambda a: (False,)),
    "system": _call("media_services_reset", lambda a: ()),
    "session.setCategory": _call("set_category", lambda a: (a["category"], a["mode"], tuple(a["options"]))),
    "session.setMode": _call("set_mode"),
    "session.setActive": _call("set_active", lambda a: (a["active"], tuple(a.get("options", ())))),
    "session.setPreferredInput": _call("set_preferred_input"),
    "session.overrideOutputAudioPort": _call("override_output"),
    "session.setPreferredSampleRate": _call("set_preferred_sample_rate"),
    "session.setPreferredIOBufferDuration": _call("set_preferred_io_buffer_duration"),
    "session.setPreferredInputNumberOfChannels": _call("set_preferred_input_channels"),
    "session.setPrefersNoInterruptionsFromSystemAlerts":
        lambda run, v: setattr(run.phone, "prefers_no_interruptions_from_alerts", bool(v)),
    "session.setPrefersInterruptionOnRouteDisconnect":
        lambda run, v: setattr(run.phone, "prefers_interruption_on_route_disconnect", bool(v)),
    **EXTENSION_HANDLERS,  # CallKit, cellular, engine, recorder, capture (routesim.routes.scenario.extensions)
}

