"""Scenario files (docs/scenario-format.md): load, validate and normalise them into typed objects."""
from routesim.routes.scenario.loader import iter_scenario_files, load_path, load_text
from routesim.routes.scenario.model import (
    BEHAVIOR_DEFAULTS, AccessorySpec, AppConfig, Comparison, ErrorMatch, Expect, Hardware, NoteMatch, OtherSpec,
    PortMatch, RouteMatch, Scenario, ScenarioError, Step, number_matches,
)
from routesim.routes.scenario.steps import STEPS

__all__ = [
    "load_path", "load_text", "iter_scenario_files", "Scenario", "ScenarioError", "Step", "Expect", "Hardware",
    "AppConfig", "AccessorySpec", "OtherSpec", "RouteMatch", "PortMatch", "NoteMatch", "ErrorMatch", "Comparison",
    "number_matches", "BEHAVIOR_DEFAULTS", "STEPS",
]
