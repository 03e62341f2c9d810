"""A faithful fake ``org.bluez`` on a private D-Bus that the real Linux audio stack accepts
(:class:`AudioStack` runs PipeWire and WirePlumber against it), plus a stand-in for PipeWire's card
profiles for machines without them.

Everything here refuses to run on a bus that :class:`PrivateBus` did not create."""
from routesim.bt.fake_bluez.advert import APPLE, proximity_pairing
from routesim.bt.fake_bluez.privatebus import NotAPrivateBus, PrivateBus, PrivateBusError, is_private_bus, require_private_bus
from routesim.bt.fake_bluez.accessory import VirtualAccessory, accessory_from_model, uuids_for_model
from routesim.bt.fake_bluez.device import FakeDevice
from routesim.bt.fake_bluez.service import FakeBluez
from routesim.bt.fake_bluez.audio_stack import AudioStack, AudioStackError

__all__ = [
    "APPLE",
    "AudioStack",
    "AudioStackError",
    "FakeBluez",
    "FakeDevice",
    "NotAPrivateBus",
    "PrivateBus",
    "PrivateBusError",
    "VirtualAccessory",
    "accessory_from_model",
    "is_private_bus",
    "proximity_pairing",
    "require_private_bus",
    "uuids_for_model",
]
