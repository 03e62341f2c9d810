"""routesim's pytest plugin: ``*.scenario.yaml`` files are collected (one test item per scenario
document), and Python tests get fixtures named ``routesim_…`` (docs/python-api.md):

- ``routesim_phone``: a virtual :class:`routesim.Phone` on a virtual clock (options from a
  ``@pytest.mark.routesim_phone(platform="ios-18.0", ...)`` marker);
- ``routesim_accessories``: call it to add a virtual accessory of a catalog model to that phone;
- ``routesim_fake_bluez``: a started :class:`routesim.FakeBluetooth` (a fake bluetoothd on a private
  dbus-daemon the plugin starts once per session and stops at the end);
- ``routesim_rig``: a started :class:`routesim.Rig`, only when the test names its bus
  (``@pytest.mark.routesim_bus("fake" | ADDRESS | "system")`` or ``--routesim-bus``); otherwise the
  test is skipped with the reason. Never the system bus by default.

When a test that used a phone fails, the phone's timeline is added to the report.

A scenario file that does not load is one failing item whose message is the loader's one line (FILE:LINE:
what is wrong; what would be right), the same line ``routesim run`` prints; the files beside it still run.
An unexpected exception while loading is also one failing item (saying it is a bug), never a collection
error that would stop the session.
"""
from __future__ import annotations

import io
from typing import Any, AsyncIterator, Callable, Iterator

import pytest

try:  # async fixtures work in pytest-asyncio's strict mode too
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - pytest-asyncio is in the test extra
    _async_fixture = None

_PHONES = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("routesim", "routesim rig tests")
    group.addoption("--routesim-bus", metavar="ADDRESS", default=None,
                    help="the D-Bus the routesim_rig fixture watches: an address (unix:path=...), 'fake' for "
                         "the routesim_fake_bluez fixture's private bus, or 'system' for this host's system bus. "
                         "Overrides the routesim_bus marker. Without either, rig tests are skipped.")
    group.addoption("--routesim-apply", action="store_true", default=False,
                    help="let routesim_rig carry out profile switches on a real bus (read-only without it; "
                         "a private bus always acts)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "routesim_bus(address, apply=False): the bus the routesim_rig fixture uses: a D-Bus address, "
                   "'fake' (the routesim_fake_bluez fixture's private bus) or 'system' (the host's)")
    config.addinivalue_line(
        "markers", "routesim_phone(**options): options for the phone of routesim_phone and routesim_rig "
                   "(platform='ios-18.0', hardware='ipad', behavior={...})")


def _phone_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("routesim_phone")
    return dict(marker.kwargs) if marker else {}


def _remember(request: pytest.FixtureRequest, phone: Any) -> None:
    request.node.stash.setdefault(_PHONES, []).append(phone)


@pytest.fixture
def routesim_phone(request: pytest.FixtureRequest) -> Any:
    """A virtual phone on a virtual clock: awaits advance the clock, timeouts cost nothing."""
    from routesim.api.phone import Phone

    phone = Phone(**_phone_options(request))
    _remember(request, phone)
    return phone


@pytest.fixture
def routesim_accessories(routesim_phone: Any) -> Callable[..., Any]:
    """``routesim_accessories("airpods-pro-2", key="pods", connected=False, name=None, ...)`` adds a virtual
    accessory of that catalog model to ``routesim_phone`` and returns it (key default: the model id)."""

    def add(model: str, key: str | None = None, **options: Any) -> Any:
        return routesim_phone.add_accessory(key or model, model, **options)

    return add


@pytest.fixture(scope="session")
def routesim_private_bus() -> Iterator[str]:
    """The address of a private dbus-daemon for this test session (never the host's bus)."""
    from routesim.bt.fake_bluez import PrivateBus, is_private_bus

    bus = PrivateBus()
    address = bus.start()
    assert is_private_bus(address)
    yield address
    bus.close()


async def _fake_bluez(routesim_private_bus: str) -> AsyncIterator[Any]:
    """A fake bluetoothd (org.bluez plus PipeWire's card profiles) on the session's private bus."""
    from routesim.api.fake import FakeBluetooth

    fake = FakeBluetooth(bus=routesim_private_bus)
    await fake.start()
    yield fake
    await fake.stop()


_RIG_BUS = pytest.StashKey[tuple]()


@pytest.fixture
def routesim_rig(request: pytest.FixtureRequest) -> Any:
    """A started live rig on the bus the test names; skipped (with the reason) when it names none."""
    marker = request.node.get_closest_marker("routesim_bus")
    bus = request.config.getoption("--routesim-bus")
    apply = request.config.getoption("--routesim-apply")
    if bus is None and marker is not None:
        bus = marker.args[0] if marker.args else marker.kwargs.get("address")
        apply = apply or bool(marker.kwargs.get("apply", False))
    if not bus:
        pytest.skip("routesim_rig needs a bus: mark the test @pytest.mark.routesim_bus('fake' or an address) "
                    "or run pytest --routesim-bus ADDRESS")
    if bus == "fake":
        bus = request.getfixturevalue("routesim_fake_bluez").address
    request.node.stash[_RIG_BUS] = (bus, apply)
    return request.getfixturevalue("_routesim_started_rig")  # async: started on the test's event loop


async def _started_rig(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    from routesim.api.rig import Rig

    bus, apply = request.node.stash[_RIG_BUS]
    rig = Rig(bus, apply=apply, **_phone_options(request))
    _remember(request, rig.phone)
    await rig.start()
    yield rig
    await rig.stop()


if _async_fixture is not None:
    routesim_fake_bluez = _async_fixture(_fake_bluez, name="routesim_fake_bluez")
    _routesim_started_rig = _async_fixture(_started_rig, name="_routesim_started_rig")
else:  # pragma: no cover
    @pytest.fixture
    def routesim_fake_bluez() -> Any:
        raise pytest.UsageError("routesim_fake_bluez is async: install pytest-asyncio (pip install 'routesim[test]')")

    @pytest.fixture
    def _routesim_started_rig() -> Any:
        raise pytest.UsageError("routesim_rig is async: install pytest-asyncio (pip install 'routesim[test]')")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    phones = item.stash.get(_PHONES, None)
    if phones and report.failed and call.when == "call":
        for n, phone in enumerate(phones):
            lines = [entry.short() for entry in phone.timeline] or ["(nothing happened)"]
            report.sections.append((f"routesim timeline{f' {n + 1}' if len(phones) > 1 else ''}",
                                    "\n".join(lines)))
    return report


def pytest_collect_file(parent, file_path):
    if file_path.name.endswith(".scenario.yaml"):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        from routesim.profiles.catalog import default_catalog

        from routesim.routes.scenario.loader import load_path
        from routesim.routes.scenario.model import ScenarioError

        try:
            catalog = default_catalog()
            scenarios = load_path(self.path, catalog.ids())
        except ScenarioError as e:
            yield InvalidScenarioItem.from_parent(self, name="<invalid>", error=_one_line(str(e)))
            return
        except Exception as e:  # noqa: BLE001 - a bug in routesim must not stop the other files from running
            yield InvalidScenarioItem.from_parent(
                self, name="<invalid>",
                error=_one_line(f"{self.path}:1: internal error while loading (a bug in routesim): "
                                f"{type(e).__name__}: {e}"))
            return
        for sc in scenarios:
            yield ScenarioItem.from_parent(self, name=f"{sc.index}:{sc.name}", scenario=sc, catalog=catalog)


class ScenarioFailed(Exception):
    pass


def _one_line(text: str) -> str:
    return " ".join(text.split())


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, catalog, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.catalog = catalog

    def runtest(self):
        from routesim.routes.scenario.report import timeline
        from routesim.routes.scenario.runner import run_scenario

        result = run_scenario(self.scenario, self.catalog)
        if not result.passed:
            out = io.StringIO()
            timeline(result, out)
            raise ScenarioFailed(out.getvalue())

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.scenario.line - 1, f"scenario: {self.scenario.name}"


class InvalidScenarioItem(pytest.Item):
    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise ScenarioFailed(self.error)

    def repr_failure(self, excinfo):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, 0, "scenario file"
