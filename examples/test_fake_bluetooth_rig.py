"""A rig test on the fake bluetoothd, written only against routesim's public API (docs/python-api.md).

The fake ``org.bluez`` runs on a private dbus-daemon the plugin starts; the rig's phone runs on the wall
clock and reads the fake exactly as it would read bluetoothd. Run the same tests against a real rig with
``pytest --routesim-bus system`` (read-only; add ``--routesim-apply`` to let profile switches act) and
real AirPods: the fake's steps then do nothing and you connect the buds yourself.
"""
import pytest

pytestmark = pytest.mark.routesim_bus("fake")

PODS = "AA:BB:CC:DD:EE:01"


async def test_airpods_on_bluez_take_the_route_and_give_it_back(routesim_fake_bluez, routesim_rig):
    phone = routesim_rig.phone
    phone.set_category("playback")
    phone.set_active(True)

    routesim_fake_bluez.add_device("airpods-pro-2", PODS, name="Kim\u2019s AirPods Pro", battery=80)
    routesim_fake_bluez.connect(PODS)
    await phone.route_change(reason="newDeviceAvailable", timeout=5)
    phone.expect_route(outputs=["bluetoothA2DP"])
    assert phone.accessory(PODS).model_id == "airpods-pro-2"  # identified from BlueZ's Modalias

    routesim_fake_bluez.disconnect(PODS)
    await phone.route_change(reason="oldDeviceUnavailable", timeout=5)
    phone.expect_route(outputs=["builtInSpeaker"])


async def test_a_call_switches_the_airpods_card_to_the_headset_profile(routesim_fake_bluez, routesim_rig):
    phone = routesim_rig.phone
    phone.set_category("playback")
    routesim_fake_bluez.add_device("airpods-pro-2", PODS, connected=True)
    await phone.route_change(reason="newDeviceAvailable", timeout=5)

    phone.callkit.start_call("call-1")
    await phone.notification("didActivate", timeout=5)
    phone.expect_route(inputs=["bluetoothHFP"], outputs=["bluetoothHFP"])
    await routesim_rig.settle()  # the switch reaches the device through BlueZ, on the wall clock
    assert routesim_fake_bluez.card_profile(PODS) == "headset-head-unit"

    phone.callkit.end("call-1")
    await phone.notification("didDeactivate", timeout=5)
    await phone.route_change(timeout=5)
    phone.expect_route(outputs=["bluetoothA2DP"])
