"""scripts/mutation mirrors the package as it is imported: each scored module maps to the path mutmut
must see for its mutants to carry the module's import name (docs/mutation.md)."""
from __future__ import annotations

import importlib
import importlib.util
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
mutation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutation)
DIRS = mutation.package_dirs(tomllib.loads((ROOT / "pyproject.toml").read_text()))


@pytest.mark.parametrize("repo_path", mutation.MODULES)
def test_each_scored_module_maps_to_its_import_name(repo_path):
    staged = mutation.installed_path(repo_path, DIRS)
    assert staged.parts[0] == "src"
    name = ".".join(staged.with_suffix("").parts[1:])
    module = importlib.import_module(name)  # the mirrored path is the name routesim is imported by
    assert Path(module.__file__).resolve() == (ROOT / repo_path).resolve()


def test_a_path_outside_the_package_is_refused():
    with pytest.raises(SystemExit, match="not inside the package folders"):
        mutation.installed_path("tests/test_cli.py", DIRS)


def test_the_tests_left_out_of_mutation_runs_exist():
    assert all((ROOT / p.partition("::")[0]).exists() for p in mutation.NOT_FOR_MUTANTS)


SELECT = ROOT / "scripts" / "mutation_select.py"
TOY_TESTS = '''
import time
def test_slow(): time.sleep(0.2)
def test_fast(): pass
def test_not_wanted(): raise AssertionError("deselected tests must not run")
def test_middle(): pass
'''


def _run_selected(tmp_path, *ids, durations, mutant="some.mutant_1"):
    """pytest in a toy tree, as a mutmut worker runs it: node ids as arguments, the plugin loaded."""
    import json
    import subprocess
    import sys

    (tmp_path / "test_toy.py").write_text(TOY_TESTS)
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": durations}))
    env = {"PYTHONPATH": str(SELECT.parent), "PATH": "/usr/bin:/bin", "MUTANT_UNDER_TEST": mutant}
    return subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "mutation_select", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), *ids], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_a_mutants_tests_run_by_file_and_fastest_first(tmp_path):
    ids = ["test_toy.py::test_slow", "test_toy.py::test_middle", "test_toy.py::test_fast"]
    run = _run_selected(tmp_path, *ids, durations={ids[0]: 0.2, ids[1]: 0.01, ids[2]: 0.001})
    assert run.returncode == 0, run.stdout + run.stderr
    ran = [line.split()[0] for line in run.stdout.splitlines() if line.endswith("PASSED") or " PASSED " in line]
    assert ran == ["test_toy.py::test_fast", "test_toy.py::test_middle", "test_toy.py::test_slow"]
    assert "1 deselected" in run.stdout


def test_an_id_that_names_no_test_stops_the_run(tmp_path):
    run = _run_selected(tmp_path, "test_toy.py::test_fast", "test_toy.py::test_gone", durations={})
    assert run.returncode == 4  # a usage error, so mutmut cannot count the mutant as killed or surviving
    assert "1 of 2 test ids matched no collected test" in run.stdout + run.stderr


def test_a_plain_run_is_left_alone(tmp_path):
    run = _run_selected(tmp_path, "test_toy.py", durations={})
    assert run.returncode == 1 and "deselected tests must not run" in run.stdout


def test_tests_that_killed_a_mutant_run_first_next_time_cheapest_first(tmp_path):
    ids = ["test_toy.py::test_slow", "test_toy.py::test_middle", "test_toy.py::test_fast"]
    (tmp_path / "mutation-killers.txt").write_text("test_toy.py::test_slow\tother.mutant_3\n"
                                                   "test_toy.py::test_slow\tother.mutant_4\n"
                                                   "test_toy.py::test_middle\tother.mutant_5\n")
    run = _run_selected(tmp_path, *ids, durations={ids[0]: 0.2, ids[1]: 0.01, ids[2]: 0.001})
    ran = [line.split()[0] for line in run.stdout.splitlines() if " PASSED" in line]
    assert ran == ["test_toy.py::test_middle", "test_toy.py::test_slow", "test_toy.py::test_fast"]


def test_the_failing_test_of_a_mutants_run_is_recorded_as_its_killer(tmp_path):
    _run_selected(tmp_path, "test_toy.py::test_fast", "test_toy.py::test_not_wanted", durations={})
    assert (tmp_path / "mutation-killers.txt").read_text() == "test_toy.py::test_not_wanted\tsome.mutant_1\n"
    (tmp_path / "mutation-killers.txt").unlink()
    _run_selected(tmp_path, "test_toy.py", durations={})  # a plain run records nothing
    assert not (tmp_path / "mutation-killers.txt").exists()


@pytest.mark.parametrize("recheck, expected", [
    (False, {"m.x__f__mutmut_1": 1, "m.x__f__mutmut_2": 0, "m.x__f__mutmut_3": 33, "m.x__f__mutmut_4": None}),
    (True, {"m.x__f__mutmut_1": 1, "m.x__f__mutmut_2": None, "m.x__f__mutmut_3": None, "m.x__f__mutmut_4": None}),
])
def test_a_kept_tree_keeps_only_results_and_reruns_survivors_when_asked(tmp_path, monkeypatch, recheck, expected):
    """mutmut would run a kept tree's earlier copies of code and data: only the results may stay."""
    import json

    work = tmp_path / ".mutation"
    kept = work / "mutants" / "src" / "routesim"
    kept.mkdir(parents=True)
    for name in ("model.py", "model.py.spans", "catalog.yaml"):
        (kept / name).write_text("old")
    codes = {"m.x__f__mutmut_1": 1, "m.x__f__mutmut_2": 0, "m.x__f__mutmut_3": 33, "m.x__f__mutmut_4": None}
    (kept / "model.py.meta").write_text(json.dumps({"exit_code_by_key": codes, "hash_by_function_name": {}}))
    (work / "mutants" / "mutmut-stats.json").write_text("{}")
    monkeypatch.setattr(mutation, "WORK", work)
    mutation.refresh_kept(recheck)
    assert sorted(p.name for p in kept.iterdir()) == ["model.py.meta"]
    assert not (work / "mutants" / "mutmut-stats.json").exists()
    assert json.loads((kept / "model.py.meta").read_text())["exit_code_by_key"] == expected
