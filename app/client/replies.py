"""Correlation of answers with requests: one future per request id, kept until claimed.

A request's future is created when it is published and stays after a timeout, so an
answer that arrives late still resolves it and ``wait`` returns it at once. Resolved
and waiting entries are bounded (oldest forgotten first); a forgotten answer is still on
``llm.responses``.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from frugalflow.client.answer import Answer
from frugalflow.client.errors import ClientError

MAX_TRACKED = 100_000


class Replies:
    def __init__(self, max_tracked: int = MAX_TRACKED, max_queued: int = MAX_TRACKED) -> None:
        self._futures: OrderedDict[str, asyncio.Future[Answer]] = OrderedDict()
        self._max = max_tracked
        self._submitted: set[str] = set()  # fire-and-forget ids: their answers are queued
        self.queue: asyncio.Queue[Answer] = asyncio.Queue(max_queued)

    def expect(self, request_id: str, *, queued: bool) -> asyncio.Future[Answer]:
        future = self._futures.get(request_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._futures[request_id] = future
            while len(self._futures) > self._max:
                old_id, old = self._futures.popitem(last=False)
                self._submitted.discard(old_id)
                if not old.done():
                    old.cancel()
        if queued:
            self._submitted.add(request_id)
        return future

    def pending(self, request_id: str) -> bool:
        future = self._futures.get(request_id)
        return future is not None and not future.done()

    def future(self, request_id: str) -> asyncio.Future[Answer] | None:
        return self._futures.get(request_id)

    def resolve(self, answer: Answer) -> bool:
        """Deliver an answer of ours; False when no request of this client has that id."""
        future = self._futures.get(answer.request_id)
        if future is None:
            return False
        if not future.done():
            future.set_result(answer)
        if answer.request_id in self._submitted:
            self._submitted.discard(answer.request_id)
            if self.queue.full():  # nobody reads answers(): drop the oldest, keep the newest
                self.queue.get_nowait()
            self.queue.put_nowait(answer)
        return True

    def fail(self, request_id: str, error: ClientError) -> None:
        future = self._futures.get(request_id)
        if future is not None and not future.done():
            future.set_exception(error)
            future.exception()  # retrieved here: nobody may await a fire-and-forget id

    def forget(self, request_id: str) -> None:
        self._futures.pop(request_id, None)
        self._submitted.discard(request_id)

    def close(self, error: ClientError) -> None:
        for request_id in list(self._futures):
            self.fail(request_id, error)
