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
