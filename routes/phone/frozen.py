"""Quicker construction for the frozen, slotted dataclasses the per-step path makes many of.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__`` (it must get past
the class's own ``__setattr__``, which refuses). Setting a slot through its descriptor does the same in
about half the time; a route decision makes several such values (ports, links, the route, the decision)
and a step makes states and devices. Everything else the dataclass generated (``__eq__``, ``__hash__``,
``__repr__``, ``replace``, refusing assignment) stays as it was.
"""
from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T", bound=type)


def quick_init(cls: T) -> T:
    """Give ``cls`` (a frozen, slotted dataclass without ``__post_init__`` or ``init=False`` fields) an
    ``__init__`` with the same parameters and defaults that fills the slots through their descriptors."""
    fields = dataclasses.fields(cls)
    if (not cls.__dataclass_params__.frozen or "__slots__" not in cls.__dict__
            or hasattr(cls, "__post_init__") or any(not f.init or f.kw_only for f in fields)):
        raise TypeError(f"quick_init needs a frozen, slotted dataclass with plain fields, not {cls.__name__}")
    env: dict[str, object] = {"_MISSING": dataclasses.MISSING}
    params, body = [], []
    for f in fields:
        env[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"    if {f.name} is _MISSING:\n        {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
    body += [f"    _set_{f.name}(self, {f.name})" for f in fields]
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(source, env)  # noqa: S102 - the text is built above from the class's own field names
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init
    return cls
