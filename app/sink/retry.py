"""Retry a Postgres operation until it succeeds.

The agents that write to Postgres (cost sink, feedback) never ack what is not stored, so
while Postgres is away they wait here: capped exponential backoff, each failure counted
in ``frugalflow_sink_failures_total`` and logged without the DSN.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from frugalflow import metrics

log = logging.getLogger("frugalflow")

T = TypeVar("T")

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


async def until_done(what: str, attempt: Callable[[], Awaitable[T]]) -> T:
    delay = FIRST_BACKOFF_S
    while True:
        try:
            return await attempt()
        except Exception as exc:  # refused, DNS, auth, timeout, connection lost, pool closed
            metrics.SINK_FAILURES.inc()
            log.warning("%s failed (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_S)
