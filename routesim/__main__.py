import sys

from routesim.routes.cli.main import main

sys.exit(main())
