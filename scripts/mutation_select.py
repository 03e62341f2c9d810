"""A pytest plugin for mutation runs only (scripts/mutation stages it beside the tests it mutates).

mutmut runs each mutant against the tests that reach its function, passing them as node ids. For the
policy and the session model that is about 3,000 ids, and pytest matches each id against the collection
on its own: some 4 s per mutant before the first test runs, longer than most mutants take to be killed.
This plugin collects the ids' files once, keeps the wanted items, and orders them so a mutant that will be
killed is killed early: first the tests that have killed other mutants in this run (mutants of one function tend to
fall to the same tests), then the rest, fastest first within each group (mutmut's timings from its
coverage run).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_WANTED = pytest.StashKey[frozenset]()
_STATS = "mutmut-stats.json"  # written by mutmut in the folder the tests run from
_KILLERS = "mutation-killers.txt"  # one line per kill: the test that failed first, a tab, the mutant
_selecting = False  # a mutant's run (ids given), not a plain one

# Tests left out of a mutant's run. The Dask cluster test starts a scheduler and worker processes of its
# own; inside mutmut's forked workers it failed for reasons that had nothing to do with the mutant, and
# each such failure counted as a kill. (Leaving it out here rather than in mutmut's configuration keeps the
# recorded results of a run that is resumed.)
SKIPPED = frozenset({"tests/test_matrix.py::test_a_dask_cluster_gives_the_identical_report"})


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    args = list(config.args)
    if len(args) < 2 or not all("::" in a for a in args):
        return  # a plain run (mutmut's forced-failure check, its coverage run): leave pytest alone
    config.stash[_WANTED] = frozenset(args) - SKIPPED
    global _selecting
    _selecting = True
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
    killers = Path(_KILLERS)
    kills = {line.split("\t", 1)[0] for line in killers.read_text().splitlines()} if killers.exists() else set()
    # Killers first, cheapest first among them: a test that runs every bundled scenario kills many mutants,
    # but in seconds where one scenario takes milliseconds.
    kept.sort(key=lambda item: (item.nodeid not in kills, durations.get(item.nodeid, 0.0)))
    dropped = [item for item in items if item.nodeid not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _selecting and report.failed and report.when == "call":
        # O_APPEND keeps the parallel workers' one-line writes whole.
        with open(_KILLERS, "a") as out:
            out.write(f"{report.nodeid}\t{os.environ.get('MUTANT_UNDER_TEST', '')}\n")
