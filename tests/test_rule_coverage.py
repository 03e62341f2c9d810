"""Every behaviour rule is exercised by a bundled scenario or a transition-table row, and names its source."""
from __future__ import annotations

from routesim.profiles.catalog import default_catalog
from routesim.profiles.provenance import Tag
from routesim.routes.cli.common import bundled_scenarios
from routesim.routes.phone.rules import RULES
from routesim.routes.scenario.runner import run_scenario
from routesim.routes.scenario.loader import iter_scenario_files, load_path
from tests.test_transitions import fired_by_rows
from tests.test_callkit_transitions import fired_by_rows as fired_by_call_rows


def fired_by_scenarios() -> set[str]:
    catalog = default_catalog()
    fired: set[str] = set()
    for path in iter_scenario_files([bundled_scenarios()]):
        for sc in load_path(path, catalog.ids()):
            for step in run_scenario(sc, catalog).steps:
                fired.update(step.rules)
    return fired


def test_every_rule_names_a_tagged_source():
    for rule in RULES.values():
        assert isinstance(rule.source.tag, Tag) and rule.source.ref.strip(), rule.id
        # tests/test_sources.py checks that every key the source names is listed in docs/sources.md


def test_every_rule_is_exercised():
    unexercised = set(RULES) - fired_by_scenarios() - fired_by_rows() - fired_by_call_rows()
    assert not unexercised, f"rules no scenario or table row exercises: {sorted(unexercised)}"


def test_every_fired_rule_is_a_listed_rule():
    """What `explain` shows for a step is looked up in the rule table: a rule id the model fires that the
    table does not list (a typo, a renamed rule) would be a step explained by nothing."""
    unknown = (fired_by_scenarios() | fired_by_rows() | fired_by_call_rows()) - set(RULES)
    assert not unknown, f"rule ids fired but not in the rule table: {sorted(map(str, unknown))}"
