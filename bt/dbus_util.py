"""dbus-fast helpers shared by the BlueZ backend (:mod:`bt.bluez`) and the fake bluetoothd
(:mod:`bt.fake_bluez`)."""
from __future__ import annotations

import asyncio
from typing import Any

from dbus_fast.aio import MessageBus


def consume_result(fut: "asyncio.Future[Any]") -> None:
    """Done-callback for sends nobody awaits: fetching the exception keeps asyncio from logging
    "exception was never retrieved" when the connection dies under a send."""
    if not fut.cancelled():
        fut.exception()


async def disconnect(bus: MessageBus | None, timeout: float = 2) -> None:
    """Close ``bus`` and give dbus-fast up to ``timeout`` seconds to finish, so whoever connects next
    (a restarted fake taking ``org.bluez`` again) finds the old connection gone. Failures while closing
    mean it is gone already."""
    if bus is None or not bus.connected:
        return
    bus.disconnect()
    try:
        # shield: timing out must not cancel dbus-fast's own disconnect future
        await asyncio.wait_for(asyncio.shield(bus.wait_for_disconnect()), timeout)
    except (asyncio.CancelledError, Exception):
        pass
