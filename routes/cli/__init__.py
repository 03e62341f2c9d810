"""The ``routesim`` command: one module per command. Nothing imports this package."""
