"""pytest collects ``*.scenario.yaml`` files: one test item per scenario document.

A file that does not load is one failing item whose message is the loader's one line (FILE:LINE: what is
wrong; what would be right), the same line ``routesim run`` prints; the files beside it still run. An
unexpected exception while loading is also one failing item (saying it is a bug), never a collection error
that would stop the session.
"""
from __future__ import annotations

import io

import pytest


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
