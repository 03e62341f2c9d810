"""A virtual phone on a virtual clock, written only against routesim's public API (docs/python-api.md).

Each await advances the virtual clock, so a timeout costs nothing. The expected values follow Apple's
documentation: a device that takes the route posts routeChange with newDeviceAvailable, losing it posts
oldDeviceUnavailable [DOC Doc-RouteChangeReason]; CallKit activates the app's session itself and then
calls didActivate [DOC Doc-didActivate]; a non-mixable app that starts playing interrupts the app's
session [DOC Doc-HandlingInterruptions]. (Keys: docs/sources.md.)
"""
import asyncio

import pytest

from routesim import ExpectationFailed, Phone


async def test_airpods_take_the_route_when_they_connect_and_give_it_back_when_they_leave(routesim_phone):
    phone = routesim_phone
    phone.add_accessory("pods", "airpods-pro-2")
    phone.set_category("playback")
    phone.set_active(True)

    phone.connect("pods")
    note = await phone.route_change(reason="newDeviceAvailable")
    assert [p.type for p in note.fields["previousRoute"].outputs] == ["builtInSpeaker"]
    phone.expect_route(outputs=["bluetoothA2DP"])

    phone.disconnect("pods")
    await phone.route_change(reason="oldDeviceUnavailable")
    phone.expect_route(outputs=["builtInSpeaker"])


async def test_a_callkit_call_moves_the_headset_to_hfp_before_didactivate(routesim_phone, routesim_accessories):
    # The system activates the session when the start action is fulfilled; the call goes both ways over HFP.
    routesim_accessories("airpods-pro-2", key="pods", connected=True)
    phone = routesim_phone
    phone.set_category("playAndRecord", "voiceChat")

    phone.callkit.start_call("call-1", fulfill_after=0.5, connect_after=2.0)
    await phone.notification("didActivate")
    phone.expect_route(inputs=["bluetoothHFP"], outputs=["bluetoothHFP"])
    await phone.call_state("call-1", "active", timeout=10)
    assert phone.time == pytest.approx(2.5)  # virtual: fulfilled at 0.5 s, connected 2 s later

    phone.callkit.end("call-1")
    await phone.notification("didDeactivate")
    assert phone.call_states() == {"call-1": "ended"}


async def test_another_app_interrupts_a_non_mixable_session():
    phone = Phone(platform="ios-18.0")
    phone.add_other("music", "playback", playing=False)
    phone.set_category("playback")
    phone.set_active(True)

    phone.other_play("music")
    began = await phone.notification("interruption", type="began")
    assert phone.session["isActive"] is False
    phone.other_stop("music")
    ended = await phone.notification("interruption", type="ended")
    assert began.time <= ended.time


async def test_an_unmet_wait_fails_like_a_scenario_expect_and_costs_no_wall_time():
    phone = Phone()
    phone.set_category("playback")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ExpectationFailed) as failed:
        await phone.route_change(reason="newDeviceAvailable", timeout=3600)
    assert loop.time() - started < 1.0  # an hour of virtual time
    assert phone.time == 3600
    message = str(failed.value)
    assert "test_virtual_phone.py:" in message.splitlines()[0]  # the line that awaited
    assert 'routeChange: expected {"routeChange": {"reason": "newDeviceAvailable"}} within 3600 s (virtual time)' \
        in message
    assert "routeChange(reason=categoryChange" in message  # what was observed instead


async def test_the_timeline_keeps_actions_events_and_notifications_in_order(routesim_phone):
    phone = routesim_phone
    phone.add_accessory("pods", "airpods-pro-2")
    phone.set_category("playback")
    phone.connect("pods")
    kinds = [(entry.kind, entry.name) for entry in phone.timeline]
    assert kinds == [("action", "session.setCategory"), ("notification", "routeChange"),
                     ("event", "connect"), ("notification", "routeChange")]
