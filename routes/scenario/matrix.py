"""The compatibility matrix: one scenario run over every model that fits each accessory slot, over
platforms and over behaviour switches, each case compared with the scenario as written.

A *slot* is an accessory of the scenario; the models that fit it are the catalog's models of the same
kind (earbuds, over-ear, ...) as the model the scenario names. A case is one choice per slot, one
platform and one value per swept switch. Its *outcome* is what the app saw at every step (route with
ports named by slot, not by accessory name; notifications with their reasons; errors; the hardware
sample rate), plus how many of the scenario's own expectations failed. Cases whose steps the model
cannot perform (ears on a model without ear detection) are *not applicable*: reported, not failures.

Everything here is deterministic: cases are enumerated in a fixed order and results are kept in that
order, so the same matrix gives the same report however (and wherever) it is run.
"""
from __future__ import annotations

import ast
import dataclasses
import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, NamedTuple, Sequence

from routesim.profiles.platform import IOS_RANGE, Platform
from routesim.routes.phone.behavior import DEFAULT_BEHAVIOR
from routesim.routes.scenario.model import Scenario
from routesim.routes.scenario.runner import run_scenario

OK, DIFFERS, NOT_APPLICABLE, INVALID = "same", "differs", "n/a", "invalid"


class MatrixError(ValueError):
    """A matrix that cannot be built as asked (unknown model or kind, bad range, too many cases)."""


# ------------------------------------------------------------------------------------------ cases
@dataclass(frozen=True, slots=True)
class Case:
    scenario: int                              # index into the matrix's scenario list
    models: tuple[tuple[str, str], ...]        # (slot id, model id) per slot, in the scenario's order
    platform: str
    switches: tuple[tuple[str, Any], ...] = ()  # (switch, value) per swept switch

    def label(self) -> str:
        parts = [",".join(m for _, m in self.models) or "-", self.platform]
        parts += [f"{k}={v}" for k, v in self.switches]
        return " ".join(parts)


def parse_platforms(text: str | None) -> tuple[Platform, Platform] | str:
    """``ios-16.0..ios-26.2`` -> (low, high); ``all`` -> "all"; None -> the full modelled iOS range."""
    if text is None:
        return Platform.parse(f"ios-{IOS_RANGE[0]}.0"), Platform.parse(f"ios-{IOS_RANGE[1]}.0")
    if text == "all":
        return "all"
    lo, sep, hi = text.partition("..")
    try:
        if not sep:
            p = Platform.parse(text)
            return p, p
        low, high = Platform.parse(lo.strip()), Platform.parse(hi.strip())
    except ValueError as exc:
        raise MatrixError(f"--platforms {text!r}: {exc} (expected ios-16.0..ios-26.2, one platform, or all)")
    if low > high or low.os != high.os:
        raise MatrixError(f"--platforms {text!r}: the range is empty (write the lower version first)")
    return low, high


def breakpoints(catalog) -> list[tuple[int, int, int]]:
    """iOS versions at which some rule, quirk or model fact changes: where the model's behaviour can differ.

    Read from the phone model's code (every ``at_least(X, Y)`` with literal numbers), the quirks' platform
    ranges and the models' per-platform HFP codecs, so a new rule is swept without anyone listing it.
    """
    found: set[tuple[int, int, int]] = set(_code_breakpoints())
    for quirk in catalog.quirks():
        for bound in (quirk.platform.low, quirk.platform.high):
            if bound:
                found.add(_v3(bound))
    for model in catalog.models():
        for codec in model.hfp_codecs:
            for bound in (codec.platform.low, codec.platform.high):
                if bound:
                    found.add(_v3(bound))
    return sorted(found)


@lru_cache(maxsize=1)
def _code_breakpoints() -> tuple[tuple[int, int, int], ...]:
    found = set()
    root = resources.files("routesim.routes")
    for sub in ("phone", "audio", "live"):
        for entry in sorted(root.joinpath(sub).iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".py"):
                continue
            for node in ast.walk(ast.parse(entry.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "at_least" and node.args
                        and all(isinstance(a, ast.Constant) and isinstance(a.value, int) for a in node.args)):
                    found.add(_v3(tuple(a.value for a in node.args)))
    return tuple(sorted(found))


def _v3(v: Sequence[int]) -> tuple[int, int, int]:
    t = tuple(v) + (0, 0, 0)
    return (t[0], t[1], t[2])


def platforms_for(spec: tuple[Platform, Platform] | str, catalog, scenario_platform: Platform) -> list[Platform]:
    """The platforms a matrix sweeps: the range's ends and every breakpoint inside it (or, for ``all``,
    every modelled major version and every breakpoint), and the scenario's own platform, so the case as
    written is in the grid. A scenario on visionOS keeps its own platform."""
    if scenario_platform.os != "ios":
        return [scenario_platform]
    points = breakpoints(catalog)
    if spec == "all":
        versions = {(m, 0, 0) for m in range(IOS_RANGE[0], IOS_RANGE[1] + 1)} | set(points)
    else:
        low, high = spec
        versions = {low.version, high.version} | {p for p in points if low.version <= p <= high.version}
    versions.add(scenario_platform.version)
    return [Platform("ios", v) for v in sorted(versions)]


def models_for_slot(selection: str, slot_model, catalog) -> list[str]:
    """Model ids a slot sweeps. ``all``: every model of the slot's kind; a kind name: that kind only (a
    slot of another kind keeps its model); ``ID,ID``: those ids that share the slot's kind."""
    kind = slot_model.kind.value
    same_kind = [m.id for m in catalog.models() if m.kind.value == kind]
    if selection == "all":
        chosen = same_kind
    elif selection in {m.kind.value for m in catalog.models()}:
        chosen = same_kind if selection == kind else [slot_model.id]
    else:
        ids = [s.strip() for s in selection.split(",") if s.strip()]
        unknown = [i for i in ids if i not in catalog.ids()]
        if unknown:
            raise MatrixError(f"--models: unknown model id {', '.join(map(repr, unknown))} "
                              f"(expected all, a kind such as earbuds, or ids from `routesim models`)")
        chosen = [i for i in ids if catalog.get(i).kind.value == kind] or [slot_model.id]
    return chosen or [slot_model.id]


def parse_switches(items: Iterable[str]) -> dict[str, list[Any]]:
    """``--switch setModeClearsOptions=true,false`` -> {name: [True, False]}, values typed like the default."""
    out: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULT_BEHAVIOR or not values.strip():
            known = ", ".join(DEFAULT_BEHAVIOR)
            raise MatrixError(f"--switch {item!r}: expected NAME=VALUE[,VALUE...] with NAME one of {known}")
        default = DEFAULT_BEHAVIOR[name]
        typed = []
        for raw in (v.strip() for v in values.split(",")):
            if isinstance(default, bool):
                if raw not in ("true", "false"):
                    raise MatrixError(f"--switch {name}: {raw!r} is not true or false")
                typed.append(raw == "true")
            elif isinstance(default, float):
                try:
                    typed.append(float(raw))
                except ValueError:
                    raise MatrixError(f"--switch {name}: {raw!r} is not a number of seconds") from None
            else:
                typed.append(raw)
        out[name] = typed
    return out


def expand(scenarios: Sequence[Scenario], catalog, *, models: str = "all",
           platforms: tuple[Platform, Platform] | str | None = None,
           switches: dict[str, list[Any]] | None = None, max_cases: int = 100_000) -> list[Case]:
    """Every case of the matrix, in a fixed order; raises MatrixError beyond ``max_cases``."""
    span = platforms if platforms is not None else parse_platforms(None)
    sweep = sorted((switches or {}).items())
    cases: list[Case] = []
    for index, scenario in enumerate(scenarios):
        slots = [(spec.id, models_for_slot(models, catalog.get(spec.model), catalog))
                 for spec in scenario.accessories.values()]
        plats = [str(p) for p in platforms_for(span, catalog, scenario.platform)]
        switch_values = [[(name, v) for v in values] for name, values in sweep]
        count = len(plats) * _product_len([c for _, c in slots]) * _product_len([v for v in switch_values])
        if len(cases) + count > max_cases:
            raise MatrixError(
                f"the matrix has more than {max_cases} cases ({scenario.file}:{scenario.line} alone adds {count}); "
                f"narrow it with --models, --platforms or fewer switches, or raise --max-cases")
        for choice in itertools.product(*[c for _, c in slots]):
            assignment = tuple(zip((s for s, _ in slots), choice))
            for plat in plats:
                for sw in itertools.product(*switch_values):
                    cases.append(Case(index, assignment, plat, tuple(sw)))
    return cases


def _product_len(lists: list[list[Any]]) -> int:
    n = 1
    for item in lists:
        n *= len(item)
    return n


# --------------------------------------------------------------------------------------- outcomes
@dataclass(frozen=True, slots=True)
class StepOutcome:
    line: int
    op: str
    route: str
    notifications: tuple[str, ...]
    error: str | None
    sample_rate: int
    failed_checks: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    quirks: tuple[str, ...] = ()
    links: tuple[str, ...] = ()

    def facts(self) -> dict[str, Any]:
        """What the comparison looks at (rules and quirks explain a difference; they are not one)."""
        return {"route": self.route, "notifications": list(self.notifications), "error": self.error,
                "sampleRate": self.sample_rate}


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str                                # "run", NOT_APPLICABLE or INVALID
    reason: str = ""
    steps: tuple[StepOutcome, ...] = ()

    @property
    def failed_expectations(self) -> int:
        return sum(len(s.failed_checks) for s in self.steps)


class Difference(NamedTuple):
    """A tuple, not a frozen dataclass: tens of thousands of them cross from the workers to the parent, and
    a tuple pickles in C, where a frozen slots dataclass goes through a Python ``__setstate__`` each (about
    8x slower to unpickle; pickling them both ways was about a sixth of a two-worker matrix's CPU time)."""
    line: int
    op: str
    field: str
    written: Any                               # the scenario as written
    case: Any                                  # this case
    rules: tuple[str, ...] = ()
    quirks: tuple[str, ...] = ()


@dataclass(slots=True)
class CaseResult:
    case: Case
    status: str                                # OK, DIFFERS, NOT_APPLICABLE, INVALID
    reason: str = ""
    failed_expectations: int = 0
    differences: list[Difference] = field(default_factory=list)
    failure_lines: tuple[int, ...] = ()


def not_applicable(scenario: Scenario, models: dict[str, Any]) -> str | None:
    """Why a case's steps cannot be performed by its models (None: they can)."""
    for step in scenario.steps:
        if step.op != "ears":
            continue
        slot = step.arg.get("accessory")
        model = models.get(slot)
        if model is None:
            continue
        if step.arg.get("case") and not model.has_case:
            return f"line {step.line}: {model.id} has no charging case"
        if (step.arg.get("left") or step.arg.get("right")) and not model.in_ear_detection:
            return f"line {step.line}: {model.id} has no ear detection"
    return None


def case_scenario(scenario: Scenario, case: Case) -> Scenario:
    accessories = {sid: dataclasses.replace(spec, model=dict(case.models).get(sid, spec.model))
                   for sid, spec in scenario.accessories.items()}
    behavior = {**scenario.behavior, **dict(case.switches)}
    platform = dataclasses.replace(Platform.parse(case.platform), simulator=scenario.platform.simulator)
    return dataclasses.replace(scenario, accessories=accessories, platform=platform, behavior=behavior)


def outcome_of(scenario: Scenario, catalog) -> Outcome:
    result = run_scenario(scenario, catalog, snapshots=True)
    names = _slot_names(scenario, catalog)
    steps = tuple(_step_outcome(s, names) for s in result.steps)
    if result.invalid:
        return Outcome(INVALID, result.invalid, steps)
    return Outcome("run", "", steps)


def _slot_names(scenario: Scenario, catalog) -> dict[str, str]:
    """Accessory name -> slot, so a route reads the same whichever model (and factory name) fills it."""
    names = {}
    for spec in scenario.accessories.values():
        names[spec.name or catalog.get(spec.model).name] = f"<{spec.id}>"
    return names


def _step_outcome(step, names: dict[str, str]) -> StepOutcome:
    def port(p) -> str:
        return f"{p.type}{'@' + names.get(p.name, '<renamed>') if p.owner else ''}"

    route = f"in[{','.join(port(p) for p in step.route.inputs) or '-'}] " \
            f"out[{','.join(port(p) for p in step.route.outputs) or '-'}]"
    notes = []
    for n in step.notifications:
        detail = ",".join(f"{k}={v}" for k, v in n.fields.items() if k in ("reason", "type", "options")
                          or k.endswith("Reason"))
        notes.append(f"{n.name}({detail})" if detail else n.name)
    error = None
    if step.error is not None:
        error = getattr(step.error, "name", None) or type(step.error).__name__
    failed = tuple(c.key for c in step.checks if not c.ok)
    quirks = tuple(getattr(q, "id", str(q)) for q in step.quirks)
    return StepOutcome(step.step.line, step.step.op, route, tuple(notes), error,
                       int(step.state.get("sampleRate", 0)), failed, tuple(step.rules), quirks,
                       tuple(sorted(f"<{k}>={v}" for k, v in step.state.get("links", {}).items())))


def compare(written: Outcome, case: Outcome) -> list[Difference]:
    diffs = []
    for a, b in zip(written.steps, case.steps):
        fa, fb = a.facts(), b.facts()
        for key in fa:
            if fa[key] != fb[key]:
                diffs.append(Difference(b.line, b.op, key, fa[key], fb[key], b.rules, b.quirks))
    if len(written.steps) != len(case.steps):
        diffs.append(Difference(0, "", "steps", len(written.steps), len(case.steps)))
    return diffs


def run_case(scenario: Scenario, case: Case, catalog, baseline: Outcome) -> CaseResult:
    models = {sid: catalog.get(mid) for sid, mid in case.models}
    why = not_applicable(scenario, models)
    if why:
        return CaseResult(case, NOT_APPLICABLE, why)
    outcome = outcome_of(case_scenario(scenario, case), catalog)
    if outcome.status == INVALID:
        return CaseResult(case, NOT_APPLICABLE if baseline.status != INVALID else INVALID, outcome.reason)
    diffs = compare(baseline, outcome)
    lines = tuple(s.line for s in outcome.steps if s.failed_checks)
    return CaseResult(case, DIFFERS if diffs else OK, "", outcome.failed_expectations, diffs, lines)
