"""Running a matrix: in this process, on every core, or on a Dask cluster, with the same result.

A job is self-contained data (the scenario files' text, the user's quirk files, the selection), so a
worker anywhere rebuilds the identical case list and runs a range of it. Results are put back in case
order, which is what makes the report byte-for-byte the same however the work was spread.
"""
from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from routesim.routes.scenario.matrix import Case, CaseResult, Outcome, expand, outcome_of, parse_platforms, run_case


@dataclass(frozen=True)
class MatrixJob:
    files: tuple[tuple[str, str], ...]                 # (path as given, text)
    quirk_files: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (dir, ((file name, text), ...))
    models: str = "all"
    platforms: str | None = None                       # "ios-16.0..ios-26.2", "all", None: full range
    switches: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    max_cases: int = 100_000


@dataclass
class MatrixResult:
    job: MatrixJob
    scenarios: list[Any]
    cases: list[Case]
    baselines: list[Outcome]
    results: list[CaseResult] = field(default_factory=list)
    workers: int = 1
    seconds: float = 0.0


def job_from_paths(paths: Sequence[str | Path], quirk_dirs: Sequence[str | Path] = (), **selection: Any) -> MatrixJob:
    from routesim.routes.scenario.loader import iter_scenario_files

    files = tuple((str(p), Path(p).read_text(encoding="utf-8")) for p in iter_scenario_files([str(p) for p in paths]))
    quirks = tuple((str(d), tuple((f.name, f.read_text(encoding="utf-8")) for f in sorted(Path(d).glob("*.yaml"))))
                   for d in quirk_dirs)
    switches = tuple((k, tuple(v)) for k, v in sorted(selection.pop("switches", {}).items()))
    return MatrixJob(files, quirks, switches=switches, **selection)


class _Prepared:
    """A job parsed and expanded: what every worker holds (once per process)."""

    def __init__(self, job: MatrixJob):
        from routesim.profiles.catalog import default_catalog, load_catalog
        from routesim.routes.scenario.loader import load_text

        if job.quirk_files:
            self._tmp = tempfile.TemporaryDirectory(prefix="routesim-quirks-")
            dirs = []
            for i, (_, files) in enumerate(job.quirk_files):
                d = Path(self._tmp.name) / str(i)
                d.mkdir()
                for name, text in files:
                    (d / name).write_text(text, encoding="utf-8")
                dirs.append(d)
            self.catalog = load_catalog(dirs)
        else:
            self.catalog = default_catalog()
        ids = frozenset(self.catalog.ids())
        self.scenarios = [s for path, text in job.files for s in load_text(text, path, ids)]
        self.cases = expand(self.scenarios, self.catalog, models=job.models,
                            platforms=parse_platforms(job.platforms),
                            switches={k: list(v) for k, v in job.switches}, max_cases=job.max_cases)
        self._baselines: dict[int, Outcome] = {}

    def baseline(self, index: int) -> Outcome:
        if index not in self._baselines:
            self._baselines[index] = outcome_of(self.scenarios[index], self.catalog)
        return self._baselines[index]

    def run(self, start: int, stop: int) -> list[CaseResult]:
        out = []
        for case in self.cases[start:stop]:
            out.append(run_case(self.scenarios[case.scenario], case, self.catalog, self.baseline(case.scenario)))
        return out


_WORKER: dict[MatrixJob, _Prepared] = {}


def run_range(job: MatrixJob, start: int, stop: int) -> tuple[int, list[CaseResult]]:
    """Run cases [start, stop) of a job: the unit of work locally and on a cluster."""
    prepared = _WORKER.get(job)
    if prepared is None:
        _WORKER.clear()
        prepared = _WORKER[job] = _Prepared(job)
    return start, prepared.run(start, stop)


def chunks(total: int, workers: int, per_worker: int = 8, largest: int = 500) -> list[tuple[int, int]]:
    size = max(1, min(largest, -(-total // max(1, workers * per_worker))))
    return [(i, min(total, i + size)) for i in range(0, total, size)]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_matrix(job: MatrixJob, *, workers: int | None = None, cluster: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> MatrixResult:
    started = time.perf_counter()
    prepared = _Prepared(job)  # validates the job here, so a bad file fails before any worker starts
    total = len(prepared.cases)
    baselines = [prepared.baseline(i) for i in range(len(prepared.scenarios))]
    result = MatrixResult(job, prepared.scenarios, prepared.cases, baselines)
    pieces: dict[int, list[CaseResult]] = {}
    done = 0

    def collect(start: int, items: list[CaseResult]) -> None:
        nonlocal done
        pieces[start] = items
        done += len(items)
        if progress:
            progress(done, total)

    if cluster:
        from routesim.routes.scenario.matrix_cluster import run_on_dask

        result.workers = run_on_dask(cluster, job, chunks(total, 64), run_range, collect)
    else:
        workers = max(1, min(workers or available_cores(), total or 1))
        result.workers = workers
        if workers == 1:
            _WORKER[job] = prepared
            for start, stop in chunks(total, 1, per_worker=max(1, total // 200 or 1)):
                collect(*run_range(job, start, stop))
        else:
            ctx = _context()
            _WORKER.clear()
            _WORKER[job] = prepared  # forked workers inherit the parsed job and its baselines
            with _frozen_for_fork(), ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = [pool.submit(run_range, job, a, b) for a, b in chunks(total, workers)]
                for fut in as_completed(futures):
                    collect(*fut.result())
    result.results = [r for start in sorted(pieces) for r in pieces[start]]
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def _frozen_for_fork() -> Iterator[None]:
    """What the parent holds (modules, catalog, the parsed job) is frozen while forked workers run: the
    collector in the parent and in every child then skips it, so the children do not copy the pages it
    lives on and nobody walks it again (Python's gc.freeze documentation recommends this before a fork).
    A two-worker matrix used about 10 % less CPU. Unfrozen afterwards unless something was frozen already
    (routesim as the program froze its start-up for good; a caller who freezes knows why)."""
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()


def _context():
    import multiprocessing

    # fork is cheapest (workers inherit the loaded modules); elsewhere spawn is the only safe choice.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)
