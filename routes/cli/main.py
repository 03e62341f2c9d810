"""The ``routesim`` command."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from routesim.routes.cli.common import bundled_scenarios, catalog_for as _catalog, point_at_devnull

EPILOG = """\
examples:
  routesim run                                   run the bundled scenario library and recordings
  routesim run my.scenario.yaml --format json    one JSON object per scenario
  routesim explain fixtures/scenarios/playandrecord-quiet-earpiece.scenario.yaml
  routesim models                                the model catalog
  routesim models show airpods-pro-2             one entry with the source of every fact

exit codes of run: 0 every expectation holds, 1 an expectation failed, 2 a file is not a valid scenario.
every command: 2 bad input (one line: file:line, what is wrong, what would be right), 70 a bug in routesim
(one line; --debug shows the traceback), 130 interrupted (Ctrl-C).
"""

EXIT_INPUT, EXIT_BUG, EXIT_INTERRUPTED = 2, 70, 130  # 70: EX_SOFTWARE (sysexits.h)
MAX_PROBLEM_LINES = 20


def _load(paths: Sequence[str], catalog, err) -> tuple[list, int]:
    from routesim.routes.scenario.loader import iter_scenario_files, load_path
    from routesim.routes.scenario.model import ScenarioError

    # no path: the bundled library and the bundled recordings
    targets = list(paths) or [str(bundled_scenarios()), str(bundled_scenarios().parent / "recordings")]
    missing = [p for p in targets if not Path(p).exists()]
    if missing:
        err.write(f"routesim: no such file or directory: {', '.join(missing)}\n")
        return [], 2
    files = iter_scenario_files(targets)
    if not files:
        err.write(f"routesim: no *.scenario.yaml files under {', '.join(targets)}\n")
        return [], 2
    scenarios, status = [], 0
    for f in files:
        try:
            scenarios.extend(load_path(f, catalog.ids()))
        except ScenarioError as e:
            err.write(f"{e}\n")
            status = 2
    return scenarios, status


def cmd_run(args) -> int:
    from routesim.routes.scenario.report import as_json, timeline
    from routesim.routes.scenario.runner import run_scenario

    if args.plot and Path(args.plot).suffix.lower() not in (".png", ".svg", ".html"):
        sys.stderr.write(f"routesim: --plot {args.plot}: the file must end in .png, .svg or .html\n")
        return 2
    catalog = _catalog(args)
    scenarios, status = _load(args.paths, catalog, sys.stderr)
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    passed = failed = invalid = 0
    plotted = []
    for sc in scenarios:
        result = run_scenario(sc, catalog, snapshots=bool(args.plot))
        if args.plot:
            plotted.append(result)
        if args.format == "json":
            print(json.dumps(as_json(result), default=str))
        else:
            timeline(result, sys.stdout, verbose=not args.quiet, color=color)
        if result.invalid:
            invalid += 1
            sys.stderr.write(f"{result.invalid}\n") if args.format == "json" else None
        elif result.passed:
            passed += 1
        else:
            failed += 1
    if args.format != "json":
        print(f"routesim: {passed} scenarios passed, {failed} failed, {invalid} invalid"
              + (" (and files that did not load)" if status else ""))
    if plotted:
        from routesim.routes.cli.plot import write_timelines

        for written in write_timelines(plotted, args.plot):
            print(f"routesim: timeline written to {written}", file=sys.stderr)
    if status or invalid:
        return 2
    return 1 if failed else 0


def cmd_explain(args) -> int:
    from routesim.routes.scenario.report import explain
    from routesim.routes.scenario.runner import run_scenario

    catalog = _catalog(args)
    scenarios, status = _load(args.paths, catalog, sys.stderr)
    for sc in scenarios:
        result = run_scenario(sc, catalog)
        explain(result, sys.stdout)
        if result.invalid:
            status = 2
    return status


def cmd_models(args) -> int:
    from routesim.routes.cli import models as models_cli

    return models_cli.run(args, _catalog(args))


def cmd_rules(args) -> int:
    from routesim.routes.phone.rules import RULES

    for r in RULES.values():
        print(f"{r.id:45} {r.source.tag}  {r.summary}\n{'':45}      {r.source.ref}")
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, naming the help that teaches the command."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {_one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="routesim",
        description="Simulate iOS audio routing with Bluetooth and wired accessories, and what the app's "
                    "AVAudioSession sees.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true",
                        help="on an internal error, print the Python traceback (for a bug report)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run scenario files and print a timeline per scenario",
                         description="Run scenarios (files or directories of *.scenario.yaml; default: the "
                                     "bundled library) and check every expect.")
    run.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument("-q", "--quiet", action="store_true", help="print only one line per scenario")
    run.add_argument("--quirks", action="append", metavar="DIR", help="extra quirk files layered over the bundled ones")
    run.add_argument("--plot", metavar="OUT.png|OUT.svg|OUT.html",
                     help="draw each scenario's route timeline (ports, links, rate, activation, notifications, "
                          "calls, other apps); several scenarios give OUT-1.png, OUT-2.png… or one HTML page")
    run.set_defaults(func=cmd_run)

    exp = sub.add_parser("explain", help="say why the route is what it is at every step, with sources")
    exp.add_argument("paths", nargs="+", metavar="PATH")
    exp.add_argument("--quirks", action="append", metavar="DIR")
    exp.set_defaults(func=cmd_explain)

    models = sub.add_parser("models", help="list the model catalog; 'models show ID'; 'models --check'")
    models.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    models.add_argument("id", nargs="?", help="catalog id for 'show'")
    models.add_argument("--check", action="store_true", help="lint the catalog and quirks")
    models.add_argument("--quirks", action="append", metavar="DIR")
    models.set_defaults(func=cmd_models)

    rules = sub.add_parser("rules", help="list every behaviour rule of the model with its source tag")
    rules.set_defaults(func=cmd_rules)

    # Commands that live in their own modules (each adds its subparser).
    from routesim.routes.cli import identify as identify_cli, live, record as record_cli, render as render_cli, \
        scan as scan_cli
    from routesim.routes.cli import decode as decode_cli, matrix as matrix_cli

    live.add_live_commands(sub)  # devices, watch, fake-bluez
    identify_cli.add_command(sub)
    decode_cli.add_command(sub)
    scan_cli.add_command(sub)
    render_cli.add_command(sub)
    matrix_cli.add_command(sub)
    record_cli.add_commands(sub)  # record, replay
    for command in sub.choices.values():  # `routesim run x --debug` works as well as `routesim --debug run x`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _input_errors() -> tuple[type[BaseException], ...]:
    """The project's own "this input is wrong" errors: each str() is FILE:LINE: what; what would be right."""
    from routesim.profiles.catalog import CatalogError, NoAudioProfile, UnknownModel
    from routesim.routes.phone.errors import StepError
    from routesim.routes.scenario.model import ScenarioError

    return ScenarioError, CatalogError, UnknownModel, NoAudioProfile, StepError


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def _report_input_error(exc: BaseException, err) -> None:
    lines = getattr(exc, "errors", None) or [str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)]
    for line in lines[:MAX_PROBLEM_LINES]:
        err.write(f"routesim: {_one_line(line)}\n")
    if len(lines) > MAX_PROBLEM_LINES:
        err.write(f"routesim: ... and {len(lines) - MAX_PROBLEM_LINES} more problems\n")


def _tolerant_streams() -> None:
    """Text that cannot be encoded (a lone surrogate from a YAML escape, or any non-ASCII under an ASCII
    locale) is printed escaped (\\ud800) instead of stopping the output half-way."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass  # not a TextIOWrapper (tests capture with StringIO, which takes any str)


def main(argv: Sequence[str] | None = None) -> int:
    """The one boundary: every command's own input errors become one line and exit 2; anything else is a bug
    (one line, exit 70, the traceback only with --debug); Ctrl-C exits 130 quietly; a closed stdout ends
    quietly."""
    _tolerant_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    debug = getattr(args, "debug", False)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        point_at_devnull(sys.stdout)
        return 0
    except _input_errors() as exc:
        _report_input_error(exc, sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - the boundary: anything not ours is a bug, said in one line
        return _bug(exc, debug)


def entry() -> int:
    """The ``routesim`` program (the console script and ``python -m routesim``): :func:`main` in a process of
    its own, whose garbage collector may be tuned (``routes.cli.collector``)."""
    from routesim.routes.cli import collector

    collector.own_process()
    return main()


def _bug(exc: BaseException, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    where = "" if debug else "; rerun with --debug for the traceback and please report it"
    sys.stderr.write(f"routesim: internal error (a bug in routesim): {type(exc).__name__}: "
                     f"{_one_line(str(exc))[:300]}{where}\n")
    return EXIT_BUG


if __name__ == "__main__":
    sys.exit(entry())
