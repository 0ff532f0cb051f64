"""The worker's event loop: uvloop where it is installed, the standard asyncio loop otherwise.

Why: uvloop does the loop's and the socket transports' work in C. With the same code,
the immediate path (an HTTP call and two Kafka hops per request) measured about 15 % less
CPU per request on it, and the batch path the same as on the standard loop (README,
Performance). ``FRUGALFLOW_EVENT_LOOP=asyncio`` picks the standard loop (to debug with
asyncio's tools, or to compare).
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
