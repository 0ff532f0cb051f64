"""Calls that intake starts and does not wait for: a bounded set of tasks.

Intake answers an immediate request in a task of its own (``frugalflow.intake.agent``), so
the request takes no second Kafka hop, while intake goes on with the next record. At most
``limit`` calls run at once; the next ``start`` waits for a free slot, which slows intake
down instead of piling up calls (back-pressure, as Faust's buffers do between agents).

A call that raises is not swallowed: the failure is kept and raised in intake's loop
by :meth:`CallsInFlight.raise_failure`, where Faust's agent supervisor sees it, as it
saw a crashed actor of the immediate agent before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("frugalflow")


class CallsInFlight:
    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None

    def __len__(self) -> int:
        return len(self._tasks)

    async def start(self, call: Callable[[], Awaitable[None]]) -> None:
        """Run ``call()`` in a task once a slot is free; returns when it has started."""
        await self._slots.acquire()
        task = asyncio.get_running_loop().create_task(self._run(call))
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        # Here, not in the task: a task cancelled before it ran must free its slot too.
        self._tasks.discard(task)
        self._slots.release()

    def raise_failure(self) -> None:
        """Raise the first failure of a call since the last time, if any."""
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    async def _run(self, call: Callable[[], Awaitable[None]]) -> None:
        try:
            await call()
        except Exception as exc:
            log.exception("an immediate call failed outside its answer: %r", exc)
            if self._failure is None:
                self._failure = exc
