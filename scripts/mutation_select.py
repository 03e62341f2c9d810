"""A pytest plugin for mutation runs only (scripts/mutation stages it beside the tests it mutates).

mutmut runs each mutant against the tests that reach its function, passing them as node ids. For the
policy and the session model that is about 3,000 ids, and pytest matches each id against the collection
on its own: some 4 s per mutant before the first test runs, longer than most mutants take to be killed.
This plugin collects the ids' files once, keeps the wanted items, and runs them fastest first (mutmut's
own timings from the coverage run), so a killed mutant stops at the cheapest test that catches it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

_WANTED = pytest.StashKey[frozenset]()
_STATS = "mutmut-stats.json"  # written by mutmut in the folder the tests run from


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    args = list(config.args)
    if len(args) < 2 or not all("::" in a for a in args):
        return  # a plain run (mutmut's forced-failure check, its coverage run): leave pytest alone
    config.stash[_WANTED] = frozenset(args)
    config.args[:] = list(dict.fromkeys(a.split("::", 1)[0] for a in args))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.stash.get(_WANTED, None)
    if wanted is None:
        return
    kept = [item for item in items if item.nodeid in wanted]
    missing = len(wanted) - len(kept)
    if missing:
        # An id that names nothing would otherwise pass unnoticed, and its mutant would look killed-by-none.
        raise pytest.UsageError(f"mutation_select: {missing} of {len(wanted)} test ids matched no collected test")
    stats = Path(_STATS)
    durations = json.loads(stats.read_text())["duration_by_test"] if stats.exists() else {}
    kept.sort(key=lambda item: durations.get(item.nodeid, 0.0))
    dropped = [item for item in items if item.nodeid not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
