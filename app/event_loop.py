"""The worker's event loop: uvloop where it is installed, the standard asyncio loop otherwise.

Why: a worker spends about a third of its CPU in the event loop and the socket transports
under aiokafka (wakeups, callbacks, futures, reads and writes), and uvloop does that work
in C. The code is the same on both loops; ``FRUGALFLOW_EVENT_LOOP=asyncio`` picks the
standard one (to debug with asyncio's tools, or to compare).
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Literal

EventLoop = Literal["auto", "uvloop", "asyncio"]


class EventLoopError(RuntimeError):
    """The chosen event loop cannot be used here."""


def resolve(choice: EventLoop) -> Literal["uvloop", "asyncio"]:
    """The loop ``choice`` means on this machine."""
    if choice == "auto":
        return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    if choice == "uvloop" and not importlib.util.find_spec("uvloop"):
        raise EventLoopError("FRUGALFLOW_EVENT_LOOP=uvloop, but uvloop is not installed")
    return choice


def use_event_loop(choice: EventLoop) -> Literal["uvloop", "asyncio"]:
    """Make every loop this process creates from now on the chosen kind; returns the kind."""
    kind = resolve(choice)
    if kind == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    else:
        asyncio.set_event_loop_policy(None)  # the standard policy
    return kind
