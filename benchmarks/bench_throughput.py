"""The figures of the matrix work, each a median with a baseline measured in the same run:

    python benchmarks/bench_throughput.py [--repeat 5]

  * CLI:       a long generated workload (benchmarks/workload.py: connects, category changes, CallKit calls,
               ears, other apps, wired headsets, expectations; four files under the loader's limits) through
               `routesim run -q`, start-up subtracted (the same command on a one-step file).   aim >= 30,000 steps/s
  * runner:    the same workload, loaded once, run in-process: with the collector as a library user's process
               has it, and then as the program has it (routes.cli.collector: start-up frozen).  aim >= 50,000 steps/s
  * decisions: the pure route policy over a non-repeating mix of states with nothing cached,
               and the cached rate beside it.                                                    aim >= 150,000 /s
  * library:   `routesim run -q` over the bundled library and recordings, start-up subtracted.   aim < 1 s
  * --help:    `routesim --help`, and `python -c pass` as the floor.                             aim < 0.3 s
Runs on one core (sched_setaffinity) so figures from a shared machine move less; CPU-time medians.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # workload.py beside this file
from workload import workload  # noqa: E402

from routesim.profiles.catalog import default_catalog  # noqa: E402
from routesim.routes.cli import collector  # noqa: E402
from routesim.routes.phone.config import Configuration  # noqa: E402
from routesim.routes.phone.policy import Device, PolicyState, decide  # noqa: E402
from routesim.routes.scenario.loader import load_path, load_text  # noqa: E402
from routesim.routes.scenario.runner import run_scenario  # noqa: E402

ROUTESIM = [sys.executable, "-m", "routesim"]
TINY = "name: one step\nsteps:\n  - session.setCategory: {category: playback}\n"


# The children run as an installed user's do: without the caller's PYTHON* variables. PYTHONDONTWRITEBYTECODE
# (set in some shells and CI images) would make every run compile routesim's modules from source again,
# about 0.1 s of the library figure that no installed routesim pays (pip writes the .pyc files).
CHILD_ENV = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def _run(cmd: list[str]) -> None:
    # check=True: a run that fails (a scenario that no longer passes) is not a figure
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                   env=CHILD_ENV, check=True)


def child_cpu(cmd: list[str]) -> float:
    """CPU seconds (user + system) of one run of a command, as the kernel counts them."""
    before = os.times()
    _run(cmd)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    _run(cmd)
    return time.perf_counter() - t


def median(fn, repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def reference_loop() -> float:
    """CPU seconds of a fixed pure-Python loop: the machine's speed in this run. A shared VM's speed moves
    (this project's 2-core machine by up to 1.7x between phases of tens of seconds), so two runs' figures
    compare only beside their reference loops."""
    t = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i & 7
    return time.process_time() - t


def versions(*dists: str) -> str:
    """The installed versions the figures depend on (scipy's sets the library's import cost)."""
    from importlib.metadata import PackageNotFoundError, version
    out = []
    for d in dists:
        try:
            out.append(f"{d} {version(d)}")
        except PackageNotFoundError:
            out.append(f"{d} (not installed)")
    return ", ".join(out)


def decision_mix(n: int) -> list[PolicyState]:
    """n distinct states: configurations x device sets x overrides x preferences, with connection orders
    that never repeat (so a cache could not help)."""
    catalog = default_catalog()
    configs = [Configuration("playback"), Configuration("playAndRecord"),
               Configuration("playAndRecord", explicit=frozenset({"allowBluetoothA2DP"})),
               Configuration("playAndRecord", explicit=frozenset({"allowBluetoothHFP"})),
               Configuration("playAndRecord", "voiceChat"), Configuration("playAndRecord", "videoChat"),
               Configuration("record", explicit=frozenset({"allowBluetoothHFP"})), Configuration("ambient"),
               Configuration("multiRoute")]
    sets = [("airpods-pro-2",), ("generic-headset", "airpods-pro"), ("wired-headset", "airpods-4", "generic-speaker"),
            ("usb-audio",), ("carplay", "airpods-max"), ("beats-studio-pro", "wired-headphones"), ()]
    out = []
    for i, (config, devs, (override, pref)) in enumerate(itertools.cycle(itertools.product(
            configs, sets, [(False, None), (True, None), (False, "builtInMic")]))):
        if len(out) >= n:
            break
        devices = tuple(Device(f"d{j}", catalog.get(m), f"Device {j}", f"02:00:00:00:00:0{j}", i * 4 + j + 1,
                               quirks=catalog.get(m).quirks) for j, m in enumerate(devs))
        out.append(PolicyState(config=config, devices=devices, override_speaker=override, preferred_input=pref))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    r = args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        text, steps_per_file = workload()
        files = []
        for n in range(4):
            f = Path(tmp) / f"w{n}.scenario.yaml"
            f.write_text(text)
            files.append(str(f))
        tiny = Path(tmp) / "tiny.scenario.yaml"
        tiny.write_text(TINY)
        total = steps_per_file * len(files)

        for warm in ([str(tiny), *files], []):  # untimed: the timed runs read the .pyc files these write
            _run([*ROUTESIM, "run", "-q", *warm])
        startup = median(lambda: child_cpu([*ROUTESIM, "run", "-q", str(tiny)]), r)
        cli = median(lambda: child_cpu([*ROUTESIM, "run", "-q", *files]), r)
        cli_rate = total / max(1e-9, cli - startup)

        catalog = default_catalog()
        scenarios = [s for f in files for s in load_path(f, catalog.ids())]
        def run_all():
            t = time.process_time()
            for s in scenarios:
                run_scenario(s, catalog)
            return time.process_time() - t
        decide.cache_clear()
        runner = median(run_all, r)

        library = median(lambda: child_cpu([*ROUTESIM, "run", "-q"]), r)
        help_s = median(lambda: wall([*ROUTESIM, "--help"]), r)
        floor = median(lambda: wall([sys.executable, "-c", "pass"]), r)

    # The decisions are measured on their own: the loaded workload would otherwise sit in the heap that the
    # collector walks while they run (the runner's figures above pay for it; the policy's should not).
    scenarios.clear()
    gc.collect()
    mix = decision_mix(20_000)
    uncached = decide.__wrapped__
    def decisions_uncached():
        t = time.process_time()
        for s in mix:
            uncached(s)
        return time.process_time() - t
    def decisions_cached():
        t = time.process_time()
        for s in mix:
            decide(s)
        return time.process_time() - t
    def baseline():
        t = time.process_time()
        for s in mix:
            PolicyState(config=s.config, devices=s.devices)
        return time.process_time() - t
    d_unc = median(decisions_uncached, r)
    for s in mix:
        decide(s)  # warm the cache
    d_cached = median(decisions_cached, r)
    d_base = median(baseline, r)

    collector.own_process()
    collector.settle()  # from here on this process's collector is the program's (it cannot be undone: last)
    scenarios[:] = [s for f in files for s in load_text(text, f, catalog.ids())]  # loaded after start-up, as the program does
    decide.cache_clear()
    runner_program = median(run_all, r)

    reference = median(reference_loop, r)

    def verdict(ok: bool) -> str:
        return "meets" if ok else "BELOW"
    print(f"bench_throughput: medians of {r}, one core, CPU time; python {sys.version.split()[0]}, "
          f"{versions('numpy', 'scipy', 'PyYAML')}")
    print(f"  machine   {reference:10.3f} s  for a fixed pure-Python loop (the machine's speed in this run: "
          f"compare runs beside it)")
    print(f"  CLI       {cli_rate:10,.0f} steps/s  ({total} steps in {cli:.2f} s, start-up {startup:.2f} s "
          f"subtracted)   aim 30,000: {verdict(cli_rate >= 30_000)}")
    print(f"  runner    {total / runner:10,.0f} steps/s  (in-process, the collector as a library user has it)   "
          f"aim 50,000: {verdict(total / runner >= 50_000)}")
    print(f"  runner    {total / runner_program:10,.0f} steps/s  (in-process, the collector as the program has it)   "
          f"aim 50,000: {verdict(total / runner_program >= 50_000)}")
    print(f"  decisions {len(mix) / d_unc:10,.0f} /s uncached, {len(mix) / d_cached:,.0f} /s cached; baseline "
          f"(building the state) {len(mix) / d_base:,.0f} /s, ratio {d_unc / d_base:.1f}x   "
          f"aim 150,000 uncached: {verdict(len(mix) / d_unc >= 150_000)}")
    print(f"  library   {library - startup:10.2f} s  (bundled scenarios and recordings, start-up {startup:.2f} s "
          f"subtracted)   aim < 1 s: {verdict(library - startup < 1.0)}")
    print(f"  --help    {help_s:10.3f} s  (wall; python -c pass {floor:.3f} s)   aim < 0.3 s: {verdict(help_s < 0.3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
