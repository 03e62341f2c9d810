"""Apple proximity adverts as accessory events: an asyncio source on bleak's ``BleakScanner``.

Every advert bleak reports (its detection callback) whose Apple manufacturer data hold a
proximity-pairing record is decoded (:mod:`.decode`) and, once paired to a device key, turned into
:class:`bt.events.BatteryChanged` and :class:`bt.events.EarsChanged`, each only when its values change.

**Pairing an advert to a device is by model [INF].** AirPods advertise from random, rotating addresses
that are not the BR/EDR identity address BlueZ keys the connected device on (bleak reports the advert's
own address; capod ``RPAChecker.kt``); resolving them needs the IRK, fetched over AAP (capod, librepods),
which routesim does not do. So an
advert of model M goes to:

1. the key the user named for M (``hints={"airpods-pro-2": "AA:BB:…"}``), else
2. the one accessory of model M that ``accessories()`` lists (e.g. ``BluezBackend.announced``), else
3. nobody: with no accessory of that model, or two of them, the advert is dropped (logged once).

Consequences, all [INF]: someone else's AirPods of the same model nearby can be taken for ours. Two
things limit that: ``min_rssi`` drops faint adverts, and a key stays with the advertising address it
last heard for ``address_hold`` seconds (30 s, the time BlueZ keeps a temporary device), so a
neighbour's adverts do not alternate with ours while ours are heard; an address rotation is accepted
once the old address has been silent that long.

Lid and connection state are not turned into events [INF]: whether the device is connected is BlueZ's
to say (``bt.bluez``); an advert-driven ``CaseChanged`` would connect or disconnect the phone model
behind BlueZ's back. ``routesim scan`` shows them.

**Read-only by default.** Listening uses passive monitoring: bleak registers an
``AdvertisementMonitor1`` with an or-pattern for Apple proximity-pairing data through BlueZ's
``AdvertisementMonitorManager1`` (BlueZ 5.56+ with ``--experimental``), which leaves the adapter's
discovery state alone. Starting LE discovery (``SetDiscoveryFilter``/``StartDiscovery``) changes the
adapter's state for everyone, so it happens only with ``active=True`` (``--active-scan``); discovery
started here is always stopped in :meth:`stop`.

bleak reads the bus address only from ``DBUS_SYSTEM_BUS_ADDRESS``, once per event loop (bleak, dbus-fast): passing
``bus_address`` sets that variable for this process before the scanner's first use.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from bleak import BleakScanner
from bleak.args.bluez import OrPattern
from bleak.assigned_numbers import AdvertisementDataType
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError
from dbus_fast import DBusError

from routesim.profiles.continuity import APPLE, ContinuityError

from routesim.bt.bluez.errors import BluezError, NoAdapter, NoPermission, one_line
from routesim.bt.event_stream import EventStream
from routesim.events import AccessoryEvent, AccessoryInfo, BatteryChanged, EarsChanged, WornChanged
from routesim.bt.adverts.bleak_errors import CondenseBleakErrors
from routesim.bt.adverts.decode import ProximityStatus, decode_proximity

log = logging.getLogger("routesim.bt.adverts")

DEFAULT_SYSTEM_BUS = "unix:path=/var/run/dbus/system_bus_socket"
# Apple's company id (little endian), then the proximity-pairing type (0x07) and length (0x19)
PROXIMITY_PATTERN = b"\x4c\x00\x07\x19"


@dataclass(frozen=True, slots=True)
class Sighting:
    """One Apple advert as bleak reported it: decoded (``status``), or why it could not be (``error``)."""

    address: str
    rssi: int | None  # None: BlueZ sent a value that is not a whole number (logged once per address)
    status: ProximityStatus | None
    error: str | None
    data: bytes  # manufacturer_data[76]


class AdvertSource(EventStream):
    """Accessory events from Apple proximity adverts; usable like the BlueZ backend::

        async with AdvertSource(clock=WallClock(), accessories=backend.announced) as adverts:
            await manager.run(backend.events(), adverts.events())

    ``hints``: model id -> device key, the user's word for which device a model's adverts belong to.
    ``accessories``: returns the connected accessories by key (their ``model_id`` pairs adverts).
    ``on_advert``: called with every Apple proximity :class:`Sighting` (also malformed ones), before pairing.
    ``on_event``: called with every event, in order (in addition to :meth:`events`).
    ``preflight``: check bus, bluetoothd and adapter first through :mod:`bt.bluez`, for its one-line errors.
    """

    def __init__(
        self,
        bus_address: str | None = None,
        *,
        clock: Any,
        catalog: Any = None,
        hints: Mapping[str, str] | None = None,
        accessories: Callable[[], Mapping[str, AccessoryInfo]] | None = None,
        on_advert: Callable[[Sighting], None] | None = None,
        on_event: Callable[[AccessoryEvent], None] | None = None,
        min_rssi: int | None = None,
        address_hold: float = 30.0,
        adapter: str | None = None,
        preflight: bool = True,
        active: bool = False,
    ):
        if catalog is None:
            from routesim.profiles.catalog import default_catalog

            catalog = default_catalog()
        self.bus_address = bus_address or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or DEFAULT_SYSTEM_BUS
        self._set_env = bus_address is not None
        self.clock = clock
        self.catalog = catalog
        self.hints = dict(hints or {})
        self.accessories = accessories
        self.on_advert = on_advert
        self.min_rssi = min_rssi
        self.address_hold = address_hold
        self.adapter = adapter
        self.preflight = preflight
        self.active = active
        EventStream.__init__(self, on_event)
        self._scanner: BleakScanner | None = None
        self._battery: dict[str, tuple[int | None, int | None, int | None]] = {}
        self._ears: dict[str, tuple[str, str]] = {}
        self._worn: dict[str, bool] = {}
        self._owner: dict[str, tuple[str, float]] = {}  # key -> (advertising address, last heard)
        self._unpaired: set[tuple[str, str]] = set()  # (model id, why) already logged
        self._mistyped: set[tuple[str, str]] = set()  # (address, property) already logged
        self._condense: CondenseBleakErrors | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> "AdvertSource":
        """Start scanning. Raises :class:`bt.bluez.BluezError` subclasses with one-line messages (no bus, no
        permission, no bluetoothd, no adapter, adapter powered off)."""
        if self._set_env:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        if self.preflight:
            await self._preflight()
        bluez: dict[str, Any] = {"adapter": self.adapter} if self.adapter else {}
        if not self.active:
            bluez["or_patterns"] = [OrPattern(0, AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA, PROXIMITY_PATTERN)]
        scanner = BleakScanner(detection_callback=self._on_advert, scanning_mode="active" if self.active else "passive",
                               bluez=bluez)
        if self._condense is None:
            self._condense = CondenseBleakErrors(log).install()
        started = False
        try:
            await scanner.start()
            started = True
        except asyncio.CancelledError:
            # stopped (a signal) while starting: discovery may be on already, so stop it before going
            try:
                await asyncio.wait_for(asyncio.shield(scanner.stop()), 0.5)
            except BaseException as exc:  # noqa: BLE001 - whatever it was, we are leaving
                log.info("stopping a half-started scanner: %r", exc)
            raise
        except BleakBluetoothNotAvailableError as exc:
            raise _not_available(exc) from None
        except DBusError as exc:
            raise BluezError(f"BlueZ refused to scan: {one_line(exc)}") from None
        except BleakError as exc:
            if not self.active and "passive scanning" in str(exc):
                raise BluezError(
                    "passive monitoring is not available: BlueZ offers no AdvertisementMonitorManager1 (it needs "
                    "BlueZ 5.56+ run with --experimental, and Linux 5.10+); --active-scan starts LE discovery "
                    "instead, which changes the adapter's state while it runs") from None
            raise BluezError(f"cannot scan: {exc}") from None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # bleak indexes BlueZ's values directly
            raise BluezError(f"bleak could not read BlueZ's adapter: {type(exc).__name__}: {exc}") from None
        finally:
            if not started:  # the filter lives exactly as long as a running scanner
                self._uncondense()
        self._scanner = scanner
        return self

    def how(self) -> str:
        return ("active LE discovery, stopped when this ends" if self.active
                else "read-only: passive monitoring, the adapter's discovery untouched")

    async def stop(self) -> None:
        scanner, self._scanner = self._scanner, None
        if scanner is not None:
            try:
                await scanner.stop()
            except (BleakError, DBusError, OSError, asyncio.TimeoutError) as exc:  # the bus may be gone already
                log.info("stopping the scanner: %s", exc)
        self._uncondense()
        self._end_stream()

    def _uncondense(self) -> None:
        condense, self._condense = self._condense, None
        if condense is not None:
            condense.remove()

    async def __aenter__(self) -> "AdvertSource":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _preflight(self) -> None:
        from routesim.bt.bluez import BluezBackend

        backend = BluezBackend(self.bus_address, catalog=self.catalog, clock=self.clock, reconnect=False, pactl=None)
        await backend.start(require_bluetoothd=True, require_adapter=True)
        await backend.stop()

    # -- events ----------------------------------------------------------------------------------------


    # -- adverts ---------------------------------------------------------------------------------------
    def _on_advert(self, device: Any, adv: Any) -> None:
        """bleak's detection callback: runs inside bleak's D-Bus message handler, so it never raises."""
        address = str(getattr(device, "address", "?"))
        try:
            rssi, data = adv.rssi, adv.manufacturer_data.get(APPLE)
            if isinstance(rssi, bool) or not isinstance(rssi, int):  # bleak passes BlueZ's RSSI on unchecked
                self._note_mistyped(address, "RSSI", f"{type(rssi).__name__} {rssi!r:.40}, not a whole number")
                rssi = None
            if data is not None and not isinstance(data, (bytes, bytearray, memoryview)):
                self._note_mistyped(address, "ManufacturerData[0x004C]", f"{type(data).__name__}, not bytes")
                return
            self.handle(address, rssi, data)
        except Exception as exc:  # untrusted input must not take the scanner down; one line, once per address
            self._note_mistyped(address, "advert", f"could not be handled: {type(exc).__name__}: {exc}")

    def _note_mistyped(self, address: str, what: str, why: str) -> None:
        if (address, what) not in self._mistyped and len(self._mistyped) < 4096:
            self._mistyped.add((address, what))
            log.warning("advert from %s: %s is %s; ignored", address, what, " ".join(why.split())[:200])

    def handle(self, address: str, rssi: int | None, data: bytes | None) -> None:
        """One advert: decode, report the sighting, pair, emit what changed. ``rssi`` None: unknown."""
        if data is None:
            return  # not Apple
        data = bytes(data)
        try:
            status = decode_proximity(data, self.catalog)
        except ContinuityError as exc:
            log.debug("advert from %s: %s", address, exc)
            self._sighting(Sighting(address, rssi, None, str(exc), data))
            return
        if status is None:
            return  # another Continuity message (Nearby Info, Find My …)
        self._sighting(Sighting(address, rssi, status, None, data))
        if self.min_rssi is not None and (rssi is None or rssi < self.min_rssi):
            return
        key = self._pair(status, address)
        if key is None:
            return
        battery = status.batteries()
        if any(v is not None for v in battery) and self._battery.get(key) != battery:
            self._battery[key] = battery
            self._emit(BatteryChanged(key, *battery))
        ears = status.ears()
        if ears is not None and self._ears.get(key) != ears:
            self._ears[key] = ears
            self._emit(EarsChanged(key, *ears))
        worn = status.worn
        if worn is not None and self._worn.get(key) != worn:
            self._worn[key] = worn
            self._emit(WornChanged(key, worn))

    def _sighting(self, sighting: Sighting) -> None:
        if self.on_advert is not None:
            self.on_advert(sighting)

    def _pair(self, status: ProximityStatus, address: str) -> str | None:
        model_id = status.model_id
        if model_id is None:
            return None
        key = self.hints.get(model_id)
        if key is None and self.accessories is not None:
            keys = [k for k, info in self.accessories().items() if info.model_id == model_id]
            if len(keys) == 1:
                key = keys[0]
            else:
                self._note_unpaired(model_id, "two or more connected devices of this model; name one with a hint"
                                    if keys else "no connected device of this model")
                return None
        if key is None:
            self._note_unpaired(model_id, "no connected device of this model")
            return None
        now = self.clock.now()
        owner = self._owner.get(key)
        if owner is not None and owner[0] != address and now - owner[1] < self.address_hold:
            return None  # another device of the same model while ours is still heard
        self._owner[key] = (address, now)
        return key

    def _note_unpaired(self, model_id: str, why: str) -> None:
        if (model_id, why) not in self._unpaired:
            self._unpaired.add((model_id, why))
            log.info("adverts of %s go to no device: %s", model_id, why)



def _not_available(exc: BleakBluetoothNotAvailableError) -> BluezError:
    reason = exc.reason
    if reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
        return NoAdapter("the Bluetooth adapter is powered off (bluetoothctl power on)")
    if reason is BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
        return NoAdapter("no Bluetooth adapter can scan for LE adverts (none has the central role)")
    if reason in (BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM, BleakBluetoothNotAvailableReason.DENIED_BY_USER):
        return NoPermission(f"Bluetooth access denied: {exc.args[0]}")
    return NoAdapter("no Bluetooth adapter: BlueZ lists no org.bluez.Adapter1 (is the controller present and not "
                     "rfkill-blocked?)")


__all__ = ["AdvertSource", "Sighting"]
