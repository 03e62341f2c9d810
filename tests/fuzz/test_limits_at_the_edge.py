"""Files at the size limit are refused or run within seconds and a few hundred MB, in a real process with
an address-space limit: the worst shape is the one the limits were set for (a file of nothing but short
steps, which once took 135 s and 2.7 GB), beside /dev/zero, which never ends if read."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

from routesim.routes.scenario.limits import MAX_FILE_BYTES

ADDRESS_SPACE = 3 * 1024 ** 3   # numpy and scipy reserve address space generously; RSS is checked below
TIME_BUDGET_S = 30.0            # a few seconds on a quiet machine; CI shares its cores
RSS_BUDGET_KB = 400_000


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_a_file_of_short_steps_at_the_byte_limit_is_refused_quickly(tmp_path):
    path = tmp_path / "steps.scenario.yaml"
    head, step = "name: many steps\nsteps:\n", "  - wait: 1\n"
    path.write_text(head + step * ((MAX_FILE_BYTES - len(head)) // len(step)))
    assert MAX_FILE_BYTES - len(step) < path.stat().st_size <= MAX_FILE_BYTES
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "routesim.routes.cli.main", "run", "-q", str(path), "/dev/zero"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_limit)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS, not every child's of the session
    elapsed = time.monotonic() - start
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert f"{path}:" in err and "more than" in err and "/dev/zero:1: is a device" in err, err
    assert elapsed < TIME_BUDGET_S, elapsed
    assert usage.ru_maxrss < RSS_BUDGET_KB, usage.ru_maxrss
