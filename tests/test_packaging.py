"""Packaging: every folder of the package tree is in pyproject's package list under the routesim name, and
the bundled data is found through the package, not through a path relative to the checkout."""
from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _folders_on_disk() -> set[str]:
    names = set()
    for package, folder in SETUPTOOLS["package-dir"].items():
        base = ROOT / folder
        for d in [base, *base.rglob("*")]:
            if d.is_dir() and "__pycache__" not in d.parts and all(p.isidentifier() for p in d.relative_to(base).parts):
                if any(d.glob("*.py")) or any(d.glob("*.yaml")) or d == base:
                    names.add(".".join([package, *d.relative_to(base).parts]))
    return names


def test_every_package_folder_is_listed_under_routesim():
    assert set(SETUPTOOLS["packages"]) == _folders_on_disk()


def test_one_top_level_name():
    assert {p.split(".")[0] for p in SETUPTOOLS["packages"]} == {"routesim"}
    assert set(SETUPTOOLS["package-dir"]) == {"routesim", "routesim.routes", "routesim.bt", "routesim.profiles",
                                              "routesim.fixtures"}


def test_entry_points_name_routesim_modules():
    assert PYPROJECT["project"]["scripts"]["routesim"].startswith("routesim.")
    assert PYPROJECT["project"]["entry-points"]["pytest11"]["routesim"].startswith("routesim.")


def test_bundled_data_comes_from_the_package():
    data = resources.files("routesim.fixtures")
    assert (data / "models" / "_catalog.yaml").is_file()
    assert any(p.name.endswith(".scenario.yaml") for p in (data / "scenarios" / "audio-io").iterdir())


def test_license_file_is_the_one_the_metadata_names():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (ROOT / PYPROJECT["project"]["license-files"][0]).read_text()
    assert "Apache License" in text and "Version 2.0" in text
