"""Catalog schema additions: advert.worn (how adverts say "worn") and ports.input_rate, validated with a
one-line error that names file, line and what would be right."""
from __future__ import annotations

from importlib import resources

import pytest

from routesim.profiles.catalog import CatalogError, load_models_dir


def _models_dir(tmp_path, model_id: str, replace: tuple[str, str] | None = None, append: str = ""):
    text = (resources.files("routesim.fixtures") / "models" / f"{model_id}.yaml").read_text(encoding="utf-8")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    (tmp_path / f"{model_id}.yaml").write_text(text + append, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("model_id,replace,append,message", [
    ("airpods-max", ("worn: status-bit-5", "worn: bit-5"), "",
     "field 'advert.worn': unknown worn rule 'bit-5'"),
    ("airpods-max-2", None, "  color: blue\n", "field 'advert.color': unknown key"),
    ("carplay", ("input_rate: {value: 24000,", "input_rate: {value: 22000,"), "",
     "field 'ports.input_rate': 22000 Hz is not an input rate iOS reports"),
])
def test_bad_additions_are_one_line_errors(tmp_path, model_id, replace, append, message):
    with pytest.raises(CatalogError) as e:
        load_models_dir(_models_dir(tmp_path, model_id, replace, append))
    (line,) = e.value.errors
    assert f"{model_id}.yaml:" in line and message in line


@pytest.mark.parametrize("model_id,worn,rate", [
    ("airpods-max", "status-bit-5", None), ("airpods-max-usbc", "status-bit-5", None),
    ("airpods-max-2", "earcup-bits", None), ("beats-solo-4", None, None), ("carplay", None, 24000),
])
def test_additions_load(tmp_path, model_id, worn, rate):
    (model,) = load_models_dir(_models_dir(tmp_path, model_id))
    assert (model.advert_worn, model.input_rate, model.has_head_detection) == (worn, rate, worn is not None)
