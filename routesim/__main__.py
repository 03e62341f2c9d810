import sys

from routesim.routes.cli.main import entry

sys.exit(entry())
