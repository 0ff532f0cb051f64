"""``SyncClient``: the client for scripts and synchronous code.

The asynchronous client runs on an event loop in a daemon thread; each method submits
a coroutine to it and waits. Use it as a context manager:

    with SyncClient(ClientConfig(bootstrap_servers="localhost:9092", client_id="etl")) as c:
        print(c.complete("What is the capital of France?", tenant_id="acme").content)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Coroutine
from typing import Any, TypeVar, cast

from frugalflow.client.answer import Answer
from frugalflow.client.client import FrugalFlowClient
from frugalflow.client.config import ClientConfig
from frugalflow.client.errors import AnswerTimeout
from frugalflow.client.requests import MessagesIn
from frugalflow.client.track import CostTracker

T = TypeVar("T")


class SyncClient:
    def __init__(self, config: ClientConfig) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="frugalflow-client", daemon=True
        )
        self._thread.start()
        self._client = FrugalFlowClient(config)

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)

    def start(self) -> None:
        try:
            self._run(self._client.start())
        except BaseException:
            self.close()  # no loop thread left behind when Kafka is unreachable
            raise

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._client.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    def __enter__(self) -> SyncClient:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def instance_id(self) -> str:
        return self._client.instance_id

    def complete(self, messages: MessagesIn, *, tenant_id: str, **options: Any) -> Answer:
        """As ``FrugalFlowClient.complete``; raises the same exceptions."""
        return self._run(self._client.complete(messages, tenant_id=tenant_id, **options))

    def submit(self, messages: MessagesIn, *, tenant_id: str, **options: Any) -> str:
        return self._run(self._client.submit(messages, tenant_id=tenant_id, **options))

    def answer(self, request_id: str, *, timeout_s: float | None = None) -> Answer:
        return self._run(self._client.answer(request_id, timeout_s=timeout_s))

    def next_answer(self, timeout_s: float) -> Answer:
        """The next answer to a ``submit``-ted request; ``AnswerTimeout`` if none comes."""

        async def next_one() -> Answer:
            iterator = cast(AsyncGenerator[Answer, None], self._client.answers())
            try:
                return await asyncio.wait_for(anext(iterator), timeout_s)
            except TimeoutError:
                raise AnswerTimeout("(any submitted)", "*", timeout_s) from None
            finally:
                await iterator.aclose()

        return self._run(next_one())

    def track_cost(self, **options: Any) -> CostTracker:
        return self._client.track_cost(**options)
