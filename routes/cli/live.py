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
                       help="also scan Apple proximity adverts (bleak) for battery and in-ear state of the "
                            "connected AirPods/Beats: both buds out moves the route, as on a phone")
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


# ----------------------------------------------------------------------------------------------------
def _fail(message: str) -> int:
    print(f"routesim: {message}", file=sys.stderr)
    return 1


def _run(coro: Any) -> int:
    """Run until done or Ctrl-C (SIGINT/SIGTERM end the main task cleanly)."""

    async def main() -> int:
        task = asyncio.ensure_future(coro)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # add_signal_handler is missing on some event loops (Windows) and outside the main thread;
            # Ctrl-C then arrives as KeyboardInterrupt instead, which _run handles too.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, task.cancel)
        try:
            return await task
        except asyncio.CancelledError:
            return 0

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 130


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
def _session_hook(args: argparse.Namespace) -> SessionFeed:
    from routesim.routes.phone.vocabulary import CATEGORIES, MODES, OPTIONS

    category = CATEGORIES.resolve(args.category)
    mode = MODES.resolve(args.mode)
    raw = args.options if isinstance(args.options, list) else [args.options]
    options = tuple(OPTIONS.resolve(o) for o in filter(None, (p.strip() for a in raw for p in a.split(","))))
    try:
        return SessionFeed(category, mode, options, getattr(args, "platform", "ios-26.0"),
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
    try:
        hook = on_event or _session_hook(args)
    except ValueError as exc:
        return _fail(str(exc))
    return _run(watch(args.bus, apply=args.apply, on_event=hook, verbose=args.verbose,
                      adverts=getattr(args, "adverts", False),
                      header=f"session: category {args.category}, mode {args.mode}, options {' '.join(args.options) or '-'}"))


# ------------------------------------------------------------------------------------------- fake-bluez
def cmd_fake_bluez(args: argparse.Namespace) -> int:
    return _run(fake_bluez(args))


async def fake_bluez(args: argparse.Namespace) -> int:
    from routesim.bt.fake_bluez import APPLE, FakeBluez, PrivateBus, PrivateBusError, accessory_from_model, proximity_pairing
    from routesim.profiles.catalog import default_catalog

    catalog = default_catalog()
    models = args.model or ["airpods-pro-2"]
    names = args.name or []
    try:
        chosen = [catalog.get(m) for m in models]
    except Exception as exc:
        return _fail(str(exc))
    bus = PrivateBus()
    try:
        address = bus.start()
    except (PrivateBusError, OSError) as exc:
        return _fail(str(exc))
    fake = FakeBluez(address, clock=WallClock())
    watcher: asyncio.Task[Any] | None = None
    stack: Any = None
    try:
        await fake.start()
        if getattr(args, "pipewire", False):
            stack = await _start_audio_stack(fake, address)
            if stack is None:
                return 1
        addresses = []
        for n, model in enumerate(chosen):
            addr = f"AA:BB:CC:DD:EE:{n + 1:02X}"
            name = names[n] if n < len(names) else f"Kim\u2019s {model.name}"
            fake.add_device(accessory_from_model(model, addr, name=name, battery=80), connected=args.connected)
            if model.product_id is not None and model.vendor_id == APPLE:
                fake.add_advert(f"5E:00:00:00:00:{n + 1:02X}", {APPLE: proximity_pairing(model.product_id, left=80, right=80, case=60)})
            addresses.append((addr, name, model.id))
        print(f"export DBUS_SYSTEM_BUS_ADDRESS={address}", flush=True)
        if stack is not None:
            print(f"export PULSE_SERVER={stack.env['PULSE_SERVER']} PIPEWIRE_RUNTIME_DIR={stack.env['PIPEWIRE_RUNTIME_DIR']}",
                  flush=True)
        for addr, name, mid in addresses:
            print(f"# {addr}  {name!r}  ({mid})", flush=True)
        print("# in another shell, set that variable and run routesim devices / routesim watch; Ctrl-C stops", flush=True)
        if args.watch:
            watcher = asyncio.ensure_future(watch(address, out=lambda s: print("  " + s, flush=True)))
        if args.demo:
            await _demo(fake, [a for a, _, _ in addresses], args.step, stack)
        else:
            await asyncio.Event().wait()
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        if stack is not None:
            await asyncio.to_thread(stack.stop)
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
