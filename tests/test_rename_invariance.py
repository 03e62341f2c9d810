"""Renaming a device changes its ports' names and nothing else: the model, its quirks, the route, the
formats and the notifications stay the same (identity is the product ID, never the name;
the decisions in docs/scenario-format.md; gh:d4rken-org/capod#22, gh:librepods-org/librepods#511)."""
from __future__ import annotations

import dataclasses

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.routes.cli.common import bundled_scenarios
from routesim.routes.scenario.runner import run_scenario
from routesim.routes.scenario.loader import iter_scenario_files, load_path
from routesim.routes.scenario.model import NoteMatch, PortMatch, RouteMatch

CATALOG = default_catalog()


def _load_all():
    found = []
    for path in iter_scenario_files([bundled_scenarios()]):
        found.extend(load_path(path, CATALOG.ids()))  # a bundled file that does not load fails here too
    return [sc for sc in found if sc.accessories and not any(s.op == "rename" for s in sc.steps)]


SCENARIOS = _load_all()


def _renamed(sc):
    accessories = {k: dataclasses.replace(a, name=f"xxxx {i}") for i, (k, a) in enumerate(sc.accessories.items())}
    return dataclasses.replace(sc, accessories=accessories)


def _names(expected) -> bool:
    """Does an expectation pin a port or device name (which a rename is meant to change)?"""
    if isinstance(expected, PortMatch):
        return expected.name is not None
    if isinstance(expected, RouteMatch):
        return any(_names(p) for p in (*(expected.inputs or ()), *(expected.outputs or ())))
    if isinstance(expected, NoteMatch):
        return any(_names(v) for v in expected.fields.values())
    if isinstance(expected, (list, tuple)):
        return any(_names(v) for v in expected)
    return False


def _trace(result):
    """Everything observable except names: per step the port types and UIDs, the notifications with
    their reasons and previous routes' types, the error, and which non-name checks held."""
    out = []
    for res in result.steps:
        ports = [(p.type, p.uid) for p in (*res.route.inputs, *res.route.outputs)]
        notes = [(n.name, n.fields.get("reason"), n.fields.get("type"),
                  n.fields["previousRoute"].types() if "previousRoute" in n.fields else None)
                 for n in res.notifications]
        checks = [(c.key, c.ok) for c in res.checks if not c.key.endswith(".name") and not _names(c.expected)]
        out.append((res.step.line, ports, notes, getattr(res.error, "name", None), checks,
                    [q.id for q in res.quirks]))
    return out


def _pins_a_name(check) -> bool:
    return check.key.endswith(".name") or _names(check.expected)


def test_the_bundled_library_has_scenarios_to_rename():
    assert len(SCENARIOS) > 100


@pytest.mark.parametrize("sc", SCENARIOS, ids=[f"{sc.file.rsplit('/', 1)[-1]}#{sc.index}" for sc in SCENARIOS])
def test_renaming_changes_only_names(sc):
    original = run_scenario(sc, CATALOG)
    renamed = run_scenario(_renamed(sc), CATALOG)
    assert original.invalid is None and renamed.invalid is None, original.invalid or renamed.invalid
    assert original.passed, [f"{sc.file}:{res.step.line}: {c.key}" for res, c in original.failures]
    # Renamed, every expectation still holds except those that pin the old name.
    broken = [f"{sc.file}:{res.step.line}: {c.key}" for res, c in renamed.failures if not _pins_a_name(c)]
    assert not broken, broken
    assert _trace(renamed) == _trace(original)
    names = {p.name for s in renamed.steps for p in (*s.route.inputs, *s.route.outputs) if p.owner}
    assert all(n.startswith("xxxx") or n in ("Headphones", "Headset Microphone") for n in names)
