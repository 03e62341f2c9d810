"""``routesim record`` and ``routesim replay``: keep what a rig did as a scenario file, and run it forever.

``record`` watches a rig (the host's BlueZ, or the fake bluetoothd of ``routesim fake-bluez``) through a
wall-clock phone and writes every accessory event, app action and call, the real timing, the model's view
(the golden view) and the rig's own facts into a scenario file. ``replay`` runs such a file on the
virtual clock: a golden-view difference is a regression (exit 1); where the model and the rig's facts
disagree is drift, shown as a table (a failure only with ``--strict``). docs/recording.md has the story.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import sys
from pathlib import Path
from typing import Any

from routesim.routes.cli.common import catalog_for

RECORD_EPILOG = """\
examples:
  routesim fake-bluez --connected &                      a fake bluetoothd with virtual AirPods
  routesim record session.scenario.yaml --seconds 30     record until 30 s have passed (or Ctrl-C)
  routesim record out.scenario.yaml --call-at 5 --call-length 10 --adverts --anonymise
  routesim replay out.scenario.yaml                      check the golden view; show the drift table

On a real rig: routesim record fixtures/recordings/airpods-pro-2/call.scenario.yaml --bus system --call-at 5
(read-only: profile switches print "would switch" unless --apply).
"""


def add_commands(subparsers: Any) -> None:
    rec = subparsers.add_parser(
        "record", help="record a rig's accessory events, timing and facts into a scenario file (Ctrl-C ends)",
        description="Watch BlueZ (and, with --adverts, Apple proximity adverts) through a wall-clock phone and "
                    "write everything that happened into a scenario file: steps with the real timing as waits, "
                    "the model's view at each point (route, notifications: the golden view) and the rig's own "
                    "facts (card profile, codec, sample rate: expect rig). Ctrl-C or --seconds ends the "
                    "recording; the file is written either way.",
        epilog=RECORD_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rec.add_argument("out", metavar="OUT.scenario.yaml", help="the file to write (folders are made)")
    rec.add_argument("--bus", metavar="ADDRESS",
                     help="D-Bus address of the rig's bluetoothd, or 'system' (default: $DBUS_SYSTEM_BUS_ADDRESS, "
                          "else the system bus)")
    rec.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds (default: at Ctrl-C)")
    rec.add_argument("--anonymise", "--anonymize", action="store_true",
                     help="replace device names and addresses with consistent stand-ins (for shared fixtures)")
    rec.add_argument("--call-at", type=float, metavar="S",
                     help="the app starts an outgoing CallKit call S seconds after the recording starts")
    rec.add_argument("--call-length", type=float, default=10.0, metavar="S",
                     help="how long that call lasts before the app ends it (default 10)")
    rec.add_argument("--adverts", action="store_true",
                     help="also read battery and in-ear state from Apple proximity adverts (bleak, passive)")
    rec.add_argument("--apply", action="store_true",
                     help="on a live bus, carry out the profile switches the model asks for (a private bus always acts)")
    rec.add_argument("--category", default="playback", help="the app's category (default playback)")
    rec.add_argument("--mode", default="default", help="the app's mode (default default)")
    rec.add_argument("--options", nargs="*", default=[], metavar="OPTION", help="category options")
    rec.add_argument("--platform", default="ios-26.0", help="the phone's platform (default ios-26.0)")
    rec.add_argument("--name", help="the scenario's name (default: what was recorded, where)")
    rec.add_argument("--description", metavar="TEXT",
                     help="the scenario's description: how it was recorded and what it rests on (the rig, BlueZ "
                          "and audio-server versions, the accessory's firmware); default: a generic one to edit")
    rec.add_argument("--no-pactl", action="store_true",
                     help="do not ask the audio server (pactl) for card profiles, codecs and rates")
    rec.add_argument("-q", "--quiet", action="store_true", help="do not print entries as they are recorded")
    rec.set_defaults(func=cmd_record)

    rep = subparsers.add_parser(
        "replay", help="replay recordings on the virtual clock: regressions fail, drift is a table",
        description="Run recorded scenario files deterministically. A difference from the golden view (route, "
                    "notifications) is a regression and fails, naming the file and line. Where the rig's facts "
                    "(expect rig) and the model disagree is drift: shown as a table, a failure only with --strict. "
                    "--update rewrites the golden view after a reviewed change.")
    rep.add_argument("paths", nargs="+", metavar="FILE", help="recordings (files or folders of *.scenario.yaml)")
    rep.add_argument("--strict", action="store_true", help="drift fails too (exit 1)")
    rep.add_argument("--update", action="store_true",
                     help="rewrite route and notifications of every expect with the model's view now; comments, "
                          "other keys, their order and the rig's facts stay as written")
    rep.add_argument("--quirks", action="append", metavar="DIR")
    rep.add_argument("-q", "--quiet", action="store_true", help="no drift table, one line per scenario")
    rep.set_defaults(func=cmd_replay)


def _fail(message: str) -> int:
    print(f"routesim: {message}", file=sys.stderr)
    return 1


# ------------------------------------------------------------------------------------------------ record
def cmd_record(args: argparse.Namespace) -> int:
    from routesim.routes.cli.live import _run

    out = Path(args.out)
    if not out.name.endswith(".scenario.yaml"):
        return _fail(f"{args.out}: a recording's name must end in .scenario.yaml (so routesim run and pytest "
                     f"find it), e.g. {out.with_suffix('').name}.scenario.yaml")
    if args.seconds is not None and args.seconds <= 0:
        return _fail(f"--seconds {args.seconds:g}: give a positive number of seconds")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot make {out.parent}: {exc.strerror or exc}")
    return _run(_record(args, out))


async def _record(args: argparse.Namespace, out: Path) -> int:
    from routesim.api.rig import Rig
    from routesim.bt.bluez import BluezError
    from routesim.bt.bluez.link_facts import BluezLinkFacts
    from routesim.routes.live.record import RecordingSession
    from routesim.routes.phone.errors import SessionError
    from routesim.routes.scenario.recording import Moment

    bus = args.bus or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or "system"
    say = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    try:
        rig = Rig(bus, apply=args.apply, adverts=args.adverts, platform=args.platform)
    except ValueError as exc:
        return _fail(str(exc))
    if args.adverts:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = rig.bus  # bleak reads the bus only from here
    facts = BluezLinkFacts(rig.backend, pactl=None if args.no_pactl else "pactl")
    session = RecordingSession(rig, facts, Moment, out=say)
    session.subscribe()
    options = [p.strip() for a in args.options for p in a.split(",") if p.strip()]
    try:
        rig.phone.set_category(args.category, args.mode, options)
    except (SessionError, ValueError) as exc:
        return _fail(f"setCategory({args.category}, mode: {args.mode}, options: {options}) fails: {exc}")
    try:
        await rig.start()
    except BluezError as exc:
        return _fail(str(exc))
    started = datetime.datetime.now(datetime.timezone.utc)
    where = "a rig" if rig.live else "the fake bluetoothd"
    try:
        await session.start(call_at=args.call_at, call_length=args.call_length)
        print(f"recording {where} on {rig.bus} into {out}; "
              + (f"{args.seconds:g} s" if args.seconds else "Ctrl-C ends and writes the file"), flush=True)
        if args.seconds:
            await rig.phone.clock.sleep(args.seconds)
        else:
            await asyncio.Event().wait()
    except asyncio.CancelledError:
        pass  # Ctrl-C: write what we have
    finally:
        try:
            await session.stop()
            await rig.stop()
        finally:
            written = _write(args, out, session, where, started, facts.server_name)
    print(f"routesim: wrote {out} ({written})", flush=True)
    return 0


def _write(args: argparse.Namespace, out: Path, session: Any, where: str, started: datetime.datetime,
           server: str | None = None) -> str:
    from routesim.profiles.platform import Platform
    from routesim.routes.scenario.recording import Capture, write_capture

    catalog = catalog_for(args)
    platform = Platform.parse(args.platform)

    def firmware_ok(info: Any) -> bool:
        try:
            catalog.quirks_for(catalog.get(info.model_id), platform, info.firmware)
            return True
        except (ValueError, KeyError):
            return False

    with_server = f" with the audio server {server}" if server else ""  # what the rig's facts rest on
    capture = Capture(session.moments, session.accessories, args.platform,
                      f"on {where}{with_server}, {started:%Y-%m-%d %H:%M} UTC", session.final_facts)
    steps = [m.name for m in session.moments if m.kind in ("action", "event") and m.name != "session.setCategory"]
    summary = ", ".join(dict.fromkeys(steps)) or "nothing happened"
    models = ", ".join(dict.fromkeys(i.model_id for i in session.accessories.values())) or "no accessory"
    title = args.name or f"{models} recorded on {where}: {summary}"
    text = write_capture(capture, title=title, anonymise=args.anonymise, firmware_ok=firmware_ok,
                         **({"description": args.description} if args.description else {}))
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return f"{len(steps)} accessory events and actions, {sum(m.kind == 'notification' for m in session.moments)} notifications"


# ------------------------------------------------------------------------------------------------ replay
def _load(paths: list[str], catalog: Any, err: Any) -> tuple[list[Any], int]:
    """Every scenario in the files and folders given; a file that does not load is one line on ``err``."""
    from routesim.routes.scenario.loader import iter_scenario_files, load_path
    from routesim.routes.scenario.model import ScenarioError

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        err.write(f"routesim: no such file or directory: {', '.join(missing)}\n")
        return [], 2
    scenarios, status = [], 0
    for f in iter_scenario_files(paths):
        try:
            scenarios.extend(load_path(f, catalog.ids()))
        except ScenarioError as e:
            err.write(f"{e}\n")
            status = 2
    if not scenarios and not status:
        err.write(f"routesim: no *.scenario.yaml files under {', '.join(paths)}\n")
        status = 2
    return scenarios, status


def cmd_replay(args: argparse.Namespace) -> int:
    from routesim.routes.scenario.runner import run_scenario

    catalog = catalog_for(args)
    scenarios, status = _load(args.paths, catalog, sys.stderr)
    if not scenarios:
        return status or 2
    if args.update:
        _update(scenarios, catalog)
        scenarios, status = _load(args.paths, catalog, sys.stderr)
    regressions = drifted = invalid = 0
    for sc in scenarios:
        result = run_scenario(sc, catalog)
        doc = f" #{sc.index + 1}" if sc.index else ""
        if result.invalid:
            invalid += 1
            print(f"ERROR {sc.file}{doc}: {sc.name}\n  {result.invalid}")
            continue
        failures = result.failures
        drift = result.drift
        compared = sum(1 for s in result.steps for c in s.checks if c.drift)
        verdict = "REGRESSION" if failures else ("DRIFT" if drift and args.strict else "PASS")
        print(f"{verdict:10} {sc.file}{doc}: {sc.name}")
        for res, check in failures:
            print("  " + regression_message(result, res, check))
        regressions += bool(failures)
        drifted += bool(drift)
        if not args.quiet and compared:
            print(drift_table(result, compared))
    print(f"routesim: {len(scenarios) - regressions - invalid} replayed as recorded, {regressions} with regressions, "
          f"{drifted} with drift{' (fails with --strict)' if drifted and args.strict else ''}, {invalid} invalid")
    if status or invalid:
        return 2
    return 1 if regressions or (args.strict and drifted) else 0


def regression_message(result: Any, res: Any, check: Any) -> str:
    """``FILE:LINE: after `rename: {...}` (line N): route: expected …, got …`` — the expect that failed and
    the step it follows."""
    import json

    from routesim.routes.scenario.expectations import _plain
    from routesim.routes.scenario.report import _fmt_arg

    def shown(value: Any) -> str:  # names keep their apostrophes: "Kim’s AirPods", not "Kim\u2019s"
        return json.dumps(_plain(value), default=str, ensure_ascii=False)

    before = None
    for other in result.steps:
        if other is res:
            break
        if other.step.op not in ("expect", "wait"):
            before = other
    after = f"after `{before.step.op} {_fmt_arg(before.step.arg)}`".rstrip() + f" (line {before.step.line})" \
        if before else "before the first step"
    return (f"{result.scenario.file}:{res.step.line}: {after}: {check.key}: expected {shown(check.expected)}, "
            f"got {shown(check.actual)}{'  (' + check.message + ')' if check.message else ''}")


def drift_table(result: Any, compared: int) -> str:
    rows = [(f"L{res.step.line}", *check.key.split(".", 2)[1:], _cell(check.expected), _cell(check.actual))
            for res, check in result.drift]
    if not rows:
        return f"  drift: none (the model agrees with the rig's facts in all {compared} compared)"
    head = ("line", "accessory", "fact", "rig", "model")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    lines = [f"  drift: {len(rows)} of {compared} rig facts differ from the model (a failure only with --strict)"]
    for r in [head, *rows]:
        lines.append("    " + "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "-" if value is None else str(value)


def _update(scenarios: list[Any], catalog: Any) -> None:
    from routesim.routes.scenario.recording import update_golden
    from routesim.routes.scenario.runner import run_scenario

    goldens: dict[str, dict[int, Any]] = {}
    for sc in scenarios:
        result = run_scenario(sc, catalog)
        if result.invalid:
            print(f"routesim: not updating {sc.file}: {result.invalid}", file=sys.stderr)
            goldens.setdefault(sc.file, {})
            continue
        for res in result.steps:
            if res.step.op == "expect":
                goldens.setdefault(sc.file, {})[res.step.line] = (res.route, list(res.notifications))
    for file, views in goldens.items():
        if not views:
            continue
        path = Path(file)
        before = path.read_text(encoding="utf-8")
        after = update_golden(before, views)
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"routesim: updated the golden view in {file}")
        else:
            print(f"routesim: {file}: the golden view already matches the model")
