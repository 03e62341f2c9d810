"""Live commands: ``devices``, ``watch`` and ``fake-bluez``.

``devices`` and ``watch`` only read the system bus (no flag needed). Anything that would change a real
device is printed as "would …" unless ``--apply`` is given; on a private bus made by routesim (the
``fake-bluez`` command) commands always act. ``fake-bluez`` starts a private dbus-daemon with a fake
org.bluez and virtual AirPods, prints ``export DBUS_SYSTEM_BUS_ADDRESS=…``, and runs until Ctrl-C.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any, Callable

from routesim.events import AccessoryEvent
from routesim.clock import WallClock
from routesim.routes.live.lifecycle import cleaning_up
from routesim.routes.live.rig import SessionFeed, format_event, watch


def add_live_commands(subparsers: Any) -> None:
    dev = subparsers.add_parser(
        "devices", help="list Bluetooth adapters and devices seen through BlueZ (read-only)",
        description="List adapters and devices on org.bluez with the resolved catalog model, profiles, battery "
                    "and connection state. Reads the bus named by DBUS_SYSTEM_BUS_ADDRESS (default: the system bus).")
    dev.add_argument("--bus", metavar="ADDRESS", help="D-Bus address (default: $DBUS_SYSTEM_BUS_ADDRESS or the system bus)")
    dev.add_argument("--all", action="store_true", help="also list devices without audio profiles (BLE adverts …)")
    dev.add_argument("--firmware", action="append", metavar="MODEL=VERSION",
                     help="the firmware a model runs, e.g. airpods-pro-2=7A305 (repeatable): BlueZ's Modalias "
                          "version (D408) is not a firmware version, so without this no firmware-scoped quirk applies")
    dev.set_defaults(func=cmd_devices)

    watch = subparsers.add_parser(
        "watch", help="print accessory events from real devices as they happen (Ctrl-C stops)",
        description="Follow BlueZ and print every accessory event (connect, disconnect, rename, battery, profile). "
                    "Read-only unless --apply: profile switches the route policy asks for are printed as 'would …'.")
    watch.add_argument("--bus", metavar="ADDRESS")
    watch.add_argument("--category", default="playback", help="the app's AVAudioSession category (default playback)")
    watch.add_argument("--mode", default="default", help="the app's AVAudioSession mode (default default)")
    watch.add_argument("--options", nargs="*", default=[], metavar="OPTION",
                       help="category options, space- or comma-separated, e.g. allowBluetooth defaultToSpeaker")
    watch.add_argument("--platform", default="ios-26.0", help="the phone's platform, e.g. ios-17.4 (default ios-26.0)")
    watch.add_argument("--apply", action="store_true",
                       help="on a live bus, carry out the A2DP/HFP profile switches the route policy asks for "
                            "(without it they are printed as 'would switch')")
    watch.add_argument("--adverts", action="store_true",
                       help="also read Apple proximity adverts (bleak) for battery and in-ear state of the "
                            "connected AirPods/Beats: both buds out moves the route, as on a phone. Listens "
                            "passively (BlueZ's AdvertisementMonitorManager1); see --active-scan")
    watch.add_argument("--active-scan", action="store_true",
                       help="with --adverts: start LE discovery (SetDiscoveryFilter/StartDiscovery) instead of "
                            "passive monitoring; this changes the adapter's state while it runs (stopped at exit, "
                            "also on Ctrl-C/SIGTERM)")
    watch.add_argument("--format", choices=("text", "jsonl"), default="text",
                       help="text (default), or jsonl for machines: one JSON object per line with a UTC "
                            "timestamp, the line's kind and, for accessory events, their fields")
    watch.add_argument("--call-at", type=float, metavar="SECONDS",
                       help="the app starts an outgoing CallKit call this many seconds after the watch starts "
                            "(the call moves a headset to HFP; see `routesim run fixtures/scenarios/calls`)")
    watch.add_argument("--call-length", type=float, default=10.0, metavar="SECONDS",
                       help="how long that call lasts before the app ends it (default 10)")
    watch.add_argument("-v", "--verbose", action="store_true", help="log the backend's warnings and resyncs")
    watch.add_argument("--firmware", action="append", metavar="MODEL=VERSION",
                     help="the firmware a model runs, e.g. airpods-pro-2=7A305 (repeatable): BlueZ's Modalias "
                          "version (D408) is not a firmware version, so without this no firmware-scoped quirk applies")
    watch.set_defaults(func=cmd_watch)

    fake = subparsers.add_parser(
        "fake-bluez", help="run a private D-Bus with a fake org.bluez and virtual AirPods (Ctrl-C stops)",
        description="Start a private dbus-daemon and a faithful fake org.bluez on it, add virtual accessories, print "
                    "the export line for other shells, and run until Ctrl-C. Never touches the system bus.")
    fake.add_argument("--model", action="append", metavar="ID",
                      help="catalog model to add (repeatable; default airpods-pro-2)")
    fake.add_argument("--name", action="append", metavar="NAME", help="device name, per --model in order")
    fake.add_argument("--connected", action="store_true", help="devices start connected")
    fake.add_argument("--demo", action="store_true",
                      help="script a demo: connect, battery, switch to HFP and back, rename, disconnect (loops)")
    fake.add_argument("--step", type=float, default=2.0, metavar="SECONDS", help="seconds between demo steps")
    fake.add_argument("--watch", action="store_true", help="also print the events a backend sees on the fake bus")
    fake.add_argument("--pipewire", action="store_true",
                      help="also run the real audio stack (PipeWire, WirePlumber, pipewire-pulse) on the fake, with "
                           "directories of its own; prints the PULSE_SERVER line for pactl in other shells")
    fake.set_defaults(func=cmd_fake_bluez)
    ctl_sub = fake.add_subparsers(dest="fake_action", metavar="ctl")
    ctl = ctl_sub.add_parser(
        "ctl", help="drive a running fake-bluez from another shell (the D-Bus interface io.routesim.FakeBluez1)",
        description="Drive the fake-bluez running on $DBUS_SYSTEM_BUS_ADDRESS (or --bus): add and remove devices, "
                    "connect, disconnect, rename, ears, battery, lid, a profile switch made by the audio server, "
                    "restart bluetoothd on the same bus. busctl works too: busctl --address=$DBUS_SYSTEM_BUS_ADDRESS "
                    "call io.routesim.FakeBluez /io/routesim/FakeBluez io.routesim.FakeBluez1 Connect s AA:BB:CC:DD:EE:01",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="actions:\n"
               "  list                                   devices, one per line\n"
               "  add MODEL [ADDRESS] [NAME]             a catalog model (address: next free AA:BB:CC:DD:EE:NN)\n"
               "  remove ADDRESS\n"
               "  connect ADDRESS | disconnect ADDRESS\n"
               "  rename ADDRESS NAME                    the accessory's own name (\"\" forgets it)\n"
               "  ears ADDRESS in|out in|out             left, right (proximity adverts)\n"
               "  battery ADDRESS LEFT [RIGHT [CASE]]    percent; -1 = unknown\n"
               "  lid ADDRESS open|closed\n"
               "  profile ADDRESS a2dp|hfp               as if the audio server switched the card itself\n"
               "  restart [SECONDS] [--keep-connections] bluetoothd goes away for SECONDS and comes back\n")
    ctl.add_argument("action", choices=("list", "add", "remove", "connect", "disconnect", "rename", "ears", "battery",
                                        "lid", "profile", "restart"))
    ctl.add_argument("args", nargs="*")
    ctl.add_argument("--keep-connections", action="store_true", help="restart: the links stay up")
    ctl.add_argument("--bus", metavar="ADDRESS", help="the fake's bus (default: $DBUS_SYSTEM_BUS_ADDRESS)")
    ctl.set_defaults(func=cmd_fake_ctl)


# ----------------------------------------------------------------------------------------------------
def _fail(message: str) -> int:
    print(f"routesim: {message}", file=sys.stderr)
    return 1


def _run(coro: Any) -> int:
    """Run until done or SIGINT/SIGTERM (which end it within a second, clean-up included)."""
    from routesim.routes.cli.unattended import run

    return run(coro)


# ---------------------------------------------------------------------------------------------- devices
def _firmware(args: argparse.Namespace) -> dict[str, str]:
    from routesim.profiles.catalog import default_catalog
    from routesim.routes.live.firmware import parse_firmware_args

    return parse_firmware_args(getattr(args, "firmware", None), default_catalog())


def cmd_devices(args: argparse.Namespace) -> int:
    from routesim.routes.live.firmware import FirmwareArgError

    try:
        args.firmware_map = _firmware(args)
    except FirmwareArgError as exc:
        print(f"routesim devices: {exc}", file=sys.stderr)
        return 2
    return _run(_devices(args))


async def _devices(args: argparse.Namespace) -> int:
    from routesim.bt.bluez import BluezBackend, BluezError

    backend = BluezBackend(args.bus, reconnect=False, clock=WallClock())
    try:
        await backend.start(require_adapter=True)
    except BluezError as exc:
        return _fail(str(exc))
    try:
        for a in backend.adapters():
            state = "powered" if a.powered else "powered off"
            print(f"adapter {a.path}  {a.address or '?'}  {a.name or ''}  {state}{'  discovering' if a.discovering else ''}")
        shown = 0
        for d in backend.devices():
            if not d.profiles and not args.all:
                continue
            shown += 1
            state = "connected" if d.connected else ("paired" if d.paired else "seen")
            print(f"  {d.address}  {d.name!r}")
            print(f"      model {d.model_id}  ({d.modalias or 'no modalias'}"
                  f"{', fw ' + d.firmware if d.firmware else ''})  profiles {','.join(d.profiles) or '-'}  {state}")
            extra = []
            if d.battery is not None:
                extra.append(f"battery {d.battery}%")
            if d.transport:
                extra.append(f"a2dp transport {d.transport}")
            if d.card_profile:
                extra.append(f"card {d.card_profile}")
            if d.remote_name and d.remote_name != d.name:
                extra.append(f"own name {d.remote_name!r}")
            if extra:
                print("      " + "  ".join(extra))
            note = _quirk_note(d, getattr(args, "firmware_map", {}))
            if note:
                print("      " + note)
        if not shown:
            print("  (no audio devices known to BlueZ; --all lists every device)")
    finally:
        await backend.stop()
    return 0


def _quirk_note(d: Any, stated: dict[str, str]) -> str | None:
    """What firmware the quirks were matched against, when that is not plain (routes.live.firmware)."""
    from routesim.profiles.catalog import default_catalog
    from routesim.profiles.platform import Platform
    from routesim.routes.live.firmware import live_quirks

    catalog = default_catalog()
    if d.model_id not in catalog:
        return None
    model = catalog.get(d.model_id)
    if model.product_id is None:
        return None
    if d.model_id in stated:
        return f"firmware {stated[d.model_id]} (from --firmware) for firmware-scoped quirks"
    _, note = live_quirks(catalog, model, Platform.parse("ios-26.0"), d.firmware, stated)
    return note


# ------------------------------------------------------------------------------------------------ watch
def _session_hook(args: argparse.Namespace, out: Callable[[str], None] = print) -> SessionFeed:
    from routesim.routes.phone.vocabulary import CATEGORIES, MODES, OPTIONS

    category = CATEGORIES.resolve(args.category)
    mode = MODES.resolve(args.mode)
    raw = args.options if isinstance(args.options, list) else [args.options]
    options = tuple(OPTIONS.resolve(o) for o in filter(None, (p.strip() for a in raw for p in a.split(","))))
    try:
        return SessionFeed(category, mode, options, getattr(args, "platform", "ios-26.0"), out=out,
                           call_at=getattr(args, "call_at", None), call_length=getattr(args, "call_length", 10.0),
                           firmware=getattr(args, "firmware_map", None))
    except Exception as exc:  # SessionError for an invalid combination: say it like the app would see it
        raise ValueError(f"setCategory({category}, mode: {mode}, options: {list(options)}) fails: {exc}") from exc


def cmd_watch(args: argparse.Namespace, on_event: Callable[[AccessoryEvent], None] | None = None) -> int:
    from routesim.routes.live.firmware import FirmwareArgError

    try:
        args.firmware_map = _firmware(args)
    except FirmwareArgError as exc:
        print(f"routesim watch: {exc}", file=sys.stderr)
        return 2

    from routesim.routes.cli.unattended import LinePrinter, configure_logging, line_buffered

    line_buffered()
    configure_logging(args.verbose)
    if getattr(args, "active_scan", False) and not getattr(args, "adverts", False):
        return _fail("--active-scan goes with --adverts (it starts LE discovery to hear adverts)")
    printer = LinePrinter(getattr(args, "format", "text"))
    try:
        hook = on_event or _session_hook(args, printer)
    except ValueError as exc:
        return _fail(str(exc))
    return _run(watch(args.bus, apply=args.apply, on_event=hook, out=printer,
                      adverts=getattr(args, "adverts", False), active_scan=getattr(args, "active_scan", False),
                      header=f"session: category {args.category}, mode {args.mode}, options {' '.join(args.options) or '-'}"))


# ------------------------------------------------------------------------------------------- fake-bluez
def cmd_fake_bluez(args: argparse.Namespace) -> int:
    from routesim.routes.cli.unattended import configure_logging, line_buffered

    line_buffered()
    configure_logging(False)
    return _run(fake_bluez(args))


def cmd_fake_ctl(args: argparse.Namespace) -> int:
    import os

    from routesim.bt.fake_bluez import is_private_bus
    from routesim.bt.fake_bluez.control import call

    address = args.bus or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    if not is_private_bus(address):
        return _fail(f"fake-bluez ctl: {address or 'no bus'} is not a bus routesim fake-bluez made; export "
                     "DBUS_SYSTEM_BUS_ADDRESS as fake-bluez printed it (or pass --bus)")
    try:
        member, values = _ctl_call(args.action, args.args, args.keep_connections)
    except ValueError as exc:
        return _fail(f"fake-bluez ctl {args.action}: {exc}")
    try:
        result = asyncio.run(call(address, member, *values))
    except (RuntimeError, OSError, asyncio.TimeoutError) as exc:
        return _fail(f"fake-bluez ctl {args.action}: {exc or type(exc).__name__}")
    if result:
        print(result)
    return 0


def _ctl_call(action: str, args: list[str], keep: bool) -> tuple[str, list[Any]]:
    """``ctl ACTION ARGS`` as a control method and its typed arguments; ValueError says what is wrong."""
    def need(lo: int, hi: int, usage: str) -> None:
        if not lo <= len(args) <= hi:
            raise ValueError(f"usage: ctl {action} {usage}")

    def level(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"battery level {text!r} is not a whole number (0-100, -1 = unknown)") from None

    simple = {"connect": "Connect", "disconnect": "Disconnect", "remove": "Remove"}
    if action == "list":
        need(0, 0, "")
        return "List", []
    if action in simple:
        need(1, 1, "ADDRESS")
        return simple[action], [args[0]]
    if action == "add":
        need(1, 3, "MODEL [ADDRESS] [NAME]")
        return "Add", [args[0], args[1] if len(args) > 1 else "", args[2] if len(args) > 2 else ""]
    if action == "rename":
        need(2, 2, "ADDRESS NAME")
        return "Rename", args
    if action == "ears":
        need(3, 3, "ADDRESS in|out in|out")
        return "Ears", args
    if action == "battery":
        need(2, 4, "ADDRESS LEFT [RIGHT [CASE]]")
        levels = [level(a) for a in args[1:]] + [-1] * (4 - len(args))
        if len(args) == 2:
            levels[1] = levels[0]  # one level: both buds
        return "Battery", [args[0], *levels]
    if action == "lid":
        need(2, 2, "ADDRESS open|closed")
        if args[1] not in ("open", "closed"):
            raise ValueError(f"lid {args[1]!r}: use open or closed")
        return "Lid", [args[0], args[1] == "open"]
    if action == "profile":
        need(2, 2, "ADDRESS a2dp|hfp")
        return "Profile", args
    if action == "restart":
        need(0, 1, "[SECONDS] [--keep-connections]")
        try:
            seconds = float(args[0]) if args else 0.0
        except ValueError:
            raise ValueError(f"{args[0]!r} is not a number of seconds") from None
        return "Restart", [seconds, keep]
    raise ValueError(f"unknown action {action!r}")


async def fake_bluez(args: argparse.Namespace) -> int:
    import os

    from routesim.bt.fake_bluez import FakeBluez, PrivateBus, PrivateBusError
    from routesim.bt.fake_bluez.control import FakeControl
    from routesim.profiles.catalog import default_catalog

    catalog = default_catalog()
    models = args.model or ["airpods-pro-2"]
    names = args.name or []
    try:
        chosen = [catalog.get(m) for m in models]
    except Exception as exc:
        return _fail(str(exc))
    bus = PrivateBus(watchdog=True)  # its dbus-daemon and directory go with us, even on kill -9
    try:
        address = bus.start()
    except (PrivateBusError, OSError) as exc:
        return _fail(str(exc))
    fake = FakeBluez(address, clock=WallClock())
    control = FakeControl(fake, catalog)
    watcher: asyncio.Task[Any] | None = None
    stack: Any = None
    try:
        await fake.start()
        await control.start()
        if getattr(args, "pipewire", False):
            stack = await _start_audio_stack(fake, address)
            if stack is None:
                return 1
        addresses = []
        for n, model in enumerate(chosen):
            addr = f"AA:BB:CC:DD:EE:{n + 1:02X}"
            name = names[n] if n < len(names) else f"Kim\u2019s {model.name}"
            control.add(model.id, addr, name, connected=args.connected)
            addresses.append((addr, name, model.id))
        print(f"export DBUS_SYSTEM_BUS_ADDRESS={address}", flush=True)
        if stack is not None:
            print(f"export PULSE_SERVER={stack.env['PULSE_SERVER']} PIPEWIRE_RUNTIME_DIR={stack.env['PIPEWIRE_RUNTIME_DIR']}",
                  flush=True)
        for addr, name, mid in addresses:
            print(f"# {addr}  {name!r}  ({mid})", flush=True)
        print(f"# pid {os.getpid()}; in another shell, set that variable and run routesim devices / routesim watch; "
              "routesim fake-bluez ctl drives the fake; Ctrl-C stops", flush=True)
        if args.watch:
            watcher = asyncio.ensure_future(watch(address, out=lambda s: print("  " + s, flush=True)))
        if args.demo:
            await _demo(fake, [a for a, _, _ in addresses], args.step, stack)
        else:
            await asyncio.Event().wait()
    finally:
        cleaning_up()
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        if stack is not None:
            await asyncio.to_thread(stack.stop)
        await control.stop()
        await fake.stop()
        bus.close()
    return 0


async def _start_audio_stack(fake: Any, address: str) -> Any:
    """PipeWire, WirePlumber and pipewire-pulse on the fake's bus, registered with it; None after saying
    why not."""
    from routesim.bt.fake_bluez.audio_stack import AudioStack, AudioStackError

    stack = AudioStack(address)
    try:
        await asyncio.to_thread(stack.start)  # the fake answers WirePlumber meanwhile
        await fake.wait_audio(lambda: fake.audio_server, 15)
    except (AudioStackError, asyncio.TimeoutError) as exc:
        await asyncio.to_thread(stack.stop)
        _fail(str(exc) or "the audio server did not register with the fake bluetoothd within 15 s")
        return None
    return stack


async def _demo(fake: Any, addresses: list[str], step: float, stack: Any = None) -> None:
    """Loop: connect, battery drop, HFP (a call), back to A2DP, rename from the phone, disconnect. With the
    real audio stack (``stack``) the profile switches are its card's, made with pactl."""
    from routesim.clock import WallClock

    clock = WallClock()
    level = 80
    while True:
        for addr in addresses:
            dev = fake.device(addr)
            steps: list[tuple[str, Callable[[], None]]] = [
                ("connect", lambda: fake.connect(addr)),
                ("battery", lambda: fake.set_battery(addr, max(10, level - 10))),
            ]
            if dev.accessory.has_hfp and dev.accessory.has_a2dp and stack is not None:
                card = "bluez_card." + addr.replace(":", "_")
                steps += [("switch to HFP", lambda: _pactl_soon(stack, "set-card-profile", card, "headset-head-unit")),
                          ("back to A2DP", lambda: _pactl_soon(stack, "set-card-profile", card, "a2dp-sink"))]
            elif dev.accessory.has_hfp and dev.accessory.has_a2dp:
                steps += [("switch to HFP", lambda: fake.switch_profile(addr, "hfp")),
                          ("back to A2DP", lambda: fake.switch_profile(addr, "a2dp"))]
            steps += [("remote rename", lambda: fake.rename_remote(addr, (dev.name or "Device") + " (renamed)")),
                      ("rename back", lambda: fake.rename_remote(addr, dev.accessory.name)),
                      ("disconnect", lambda: fake.disconnect(addr))]
            for label, action in steps:
                await clock.sleep(step)
                print(f"# demo: {label} {addr}", flush=True)
                action()
        level = max(10, level - 10)


def _pactl_soon(stack: Any, *args: str) -> None:
    """Run pactl without blocking the fake (PipeWire calls it while pactl waits); failures are printed."""
    async def run() -> None:
        try:
            await stack.apactl(*args)
        except Exception as exc:
            print(f"# demo: {exc}", flush=True)

    task = asyncio.ensure_future(run())
    _pending.add(task)  # keep a reference until it is done
    task.add_done_callback(_pending.discard)


_pending: set[asyncio.Task[None]] = set()
