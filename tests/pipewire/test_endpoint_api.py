"""The fake bluetoothd's media API with a small audio server of the test's own (no PipeWire needed): the
older ``Media1.RegisterEndpoint`` path, the order of the endpoint calls, what ``SetConfiguration``
carries, and ``ClearConfiguration`` on disconnect [DEV BlueZ-Media1, BlueZ-MediaTransport1]."""
from __future__ import annotations

import pytest
from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method

from routesim.bt.fake_bluez import FakeBluez, PrivateBus, accessory_from_model
from routesim.clock import WallClock
from routesim.profiles.catalog import default_catalog

from tests.pipewire.rig import poll

A2DP_SOURCE = "0000110a-0000-1000-8000-00805f9b34fb"  # the local role, as PipeWire registers it
A2DP_SINK = "0000110b-0000-1000-8000-00805f9b34fb"
SBC_CONFIG = bytes([0x21, 0x15, 2, 53])  # 48 kHz joint stereo, 16 blocks, 8 subbands, loudness, 2..53


class Endpoint(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.bluez.MediaEndpoint1")
        self.calls: list[tuple[str, tuple]] = []

    @method()
    def SelectConfiguration(self, capabilities: "ay") -> "ay":  # noqa: F821
        self.calls.append(("SelectConfiguration", (bytes(capabilities),)))
        return SBC_CONFIG

    @method()
    def SetConfiguration(self, transport: "o", properties: "a{sv}"):  # noqa: F821
        self.calls.append(("SetConfiguration", (transport, {k: v.value for k, v in properties.items()})))

    @method()
    def ClearConfiguration(self, transport: "o"):  # noqa: F821
        self.calls.append(("ClearConfiguration", (transport,)))


@pytest.fixture(scope="module")
def bus():
    private = PrivateBus()
    private.start()
    yield private
    private.close()


async def test_register_endpoint_then_configure_and_clear(bus):
    fake = FakeBluez(bus.address, clock=WallClock())
    await fake.start()
    server = await MessageBus(bus_address=bus.address, bus_type=BusType.SYSTEM).connect()
    try:
        model = default_catalog().get("airpods-pro-2")
        pods = accessory_from_model(model, "AA:BB:CC:DD:EE:01")
        fake.add_device(pods)
        endpoint = Endpoint()
        server.export("/test/sbc", endpoint)
        reply = await server.call(Message(
            destination="org.bluez", path="/org/bluez/hci0", interface="org.bluez.Media1", member="RegisterEndpoint",
            signature="oa{sv}", body=["/test/sbc", {"UUID": Variant("s", A2DP_SOURCE), "Codec": Variant("y", 0),
                                                    "Capabilities": Variant("ay", bytes([0xFF, 0xFF, 2, 53]))}]))
        assert reply.message_type is MessageType.METHOD_RETURN
        assert fake.audio_server

        fake.connect(pods.address)
        await poll("SetConfiguration", lambda: any(c[0] == "SetConfiguration" for c in endpoint.calls))
        (select, caps), (setconf, (transport, props)) = endpoint.calls[:2]
        # the headset's SBC capabilities (its AAC endpoint found no AAC endpoint here), then the transport
        assert (select, setconf) == ("SelectConfiguration", "SetConfiguration")
        assert caps[0][:2] == bytes([0xFF, 0xFF])  # every SBC mode and rate the codec allows
        dev = fake.device(pods.address)
        assert transport == dev.transport_path
        assert props["UUID"] == A2DP_SOURCE and props["Codec"] == 0 and bytes(props["Configuration"]) == SBC_CONFIG
        assert props["Device"] == dev.path and props["State"] == "idle"
        assert props["Endpoint"] == f"{dev.path}/sep{model.a2dp_codecs.index('sbc') + 1}"  # the SBC remote endpoint

        fake.disconnect(pods.address)
        await poll("ClearConfiguration", lambda: ("ClearConfiguration", (transport,)) in endpoint.calls)

        # the audio server leaves the bus: bluetoothd forgets its endpoint
        server.disconnect()
        await poll("the registration to go", lambda: not fake.audio_server)
    finally:
        server.disconnect()
        await fake.stop()
