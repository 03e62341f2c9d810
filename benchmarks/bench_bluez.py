"""Latency from a BlueZ D-Bus signal to the app's routeChange, beside raw dbus-fast delivery on the same bus.

    python benchmarks/bench_bluez.py [--cycles 200] [--warmup 15] [--gap 0.008] [--together]
                                     [--load-cycles 1000] [--load N] [--json] [--check]

What runs (nothing touches the system bus; everything below is stopped at the end, also on Ctrl-C/SIGTERM):
  * this process: starts a private dbus-daemon (bt.fake_bluez.PrivateBus), the processes below, collects
    their timestamps and prints the table;
  * "fake": the fake bluetoothd (bt.fake_bluez.FakeBluez) with virtual AirPods Pro 2 in its own process;
    it scripts connect -> rename -> disconnect cycles, one action every --gap seconds;
  * "routesim": BluezBackend -> SessionFeed (RouteManager + Phone, ios-26.0, category playAndRecord,
    option allowBluetoothHFP, so each of the three actions changes the route); the route manager's
    commands go back to the fake through BluezCommandSink as in ``routesim watch`` (--no-commands: not);
    it stamps each routeChange notification as the manager's first listener receives it;
  * "raw": a bare dbus-fast MessageBus with the backend's own match rules (so it receives the same
    messages in the same order) and a handler that only stamps them.
By default the raw subscriber runs the script first and routesim second (one subscriber at a time, the
same bus and fake, measured as two processes); --together
subscribes both at once and adds the per-event difference, but on a 2-CPU machine the two subscribers
then compete for a core with the fake and dbus-daemon, and whichever is woken second looks slower.

All stamps are CLOCK_MONOTONIC (time.monotonic_ns), which every process on a Linux host shares.

Per action, latency runs from the *trigger signal* leaving the fake (stamped just before dbus-fast's
``MessageBus.send`` marshals and writes it) to the raw handler getting it, or to the routeChange reaching
the session model's listener. The trigger is the signal that decides the event: Device1
``PropertiesChanged`` carrying ``Connected`` (connect, disconnect) or ``Alias`` (rename). A disconnect
first removes the A2DP transport and Battery1 and clears ``ServicesResolved`` (the "trigger after first
signal" line shows how long that takes); the backend holds those losses for ``degrade_grace`` (50 ms)
and ``Connected=false`` cancels the hold, so the Disconnected event is not delayed by the grace period.
None of the three measured events is delayed by it; any routesim sample over 50 ms would be flagged.

Warm-up cycles are excluded. Percentiles are nearest-rank. The aim: routesim p99 - raw p99 < 1 ms.

A last run (``--load-cycles``, default 1000) repeats the routesim phase while ``--load`` busy processes
(default two per CPU) spin on every core, and counts lost and doubled events by aligning the routeChange
kinds in order with the fake's actions (timing plays no part there, so a late event is not a lost one).
Both counts must be zero. The latency figures above come only from the unloaded phases.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any


AIRPODS = "AA:BB:CC:DD:EE:01"
NAME = "Kim\u2019s AirPods Pro"
KINDS = ("connect", "rename", "disconnect")
REASONS = {"connect": "newDeviceAvailable", "rename": "routeConfigurationChange", "disconnect": "oldDeviceUnavailable"}
KIND_OF_REASON = {v: k for k, v in REASONS.items()}
AIM_NS = 1_000_000
GRACE_NS = 50_000_000  # BluezBackend's default degrade_grace
READY_TIMEOUT = 20.0


def _child_signals() -> None:
    """Children leave Ctrl-C to the parent (which stops them in order) and die on SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _parent_gone_or(conn: Any, wanted: str) -> bool:
    """True if the parent sent ``wanted`` or went away (EOF): time to stop."""
    try:
        while conn.poll():
            if conn.recv() == wanted:
                return True
    except (EOFError, OSError):
        return True
    return False


async def _wait_pipe(conn: Any) -> Any:
    """The next message from the parent without blocking the loop (EOF reads as "stop")."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def readable() -> None:
        if fut.done():
            return
        try:
            fut.set_result(conn.recv())
        except (EOFError, OSError):
            fut.set_result("stop")

    loop.add_reader(conn.fileno(), readable)
    try:
        return await fut
    finally:
        loop.remove_reader(conn.fileno())


# ------------------------------------------------------------------------------------------- the fake
def fake_main(address: str, conn: Any, cycles: int, warmup: int, gap: float) -> None:
    _child_signals()
    try:
        asyncio.run(_fake(address, conn, cycles, warmup, gap))
    except Exception as exc:  # tell the parent instead of leaving it waiting
        conn.send(("error", f"fake: {type(exc).__name__}: {exc}"))


async def _fake(address: str, conn: Any, cycles: int, warmup: int, gap: float) -> None:
    from dbus_fast import MessageType

    from routesim.bt.bluez.constants import DEVICE, PROPERTIES
    from routesim.bt.fake_bluez import FakeBluez, accessory_from_model
    from routesim.profiles.catalog import default_catalog
    from routesim.clock import WallClock

    class TimedFake(FakeBluez):
        """Stamps the first signal of the current action and its trigger signal as they leave."""

        action: str | None = None
        first: int | None = None
        trigger: int | None = None

        def _emit(self, msg: Any) -> None:
            if self.action is not None:
                # stamped just before MessageBus.send marshals it and writes it to the socket (the queue is
                # empty, so dbus-fast writes at once): a receiver can never see it before this stamp
                now = time.monotonic_ns()
                if self.first is None:
                    self.first = now
                if (self.trigger is None and msg.message_type is MessageType.SIGNAL and msg.interface == PROPERTIES
                        and msg.member == "PropertiesChanged" and msg.body[0] == DEVICE
                        and ("Alias" if self.action == "rename" else "Connected") in msg.body[1]):
                    self.trigger = now
            super()._emit(msg)

    clock = WallClock()
    fake = TimedFake(address, clock=clock)
    await fake.start()
    try:
        model = default_catalog().get("airpods-pro-2")
        fake.add_device(accessory_from_model(model, AIRPODS, name=NAME, battery=80))
        conn.send(("ready", os.getpid()))
        actions = {
            "connect": lambda n: fake.connect(AIRPODS),
            "rename": lambda n: fake.rename_remote(AIRPODS, f"{NAME} {n}"),
            "disconnect": lambda n: fake.disconnect(AIRPODS),
        }
        phase = 0
        while True:  # one script per phase: "go" or ("go", cycles, warmup); "stop" or EOF ends
            order = await _wait_pipe(conn)
            if order == "go":
                n, w = cycles, warmup
            elif isinstance(order, tuple) and order[0] == "go":
                n, w = order[1], order[2]
            else:
                break
            phase += 1
            sent: list[tuple[int, str, int, int]] = []  # (cycle, kind, first signal, trigger signal)
            for cycle in range(-w, n):
                for kind in KINDS:
                    await clock.sleep(gap)
                    fake.action, fake.first, fake.trigger = kind, None, None
                    actions[kind](f"{phase}.{cycle}")
                    fake.action = None
                    if fake.trigger is None or fake.first is None:
                        raise RuntimeError(f"{kind}: the fake emitted no trigger signal (did FakeBluez change?)")
                    sent.append((cycle, kind, fake.first, fake.trigger))
                if _parent_gone_or(conn, "stop"):
                    return
            await clock.sleep(max(gap, 0.05))  # the backend's last commands land here, not in the next phase
            conn.send(("sent", sent))
    finally:
        await fake.stop()


# ---------------------------------------------------------------------------------------- routesim
def routesim_main(address: str, conn: Any, commands: bool) -> None:
    _child_signals()
    try:
        asyncio.run(_routesim(address, conn, commands))
    except Exception as exc:
        conn.send(("error", f"routesim: {type(exc).__name__}: {exc}"))


async def _routesim(address: str, conn: Any, commands: bool) -> None:
    from routesim.bt.bluez import BluezBackend
    from routesim.profiles.catalog import default_catalog
    from routesim.clock import WallClock
    from routesim.routes.live.rig import SessionFeed

    stamps: list[tuple[int, str]] = []
    events: list[tuple[int, str]] = []

    def on_note(note: Any) -> None:
        now = time.monotonic_ns()
        if note.name == "routeChange":
            stamps.append((now, str(note.fields.get("reason"))))

    feed = SessionFeed("playAndRecord", "default", ("allowBluetoothHFP",), "ios-26.0", out=lambda s: None)
    feed.manager.listeners.insert(0, on_note)  # first listener: nothing printed before the stamp

    def on_event(event: Any) -> None:
        events.append((time.monotonic_ns(), type(event).__name__))
        feed(event)

    backend = BluezBackend(address, catalog=default_catalog(), clock=WallClock(), on_event=on_event, pactl=None)
    if commands:
        feed.attach_backend(backend, apply=False)  # a private bus: commands act anyway, as in `routesim watch`
    await backend.start(require_bluetoothd=True)
    try:
        conn.send(("ready", os.getpid()))
        if await _wait_pipe(conn) == "report":
            counts: dict[str, int] = {}
            for _, name in events:
                counts[name] = counts.get(name, 0) + 1
            conn.send(("stamps", {"stamps": stamps, "events": counts, "resyncs": backend.resyncs,
                                  "reconnects": backend.reconnects}))
            await _wait_pipe(conn)  # "stop" (or EOF)
    finally:
        await backend.stop()


# --------------------------------------------------------------------------------------------- raw
def raw_main(address: str, conn: Any) -> None:
    _child_signals()
    try:
        asyncio.run(_raw(address, conn))
    except Exception as exc:
        conn.send(("error", f"raw: {type(exc).__name__}: {exc}"))


async def _raw(address: str, conn: Any) -> None:
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    from routesim.bt.bluez.constants import BLUEZ, DBUS, DEVICE, OBJECT_MANAGER, PROPERTIES

    stamps: list[tuple[int, str]] = []

    def handler(msg: Message) -> None:
        now = time.monotonic_ns()
        if msg.message_type is MessageType.SIGNAL and msg.member == "PropertiesChanged" and msg.body[0] == DEVICE:
            changed = msg.body[1]
            if "Alias" in changed:
                stamps.append((now, "rename"))
            elif "Connected" in changed:
                stamps.append((now, "connect" if changed["Connected"].value else "disconnect"))

    bus = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
    try:
        bus.add_message_handler(handler)
        for rule in (  # the backend's rules (bt/bluez/connection.py), so both get the same stream
            f"type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{BLUEZ}'",
            f"type='signal',sender='{BLUEZ}',interface='{OBJECT_MANAGER}',path='/'",
            f"type='signal',sender='{BLUEZ}',interface='{PROPERTIES}',member='PropertiesChanged',path_namespace='/org/bluez'",
        ):
            reply = await bus.call(Message(destination=DBUS, path="/org/freedesktop/DBus", interface=DBUS,
                                           member="AddMatch", signature="s", body=[rule]))
            if reply.message_type is not MessageType.METHOD_RETURN:
                raise RuntimeError(f"AddMatch failed: {reply.body}")
        conn.send(("ready", os.getpid()))
        if await _wait_pipe(conn) == "report":
            conn.send(("stamps", {"stamps": stamps}))
            await _wait_pipe(conn)  # "stop" (or EOF)
    finally:
        bus.disconnect()


# ------------------------------------------------------------------------------------------- the load
def busy_main() -> None:
    """A busy background process: spins on a core until terminated (by its pid)."""
    _child_signals()
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF


def lost_and_doubled(sent: list[tuple[int, str, int, int]], stamps: list[tuple[int, str]]) -> tuple[int, int, int]:
    """(expected, lost, doubled): the routeChange kinds routesim reported, aligned in order with the
    actions the fake took. Timing plays no part, so a late event under load is neither lost nor doubled."""
    import difflib

    want = [kind for _, kind, _, _ in sent]
    got = [kind for _, kind in stamps]
    lost = doubled = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, got, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            lost += i2 - i1
        if op in ("insert", "replace"):
            doubled += j2 - j1
    return len(want), lost, doubled


# ------------------------------------------------------------------------------------------ analysis
def pct(values: list[int], p: float) -> int:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def summary(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "median": statistics.median(values) / 1e6, "p90": pct(values, 90) / 1e6,
            "p99": pct(values, 99) / 1e6, "max": max(values) / 1e6}


def match(sent: list[tuple[int, str, int, int]], stamps: list[tuple[int, str]], what: str
          ) -> tuple[dict[str, list[int]], dict[str, list[int]], list[str]]:
    """Latency of each measured action: its stamp, found by aligning the stamps' kinds in order with the
    actions (not by time windows: an event that arrives after the next action began is late, and its
    latency counts as measured, not as lost). Returns ({kind: [ns]}, {kind: [cycle]}, problems)."""
    import difflib

    lat: dict[str, list[int]] = {k: [] for k in KINDS}
    cycles: dict[str, list[int]] = {k: [] for k in KINDS}
    problems: list[str] = []
    want = [kind for _, kind, _, _ in sent]
    got = [kind for _, kind in stamps]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, got, autojunk=False).get_opcodes():
        if op == "equal":
            for d in range(i2 - i1):
                cycle, kind, _first, trig = sent[i1 + d]
                t = stamps[j1 + d][0]
                if cycle < 0:
                    continue  # warm-up
                if t < trig:
                    problems.append(f"{what}: cycle {cycle} {kind}: stamped {(trig - t) / 1e6:.3f} ms before its trigger")
                    continue
                lat[kind].append(t - trig)
                cycles[kind].append(cycle)
            continue
        for i in range(i1, i2):
            if sent[i][0] >= 0:
                problems.append(f"{what}: cycle {sent[i][0]} {sent[i][1]}: nothing seen")
        for j in range(j1, j2):
            problems.append(f"{what}: an unexpected {stamps[j][1]} stamp")
    return lat, cycles, problems


def analyse(phases: list[dict[str, Any]], args: argparse.Namespace, env: dict[str, Any]) -> dict[str, Any]:
    lat: dict[str, dict[str, list[int]]] = {}
    cyc: dict[str, dict[str, list[int]]] = {}
    lead: dict[str, list[int]] = {k: [] for k in KINDS}
    problems: list[str] = []
    for ph in phases:
        for cycle, kind, first, trig in ph["sent"]:
            if cycle >= 0:
                lead[kind].append(trig - first)
        for path, stamps in ph["stamps"].items():
            lat[path], cyc[path], probs = match(ph["sent"], stamps, path)
            problems += probs
    rows: dict[str, Any] = {}
    for kind in (*KINDS, "all"):
        kinds = KINDS if kind == "all" else (kind,)
        row: dict[str, Any] = {p: summary([v for k in kinds for v in lat[p][k]]) for p in ("raw", "routesim")}
        if args.together:  # the same events seen by both: per-event difference
            diffs = []
            for k in kinds:
                raw_by_cycle = dict(zip(cyc["raw"][k], lat["raw"][k]))
                diffs += [v - raw_by_cycle[c] for c, v in zip(cyc["routesim"][k], lat["routesim"][k]) if c in raw_by_cycle]
            row["paired_added"] = summary(diffs)
        if kind != "all":
            row["trigger_after_first_signal_ms"] = statistics.median(lead[kind]) / 1e6 if lead[kind] else None
        rows[kind] = row
    allr, alls = rows["all"]["raw"], rows["all"]["routesim"]
    added = alls["p99"] - allr["p99"] if allr["n"] and alls["n"] else None
    over = sum(1 for k in KINDS for v in lat["routesim"][k] if v >= GRACE_NS)
    return {"rows": rows, "added_p99_ms": added, "aim_ms": AIM_NS / 1e6,
            "met": added is not None and added < AIM_NS / 1e6 and not problems and not over,
            "over_grace": over, "problems": problems, "env": env,
            "params": {"cycles": args.cycles, "warmup": args.warmup, "gap_s": args.gap,
                       "commands": not args.no_commands, "mode": "together" if args.together else "phases"}}


def print_report(r: dict[str, Any]) -> None:
    e, p = r["env"], r["params"]
    how = ("raw and routesim subscribed at once (same events)" if p["mode"] == "together"
           else "raw phase, then routesim phase (one subscriber at a time, same script)")
    print(f"bench_bluez: Python {e['python']}, dbus-fast {e['dbus_fast']}, {e['cpus']} CPUs; "
          f"{p['cycles']} cycles (+{p['warmup']} warm-up) of connect, rename, disconnect, one action every "
          f"{p['gap_s'] * 1e3:g} ms; {how}; route-manager commands back to the fake: {'on' if p['commands'] else 'off'}")
    print("latency from the trigger signal leaving the fake (ms)")
    print(f"  {'event':11} {'path':9} {'n':>4} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for kind in (*KINDS, "all"):
        row = r["rows"][kind]
        for path in ("raw", "routesim"):
            s = row[path]
            if not s["n"]:
                print(f"  {kind:11} {path:9} {0:>4}")
            else:
                print(f"  {kind:11} {path:9} {s['n']:>4} {s['median']:8.3f} {s['p90']:8.3f} {s['p99']:8.3f} {s['max']:8.3f}")
        d = row.get("paired_added")
        if d and d["n"]:
            print(f"  {kind:11} {'added':9} {d['n']:>4} {d['median']:8.3f} {d['p90']:8.3f} {d['p99']:8.3f} {d['max']:8.3f}"
                  "   (per event, routesim - raw)")
    print("  trigger signal after the action's first signal (median ms): "
          + ", ".join(f"{k} {r['rows'][k]['trigger_after_first_signal_ms']:.3f}" for k in KINDS
                      if r["rows"][k]["trigger_after_first_signal_ms"] is not None))
    if r["added_p99_ms"] is not None:
        verdict = "met" if r["met"] else "NOT met"
        print(f"added at p99 (routesim p99 - raw p99, all events): {r['added_p99_ms']:.3f} ms; "
              f"aim < {r['aim_ms']:g} ms: {verdict}")
    load = r.get("load")
    if load:
        verdict = "none" if not (load["lost"] or load["doubled"]) else "NOT zero"
        print(f"under load ({load['busy_processes']} busy processes, {load['cycles']} cycles): {load['expected']} "
              f"route changes expected, {load['seen']} seen, lost {load['lost']}, doubled {load['doubled']} "
              f"({verdict}; latency not measured under load)")
    if r["over_grace"]:
        print(f"warning: {r['over_grace']} routesim samples took longer than degrade_grace (50 ms)")
    for problem in r["problems"][:10]:
        print(f"problem: {problem}")
    if len(r["problems"]) > 10:
        print(f"problem: ... and {len(r['problems']) - 10} more")


# -------------------------------------------------------------------------------------------- parent
def _expect(conn: Any, what: str, timeout: float, proc: Any) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.poll(0.05):
            try:
                tag, payload = conn.recv()
            except EOFError:
                raise RuntimeError(f"{proc.name} closed its pipe (exit code {proc.exitcode})") from None
            if tag == "error":
                raise RuntimeError(payload)
            if tag != what:
                raise RuntimeError(f"{proc.name}: expected {what!r}, got {tag!r}")
            return payload
        if not proc.is_alive():
            raise RuntimeError(f"{proc.name} exited early (exit code {proc.exitcode})")
    raise RuntimeError(f"{proc.name}: no {what!r} within {timeout:g} s")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Children:
    """The processes this run started; each is stopped by its own pid, politely first."""

    def __init__(self) -> None:
        self.ctx = mp.get_context("spawn")  # clean children: no copied event loop, sockets or bus
        self.procs: list[Any] = []
        self.pipes: dict[str, Any] = {}

    def start(self, name: str, target: Any, *args: Any) -> Any:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=target, name=name, args=(*args[:1], child, *args[1:]), daemon=True)
        # A Ctrl-C reaches the whole process group, and a child still importing would die of it with a
        # traceback. An ignored signal stays ignored across exec (a blocked one does not survive
        # multiprocessing's spawn), so the child is born ignoring SIGINT; a Ctrl-C in these few
        # milliseconds is lost, any later one reaches this process, which stops the children in order.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            proc.start()
        finally:
            signal.signal(signal.SIGINT, old)
        child.close()  # the child holds its own copy; EOF then reaches the parent if the child dies
        self.procs.append(proc)
        self.pipes[name] = parent
        return proc

    def finish(self, proc: Any, timeout: float = 5.0) -> None:
        """Ask a child to stop (it may send its results first; the caller has read them) and reap it."""
        pipe = self.pipes.get(proc.name)
        if pipe is not None:
            try:
                pipe.send("stop")
            except (BrokenPipeError, OSError):
                pass
        proc.join(timeout)
        self._reap(proc)

    def _reap(self, proc: Any) -> None:
        if proc.is_alive():
            proc.terminate()  # SIGTERM to this pid only
            proc.join(2)
        if proc.is_alive():
            proc.kill()
            proc.join(2)

    def close(self) -> None:
        for proc in self.procs:
            pipe = self.pipes.get(proc.name)
            if proc.is_alive() and pipe is not None:
                try:
                    pipe.send("stop")
                except (BrokenPipeError, OSError):
                    pass
        for proc in self.procs:
            proc.join(3)
            self._reap(proc)
        for pipe in self.pipes.values():
            pipe.close()


def run(args: argparse.Namespace) -> int:
    from routesim.bt.fake_bluez import PrivateBus, is_private_bus

    previous_term = signal.signal(signal.SIGTERM, _on_sigterm)
    bus = PrivateBus()
    kids = Children()
    quiet = args.json
    try:
        address = bus.start()
        if not is_private_bus(address):
            raise RuntimeError(f"refusing to run on {address}: not a bus this run created")
        assert bus.process is not None
        fake = kids.start("fake", fake_main, address, args.cycles, args.warmup, args.gap)
        _expect(kids.pipes["fake"], "ready", READY_TIMEOUT, fake)
        if not quiet:
            print(f"private bus {address} (dbus-daemon pid {bus.process.pid}); fake pid {fake.pid}", flush=True)
        per_phase = (args.cycles + args.warmup) * len(KINDS) * (args.gap + 0.003) + 15
        plan = [("raw", "routesim")] if args.together else [("raw",), ("routesim",)]
        phases = []
        backend_info: dict[str, Any] = {}
        for listeners in plan:
            procs = []
            for name in listeners:
                target, extra = (raw_main, ()) if name == "raw" else (routesim_main, (not args.no_commands,))
                procs.append(kids.start(name, target, address, *extra))
            for proc in procs:
                _expect(kids.pipes[proc.name], "ready", READY_TIMEOUT, proc)
            if not quiet:
                print(f"phase {' + '.join(listeners)}: pids {', '.join(str(p.pid) for p in procs)}", flush=True)
            kids.pipes["fake"].send("go")
            sent = _expect(kids.pipes["fake"], "sent", per_phase, fake)
            stamps: dict[str, Any] = {}
            for proc in procs:
                kids.pipes[proc.name].send("report")
                data = _expect(kids.pipes[proc.name], "stamps", 10, proc)
                stamps[proc.name] = data["stamps"]
                if proc.name == "routesim":
                    stamps["routesim"] = [(t, KIND_OF_REASON.get(reason, reason)) for t, reason in data["stamps"]]
                    backend_info = {k: data[k] for k in ("resyncs", "reconnects", "events")}
            for proc in procs:
                kids.finish(proc)  # before the fake goes: no "bluetoothd left the bus" in the backend
            phases.append({"sent": sent, "stamps": stamps})
        load = None
        if args.load_cycles:
            load = _load_phase(kids, address, args, quiet)
        kids.finish(fake)
        env = {"python": sys.version.split()[0], "dbus_fast": _version("dbus-fast"), "cpus": os.cpu_count(),
               "backend": backend_info, "bus": address, "dbus_daemon_pid": bus.process.pid,
               "child_pids": [p.pid for p in kids.procs]}
        result = analyse(phases, args, env)
        result["load"] = load
        if load is not None and (load["lost"] or load["doubled"]):
            result["met"] = False
        if quiet:
            print(json.dumps(result, indent=1))
        else:
            print_report(result)
        return 0 if result["met"] or not args.check else 1
    except KeyboardInterrupt:
        print("bench_bluez: interrupted; stopping what it started", file=sys.stderr, flush=True)
        return 130
    except RuntimeError as exc:
        print(f"bench_bluez: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            kids.close()
            bus.close()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous_term)


def _load_phase(kids: "Children", address: str, args: argparse.Namespace, quiet: bool) -> dict[str, Any]:
    """routesim alone under CPU load (busy processes on every core): count lost and doubled events."""
    busy = [kids.start(f"busy{n}", _busy_entry, address) for n in range(args.load)]
    proc = kids.start("routesim-load", routesim_main, address, not args.no_commands)
    _expect(kids.pipes[proc.name], "ready", READY_TIMEOUT, proc)
    if not quiet:
        print(f"phase routesim under load ({args.load} busy processes): pid {proc.pid}", flush=True)
    kids.pipes["fake"].send(("go", args.load_cycles, 0))
    per_phase = args.load_cycles * len(KINDS) * (args.gap + 0.05) + 60  # a loaded machine is slow
    sent = _expect(kids.pipes["fake"], "sent", per_phase, kids.procs[0])
    kids.pipes[proc.name].send("report")
    data = _expect(kids.pipes[proc.name], "stamps", 20, proc)
    kids.finish(proc)
    for b in busy:
        b.terminate()  # SIGTERM to that pid only
        b.join(2)
    stamps = [(t, KIND_OF_REASON.get(reason, reason)) for t, reason in data["stamps"]]
    expected, lost, doubled = lost_and_doubled(sent, stamps)
    return {"busy_processes": args.load, "cycles": args.load_cycles, "expected": expected, "seen": len(stamps),
            "lost": lost, "doubled": doubled, "events": data["events"], "resyncs": data["resyncs"],
            "reconnects": data["reconnects"]}


def _busy_entry(address: str, conn: Any) -> None:
    conn.close()
    busy_main()


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=200, help="measured connect/rename/disconnect cycles (default 200)")
    ap.add_argument("--warmup", type=int, default=15, help="cycles run first and not counted (default 15)")
    ap.add_argument("--gap", type=float, default=0.008, help="seconds between actions (default 0.008)")
    ap.add_argument("--together", action="store_true",
                    help="subscribe raw and routesim at once (same events, per-event difference; on few CPUs the two "
                         "subscribers then compete for a core)")
    ap.add_argument("--no-commands", action="store_true",
                    help="do not send the route manager's commands (profile switches) back to the fake")
    ap.add_argument("--load-cycles", type=int, default=1000,
                    help="cycles of a further run under CPU load, counting lost and doubled events (0: skip; "
                         "default 1000)")
    ap.add_argument("--load", type=int, default=2 * (os.cpu_count() or 1), metavar="N",
                    help="busy background processes during that run (default: two per CPU)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 unless the aim (< 1 ms added at p99) is met")
    args = ap.parse_args(argv)
    if args.cycles < 1 or args.warmup < 0 or args.gap <= 0 or args.load_cycles < 0 or args.load < 0:
        ap.error("--cycles must be >= 1, --warmup >= 0, --gap > 0, --load-cycles and --load >= 0")
    try:
        return run(args)
    except KeyboardInterrupt:  # while importing, before anything was started
        print("bench_bluez: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
