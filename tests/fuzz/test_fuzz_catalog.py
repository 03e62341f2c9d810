"""Malformed model and quirk files: a CatalogError with one FILE:LINE line per problem, or a catalog;
``routesim models --quirks DIR`` exits 0 or 2 with those lines; never a traceback."""
from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

from hypothesis import given

from routesim.profiles.catalog import CatalogError, load_models_dir
from tests.fuzz.promise import problem_line, run_cli
from tests.fuzz.settings import examples
from tests.fuzz.strategies import mutated_text

MODEL = (resources.files("routesim.fixtures") / "models" / "airpods-pro-2.yaml").read_text(encoding="utf-8")
QUIRKS = (resources.files("routesim.fixtures") / "quirks" / "ios-17.yaml").read_text(encoding="utf-8")


@examples(suite=30)
@given(data=mutated_text(MODEL))
def test_a_mutated_model_file_is_a_catalog_error_or_a_model(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "airpods-pro-2.yaml"
        path.write_bytes(data)
        try:
            models = load_models_dir(Path(d))
        except CatalogError as e:
            assert e.errors
            for line in e.errors:
                assert "\n" not in line and problem_line(line, str(path)), line
        else:
            assert [m.id for m in models] == ["airpods-pro-2"]


@examples(suite=8)  # each loads the whole bundled catalog under the folder
@given(data=mutated_text(QUIRKS))
def test_a_mutated_quirk_folder_keeps_the_promise(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "mine.yaml"
        path.write_bytes(data)
        run_cli(["models", "--quirks", d], allowed=(0, 2))
