"""benchmarks/bench_bluez.py runs end to end on its own private bus and leaves nothing behind, also on Ctrl-C."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_bluez.py"


def _gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return True  # exited, not yet reaped by its parent (a zombie holds no bus or socket)
        time.sleep(0.05)
    return False


def test_small_run_reports_every_event_and_cleans_up():
    proc = subprocess.run([sys.executable, str(BENCH), "--cycles", "6", "--warmup", "1", "--load-cycles", "10",
                           "--load", "2", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["problems"] == [] and r["over_grace"] == 0
    for kind in ("connect", "rename", "disconnect"):
        assert r["rows"][kind]["raw"]["n"] == 6 and r["rows"][kind]["routesim"]["n"] == 6
        assert 0 < r["rows"][kind]["raw"]["median"] < 50 and 0 < r["rows"][kind]["routesim"]["median"] < 50
    assert r["added_p99_ms"] is not None
    assert (r["load"]["expected"], r["load"]["lost"], r["load"]["doubled"]) == (30, 0, 0)
    assert r["env"]["backend"]["resyncs"] == 1 and r["env"]["backend"]["reconnects"] == 0
    assert all(_gone(pid) for pid in [r["env"]["dbus_daemon_pid"], *r["env"]["child_pids"]])
    socket = r["env"]["bus"].removeprefix("unix:path=")
    assert not Path(socket).parent.exists()


def test_ctrl_c_stops_every_process_it_started():
    proc = subprocess.Popen([sys.executable, str(BENCH), "--cycles", "5000", "--load-cycles", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("phase "):
                break
        text = "".join(lines)
        m = re.search(r"private bus unix:path=(\S+) \(dbus-daemon pid (\d+)\); fake pid (\d+)", text)
        assert m, text
        pids = [int(m.group(2)), int(m.group(3))] + [int(p) for p in re.findall(r"\d+", lines[-1])]
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert all(_gone(pid) for pid in pids)
    assert not Path(m.group(1)).parent.exists()
