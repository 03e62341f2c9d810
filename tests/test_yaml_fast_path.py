"""libyaml's C composer (the fast path) and PyYAML's Python composer give the same documents: the same
nodes, tags, values and lines for every bundled scenario and catalog file, and the same scenarios."""
from __future__ import annotations

from pathlib import Path

import pytest

from routesim.profiles import yaml_lines
from routesim.profiles.catalog import default_catalog
from routesim.routes.cli.common import bundled_scenarios
from routesim.routes.scenario.loader import iter_scenario_files, load_text
from routesim.routes.scenario.limits import MAX_NODES

pytestmark = pytest.mark.skipif(yaml_lines._CLoader is None, reason="this PyYAML has no libyaml: only one path")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FILES = sorted(iter_scenario_files([bundled_scenarios()])) + sorted((FIXTURES / "models").glob("*.yaml"))


def _shape(node, seen=None):
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    value = node.value
    if isinstance(value, list):
        value = [tuple(_shape(n, seen) for n in item) if isinstance(item, tuple) else _shape(item, seen)
                 for item in value]
    style = (getattr(node, "style", None) or None) if not isinstance(node.value, list) else bool(node.flow_style)  # libyaml writes a plain style as "" where PyYAML writes None
    return (type(node).__name__, node.tag, value, node.start_mark.line, node.start_mark.column, style)


@pytest.mark.parametrize("path", FILES, ids=[str(p).split("fixtures/")[-1] for p in FILES])
def test_both_composers_build_the_same_nodes(path):
    text = Path(path).read_text(encoding="utf-8")
    fast = yaml_lines.compose_all(text, MAX_NODES)
    slow = yaml_lines.compose_all(text, MAX_NODES, fast=False)
    assert [_shape(d) for d in fast] == [_shape(d) for d in slow]


def test_the_library_loads_to_the_same_scenarios_either_way(monkeypatch):
    ids = frozenset(default_catalog().ids())
    texts = [(str(p), Path(p).read_text(encoding="utf-8")) for p in FILES if str(p).endswith(".scenario.yaml")]
    fast = [load_text(t, p, ids) for p, t in texts]
    monkeypatch.setattr(yaml_lines, "_CLoader", None)
    slow = [load_text(t, p, ids) for p, t in texts]
    assert fast == slow


@pytest.mark.parametrize("text", [
    "a: !!int abc\n",                 # an explicit tag: only the Python composer sees it as written
    "a: [1, 2\n",                     # a YAML error: the Python composer's message
    "a: \"\\ud800\"\n",               # an escape libyaml refuses and the Python composer reads
    "x: " + "[" * 2000 + "]" * 2000,  # nesting: libyaml's own limit, the Python composer's words
])
def test_what_the_c_composer_cannot_vouch_for_goes_to_the_python_one(text):
    def outcome(fast: bool):
        try:
            return [_shape(d) for d in yaml_lines.compose_all(text, MAX_NODES, fast=fast)]
        except Exception as e:  # the same exception type and message either way is the point
            return (type(e).__name__, str(e))
    assert outcome(True) == outcome(False)


def test_a_stream_over_the_node_limit_fails_at_the_same_line_as_the_python_composer():
    text = "a:\n" + "  - 1\n" * 50
    with pytest.raises(yaml_lines.TooManyNodes) as fast:
        yaml_lines.compose_all(text, 20)
    with pytest.raises(yaml_lines.TooManyNodes) as slow:
        yaml_lines.compose_all(text, 20, fast=False)
    assert fast.value.line == slow.value.line == 19


def test_the_c_composers_own_count_is_the_python_composers():
    """Without an alias compose_all takes the count the C composer kept for the node limit: it must be the
    one count_values (the Python composer's way of counting) gives."""
    texts = [Path(p).read_text(encoding="utf-8") for p in FILES]
    for text in (t for t in texts if "*" not in t and "!!" not in t):
        loader = yaml_lines._CLoader(text)
        try:
            docs = []
            while loader.check_node():
                docs.append(loader.get_node())
        finally:
            loader.dispose()
        assert loader.values == yaml_lines.count_values(docs)
