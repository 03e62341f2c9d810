"""What several commands share: where the bundled scenarios are, and the catalog with the user's quirks."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def bundled_scenarios() -> Path:
    return Path(str(resources.files("routesim.fixtures") / "scenarios"))


def catalog_for(args):
    """The bundled catalog, or one with the quirk folders of ``--quirks`` layered over it. Commands load it
    after their imports, so start-up is over when it returns (``collector.settle``)."""
    from routesim.profiles.catalog import default_catalog, load_catalog
    from routesim.routes.cli import collector

    dirs = [Path(d) for d in getattr(args, "quirks", None) or []]
    catalog = load_catalog(dirs) if dirs else default_catalog()
    collector.settle()
    return catalog


def point_at_devnull(stream) -> None:
    """After the reader of a pipe went away (``routesim run | head -1``): send the stream's descriptor to
    /dev/null, so nothing more (not even the interpreter's final flush) raises BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
