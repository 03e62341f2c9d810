"""The cyclic garbage collector, tuned when routesim is the program rather than a library in someone's process.

Loading a long scenario file and running it make many small containers (YAML nodes, parsed steps, step
results) that live until the report is printed. CPython's collector walks every tracked object again each
time an older generation is collected, the modules and the catalog made at start-up included, which was
about a third of the CPU time of ``routesim run`` on a long file (docs/matrix.md, "Figures"). Once start-up
is over, the program moves what start-up made out of the collector's sight (``gc.freeze``: those objects live
as long as the process anyway) and lets the youngest generation grow larger before a pass. Collection still
runs: cycles are freed as before, only less often looked for. A test or an app calling ``main()`` in its
own process keeps its collector as it was.
"""
from __future__ import annotations

import gc

YOUNGEST_GENERATION = 10_000  # allocations between passes over the youngest generation (CPython's default: 700)

_own_process = False


def own_process() -> None:
    """routesim runs as the program (``routesim``, ``python -m routesim``): :func:`settle` may tune."""
    global _own_process
    _own_process = True


def settle() -> None:
    """Start-up is over (the modules a command needs are imported, the catalog is loaded)."""
    if _own_process:
        gc.freeze()
        gc.set_threshold(YOUNGEST_GENERATION)
