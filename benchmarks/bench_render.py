"""Rendering speed of routes.signal as a multiple of real time, beside baselines measured in the same run.

    python benchmarks/bench_render.py [--seconds 10] [--runs 9] [--min 500] [--json]

What runs: one process, one core (BLAS/OpenMP thread pools pinned to 1 before numpy loads; scipy.fft
runs single-threaded by default). The input is --seconds of 48 kHz mono speech-like noise
(routes.signal.generate). Each case is timed --runs times with time.perf_counter after one untimed
warm-up call; the median is reported.

Cases (render = routes.signal.render with keep_clean=False, what playback needs):
  * HFP CVSD  : 48 kHz -> 8 kHz mono, 300-3400 Hz band, -45 dBFS codec noise
  * HFP mSBC  : 48 kHz -> 16 kHz mono, 50-7000 Hz band, -60 dBFS codec noise
  * A2DP AAC  : 48 kHz -> 48 kHz stereo, 20-18000 Hz band, -85 dBFS codec noise
  * A2DP SBC 44.1 kHz : 48 kHz -> 44.1 kHz stereo (resample 147/160), 20-16000 Hz band
Baselines, on the same signal in the same run:
  * copy            : numpy copy of the float32 signal (memory bandwidth floor)
  * rfft+irfft      : scipy.fft forward and inverse transform of the signal (what the band mask costs)
  * resample_poly/3 : scipy.signal.resample_poly(x, 1, 3) alone (what the HFP mSBC resample costs)

"x real time" is seconds of audio per second of compute; "vs baseline" divides the render's time by
the baseline's (how many baselines a render costs). The target (--min, default 500x) applies to the
HFP and A2DP cases; the exit status is 1 when a case misses it.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


import numpy as np  # noqa: E402
from scipy import fft as sfft  # noqa: E402
from scipy import signal as sps  # noqa: E402

from routesim.routes.audio.signal import NOISE_FLOOR_DBFS, Chain, generate, render  # noqa: E402


def median_time(fn, runs: int) -> float:
    fn()  # warm-up (filter design and mask caches, page faults)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--min", type=float, default=500.0, help="required multiple of real time")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    x = generate("speech", duration=args.seconds).astype(np.float32)
    chains = {
        "HFP CVSD 8 kHz mono": Chain("output", 8000, 1, (300.0, 3400.0), 0.0, NOISE_FLOOR_DBFS["cvsd"],
                                     "bluetoothHFP", "cvsd"),
        "HFP mSBC 16 kHz mono": Chain("output", 16000, 1, (50.0, 7000.0), 0.0, NOISE_FLOOR_DBFS["msbc"],
                                      "bluetoothHFP", "msbc"),
        "A2DP AAC 48 kHz stereo": Chain("output", 48000, 2, (20.0, 18000.0), 0.0, NOISE_FLOOR_DBFS["aac"],
                                        "bluetoothA2DP", "aac"),
        "A2DP SBC 44.1 kHz stereo": Chain("output", 44100, 2, (20.0, 16000.0), 0.0, NOISE_FLOOR_DBFS["sbc"],
                                          "bluetoothA2DP", "sbc"),
    }
    baselines = {
        "copy": lambda: x.copy(),
        "rfft+irfft": lambda: sfft.irfft(sfft.rfft(x), x.shape[0]),
        "resample_poly/3": lambda: sps.resample_poly(x, 1, 3),
    }
    base_t = {name: median_time(fn, args.runs) for name, fn in baselines.items()}
    rows = []
    for name, chain in chains.items():
        t = median_time(lambda c=chain: render(x, c, keep_clean=False), args.runs)
        rows.append({
            "case": name, "median_ms": t * 1e3, "x_real_time": args.seconds / t,
            "vs_fft": t / base_t["rfft+irfft"], "vs_resample": t / base_t["resample_poly/3"],
            "ok": args.seconds / t >= args.min,
        })
    if args.json:
        print(json.dumps({"seconds": args.seconds, "runs": args.runs, "min": args.min,
                          "baselines_ms": {k: v * 1e3 for k, v in base_t.items()}, "cases": rows}))
    else:
        print(f"{args.seconds:g} s of 48 kHz mono speech-like noise, median of {args.runs} runs, one core\n")
        print(f"{'baseline':28} {'median':>9} {'x real time':>12}")
        for name, t in base_t.items():
            print(f"{name:28} {t * 1e3:7.2f}ms {args.seconds / t:11.0f}x")
        print(f"\n{'render through':28} {'median':>9} {'x real time':>12} {'/ rfft+irfft':>13} {'/ resample':>11}")
        for r in rows:
            flag = "" if r["ok"] else f"   below {args.min:g}x"
            print(f"{r['case']:28} {r['median_ms']:7.2f}ms {r['x_real_time']:11.0f}x {r['vs_fft']:12.2f}x "
                  f"{r['vs_resample']:10.2f}x{flag}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
