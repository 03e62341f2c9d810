"""The models built on top of the session that scenarios can drive: CallKit and cellular calls, the
engine, the recorder, the capture session and the audio measurement.

Each module exposes ``attach(run)`` (creates its per-scenario state, hooks into ``run.phone`` through
``observers``, ``listeners`` or ``activation_guards``, and serves its ``expect`` key through
``run.extras``) and a ``HANDLERS`` dict of step name -> handler(run, arg). ``routesim.Phone`` attaches
them (routesim.api.parts) and has a method per step; the runner falls back to a module's handler only
for a step the phone has no method for. The modules know nothing of the runner.
"""
from __future__ import annotations

from typing import Any, Callable

from routesim.api.parts import EXTENSION_MODULES as MODULES  # one list: the API phone attaches these

EXTENSIONS: tuple[Callable[[Any], None], ...] = tuple(m.attach for m in MODULES)
EXTENSION_HANDLERS: dict[str, Callable[[Any, Any], None]] = {
    name: handler for m in MODULES for name, handler in m.HANDLERS.items()
}
