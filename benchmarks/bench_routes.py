"""Route decisions per second and scenario steps per second, on one core, with a baseline from the same run.

    python benchmarks/bench_routes.py [--repeat 7]

Workloads (a realistic mix, not only the cheapest step):
  * decisions: the pure route policy over a rotating set of states (output-only, playAndRecord with each
    Bluetooth option, chat modes, record; 0-3 devices of different kinds; overrides and preferences);
  * steps: the whole bundled scenario library (connects, disconnects, category changes, activations,
    interruptions, CallKit and cellular calls, engine and recorder steps, expectations), scenario set-up
    included, YAML loading excluded; scenarios with `audio:` checks (signal rendering) are measured by
    bench_render.py instead.
Baseline: the same step sequence dispatched to no-op handlers through the same table (the cost of the
loop itself), and for decisions a frozen-dataclass construction per state. Reported: medians of --repeat
runs and the ratio model/baseline, which moves less between machines than the raw rates.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import os
import statistics
import sys
import time
from pathlib import Path


from routesim.profiles.catalog import default_catalog  # noqa: E402
from routesim.routes.cli.common import bundled_scenarios  # noqa: E402
from routesim.routes.phone.config import Configuration  # noqa: E402
from routesim.routes.phone.policy import Device, PolicyState, decide  # noqa: E402
from routesim.routes.scenario.runner import run_scenario  # noqa: E402
from routesim.routes.scenario.loader import iter_scenario_files, load_path  # noqa: E402

CONFIGS = [
    Configuration("playback"),
    Configuration("playAndRecord"),
    Configuration("playAndRecord", explicit=frozenset({"allowBluetoothA2DP"})),
    Configuration("playAndRecord", explicit=frozenset({"allowBluetoothHFP"})),
    Configuration("playAndRecord", explicit=frozenset({"allowBluetoothHFP", "allowBluetoothA2DP", "defaultToSpeaker"})),
    Configuration("playAndRecord", "voiceChat"),
    Configuration("playAndRecord", "videoChat"),
    Configuration("record", explicit=frozenset({"allowBluetoothHFP"})),
    Configuration("ambient"),
]
DEVICE_SETS = [
    (),
    ("airpods-pro-2",),
    ("generic-headset", "airpods-pro"),
    ("wired-headset", "airpods-4", "generic-speaker"),
    ("usb-audio",),
    ("carplay", "airpods-max"),
]


def decision_states() -> list[PolicyState]:
    catalog = default_catalog()
    states = []
    for config, devs, (override, pref) in itertools.product(
            CONFIGS, DEVICE_SETS, [(False, None), (True, None), (False, "builtInMic")]):
        devices = tuple(
            Device(f"d{i}", catalog.get(mid), f"Device {i}", f"02:00:00:00:00:0{i}", i + 1,
                   quirks=catalog.get(mid).quirks)
            for i, mid in enumerate(devs))
        states.append(PolicyState(config=config, devices=devices, override_speaker=override, preferred_input=pref))
    return states


def time_it(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=20, help="passes over the decision states per run")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    states = decision_states()
    n_decisions = len(states) * args.rounds

    def decisions():
        for _ in range(args.rounds):
            for s in states:
                decide(s)

    def decisions_baseline():
        for _ in range(args.rounds):
            for s in states:
                PolicyState(config=s.config, devices=s.devices)

    catalog = default_catalog()
    loaded = [sc for f in iter_scenario_files([bundled_scenarios()]) for sc in load_path(f, catalog.ids())]
    # Scenarios with an `audio:` expectation render seconds of signal per check; that work is measured
    # by bench_render.py as a multiple of real time, so it is left out of the step rate here.
    scenarios = [sc for sc in loaded if not any(s.op == "expect" and getattr(s.arg, "audio", None) for s in sc.steps)]
    n_steps = sum(len(sc.steps) for sc in scenarios)

    def steps():
        for sc in scenarios:
            run_scenario(sc, catalog)

    def steps_baseline():
        noop = {}
        for sc in scenarios:
            for step in sc.steps:
                noop.get(step.op, _noop)(None, step.arg)

    d = statistics.median(time_it(decisions, args.repeat))
    db = statistics.median(time_it(decisions_baseline, args.repeat))
    s = statistics.median(time_it(steps, args.repeat))
    sb = statistics.median(time_it(steps_baseline, args.repeat))
    print(f"route decisions: {n_decisions / d:12,.0f} /s   (median of {args.repeat}; "
          f"{len(states)} states x {args.rounds})   baseline {n_decisions / db:12,.0f} /s   ratio {d / db:6.1f}x")
    print(f"scenario steps:  {n_steps / s:12,.0f} /s   (median of {args.repeat}; {len(scenarios)} scenarios, "
          f"{n_steps} steps; {len(loaded) - len(scenarios)} with audio: checks left to bench_render)   "
          f"baseline {n_steps / sb:12,.0f} /s   ratio {s / sb:6.1f}x")
    target = 20_000
    verdict = "meets" if n_steps / s >= target else "BELOW"
    print(f"target: {target:,} scenario steps/s on one core -> {verdict}")
    return 0


def _noop(run, arg):
    return None


if __name__ == "__main__":
    sys.exit(main())
