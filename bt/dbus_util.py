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


_gone: dict[int, "asyncio.Task[Any]"] = {}  # id(bus) -> its task, until the bus is gone (no weakrefs to it)


def disconnected(bus: MessageBus) -> "asyncio.Task[Any]":
    """One task per bus that ends when the bus disconnects. Wait on it through ``asyncio.shield``:
    a fresh ``wait_for_disconnect()`` per wait leaves a task behind each time, and when the bus later
    dies with an error each of them logs "Task exception was never retrieved"."""
    key = id(bus)
    task = _gone.get(key)
    if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(bus.wait_for_disconnect())
        task.add_done_callback(consume_result)
        task.add_done_callback(lambda t: _gone.pop(key, None) if _gone.get(key) is t else None)
        _gone[key] = task
    return task


async def disconnect(bus: MessageBus | None, timeout: float = 2) -> None:
    """Close ``bus`` and give dbus-fast up to ``timeout`` seconds to finish, so whoever connects next
    (a restarted fake taking ``org.bluez`` again) finds the old connection gone. Failures while closing
    mean it is gone already."""
    if bus is None or not bus.connected:
        return
    bus.disconnect()
    try:
        # shield: timing out must not cancel dbus-fast's own disconnect future
        await asyncio.wait_for(asyncio.shield(disconnected(bus)), timeout)
    except (asyncio.CancelledError, Exception):
        pass
