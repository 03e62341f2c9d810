"""A fake bluetoothd for tests: a faithful ``org.bluez`` (with PipeWire's card profiles) on a private
``dbus-daemon`` that this object starts and stops. A :class:`~routesim.Rig` on its :attr:`address` cannot
tell it from the real one; nothing here ever touches the host's system bus."""
from __future__ import annotations

from routesim.bt.fake_bluez import APPLE, FakeBluez, FakeDevice, PrivateBus, accessory_from_model, proximity_pairing
from routesim.clock import WallClock
from routesim.profiles.catalog import Catalog, default_catalog


class FakeBluetooth:
    """``async with FakeBluetooth() as fake:`` a fake bluetoothd on its own private bus.

    ``bus``: the address of a private bus made by routesim to reuse (the pytest fixture shares one per
    session); None starts a new ``dbus-daemon`` and stops it afterwards.
    """

    def __init__(self, *, bus: str | None = None, catalog: Catalog | None = None):
        self.catalog = catalog if catalog is not None else default_catalog()
        self._given_bus = bus
        self._private: PrivateBus | None = None
        self._fake: FakeBluez | None = None
        self._adverts = 0

    @property
    def address(self) -> str:
        """The D-Bus address of the private bus (give it to :class:`~routesim.Rig`)."""
        return self.bluez.bus_address

    @property
    def bluez(self) -> FakeBluez:
        """The fake ``org.bluez`` itself, for what this wrapper does not cover (raw properties, restarts)."""
        if self._fake is None:
            raise RuntimeError("the fake bluetoothd is not started: await fake.start() or use `async with`")
        return self._fake

    async def start(self) -> "FakeBluetooth":
        address = self._given_bus
        if address is None:
            self._private = PrivateBus()
            address = self._private.start()
        self._fake = FakeBluez(address, clock=WallClock())
        await self._fake.start()
        return self

    async def stop(self) -> None:
        if self._fake is not None:
            await self._fake.stop()
            self._fake = None
        if self._private is not None:
            self._private.close()
            self._private = None

    async def __aenter__(self) -> "FakeBluetooth":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ devices
    def add_device(self, model: str, address: str, *, name: str | None = None, connected: bool = False,
                   battery: int | None = None, firmware: int = 0x0001, advertise: bool = False) -> str:
        """A paired device of catalog model ``model`` at ``address`` (upper-case MAC), as BlueZ shows
        that model (Modalias, UUIDs, codecs). ``advertise``: Apple models also send proximity adverts
        (battery and in-ear state) from a separate random address. Returns the address."""
        spec = self.catalog.get(model)
        address = address.upper()
        self.bluez.add_device(accessory_from_model(spec, address, name=name or spec.name, battery=battery,
                                                   firmware=firmware), connected=connected)
        if advertise and spec.product_id is not None and spec.vendor_id == APPLE:
            self._adverts += 1
            self.bluez.add_advert(f"5E:00:00:00:00:{self._adverts:02X}",
                                  {APPLE: proximity_pairing(spec.product_id, left=battery or 80,
                                                            right=battery or 80)})
        return address

    def device(self, address: str) -> FakeDevice:
        """What the fake shows for a device (``connected``, ``alias``, ``card_profile``, ...)."""
        return self.bluez.device(address.upper())

    def card_profile(self, address: str) -> str | None:
        """PipeWire's card profile for the device (``a2dp-sink``, ``headset-head-unit``) or None."""
        return self.device(address).card_profile

    def connect(self, address: str, *, hfp: bool = False) -> None:
        """The device connects (its A2DP transport, or HFP with ``hfp``)."""
        self.bluez.connect(address.upper(), hfp=hfp)

    def disconnect(self, address: str) -> None:
        self.bluez.disconnect(address.upper())

    def rename_remote(self, address: str, name: str | None) -> None:
        """The device changes its own name (``Device1.Name``)."""
        self.bluez.rename_remote(address.upper(), name)

    def set_battery(self, address: str, percent: int | None) -> None:
        self.bluez.set_battery(address.upper(), percent)

