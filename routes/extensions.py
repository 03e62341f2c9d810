"""Where the models built on top of the session register with the scenario runner.

Each extension module exposes ``attach(run)`` (creates its per-scenario state, hooks into
``run.phone`` through ``observers``, ``listeners`` or ``activation_guards``, and serves its ``expect``
key through ``run.extras``) and a ``HANDLERS`` dict of step name -> handler(run, arg).
"""
from __future__ import annotations

import importlib

from . import runner

EXTENSION_MODULES: tuple[str, ...] = ()
EXTENSION_MODULES += ("routes.engine", "routes.recorder", "routes.capture", "routes.audio_check")  # audio I/O (#6)
EXTENSION_MODULES += ("routes.callkit", "routes.cellular")  # calls (#5); callkit before cellular


def load() -> None:
    for name in EXTENSION_MODULES:
        module = importlib.import_module(name)
        if module.attach not in runner.EXTENSIONS:
            runner.EXTENSIONS.append(module.attach)
        runner.HANDLERS.update(module.HANDLERS)


load()
