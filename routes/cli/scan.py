"""``routesim scan``: print every Apple proximity advert heard, decoded, whatever the device is called.

Read-only: it listens passively (BlueZ's AdvertisementMonitorManager1); ``--active-scan`` starts LE
discovery instead, which changes the adapter's state, and stops it at exit (also on SIGINT/SIGTERM).
The model comes from the advert's product id through the catalog, never from a name.
"""
from __future__ import annotations

import argparse
from typing import Any, Callable


def add_command(sub: Any) -> None:
    p = sub.add_parser(
        "scan",
        help="print Apple proximity adverts (AirPods, Beats) as they arrive: model, battery, in-ear, lid (read-only)",
        description="Listen for Apple proximity-pairing adverts (manufacturer data 0x004C, type 0x07) through\n"
                    "BlueZ and print one line per advert: address (a rotating random one), RSSI, the model\n"
                    "resolved from the advert's product id, battery left/right/case in 10 % steps ('+' charging,\n"
                    "'--' unknown), in-ear, and the lid when a pod in the case broadcasts. Reads the bus named\n"
                    "by DBUS_SYSTEM_BUS_ADDRESS (default: the system bus). Read-only: it listens passively through\n"
                    "BlueZ's AdvertisementMonitorManager1 unless --active-scan. Ctrl-C stops.",
        epilog="example:\n  routesim scan --seconds 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds (default: until Ctrl-C)")
    p.add_argument("--bus", metavar="ADDRESS",
                   help="D-Bus address (default: $DBUS_SYSTEM_BUS_ADDRESS or the system bus)")
    p.add_argument("--every", action="store_true",
                   help="print every report bleak delivers (default: a line when an address's payload changes)")
    p.add_argument("--active-scan", action="store_true",
                   help="start LE discovery (SetDiscoveryFilter/StartDiscovery) instead of listening passively; "
                        "it changes the adapter's state while it runs and is stopped at exit, also on a signal")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from routesim.routes.cli.live import _run
    from routesim.routes.cli.unattended import LinePrinter, configure_logging, line_buffered

    if args.seconds is not None and args.seconds <= 0:
        return _fail("--seconds must be a positive number")
    line_buffered()
    configure_logging(False)
    return _run(scan(args.bus, seconds=args.seconds, every=args.every, out=LinePrinter(),
                     active=args.active_scan))


def _fail(message: str) -> int:
    import sys

    print(f"routesim scan: {message}", file=sys.stderr)
    return 1


def _pct(value: int | None, charging: bool = False) -> str:
    return ("--" if value is None else f"{value}%") + ("+" if charging else "")


def format_sighting(s: Any) -> str:
    """One line: ``ADDRESS  rssi N  0xPID model "product"  battery L.. R.. case..  in-ear L.. R..  lid ..``
    (``+`` after a level: charging; ``--``: unknown)."""
    head = f"{s.address}  rssi {'?' if s.rssi is None else s.rssi:>4}"
    if s.status is None:
        return f"{head}  unreadable proximity advert: {s.error}  ({s.data.hex()})"
    st = s.status
    model = f"{st.model.id} \"{getattr(st.model, 'product', '') or st.model.name}\"" if st.model else "unknown model"
    if not st.genuine:
        model = "clone (not genuine; claims this product id)"
    ears = st.ears()
    if ears is None and st.model is None:
        ears_text = f"L {'in' if st.left_in_ear else 'out'}? R {'in' if st.right_in_ear else 'out'}?"
    elif ears is None:
        ears_text = "n/a"
    else:
        ears_text = f"L {ears[0]} R {ears[1]}"
    lid = "--" if st.lid_open is None else ("open" if st.lid_open else "closed")
    in_case = {0: "", 1: "  one pod in case", 2: "  both pods in case"}[st.pods_in_case]
    state = st.connection_state_name or f"0x{st.connection_state:02X}"
    if st.single_unit:
        worn = "" if st.worn is None else f"  worn {'yes' if st.worn else 'no'}"
        return (f"{head}  0x{st.product_id:04X} {model}  battery {_pct(st.single, st.single_charging)}{worn}  "
                f"{state}")
    return (f"{head}  0x{st.product_id:04X} {model}  battery L {_pct(st.left, st.left_charging)} "
            f"R {_pct(st.right, st.right_charging)} case {_pct(st.case, st.case_charging)}  in-ear {ears_text}  "
            f"lid {lid}{in_case}  {state}")


async def scan(
    bus: str | None = None,
    *,
    seconds: float | None = None,
    every: bool = False,
    out: Callable[[str], None] = print,
    ready: Any = None,
    clock: Any = None,
    active: bool = False,
) -> int:
    """Print sightings until ``seconds`` pass or the task is cancelled (Ctrl-C). ``ready`` (a future) is
    set once the scanner runs."""
    from routesim.bt.adverts import AdvertSource
    from routesim.bt.bluez import BluezError

    from routesim.clock import WallClock

    clock = clock or WallClock()
    last: dict[str, bytes] = {}

    def show(sighting: Any) -> None:
        if not every and last.get(sighting.address) == sighting.data:
            return
        last[sighting.address] = sighting.data
        out(format_sighting(sighting))

    from routesim.routes.live.lifecycle import cleaning_up

    source = AdvertSource(bus, clock=clock, on_advert=show, active=active)
    try:
        await source.start()
    except BluezError as exc:
        return _fail(str(exc))
    try:
        out(f"scanning {source.bus_address} for Apple proximity adverts ({source.how()}"
            f"{f', {seconds:g} s' if seconds else '; Ctrl-C stops'})")
        if ready is not None and not ready.done():
            ready.set_result(source)
        if seconds is None:
            import asyncio

            await asyncio.Event().wait()
        else:
            await clock.sleep(seconds)
    finally:
        cleaning_up()
        await source.stop()
    return 0
