"""``routesim render``: play a test signal through the route a scenario has at one step.

    routesim render SCENARIO --step LINE [--signal sweep|tone|noise|speech] [--direction output|input]
                    [--duration SECONDS] [--frequency HZ] [--index N] --out DIR

Runs the scenario up to and including the step on line LINE (the last step at or before it; ``expect``
steps are skipped, a failing step is reported and the run goes on, as the app would), renders the signal
through the route's chain (routes.signal) and writes ``DIR/<file>-L<line>-<signal>-<direction>.wav``
(float32, the route's rate and channels, scipy.io.wavfile) and a ``.png`` with the spectrum before and
after the route and the output's spectrogram (matplotlib, Agg backend).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from routesim.routes.scenario.limits import MAX_AUDIO_S, MAX_FREQUENCY

EXIT_OK, EXIT_FAIL, EXIT_INVALID = 0, 1, 2
MIN_DURATION_S = 0.05  # shorter leaves too few samples for a spectrum to mean anything [INF]


def _bounded(name: str, low: float, high: float, unit: str):
    """An argparse type: a finite number in (low, high]; argparse turns the ValueError into a usage line."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; give {unit} such as {high / 30:g}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range; give {unit} from {low:g} to {high:g}")
        return value
    parse.__name__ = name
    return parse


def _out_dir(text: str) -> Path:
    """--out: a directory, existing or to be made; refused when the path exists and is not a directory
    (/dev/null, a file), before any work."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a directory; give a directory for the WAV "
                                         f"and PNG files")
    return path


def add_command(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("render", help="render a test signal through the route at one scenario step (WAV + PNG)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="SCENARIO", help="a *.scenario.yaml file")
    p.add_argument("--step", type=int, required=True, metavar="LINE",
                   help="line of the step (the route after the last step at or before this line is used)")
    p.add_argument("--index", type=int, default=None, metavar="N",
                   help="which scenario of a multi-document file (0-based; default: the one holding LINE)")
    p.add_argument("--signal", choices=("sweep", "tone", "noise", "speech"), default="sweep")
    p.add_argument("--direction", choices=("output", "input"), default="output")
    p.add_argument("--duration", type=_bounded("duration", MIN_DURATION_S, MAX_AUDIO_S, "seconds"), default=2.0,
                   metavar="SECONDS", help=f"signal length, {MIN_DURATION_S:g} to {MAX_AUDIO_S:g} s (default 2)")
    p.add_argument("--frequency", type=_bounded("frequency", 1.0, MAX_FREQUENCY, "hertz"), default=1000.0,
                   metavar="HZ", help="for --signal tone (default 1000)")
    p.add_argument("--out", type=_out_dir, default=Path("out"), metavar="DIR",
                   help="directory for the WAV and PNG (made if missing)")
    p.add_argument("--quirks", action="append", metavar="DIR")
    p.set_defaults(func=cmd_render)


def _pick(scenarios: list, line: int, index: int | None):
    if index is not None:
        if not 0 <= index < len(scenarios):
            raise ValueError(f"--index {index}: the file holds {len(scenarios)} scenario(s)")
        return scenarios[index]
    chosen = scenarios[0]
    for sc in scenarios:
        if sc.line <= line:
            chosen = sc
    return chosen


def run_to_line(scenario, catalog, line: int) -> tuple[Any, list[str]]:
    """A ScenarioRun after every non-expect step at or before ``line``; notes on failed steps."""
    from routesim.routes.phone.errors import AppException, SessionError
    from routesim.routes.scenario.runner import ScenarioRun

    run = ScenarioRun(scenario, catalog)
    notes: list[str] = []
    for step in scenario.steps:
        if step.line > line:
            break
        if step.op == "expect":
            continue
        try:
            run.perform(step)
        except (SessionError, AppException) as e:
            notes.append(f"L{step.line} {step.op} failed: {e}")
    return run, notes


def cmd_render(args) -> int:
    from routesim.routes.cli.common import catalog_for as _catalog
    from routesim.routes.scenario.loader import load_path
    from routesim.routes.scenario.model import ScenarioError
    from routesim.routes.phone.errors import StepError

    path = Path(args.scenario)
    if not path.exists():
        sys.stderr.write(f"routesim render: no such file: {path}\n")
        return EXIT_INVALID
    catalog = _catalog(args)
    try:
        scenarios = load_path(path, catalog.ids())
        scenario = _pick(scenarios, args.step, args.index)
        run, notes = run_to_line(scenario, catalog, args.step)
    except (ScenarioError, ValueError) as e:
        sys.stderr.write(f"routesim render: {e}\n")
        return EXIT_INVALID
    except StepError as e:
        sys.stderr.write(f"routesim render: {path}: {e}\n")
        return EXIT_INVALID
    for note in notes:
        print(f"note: {note}")
    try:
        wav, png, summary = render_files(run.phone, scenario, args)
    except OSError as e:
        sys.stderr.write(f"routesim render: cannot write into {args.out}: {e.strerror or e}; give a writable "
                         f"directory with --out\n")
        return EXIT_INVALID
    print(summary)
    print(f"wrote {wav}")
    print(f"wrote {png}")
    return EXIT_OK


def render_files(phone, scenario, args) -> tuple[Path, Path, str]:
    import numpy as np
    from scipy.io import wavfile

    from routesim.routes.audio import signal as sig

    chain = sig.chain_for(phone, args.direction)
    x = sig.generate(args.signal, duration=args.duration, frequency=args.frequency)
    rendered = sig.render(x, chain)
    measured = sig.measure(rendered)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{Path(scenario.file).name.removesuffix('.scenario.yaml')}-L{args.step}-{args.signal}-{args.direction}"
    wav, png = out / f"{stem}.wav", out / f"{stem}.png"
    audio = rendered.audio
    if not audio.size:  # nothing flows: write silence of the same length so tools can still open it
        audio = np.zeros((int(round(chain.rate * args.duration)), 1), dtype=np.float32)
    wavfile.write(wav, int(chain.rate), np.ascontiguousarray(audio, dtype=np.float32))
    title = f"{scenario.name[:90]}\nline {args.step}: route {phone.route.short()}"
    _plot(png, rendered, measured, title)
    summary = (f"{chain.describe()}\nmeasured: level {measured['level']} dBFS, bandwidth {measured['bandwidth']} Hz, "
               f"SNR {measured['snr']} dB")
    return wav, png, summary


def _plot(path: Path, rendered, measured: dict[str, Any], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from routesim.routes.audio import signal as sig

    chain = rendered.chain
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7.5), gridspec_kw={"height_ratios": [3, 2]})
    fig.suptitle(title, fontsize=10)
    f_in, p_in = sig._psd(rendered.source, rendered.source_rate)
    ax1.semilogx(f_in[1:], 10 * np.log10(np.maximum(p_in[1:], 1e-20)), color="0.6", lw=1.2,
                 label=f"{'app signal' if chain.direction == 'output' else 'at the mic'} ({rendered.source_rate} Hz)")
    if chain.channels:
        f_out, p_out = sig._psd(rendered.mono, chain.rate)
        ax1.semilogx(f_out[1:], 10 * np.log10(np.maximum(p_out[1:], 1e-20)), color="tab:blue", lw=1.4,
                     label=f"after the route ({chain.rate} Hz, {chain.channels} ch)")
        for edge in chain.band:
            ax1.axvline(edge, color="tab:orange", ls="--", lw=0.9)
        bw = measured["bandwidth"]
        ax1.axvline(bw, color="tab:red", ls=":", lw=1.2, label=f"-20 dB bandwidth {bw:g} Hz")
        ax2.specgram(rendered.mono, NFFT=512, Fs=chain.rate, noverlap=384, cmap="magma", vmin=-160)
        ax2.set_ylim(0, chain.rate / 2)
    else:
        ax2.text(0.5, 0.5, "nothing flows on this path (no route / 0 channels)", ha="center", va="center",
                 transform=ax2.transAxes)
    ax1.set_xlim(20, 24000)
    top = float(np.max(10 * np.log10(np.maximum(p_in, 1e-20))))
    ax1.set_ylim(top - 110, top + 10)
    ax1.set_xlabel("frequency (Hz)")
    ax1.set_ylabel("power spectral density (dB/Hz)")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(loc="lower left", fontsize=8)
    ax1.set_title(f"{chain.describe()}\nlevel {measured['level']} dBFS, SNR {measured['snr']} dB", fontsize=9)
    ax2.set_xlabel("time (s)")
    ax2.set_ylabel("frequency (Hz)")
    ax2.set_title("output spectrogram", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
