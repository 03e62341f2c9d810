"""Matrix throughput and scaling: cases per second at 1, 2, 4 … workers on a matrix of at least 10,000
cases, with the ratio to one worker measured in the same run.

    python benchmarks/bench_matrix.py [--cases 10000] [--repeat 3] [--workers 1,2]

The matrix is the bundled library over every fitting model and every modelled platform (a realistic mix:
connects, category changes, calls, engine and recorder steps), cut to the first --cases cases. Reported:
the median seconds and cases/s per worker count, and speed-up / workers (aim: at least 0.8 up to the
number of physical cores). The report is also checked to be the same bytes at every worker count.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from routesim.profiles.catalog import default_catalog
from routesim.routes.cli.common import bundled_scenarios
from routesim.routes.scenario.matrix_report import as_json
from routesim.routes.scenario.matrix_run import MatrixResult, _Prepared, available_cores, job_from_paths, run_matrix


def physical_cores() -> int:
    try:
        with open("/proc/cpuinfo") as f:
            cores = {line.split(":")[1].strip() for line in f if line.startswith("core id")}
        return max(1, len(cores)) if cores else available_cores()
    except OSError:
        return available_cores()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", default=None, help="comma-separated worker counts (default 1,2,4… up to the cores)")
    args = ap.parse_args()
    job = job_from_paths([bundled_scenarios()], platforms="all", max_cases=10_000_000)
    prepared = _Prepared(job)
    # Whole files, in library order, until their cases reach --cases. Files with `audio:` checks are left to
    # bench_render.py: a rendered signal costs seconds and would measure numpy, not the matrix.
    audio = {s.file for s in prepared.scenarios
             if any(st.op == "expect" and getattr(st.arg, "audio", None) for st in s.steps)}
    per_file: dict[str, int] = {}
    for c in prepared.cases:
        f = prepared.scenarios[c.scenario].file
        per_file[f] = per_file.get(f, 0) + 1
    files, count = [], 0
    for f, n in per_file.items():
        if f in audio:
            continue
        files.append(f)
        count += n
        if count >= args.cases:
            break
    del prepared  # the whole library's cases: forked workers would inherit them, and `routesim matrix` has none
    job = job_from_paths(files, platforms="all", max_cases=10_000_000)
    total = len(_Prepared(job).cases)
    counts = [int(w) for w in args.workers.split(",")] if args.workers else \
        [w for w in (1, 2, 4, 8, 16, 32) if w <= available_cores()]
    print(f"bench_matrix: {total} cases from {len(files)} files; cores available {available_cores()}, "
          f"physical {physical_cores()}")
    reports, rates = {}, {}
    for w in counts:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result: MatrixResult = run_matrix(job, workers=w)
            times.append(time.perf_counter() - started)
        reports[w] = as_json(result, default_catalog())
        rates[w] = total / statistics.median(times)
        print(f"  {w:2d} workers: median {statistics.median(times):6.2f} s  {rates[w]:8,.0f} cases/s  "
              f"speed-up {rates[w] / rates[counts[0]]:.2f}  per worker {rates[w] / rates[counts[0]] / w:.2f}")
    same = len(set(reports.values())) == 1
    print(f"  report identical at every worker count: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
