"""quick_init: the frozen values of the per-step path built through their slot descriptors, exactly as the
dataclass's own __init__ builds them."""
from __future__ import annotations

import dataclasses

import pytest

from routesim.routes.phone.frozen import quick_init
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.policy import Decision, Link
from routesim.routes.phone.ports import SPEAKER, Port, Route


@dataclasses.dataclass(frozen=True, slots=True)
class _Generated:
    """The same fields as _Quick, built by the dataclass's own __init__: the reference."""
    a: str
    b: int = 3
    c: dict = dataclasses.field(default_factory=dict)


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class _Quick:
    a: str
    b: int = 3
    c: dict = dataclasses.field(default_factory=dict)


# (how it is called, as positional args, keyword args)
CALLS = [
    ("required only", ("x",), {}),
    ("positional default", ("x", 5), {}),
    ("keyword default", ("x",), {"b": 7}),
    ("factory given", ("x",), {"c": {"k": 1}}),
    ("all keywords", (), {"a": "y", "b": 1, "c": {}}),
]


@pytest.mark.parametrize("args,kwargs", [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_quick_init_fills_the_fields_as_the_generated_init_does(args, kwargs):
    quick, generated = _Quick(*args, **kwargs), _Generated(*args, **kwargs)
    assert dataclasses.astuple(quick) == dataclasses.astuple(generated)
    assert repr(quick).replace("_Quick", "_Generated") == repr(generated)


def test_quick_init_gives_each_value_its_own_default_factory_result():
    assert _Quick("x").c is not _Quick("x").c


@pytest.mark.parametrize("args,kwargs,error", [
    ((), {}, "missing 1 required positional argument: 'a'"),
    (("x",), {"d": 1}, "unexpected keyword argument 'd'"),
    (("x", 1, {}, 2), {}, "takes from 2 to 4 positional arguments but 5 were given"),
], ids=["missing", "unknown keyword", "too many"])
def test_quick_init_refuses_wrong_calls_like_any_init(args, kwargs, error):
    with pytest.raises(TypeError, match=error):
        _Quick(*args, **kwargs)


def test_values_built_by_quick_init_stay_frozen_hashable_and_replaceable():
    port = Port("bluetoothA2DP", "Pods", "AA-tacl", 2, "pods")
    with pytest.raises(dataclasses.FrozenInstanceError):
        port.name = "other"  # type: ignore[misc]
    assert port == Port("bluetoothA2DP", "Pods", "AA-tacl", 2, "pods") and hash(port) == hash(
        Port("bluetoothA2DP", "Pods", "AA-tacl", 2, "pods"))
    assert dataclasses.replace(port, owner=None).owner is None
    decision = Decision(Route((), (SPEAKER,)))
    assert (decision.links, decision.sample_rate, decision.rules, decision.wanted) == ({}, 48000, (), None)
    assert Link("hfp", "msbc").high_quality is False
    assert Notification("routeChange").fields == {} and Notification("x").fields is not Notification("x").fields


@pytest.mark.parametrize("cls", [
    dataclasses.dataclass(frozen=True)(type("NoSlots", (), {"__annotations__": {"a": int}})),
    dataclasses.dataclass(slots=True)(type("NotFrozen", (), {"__annotations__": {"a": int}})),
], ids=["without slots", "not frozen"])
def test_quick_init_refuses_classes_it_cannot_speed_up(cls):
    with pytest.raises(TypeError, match="frozen, slotted dataclass"):
        quick_init(cls)
