"""``routesim matrix``: every scenario over every model that fits, every platform where behaviour
changes, and the behaviour switches; findings grouped for people, JSON and HTML for machines."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EPILOG = """\
examples:
  routesim matrix                                      the bundled library x all models x iOS breakpoints
  routesim matrix my.scenario.yaml --models earbuds --platforms ios-16.0..ios-26.2
  routesim matrix my.scenario.yaml --switch setModeClearsOptions=true,false --html report.html
  routesim matrix --format json > matrix.json          the same bytes however the matrix is run
  routesim matrix --cluster tcp://scheduler:8786       on a Dask cluster (pip install 'routesim[cluster]')

A slot (an accessory of the scenario) sweeps the catalog's models of its model's kind. Platforms: the
range's ends and every version inside it where a rule, quirk or model fact changes (--platforms all: every
modelled major version too). A case is "not applicable" when its model cannot perform a step (ears on a
model without ear detection). Exit 0: nothing differs; 1: some case differs from the scenario as written
or fails the scenario's own expectations; 2: bad input.
"""


def add_command(sub: Any) -> None:
    p = sub.add_parser("matrix", help="run scenarios over every fitting model, platform and switch; group the findings",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories (default: the bundled library)")
    p.add_argument("--models", default="all", metavar="all|KIND|ID,…",
                   help="models per slot: all of the slot's kind (default), one kind (earbuds, over-ear, on-ear, "
                        "headset, speaker, wired, car), or a list of ids")
    p.add_argument("--platforms", metavar="ios-16.0..ios-26.2|all",
                   help="platform range (default: every modelled iOS version where behaviour changes)")
    p.add_argument("--switch", action="append", default=[], metavar="NAME=A,B",
                   help="sweep a behaviour switch over these values (repeatable)")
    p.add_argument("--max-cases", type=int, default=100_000, metavar="N", help="refuse a larger matrix (default 100000)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--html", metavar="OUT.html", help="also write an offline HTML report (heatmaps, findings, timelines)")
    p.add_argument("--png", metavar="OUT.png", help="also write the summary heatmap (scenarios x platforms)")
    p.add_argument("--timelines", type=int, default=60, metavar="N",
                   help="in the HTML report, draw the route timeline of one case for the N largest findings "
                        "(default 60; the others say how to draw theirs)")
    p.add_argument("-j", "--workers", type=int, metavar="N", help="processes (default: every core this process may use)")
    p.add_argument("--cluster", metavar="ADDRESS", help="run on a Dask scheduler at ADDRESS instead")
    p.add_argument("--quirks", action="append", metavar="DIR", help="extra quirk files layered over the bundled ones")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from routesim.routes.cli.common import bundled_scenarios, catalog_for
    from routesim.routes.scenario.matrix import MatrixError, parse_switches
    from routesim.routes.scenario.matrix_report import as_json, as_text
    from routesim.routes.scenario.matrix_run import job_from_paths, run_matrix
    from routesim.routes.scenario.model import ScenarioError

    for out, ext in ((args.html, ".html"), (args.png, ".png")):
        if out and Path(out).suffix.lower() != ext:
            return _fail(f"{out}: expected a file name ending in {ext}")
    if args.max_cases < 1 or (args.workers is not None and args.workers < 1) or args.timelines < 0:
        return _fail("--max-cases and --workers take a whole number of at least 1, --timelines of at least 0")
    paths = args.paths or [str(bundled_scenarios())]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        return _fail(f"no such file or directory: {', '.join(missing)}")
    try:
        job = job_from_paths(paths, args.quirks or (), models=args.models, platforms=args.platforms,
                             switches=parse_switches(args.switch), max_cases=args.max_cases)
        result = run_matrix(job, workers=args.workers, cluster=args.cluster, progress=_progress())
    except (MatrixError, ScenarioError) as exc:
        return _fail(str(exc))
    catalog = catalog_for(args)
    text = as_json(result, catalog) if args.format == "json" else as_text(result, catalog)
    sys.stdout.write(text)
    if args.html:
        _write_html(result, catalog, args.html, args.timelines)
        print(f"routesim: report written to {args.html}", file=sys.stderr)
    if args.png:
        from routesim.routes.scenario.matrix_report import summary_png

        summary_png(result, args.png)
        print(f"routesim: heatmap written to {args.png}", file=sys.stderr)
    rate = len(result.cases) / result.seconds if result.seconds else 0
    print(f"routesim: {len(result.cases)} cases in {result.seconds:.1f} s on {result.workers} workers "
          f"({rate:,.0f} cases/s)", file=sys.stderr)
    differs = any(r.status == "differs" or r.failed_expectations for r in result.results)
    return 1 if differs else 0


def _write_html(result, catalog, out: str, limit: int) -> None:
    """Timelines are drawn for one case per finding only (never one picture per case), for the ``limit``
    findings with the most cases; a picture takes a few tenths of a second and a library-wide matrix has
    hundreds of findings."""
    import base64

    from routesim.routes.scenario.matrix import case_scenario
    from routesim.routes.scenario.matrix_report import as_html, findings
    from routesim.routes.scenario.runner import run_scenario
    from routesim.routes.scenario.timeline_plot import draw

    pictures = {}
    for f in sorted(findings(result), key=lambda f: (-len(f.cases), f.scenario, f.summary))[:limit]:
        first = f.cases[0]
        sc = case_scenario(result.scenarios[first.case.scenario], first.case)
        pictures[id(first)] = base64.b64encode(draw(run_scenario(sc, catalog, snapshots=True))).decode()
    Path(out).write_text(as_html(result, catalog, pictures), encoding="utf-8")


def _progress():
    """A progress line on standard error when it is a terminal (nothing in pipes and CI logs)."""
    if not sys.stderr.isatty():
        return None
    last = [-1]

    def show(done: int, total: int) -> None:
        pct = done * 100 // max(1, total)
        if pct != last[0]:
            last[0] = pct
            bar = "#" * (pct // 4)
            sys.stderr.write(f"\r[{bar:<25}] {pct:3d}%  {done}/{total} cases")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
    return show


def _fail(message: str) -> int:
    print(f"routesim: {message}", file=sys.stderr)
    return 2
