"""The worked rig test of docs/python-api.md: AirPods on a rig carry a CallKit call over HFP and go back
to A2DP when it ends. Written only against routesim's public API.

In the suite it runs on the fake bluetoothd (the marker below), which plays the AirPods. On a real rig,
name the bus and someone (or a robot) does what the fake does::

    pytest examples/test_rig_airpods_call.py --routesim-bus system -s                  # read-only
    pytest examples/test_rig_airpods_call.py --routesim-bus system --routesim-apply -s # switch profiles

Expected behaviour [DOC Doc-RouteChangeReason, Doc-didActivate]: the buds take the route with
newDeviceAvailable; the call's session moves them to HFP (the route change comes before didActivate);
when the call ends, didDeactivate, then the route goes back to A2DP.
"""
import pytest

pytestmark = pytest.mark.routesim_bus("fake")

PODS = "AA:BB:CC:DD:EE:01"  # on the fake; on a real rig, whichever AirPods connect


async def test_airpods_carry_a_call_over_hfp_and_go_back_to_a2dp(routesim_rig, request):
    phone = routesim_rig.phone
    fake = request.getfixturevalue("routesim_fake_bluez") if not routesim_rig.live else None
    wait = 5 if fake else 120  # wall-clock seconds: a person needs longer than the fake

    phone.set_category("playback")
    phone.set_active(True)
    if fake:
        fake.add_device("airpods-pro-2", PODS, name="Kim\u2019s AirPods Pro", battery=80, connected=True)
    else:
        print("\nrig: connect the AirPods (open the case next to the rig)")
    await phone.route_change(reason="newDeviceAvailable", timeout=wait)
    phone.expect_route(outputs=["bluetoothA2DP"])
    pods = next(a for a in phone.accessories.values() if a.connected)
    assert pods.model_id.startswith("airpods")  # from the Modalias, whatever the buds are called

    phone.callkit.start_call("call-1")
    await phone.notification("didActivate", timeout=wait)
    phone.expect_route(inputs=["bluetoothHFP"], outputs=["bluetoothHFP"])
    assert pods.state()["profile"] == "hfp"

    phone.callkit.end("call-1")
    await phone.notification("didDeactivate", timeout=wait)
    await phone.route_change(timeout=wait)
    phone.expect_route(outputs=["bluetoothA2DP"])

    # What the rig did to the device: acted on the fake; on a real bus only with --routesim-apply.
    await routesim_rig.settle()
    assert any("hfp" in line for line in routesim_rig.commands), routesim_rig.commands

    if fake:
        fake.disconnect(PODS)
    else:
        print("\nrig: put the AirPods back in the case and close it")
    await phone.route_change(reason="oldDeviceUnavailable", timeout=wait)
    phone.expect_route(outputs=["builtInSpeaker"])
