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


def test_the_table_as_its_source_builds_it():
    """The table is built once, at import. Build it again from the module's file: every entry carries its
    own id, a summary and a tagged source, and the fresh table is the one in use (under mutation testing
    the import happened before the mutant was switched on; this build happens after)."""
    import importlib.util
    import sys

    from routesim.routes.phone import rules

    # Under the module's own name, so that mutmut's stats run ties this test to the builder it calls.
    spec = importlib.util.spec_from_file_location(rules.__name__, rules.__file__)
    fresh = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = fresh  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(fresh)
    finally:
        sys.modules[spec.name] = rules
    for rule_id, rule in fresh.RULES.items():
        assert rule.id == rule_id and isinstance(rule.summary, str) and rule.summary.strip(), rule_id
        assert isinstance(rule.source.tag, Tag) and rule.source.ref.strip(), rule_id
    assert {k: (r.id, r.summary, r.source.tag, r.source.ref) for k, r in fresh.RULES.items()} == \
        {k: (r.id, r.summary, r.source.tag, r.source.ref) for k, r in RULES.items()}
