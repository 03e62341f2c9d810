"""Where accessories come from: virtual headsets, BlueZ over D-Bus, BLE advertisements.

The only package that imports ``dbus_fast`` or ``bleak``. Everything it produces is an
:mod:`bt.events` event; everything it is asked to do is a :mod:`bt.events` command.
"""
