"""routesim's public Python API (docs/python-api.md). Import the names from ``routesim`` itself; the modules
here are ``phone`` (the phone, its accessories and awaitables), ``records`` (timeline entries and the
failure of an expectation), ``rig`` (a live rig on BlueZ), ``fake`` (a fake bluetoothd on a private bus)
and ``parts`` (the models attached to a phone). Nothing is imported here, so a virtual phone never loads
the D-Bus client."""
