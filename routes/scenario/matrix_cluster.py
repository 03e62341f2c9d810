"""A matrix on a Dask distributed cluster (``pip install routesim[cluster]``).

Dask rather than Ray: its workers are plain Python processes that import routesim like any other
program, a ``LocalCluster`` starts in a second or two inside a test, and the wheel is small; Ray brings
its own runtime, a much larger install and a slower start, for scheduling features a matrix (independent,
equal-sized chunks) does not use. The work sent is the job itself (file texts, not paths), so workers
need routesim installed but not the user's files.
"""
from __future__ import annotations

from typing import Any, Callable

from routesim.routes.scenario.matrix import MatrixError

CONNECT_TIMEOUT = "10s"  # how long a scheduler may take to answer before --cluster gives up


def run_on_dask(address: str, job: Any, ranges: list[tuple[int, int]], work: Callable[..., Any],
                collect: Callable[[int, list[Any]], None]) -> int:
    """Run ``work(job, start, stop)`` for every range on the scheduler at ``address``; returns the worker count."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise MatrixError("--cluster needs Dask: pip install 'routesim[cluster]'") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        raise MatrixError(f"--cluster {address}: no Dask scheduler answers there ({exc})") from None
    try:
        workers = len(client.scheduler_info().get("workers", {})) or 1
        scattered = client.scatter(job, broadcast=True)
        futures = [client.submit(work, scattered, a, b, pure=False) for a, b in ranges]
        for fut in as_completed(futures):
            collect(*fut.result())
        return workers
    finally:
        client.close()
