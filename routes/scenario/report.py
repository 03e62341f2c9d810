"""Printing scenario results: the timeline a person reads, the JSON a machine reads, and explain."""
from __future__ import annotations

import json
from typing import Any, TextIO

from routesim.routes.scenario.expectations import _plain
from routesim.routes.phone.rules import RULES
from routesim.routes.scenario.runner import ScenarioResult, StepResult


def _fmt_arg(arg: Any) -> str:
    if arg is None:
        return ""
    if isinstance(arg, dict):
        return " ".join(f"{k}={_fmt_arg(v) if isinstance(v, dict) else _short(v)}" for k, v in arg.items())
    return _short(arg)


def _short(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(map(str, v)) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _expected(check) -> str:
    return json.dumps(_plain(check.expected), default=str)


def _actual(check) -> str:
    return json.dumps(_plain(check.actual), default=str)


def _where(sc) -> str:
    """The header's platform and device: ``ios-17.4, iphone``; a simulator run says so."""
    return f"{sc.platform}{' simulator' if sc.platform.simulator else ''}, {sc.hardware.device}"


def timeline(result: ScenarioResult, out: TextIO, *, verbose: bool = True, color: bool = False) -> None:
    sc = result.scenario
    doc = f" #{sc.index + 1}" if sc.index else ""
    red, green, dim, reset = ("\033[31m", "\033[32m", "\033[2m", "\033[0m") if color else ("", "", "", "")
    if verbose:
        out.write(f"── {sc.file}{doc}: {sc.name}  [{_where(sc)}]\n")
        for res in result.steps:
            _step_lines(res, out, red, green, dim, reset)
    if result.invalid:
        out.write(f"{red}ERROR{reset} {sc.name}\n  {result.invalid}\n")
    elif result.passed:
        n = sum(1 for s in result.steps if s.step.op == "expect")
        out.write(f"{green}PASS{reset}  {sc.name}  ({len(result.steps)} steps, {n} expectations)\n")
    else:
        out.write(f"{red}FAIL{reset}  {sc.name}\n")
        for res, check in result.failures:
            out.write(f"  {sc.file}:{res.step.line}: {check.key}: expected {_expected(check)}, got {_actual(check)}"
                      f"{'  (' + check.message + ')' if check.message else ''}\n")
    if verbose:
        out.write("\n")


def _step_lines(res: StepResult, out: TextIO, red: str, green: str, dim: str, reset: str) -> None:
    step = res.step
    head = f"  {res.time:8.3f}s  L{step.line:<4} "
    if step.op == "expect":
        marks = " ".join(f"{green}✓{reset} {c.key}" if c.ok else f"{dim}~ {c.key}{reset}" if c.drift
                         else f"{red}✗ {c.key}{reset}" for c in res.checks)
        out.write(f"{head}expect  {marks}\n")
        for c in res.checks:
            if not c.ok and not c.drift:
                out.write(f"{'':22}{red}expected {_expected(c)}\n{'':22}got      {_actual(c)}{reset}\n")
                if c.message:
                    out.write(f"{'':22}{c.message}\n")
        return
    out.write(f"{head}{step.op} {_fmt_arg(step.arg)}\n")
    if res.error is not None:
        out.write(f"{'':22}{red}error: {res.error}{reset}\n")
    out.write(f"{'':22}{dim}route {res.route.short()}{reset}\n")
    for note in res.notifications:
        out.write(f"{'':22}→ {note.short()}\n")


def as_json(result: ScenarioResult) -> dict:
    sc = result.scenario
    steps = []
    for res in result.steps:
        entry: dict[str, Any] = {"line": res.step.line, "op": res.step.op, "time": res.time}
        if res.step.op == "expect":
            entry["checks"] = [c.as_dict() for c in res.checks]
        else:
            entry["arg"] = _plain(res.step.arg)
            entry["route"] = res.route.as_dict()
            entry["notifications"] = [n.as_dict() for n in res.notifications]
            if res.error is not None:
                entry["error"] = str(res.error)
        steps.append(entry)
    out = {
        "file": sc.file, "index": sc.index, "name": sc.name, "platform": str(sc.platform),
        "passed": result.passed, "invalid": result.invalid, "steps": steps,
    }
    if sc.platform.simulator:  # only when set, so reports of device runs stay as they were
        out["simulator"] = True
    return out


def explain(result: ScenarioResult, out: TextIO) -> None:
    sc = result.scenario
    out.write(f"── {sc.file}: {sc.name}  [{_where(sc)}]\n")
    for res in result.steps:
        if res.step.op == "expect":
            continue
        out.write(f"  L{res.step.line:<4} {res.step.op} {_fmt_arg(res.step.arg)}\n")
        if res.error is not None:
            out.write(f"        fails: {res.error}\n")
        out.write(f"        route {res.route.short()}\n")
        for rid in res.rules:
            r = RULES[rid]
            out.write(f"        · {r.summary}  {r.source}\n")
        for q in (res.quirks if res.rules else ()):
            out.write(f"        ⚑ quirk {q.id}: {q.summary}  {q.source} (confidence: {q.confidence})\n")
        for note in res.notifications:
            out.write(f"        → {note.short()}\n")
    if result.invalid:
        out.write(f"  ERROR {result.invalid}\n")
    out.write("\n")
