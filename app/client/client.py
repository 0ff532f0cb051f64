"""``FrugalFlowClient``: publish requests to ``llm.requests`` and get their answers.

One producer, and one reply consumer shared by every call: it reads ``llm.responses``
and ``llm.dead-letter`` from the moment the client started (no consumer group, every
partition) and hands each answer of this client to the request waiting for it. Answers
are recognised by the request id and by two keys the client adds to the request's
``metadata``, which the pipeline copies to the answer: ``frugalflow_client`` (the
service) and ``frugalflow_instance`` (this client object).

    async with FrugalFlowClient(ClientConfig(bootstrap_servers=..., client_id="faq")) as c:
        answer = await c.complete("Hello?", tenant_id="acme")
        request_id = await c.submit("Summarise ...", tenant_id="acme", priority="batch")
        async for answer in c.answers(): ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from frugalflow.client.answer import Answer
from frugalflow.client.config import ClientConfig
from frugalflow.client.errors import (
    AnswerTimeout,
    ClientError,
    ClientNotStarted,
    InvalidRequest,
    PublishError,
)
from frugalflow.client.replies import MAX_TRACKED, Replies
from frugalflow.client.requests import (
    CLIENT_KEY,
    INSTANCE_KEY,
    MessagesIn,
    build_request,
    encode_checked,
    new_request_id,
)
from frugalflow.client.track import CostTracker
from frugalflow.events import CostEvent, DeadLetter

log = logging.getLogger("frugalflow.client")

Priority = Literal["immediate", "batch"]
DEADLINE_MARGIN_S = 30.0  # complete() waits for a deadline's answer this much longer


class FrugalFlowClient:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.instance_id = f"{config.client_id}-{uuid.uuid4().hex[:12]}"
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._replies = Replies()
        self._tenants: dict[str, str] = {}  # request id → tenant (for timeout messages)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Task[None]] = set()

    # --- life cycle

    async def start(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.config.bootstrap_servers, acks="all")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.config.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            client_id=self.instance_id,
        )
        await producer.start()
        try:
            await consumer.start()
            await self._assign_from_end(producer, consumer)
        except BaseException:
            await producer.stop()
            await consumer.stop()
            raise
        self._producer, self._consumer = producer, consumer
        self._loop = asyncio.get_running_loop()
        self._reader = asyncio.get_running_loop().create_task(self._read(consumer))

    async def stop(self) -> None:
        if self._background:  # cost events sent from synchronous code on this loop
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._replies.close(ClientNotStarted())
        for part in (self._producer, self._consumer):
            if part is not None:
                await part.stop()
        self._producer = self._consumer = None

    async def __aenter__(self) -> FrugalFlowClient:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # --- requests

    async def complete(
        self,
        messages: MessagesIn,
        *,
        tenant_id: str,
        model: str = "auto",
        priority: Priority = "immediate",
        deadline_s: int | None = None,
        max_tokens: int | None = None,
        timeout_s: float | None = None,
        request_id: str | None = None,
        system: str | None = None,
        provider: str | None = None,
        service: str | None = None,
        use_case: str | None = None,
        user_id: str | None = None,
        temperature: float | None = None,
        cache_ttl_s: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Answer:
        """Publish a request and wait for its answer.

        The keyword arguments are the request's contract fields (``llm.requests``); those
        left None are not sent. Raises ``InvalidRequest`` (intake's reason code) before publishing,
        or when intake dead-letters it; ``AnswerTimeout`` after ``timeout_s`` (default:
        the config's, or the request's ``deadline_s`` plus a margin when that is longer),
        after which ``answer(request_id)`` can still await the answer.
        """
        fields = {
            "model": model, "priority": priority, "deadline_s": deadline_s,
            "max_tokens": max_tokens, "system": system, "provider": provider,
            "service": service, "use_case": use_case, "user_id": user_id,
            "temperature": temperature, "cache_ttl_s": cache_ttl_s, "metadata": metadata,
        }  # fmt: skip
        rid = await self._publish(messages, tenant_id, request_id, fields, queued=False)
        if timeout_s is None and deadline_s is not None:
            timeout_s = max(self.config.timeout_s, deadline_s + DEADLINE_MARGIN_S)
        return await self.answer(rid, timeout_s=timeout_s)

    async def submit(
        self,
        messages: MessagesIn,
        *,
        tenant_id: str,
        model: str = "auto",
        priority: Priority = "batch",
        deadline_s: int | None = None,
        max_tokens: int | None = None,
        request_id: str | None = None,
        system: str | None = None,
        provider: str | None = None,
        service: str | None = None,
        use_case: str | None = None,
        user_id: str | None = None,
        temperature: float | None = None,
        cache_ttl_s: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Publish and return the request id at once; the answer comes from ``answers()``."""
        fields = {
            "model": model, "priority": priority, "deadline_s": deadline_s,
            "max_tokens": max_tokens, "system": system, "provider": provider,
            "service": service, "use_case": use_case, "user_id": user_id,
            "temperature": temperature, "cache_ttl_s": cache_ttl_s, "metadata": metadata,
        }  # fmt: skip
        return await self._publish(messages, tenant_id, request_id, fields, queued=True)

    async def answer(self, request_id: str, *, timeout_s: float | None = None) -> Answer:
        """The answer to a request this client published (at once when it is already in)."""
        future = self._replies.future(request_id)
        if future is None:
            raise ClientError(f"request {request_id!r} was not published by this client")
        timeout = self.config.timeout_s if timeout_s is None else timeout_s
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise AnswerTimeout(request_id, self._tenants.get(request_id, "?"), timeout) from None

    async def answers(self) -> AsyncIterator[Answer]:
        """Answers to the requests this client ``submit``-ted, in arrival order, forever."""
        self._running()
        while True:
            yield await self._replies.queue.get()

    async def publish_cost(self, event: CostEvent) -> None:
        """Send a direct call's cost event to ``llm.direct-costs`` (what ``track_cost``
        does): a worker books it in the tenant's budgets, then the sink stores it."""
        producer = self._running()
        await producer.send_and_wait(
            self.config.topic("llm.direct-costs"),
            key=event.tenant_id.encode(),
            value=event.model_dump_json().encode(),
        )

    def publish_cost_from_sync(self, event: CostEvent, timeout_s: float = 30.0) -> None:
        """``publish_cost`` from synchronous code: from another thread it waits for Kafka;
        on the client's own loop (a sync function called by async code) it is sent in the
        background and awaited by ``stop()``."""
        loop = self._loop
        if loop is None or self._producer is None:
            raise ClientNotStarted()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task = loop.create_task(self.publish_cost(event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        asyncio.run_coroutine_threadsafe(self.publish_cost(event), loop).result(timeout_s)

    def track_cost(
        self,
        *,
        tenant_id: str,
        service: str | None = None,
        use_case: str | None = None,
        strict: bool = False,
    ) -> CostTracker:
        """A decorator / context manager that books direct SDK calls
        (``frugalflow.client.track``)."""
        return CostTracker(
            self, tenant_id=tenant_id, service=service, use_case=use_case, strict=strict
        )

    # --- internals

    def _running(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise ClientNotStarted()
        return self._producer

    async def _publish(
        self,
        messages: MessagesIn,
        tenant_id: str,
        request_id: str | None,
        options: dict[str, Any],
        *,
        queued: bool,
    ) -> str:
        producer = self._running()
        rid = request_id or new_request_id()
        if options.get("max_tokens") is None:
            options["max_tokens"] = self.config.max_tokens
        marker = {CLIENT_KEY: self.config.client_id, INSTANCE_KEY: self.instance_id}
        body = build_request(
            messages, tenant_id=tenant_id, request_id=rid, marker=marker, options=options
        )
        key, value, _ = encode_checked(
            body,
            topic=self.config.topic("llm.requests"),
            max_value_bytes=self.config.max_value_bytes,
        )
        if self._replies.future(rid) is not None:
            raise InvalidRequest(
                "duplicate_request_id", "this client already published that request id", rid
            )
        self._replies.expect(rid, queued=queued)
        self._tenants[rid] = tenant_id
        while len(self._tenants) > MAX_TRACKED:  # bounded like the replies themselves
            self._tenants.pop(next(iter(self._tenants)))
        try:
            await producer.send_and_wait(self.config.topic("llm.requests"), key=key, value=value)
        except Exception as exc:
            self._replies.forget(rid)
            raise PublishError(rid, exc) from exc
        return rid

    async def _assign_from_end(
        self, producer: AIOKafkaProducer, consumer: AIOKafkaConsumer
    ) -> None:
        """Every partition of the reply topics, from their current ends (positions fixed
        now, before any request is sent, so no answer can slip past)."""
        names = [self.config.topic("llm.responses"), self.config.topic("llm.dead-letter")]
        existing = await consumer.topics()
        partitions: list[TopicPartition] = []
        for name in names:
            if name not in existing:
                raise ClientError(f"topic {name!r} does not exist: check the topic prefix")
            ids = await producer.partitions_for(name)  # waits for the topic's metadata
            partitions.extend(TopicPartition(name, i) for i in sorted(ids))
        consumer.assign(partitions)
        for tp, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(tp, offset)

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        dead_letters = self.config.topic("llm.dead-letter")
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broker hiccup: aiokafka reconnects by itself
                log.warning("reply consumer: fetch failed; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            for tp, records in batches.items():
                for record in records:
                    if tp.topic == dead_letters:
                        self._on_dead_letter(record)
                    else:
                        self._on_response(record)

    def _ours(self, metadata: Any) -> bool:
        return isinstance(metadata, Mapping) and metadata.get(INSTANCE_KEY) == self.instance_id

    def _on_response(self, record: ConsumerRecord[Any, Any]) -> None:
        if record.value is None or self.instance_id.encode() not in record.value:
            return  # cheap pre-filter: most answers belong to other services
        try:
            answer = Answer.model_validate_json(record.value)
        except ValidationError:
            return
        if self._ours(answer.metadata):
            self._replies.resolve(answer)

    def _on_dead_letter(self, record: ConsumerRecord[Any, Any]) -> None:
        if record.value is None or self.instance_id.encode() not in record.value:
            return
        try:
            letter = DeadLetter.model_validate_json(record.value)
            original = json.loads(letter.value) if letter.value_encoding == "utf-8" else None
        except (ValidationError, ValueError):
            return
        if not isinstance(original, dict) or not self._ours(original.get("metadata")):
            return
        request_id = original.get("request_id")
        if isinstance(request_id, str):
            self._replies.fail(request_id, InvalidRequest(letter.reason, letter.detail, request_id))
