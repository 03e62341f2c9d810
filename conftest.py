"""pytest from a checkout: the bundled scenarios under fixtures/scenarios are collected by routesim's own
pytest plugin, which comes with the installed package. Without it they would silently not run, so the run
stops and says why instead."""
from __future__ import annotations

import importlib.util

import pytest

PLUGIN = "routesim.routes.scenario.pytest_plugin"


def pytest_configure(config: pytest.Config) -> None:
    try:
        found = importlib.util.find_spec(PLUGIN) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise pytest.UsageError(
            "routesim is not installed in this Python, so the bundled scenarios (fixtures/scenarios/"
            "*.scenario.yaml) would not be collected; run ./scripts/test, or install the checkout first: "
            "pip install -e '.[test]'")
    if not config.pluginmanager.has_plugin("routesim"):  # plugin autoloading turned off: register it here
        config.pluginmanager.register(importlib.import_module(PLUGIN), "routesim")


@pytest.fixture(autouse=True)
def _cold_decision_caches():
    """Each test starts with empty route-decision caches: a decision cached by an earlier test (or, under
    mutation testing, by the unmutated code before the worker forked) must not stand in for this test's."""
    from routesim.routes.phone import policy

    for obj in vars(policy).values():
        if callable(getattr(obj, "cache_clear", None)):
            obj.cache_clear()
