"""Serves the ``audio:`` expectation (docs/audio-expectation.md) from routes.signal for each run."""
from __future__ import annotations

from typing import Any


def attach(run) -> None:
    def audio(spec: dict[str, Any]) -> dict[str, Any]:
        from routesim.routes.audio.signal import audio_view  # numpy/scipy only when a scenario measures audio

        return audio_view(run.phone, spec)

    run.extras["audio"] = audio


