"""Bundled scenarios check something the model computes.

- None is a pure round trip: a scenario whose every expected value was written, under the same field
  name, by the steps since the previous ``expect`` (set a battery level, expect that level back) cannot
  catch a wrong mapping.
- A scenario that checks a single expectation key (``route``, ``session``, ...) is listed here, one test
  item each, and says in its own description why one is enough (a sentence starting with MARK).
"""
from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any, Iterator

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.routes.cli.common import bundled_scenarios
from routesim.routes.scenario.loader import iter_scenario_files, load_path
from routesim.routes.scenario.model import Expect

CATALOG = default_catalog()
MARK = "One expectation key is enough"

# The Expect fields that are expectation keys, by the name a scenario file gives them.
KEYS = {"route": "route", "notifications": "notifications", "notifications_include": "notificationsInclude",
        "notifications_exclude": "notificationsExclude", "error": "error", "session": "session",
        "others": "others", "calls": "calls", "call_groups": "callGroups", "engine": "engine", "recording": "recording",
        "accessories": "accessories", "audio": "audio", "rig": "rig"}


def _bundled():
    out = []
    for path in iter_scenario_files([bundled_scenarios()]):
        out.extend(load_path(path, CATALOG.ids()))
    return out


SCENARIOS = _bundled()


def _id(sc) -> str:
    return f"{sc.file.split('scenarios/', 1)[-1]}#{sc.index}"


def expect_keys(sc) -> set[str]:
    return {KEYS[f] for st in sc.steps if st.op == "expect" for f in KEYS if getattr(st.arg, f) is not None}


def test_every_expect_field_is_counted():
    assert set(KEYS) == {f.name for f in dataclass_fields(Expect)} - {"line"}


ONE_KEY = [sc for sc in SCENARIOS if len(expect_keys(sc)) <= 1]


@pytest.mark.parametrize("sc", ONE_KEY, ids=[_id(sc) for sc in ONE_KEY])
def test_a_scenario_checking_one_key_says_why_one_is_enough(sc):
    assert expect_keys(sc), "a scenario must check something"
    assert MARK in (sc.description or ""), f"{_id(sc)} checks only {expect_keys(sc)}; say why ({MARK}: ...)"


# ---------------------------------------------------------------- round trips

def _leaves(value: Any, name: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """(field name, value) for every scalar in a nested dict; other shapes are one opaque leaf."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    else:
        yield name, value


def _echoes(expect: Expect, steps) -> bool:
    """Every value this expect checks was written under the same name by one of ``steps``."""
    written = {(n, repr(v)) for st in steps for n, v in _leaves(st.arg)}
    checked = []
    for f in KEYS:
        value = getattr(expect, f)
        if value is None:
            continue
        if not isinstance(value, dict):
            return False  # a route, notifications, an error: the model computes them
        checked.extend(_leaves(value))
    return bool(checked) and all((n, repr(v)) in written for n, v in checked)


def is_round_trip(sc) -> bool:
    since: list = []
    checking = []
    for st in sc.steps:
        if st.op == "expect":
            checking.append(_echoes(st.arg, since))
            since = []
        else:
            since.append(st)
    return bool(checking) and all(checking)


def test_no_bundled_scenario_is_a_pure_round_trip():
    assert [_id(sc) for sc in SCENARIOS if is_round_trip(sc)] == []


def test_the_round_trip_finder_finds_one():
    from routesim.routes.scenario.loader import load_text
    echo, mapped = load_text("""\
name: battery echoed
accessories: {pods: {model: airpods-pro, connected: true}}
steps:
  - battery: {accessory: pods, left: 70, right: 60, case: 40}
  - expect: {accessories: {pods: {battery: {left: 70, right: 60, case: 40}}}}
---
name: battery mapped
accessories: {phones: {model: airpods-max, connected: true}}
steps:
  - battery: {accessory: phones, left: 70, right: 60}
  - expect: {accessories: {phones: {battery: {left: 70, right: null}}}}
""", "inline.scenario.yaml", CATALOG.ids())
    assert is_round_trip(echo) and not is_round_trip(mapped)
