"""The models built on top of the session that scenarios can drive: CallKit and cellular calls, the
engine, the recorder, the capture session and the audio measurement.

Each module exposes ``attach(run)`` (creates its per-scenario state, hooks into ``run.phone`` through
``observers``, ``listeners`` or ``activation_guards``, and serves its ``expect`` key through
``run.extras``) and a ``HANDLERS`` dict of step name -> handler(run, arg). The runner reads the two
tables below; the modules know nothing of the runner.
"""
from __future__ import annotations

from typing import Any, Callable

from routesim.routes.audio import audio_check, capture, engine, recorder
from routesim.routes.phone import callkit, cellular

# Order matters: callkit attaches before cellular, which hooks into the call centre.
MODULES = (engine, recorder, capture, audio_check, callkit, cellular)

EXTENSIONS: tuple[Callable[[Any], None], ...] = tuple(m.attach for m in MODULES)
EXTENSION_HANDLERS: dict[str, Callable[[Any, Any], None]] = {
    name: handler for m in MODULES for name, handler in m.HANDLERS.items()
}
