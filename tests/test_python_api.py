"""The public Python API (docs/python-api.md): the names ``routesim`` exports, one path for scenarios and
Python tests, awaits on virtual and wall-clock time, failures worded like a scenario's, the pytest fixtures,
and examples/ written against nothing but the public names."""
from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import routesim
from routesim import ExpectationFailed, Phone, Rig, WallClock
from routesim.profiles.catalog import default_catalog
from routesim.routes.phone.vocabulary import UnknownName
from routesim.routes.scenario.loader import iter_scenario_files, load_path
from routesim.routes.scenario.runner import STEP_HANDLERS, ScenarioRun
from routesim.routes.scenario.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
ALLOWED_MODULES = {"pytest", "asyncio"}


# ---------------------------------------------------------------------------------- the package's face
def test_every_exported_name_resolves():
    missing = [name for name in routesim.__all__ if getattr(routesim, name, None) is None]
    assert not missing
    assert routesim.Phone.__module__ == "routesim.api.phone"


def test_importing_the_package_or_its_event_types_loads_neither_the_phone_nor_dbus():
    code = ("import sys, routesim, routesim.events; "
            "print(sorted(m for m in ('routesim.api.phone', 'routesim.routes.phone.session', 'dbus_fast') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_virtual_phone_does_not_load_the_dbus_client():
    code = "import sys; from routesim import Phone; Phone().set_category('playback'); print('dbus_fast' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_package_is_marked_typed():
    assert (Path(routesim.__file__).parent / "py.typed").is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["routesim"]


# ---------------------------------------------------------------------------------- examples/
def _public_api_violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in ALLOWED_MODULES | {"routesim"}:
                    bad.append(f"{path.name}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.module == "routesim" and not node.level:
                bad += [f"{path.name}:{node.lineno}: routesim has no public name {a.name}"
                        for a in node.names if a.name not in routesim.__all__]
            elif node.module not in ALLOWED_MODULES or node.level:
                bad.append(f"{path.name}:{node.lineno}: from {'.' * node.level}{node.module} import ...")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "routesim":
            if node.attr not in routesim.__all__:
                bad.append(f"{path.name}:{node.lineno}: routesim.{node.attr} is not public")
    return bad


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_import_only_routesim_top_level_names_pytest_and_asyncio(path):
    assert _public_api_violations(path) == []


@pytest.mark.parametrize("source,violation", [
    ("from routesim.routes.phone.session import Phone", "from routesim.routes.phone.session import"),
    ("import routesim.bt.virtual", "import routesim.bt.virtual"),
    ("from routesim import Phone, VirtualAccessories", "no public name VirtualAccessories"),
    ("import routesim\nx = routesim.routes", "routesim.routes is not public"),
    ("import time", "import time"),
    ("from . import helpers", "from .None import"),
])
def test_the_example_check_catches_internal_imports(tmp_path, source, violation):
    path = tmp_path / "test_x.py"
    path.write_text(source + "\n")
    assert any(violation in v for v in _public_api_violations(path))


def test_examples_exist_and_run_in_the_suite():
    assert len(EXAMPLES) >= 2
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    assert "examples" in testpaths


# ---------------------------------------------------------------------------------- one path
def test_every_scenario_step_is_a_method_of_the_phone():
    assert set(STEP_HANDLERS) == set(STEPS) - {"expect"}


def _bundled():
    catalog = default_catalog()
    for path in iter_scenario_files([ROOT / "fixtures" / "scenarios"]):
        for sc in load_path(path, catalog.ids()):
            yield pytest.param(sc, catalog, id=f"{path.relative_to(ROOT / 'fixtures' / 'scenarios')}:{sc.index}")


@pytest.mark.parametrize("scenario,catalog", list(_bundled()))
def test_the_runner_performs_each_step_through_the_phone(scenario, catalog):
    run = ScenarioRun(scenario, catalog)
    result = run.run()
    performed = [s.step.op for s in result.steps if s.step.op not in ("expect", "wait")]
    if result.invalid:  # the step that made the scenario invalid may not have reached the phone
        performed = performed[:-1]
    recorded = [e.name for e in run.sim.timeline if e.kind in ("action", "event")]
    assert recorded[:len(performed)] == performed


# ---------------------------------------------------------------------------------- awaits, virtual time
def _playing_phone(**options) -> Phone:
    phone = Phone(**options)
    phone.add_accessory("pods", "airpods-pro-2")
    phone.add_accessory("speaker", "generic-speaker")
    phone.set_category("playback")
    phone.set_active(True)
    return phone


async def test_an_await_finds_a_change_that_already_happened_without_moving_time():
    phone = _playing_phone()
    phone.connect("pods")
    note = await phone.route_change(reason="newDeviceAvailable")
    assert note.fields["reason"] == "newDeviceAvailable"
    assert phone.time == 0.0


async def test_awaits_read_the_notifications_in_order_like_a_stream():
    phone = _playing_phone()
    phone.connect("pods")
    phone.disconnect("pods")
    first = await phone.route_change()
    second = await phone.route_change()
    assert (first.fields["reason"], second.fields["reason"]) == ("categoryChange", "newDeviceAvailable")
    third = await phone.route_change()
    assert third.fields["reason"] == "oldDeviceUnavailable"
    with pytest.raises(ExpectationFailed):
        await phone.route_change(timeout=1)


async def test_an_await_stops_the_virtual_clock_at_the_timer_that_delivers():
    phone = _playing_phone()
    phone.set_category("playAndRecord")
    phone.callkit.start_call("c1", fulfill_after=1.5, connect_after=10.0)
    await phone.notification("didActivate", timeout=60)
    assert phone.time == 1.5
    await phone.call_state("c1", "active", timeout=60)
    assert phone.time == 11.5


@pytest.mark.parametrize("name", ["interruption", "AVAudioSessionInterruptionNotification", "interruptionNotification"])
async def test_notification_names_take_every_spelling(name):
    phone = _playing_phone()
    phone.add_other("music", "playback")
    phone.other_play("music")
    note = await phone.notification(name, type="began")
    assert note.name == "interruption"


async def test_an_unknown_notification_name_says_what_was_meant():
    with pytest.raises(UnknownName, match="did you mean 'routeChange'"):
        await Phone().notification("routeChanged")


async def test_fields_filter_the_notification_awaited():
    phone = _playing_phone()
    phone.add_other("music", "playback")
    phone.other_play("music")
    with pytest.raises(ExpectationFailed, match='expected {"interruption": {"type": "ended"}}'):
        await phone.notification("interruption", type="ended", timeout=5)


# ---------------------------------------------------------------------------------- failures read like expects
@pytest.mark.parametrize("wait,first_line", [
    (lambda p: p.route_change(reason="override", timeout=2),
     'routeChange: expected {"routeChange": {"reason": "override"}} within 2 s (virtual time), '
     'got ["routeChange(reason=categoryChange, previousRoute=in[-] out[builtInSpeaker])"]'),
    (lambda p: p.call_state("c9", "active", timeout=3),
     'calls.c9: expected "active" within 3 s (virtual time), got "no such call"'),
    (lambda p: p.notification("didActivate", timeout=0.5),
     'didActivate: expected "didActivate" within 0.5 s (virtual time), '
     'got ["routeChange(reason=categoryChange, previousRoute=in[-] out[builtInSpeaker])"]'),
])
async def test_an_unmet_wait_names_the_line_what_was_expected_and_what_was_observed(wait, first_line):
    phone = _playing_phone()
    with pytest.raises(ExpectationFailed) as failed:
        await wait(phone)
    line = str(failed.value).splitlines()[0]
    assert line.startswith("tests/test_python_api.py:") or line.startswith(f"{__file__}:")
    assert line.split(": ", 1)[1] == first_line
    assert "route now in[-] out[builtInSpeaker]" in str(failed.value)


def test_expect_route_fails_like_a_route_expectation():
    phone = _playing_phone()
    phone.expect_route(outputs=["builtInSpeaker"], inputs=[])
    with pytest.raises(ExpectationFailed) as failed:
        phone.expect_route(outputs=["bluetoothA2DP"])
    assert failed.value.key == "route"
    assert str(failed.value).splitlines()[0].endswith(
        'route: expected {"outputs": ["bluetoothA2DP"]}, got {"outputs": ["builtInSpeaker"]}')


# ---------------------------------------------------------------------------------- the timeline
def test_subscribers_see_every_entry_in_order_until_they_unsubscribe():
    phone = _playing_phone()
    seen = []
    unsubscribe = phone.subscribe(lambda entry: seen.append((entry.kind, entry.name)))
    phone.connect("pods")
    phone.battery("pods", left=40)
    unsubscribe()
    phone.disconnect("pods")
    assert seen == [("event", "connect"), ("notification", "routeChange"), ("event", "battery")]
    assert phone.timeline[-2].name == "disconnect"


def test_a_failed_action_is_on_the_timeline_with_its_error():
    from routesim import SessionError

    phone = Phone()
    phone.set_category("playback")
    with pytest.raises(SessionError):
        phone.override_output("speaker")  # only in playAndRecord
    last = phone.timeline[-2:]
    assert [(e.kind, e.name) for e in last] == [("action", "session.overrideOutputAudioPort"),
                                               ("error", "session.overrideOutputAudioPort")]
    assert last[1].data.name == "badParam"


# ----------------------------------------------------------------------------- a phone without a timeline
# Phone(timeline=False) (batch runs: run_scenario) records nothing but is otherwise the same phone.
def _story(phone: Phone) -> tuple:
    phone.connect("pods")
    phone.set_category("playAndRecord", options=["allowBluetoothHFP"])
    phone.disconnect("pods")
    return phone.route.short(), [(n.name, n.fields.get("reason")) for n in phone.notifications], phone.rules


def test_a_phone_without_a_timeline_tells_the_app_the_same_story():
    told = _story(_playing_phone(timeline=False))
    assert told == _story(_playing_phone())
    assert ("routeChange", "oldDeviceUnavailable") in told[1]


@pytest.mark.parametrize("read", [lambda phone: phone.timeline, lambda phone: phone.subscribe(print)])
def test_a_phone_without_a_timeline_says_so_when_asked_for_it(read):
    with pytest.raises(RuntimeError, match=r"keeps no timeline \(it was made with timeline=False\)"):
        read(Phone(timeline=False))


async def test_awaits_work_without_a_timeline():
    phone = _playing_phone(timeline=False)
    phone.set_category("playAndRecord")
    phone.callkit.start_call("c1", fulfill_after=1.5)
    await phone.notification("didActivate", timeout=60)
    assert phone.time == 1.5


async def test_on_the_wall_clock_an_await_is_woken_without_a_timeline():
    phone = Phone(clock=WallClock(), strict=False, timeline=False)
    phone.set_category("playAndRecord")
    phone.callkit.start_call("c1", fulfill_after=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await phone.notification("didActivate", timeout=5)
    assert loop.time() - started < 2.5  # woken when it came, not at the timeout


def test_run_scenario_keeps_no_timeline_and_gives_the_same_results_as_a_run_that_does():
    from routesim.routes.scenario.report import as_json
    from routesim.routes.scenario.runner import run_scenario

    for scenario, catalog in (p.values for p in _bundled()):
        with_timeline = ScenarioRun(scenario, catalog, snapshots=True)
        assert as_json(run_scenario(scenario, catalog, snapshots=True)) == as_json(with_timeline.run()), scenario.name


# ---------------------------------------------------------------------------------- wall-clock time, rigs
async def test_on_the_wall_clock_an_await_waits_in_real_time():
    phone = Phone(clock=WallClock(), strict=False)
    phone.set_category("playAndRecord")
    phone.callkit.start_call("c1", fulfill_after=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await phone.notification("didActivate", timeout=2)
    assert loop.time() - started >= 0.04
    with pytest.raises(ExpectationFailed, match=r"within 0.05 s \(wall-clock time\)"):
        await phone.notification("didDeactivate", timeout=0.05)


@pytest.mark.parametrize("make,error", [
    (lambda: Rig(""), "Rig needs the bus to use"),
    (lambda: Rig("unix:path=/nonexistent", phone=Phone()), "runs on the wall clock"),
])
def test_a_rig_needs_a_named_bus_and_a_wall_clock_phone(make, error):
    with pytest.raises(ValueError, match=error):
        make()


def test_a_rig_on_the_system_bus_is_asked_for_by_name_and_stays_read_only():
    rig = Rig("system")
    assert rig.bus == "unix:path=/var/run/dbus/system_bus_socket"
    assert rig.live and rig.apply is False


# ---------------------------------------------------------------------------------- the fixtures
FIXTURE_TESTS = '''
import pytest

@pytest.mark.asyncio
async def test_virtual(routesim_phone, routesim_accessories):
    routesim_accessories("airpods-pro-2", key="pods")
    routesim_phone.set_category("playback")
    routesim_phone.connect("pods")
    await routesim_phone.route_change(reason="newDeviceAvailable", timeout=1)

@pytest.mark.routesim_phone(platform="ios-17.0")
def test_phone_options(routesim_phone):
    assert str(routesim_phone.model.platform) == "ios-17.0"

@pytest.mark.asyncio
async def test_rig_without_a_bus(routesim_rig):
    raise AssertionError("must not run")

@pytest.mark.asyncio
@pytest.mark.routesim_bus("fake")
async def test_rig_on_the_fake(routesim_fake_bluez, routesim_rig):
    assert not routesim_rig.live
    routesim_fake_bluez.add_device("airpods-pro-2", "AA:BB:CC:DD:EE:01", connected=True)
    await routesim_rig.phone.route_change(reason="newDeviceAvailable", timeout=5)

@pytest.mark.asyncio
async def test_fails_with_the_timeline(routesim_phone):
    routesim_phone.set_category("playback")
    await routesim_phone.route_change(reason="override", timeout=1)
'''


def test_the_fixtures_work_in_strict_asyncio_mode_and_rigs_need_a_named_bus(pytester):
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, skipped=1, failed=1)
    result.stdout.fnmatch_lines([
        '*routeChange: expected {"routeChange": {"reason": "override"}} within 1 s (virtual time)*',
        "*routesim timeline*",
        "*action       session.setCategory category=playback*",
        "*SKIPPED*routesim_rig needs a bus: mark the test @pytest.mark.routesim_bus*",
    ])


def test_the_bus_option_runs_rig_tests_and_overrides_the_marker(pytester):
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--routesim-bus", "fake", "-k", "rig_without")
    # the test now gets a rig on the fake bluetoothd, and fails on its own assertion
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: must not run*"])


@pytest.mark.parametrize("options,error", [
    ({"behavior": {"setModeClearOptions": True}}, "unknown behavior switch 'setModeClearOptions'"),
    ({"platform": "ios-banana"}, "ios-banana"),
])
def test_a_phone_refuses_options_it_does_not_know(options, error):
    with pytest.raises(ValueError, match=error):
        Phone(**options)
