"""routesim: simulate how a phone negotiates audio routes with Bluetooth and wired accessories, and what an
iOS app's audio session sees while that happens.

One import name holds everything: ``routesim.profiles`` (what accessories are), ``routesim.bt`` (where
they come from), ``routesim.routes`` (the phone, audio I/O, scenarios, live rigs, the command line) and
``routesim.fixtures`` (the model catalog and the bundled scenarios). This module and ``routesim.events``
(the accessory events and negotiation commands that ``bt`` and the phone share) and ``routesim.clock``
are the package's neutral face.
"""
__version__ = "0.1.0"
