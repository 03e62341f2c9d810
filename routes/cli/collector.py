"""The cyclic garbage collector, tuned when routesim is the program rather than a library in someone's process.

Loading a long scenario file and running it make many small containers (YAML nodes, parsed steps, step
results) that live until the report is printed. CPython's collector walks every tracked object again each
time an older generation is collected, the modules and the catalog made at start-up included, which was
a fifth to a third of the CPU time of ``routesim run`` on a long file (docs/matrix.md, "Figures"). Once
start-up is over, the program moves what start-up made out of the collector's sight (``gc.freeze``: those
objects live as long as the process anyway), lets the youngest generation grow larger before a pass, and
looks at the middle generation, where the long-lived loaded steps and results pile up, a tenth as often.
Collection still runs: short-lived cycles (a scenario's phone and its observers) are freed by the young
passes as before. A test or an app calling ``main()`` in its own process keeps its collector as it was.
"""
from __future__ import annotations

import gc

# (allocations between passes over the youngest generation, young passes between passes over the middle one);
# CPython's defaults are (700, 10). Measured on `routesim run` over a long workload: the collector's time fell
# from about 0.36 s to 0.09 s of 1.9 s, the peak memory rose from 50 to 55 MB.
THRESHOLDS = (10_000, 100)

_own_process = False


def own_process() -> None:
    """routesim runs as the program (``routesim``, ``python -m routesim``): :func:`settle` may tune."""
    global _own_process
    _own_process = True


def settle() -> None:
    """Start-up is over (the modules a command needs are imported, the catalog is loaded)."""
    if _own_process:
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)
