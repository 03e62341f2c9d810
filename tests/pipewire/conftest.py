"""Fixtures for the tests against the real Linux audio stack (tests/pipewire/rig.py has them)."""
from tests.pipewire.rig import NOT_RUN_HERE, audio_bus, audio_fake, audio_rig, audio_stack  # noqa: F401


def pytest_terminal_summary(terminalreporter):
    """What could not run here is said in every run's output, not only in the docs."""
    for line in dict.fromkeys(NOT_RUN_HERE):
        terminalreporter.write_line(f"routesim: not run here: {line}", yellow=True)
