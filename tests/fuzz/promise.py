"""The promise every fuzz test checks: a command ends in a correct run or in exit 2 with one line per
problem (FILE:LINE: what is wrong; what would be right), never a traceback or a bug exit (70), within a
time budget and without the process growing past a memory budget."""
from __future__ import annotations

import io
import re
import resource
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from routesim.routes.cli.main import main

TIME_BUDGET_S = 20.0             # per command; the limits make files at the limit run in a few seconds
RSS_BUDGET_KB = 1_500_000        # the whole test process's peak (numpy, scipy, matplotlib included)
USAGE_LINE = re.compile(r"^routesim[\w -]*: (argument |unrecognized arguments|the following arguments)")


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    seconds: float


def run_cli(argv: list[str], allowed: tuple[int, ...] = (0, 1, 2), *, about_a_file: bool = True) -> Outcome:
    """``main(argv)`` in this process, checked against the promise. ``about_a_file``: the command reads
    files, so each problem line names FILE:LINE; otherwise a problem is one ``routesim CMD: ...`` line."""
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse's usage errors
            code = e.code if isinstance(e.code, int) else 2
    outcome = Outcome(code, out.getvalue(), err.getvalue(), time.monotonic() - start)
    keep_promise(outcome, allowed, about_a_file=about_a_file)
    return outcome


def keep_promise(o: Outcome, allowed: tuple[int, ...], file: str | None = None, about_a_file: bool = True) -> None:
    assert "Traceback" not in o.err and "Traceback" not in o.out, o.err
    assert o.code != 70, f"routesim called this a bug: {o.err}"
    assert o.code in allowed, (o.code, o.err)
    if o.code == 2:
        for line in o.err.splitlines():
            if not line.strip() or line.startswith("routesim: ") and "scenarios passed" in line:
                continue
            ok = USAGE_LINE.match(line) or problem_line(line, file) or (not about_a_file and line.startswith("routesim"))
            assert ok, f"not a one-line problem: {line!r}"
    assert o.seconds < TIME_BUDGET_S, f"took {o.seconds:.1f} s"
    assert peak_rss_kb() < RSS_BUDGET_KB, f"peak RSS {peak_rss_kb()} KB"


def problem_line(line: str, file: str | None = None) -> bool:
    """``[routesim[ cmd]: ]FILE:LINE: message`` (FILE may be any path when not given)."""
    body = re.sub(r"^routesim[\w -]*: ", "", line)
    if file is not None:
        return body.startswith(file + ":") and re.match(r"^\d+: \S", body[len(file) + 1:]) is not None
    return re.match(r"^.+?:\d+: \S", body) is not None or body.startswith("no such file")


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
