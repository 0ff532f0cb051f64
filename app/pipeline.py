"""What every stage shares: the Faust app, its topics, the ``Pipeline`` context (settings,
providers, circuits, tables, live policy) and the outputs (answers, alerts, dead letters).

This module imports no stage: stages import it, and ``frugalflow.wiring.build_pipeline`` (the
only place that creates a ``faust.App`` for a worker; nothing is built at import time)
registers every stage's agents on the ``Pipeline`` it returns:

    llm.requests ─ intake ─┬─ immediate: concurrent SDK calls, in intake's tasks ────────┐
                           ├─ batch: batcher windows (in process) ─► llm.batches         │
                           └► llm.admitted.realtime ─ immediate agent (flex)  ───────────┤
                                llm.batches ─ batch ledger (submit, table) ◄─ poller timer  │
                                                                    │                      │
                                     llm.responses + llm.cost-events ◄─────────────────────┘
                                     llm.cost-events ─ sink ─► Postgres + Prometheus

Intake also applies running A/B experiments (``frugalflow.experiments.live``). The stage
that publishes an answer settles its budget reservation (``Pipeline.settle``); no Faust
stage reads ``llm.responses``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import faust
from pydantic import BaseModel, ValidationError

from frugalflow import metrics
from frugalflow.dispatch.answers import Answer
from frugalflow.events import Admitted, Alert, BatchRecord, DeadLetter, Status, utcnow
from frugalflow.experiments.models import Experiment, FeedbackEvent
from frugalflow.faust_compat import faust_settings
from frugalflow.faust_sends import LeanTable, send_raw
from frugalflow.intake.validate import Reason, dead_letter
from frugalflow.kafka_compat import faust_overrides
from frugalflow.policy.budget import Charge
from frugalflow.policy.response_cache import CachedAnswer, ResponseCache
from frugalflow.policy.semantic_cache import SemanticCache
from frugalflow.policy.snapshot import PolicySnapshot
from frugalflow.providers.circuit import CircuitBreakers, CircuitChange, CircuitState
from frugalflow.providers.registry import ProviderRegistry
from frugalflow.settings import Settings

log = logging.getLogger("frugalflow")

M = TypeVar("M", bound=BaseModel)

BATCH_RECORD_HEADROOM = 64 * 1024  # bytes kept free under the record cap for the envelope


@dataclass
class Topics:
    requests: faust.TopicT
    admitted: faust.TopicT  # the batch path, read by the batcher
    realtime: faust.TopicT  # the immediate and flex paths, read by the immediate agent
    responses: faust.TopicT
    cost_events: faust.TopicT
    dead_letter: faust.TopicT
    alerts: faust.TopicT
    batches: faust.TopicT
    feedback: faust.TopicT


# Called once a request held in a batch window is in a sent batch record: its source
# event is then done (and acked in offset order by the stream that read it).
BatchDone = Callable[[], Awaitable[None]]


async def _no_batcher(admitted: Admitted, partition: int, done: BatchDone) -> None:
    raise RuntimeError("no batcher is registered on this pipeline")


# Set by the budget ledger: settles requests' reservations with their answers' real costs
# (tenant, request id, cost each). It writes a table, so it runs inside a stream's event.
Settle = Callable[[Sequence[Charge]], Awaitable[None]]


async def _no_ledger(charges: Sequence[Charge]) -> None:
    raise RuntimeError("no budget ledger is registered on this pipeline")


@dataclass
class Pipeline:
    settings: Settings
    app: faust.App
    topics: Topics
    providers: ProviderRegistry
    circuits: CircuitBreakers
    tables: dict[str, Any] = field(default_factory=dict)
    # tenant → its running experiment; replaced by the refresh timer, read by intake
    experiments: dict[str, Experiment] = field(default_factory=dict)
    # budgets, tenant policies and router learning; replaced by the refresh timer
    policy: PolicySnapshot = field(default_factory=PolicySnapshot.empty)
    policy_waited: bool = False  # intake waited for the first policy load already
    response_cache: ResponseCache | None = None  # None when no REDIS_URL is configured
    # Set by the batcher: puts a batch-path request in its window; the callback runs once
    # the request's batch record is sent (intake acks the request's record then).
    hold_for_batch: Callable[[Admitted, int, BatchDone], Awaitable[None]] = _no_batcher
    settle: Settle = _no_ledger
    # Batch slices this worker submitted, parsed: record key → (the batches-pending table's
    # value, its BatchRecord). The poller uses the record while the table still holds that
    # very value, instead of parsing every request of the slice again (about 3 % of the
    # batch path); a value recovered from the changelog is a new object, and is parsed.
    submitted_slices: dict[str, tuple[object, BatchRecord]] = field(default_factory=dict)
    _background: set[asyncio.Task[None]] = field(default_factory=set)
    _semantic: SemanticCache | None = None

    # --- outputs shared by every stage

    async def publish_answer(
        self, answer: Answer, admitted: Admitted | None = None, *, settle: bool = True
    ) -> None:
        """Send the response and its cost event, then settle the request's budget
        reservation with its cost (``settle=False``: the caller is not inside a stream's
        event, so it has the ``done`` batch record settle it). Callers ack their input
        only after this: a crash before reads it again, and answers it again with the same
        ids; a settled reservation is gone, so it is never settled twice.

        A provider's ``ok`` answer to a cacheable request (``admitted.cache_digest``) is
        also written to the response cache; fallbacks and errors never are.
        """
        response = answer.response
        key = response.tenant_id.encode()
        if (
            admitted is not None
            and admitted.cache_digest is not None
            and self.response_cache is not None
            and response.status is Status.OK
            and response.content
        ):
            policy = self.policy.policy_for(response.tenant_id).cache
            cached = CachedAnswer(
                content=response.content,
                provider=response.provider or admitted.provider,
                model=response.model or admitted.model,
                usage=response.usage,
                created_at=utcnow(),
            )
            await self.response_cache.put(
                response.tenant_id,
                admitted.request.user_id,
                admitted.cache_digest,
                cached,
                ttl_s=admitted.cache_ttl_s,
                stale_ttl_s=policy.stale_ttl_s,
            )
            semantic = self.semantic_cache() if policy.semantic else None
            if semantic is not None and admitted.cache_tier is not None:
                await semantic.add_request(
                    admitted.request,
                    admitted.cache_tier,
                    admitted.cache_digest,
                    ttl_s=admitted.cache_ttl_s,
                )
        await self.send(self.topics.responses, key, response.model_dump_json().encode())
        if answer.cost is not None:
            await self.send(self.topics.cost_events, key, answer.cost.model_dump_json().encode())
        if settle:
            await self.settle([(response.tenant_id, response.request_id, response.cost_usd)])
        metrics.REQUESTS.labels(path=response.path.value, status=response.status.value).inc()
        if response.error is not None:
            metrics.ERRORS.labels(code=response.error.code).inc()
        metrics.LATENCY.labels(path=response.path.value).observe(response.latency_ms / 1000)

    async def publish_dead_letter(self, letter: DeadLetter, key: bytes | None) -> None:
        await self.send(self.topics.dead_letter, key, letter.model_dump_json().encode())
        metrics.DEAD_LETTERS.labels(reason=letter.reason).inc()
        log.warning("dead-letter %s: %s", letter.reason, letter.detail[:200])

    async def parse_internal(self, model: type[M], message: Any) -> M | None:
        """Parse a record of one of our own topics; a corrupt one is dead-lettered, not fatal."""
        parsed = parse_record(model, message)
        if isinstance(parsed, DeadLetter):
            await self.publish_dead_letter(parsed, message.key)
            return None
        return parsed

    def semantic_cache(self) -> SemanticCache | None:
        """The semantic cache, built on first use (it loads an embedding model), if it can be."""
        if self.response_cache is None:
            return None
        if self._semantic is None:
            # Without the model installed (``frugalflow[semantic]``) lookups log and miss.
            self._semantic = SemanticCache(self.response_cache.client)
        return self._semantic

    async def publish_alert(self, alert: Alert) -> None:
        await self.send(
            self.topics.alerts, alert.tenant_id.encode(), alert.model_dump_json().encode()
        )

    def alert_on_circuit(self, change: CircuitChange) -> None:
        """Circuit listener (synchronous): an opening circuit becomes a health alert."""
        if change.new is not CircuitState.OPEN:
            return
        alert = Alert(
            tenant_id="*",
            kind="provider_circuit_open",
            period="now",
            spent_usd=Decimal(0),
            limit_usd=Decimal(0),
            detail=f"{change.provider}/{change.model}: {change.reason}",
        )
        task = asyncio.get_running_loop().create_task(self.publish_alert(alert))
        self._background.add(task)  # keep a reference until it is done
        task.add_done_callback(self._background.discard)

    async def publish_admitted(self, admitted: Admitted) -> None:
        # One topic per path: each agent reads (and parses) only its own requests, and
        # the immediate path's offsets never wait behind a batch window.
        topic = self.topics.admitted if admitted.path == "batch" else self.topics.realtime
        await self.send(
            topic, admitted.request.tenant_id.encode(), admitted.model_dump_json().encode()
        )

    async def publish_feedback(self, event: FeedbackEvent) -> None:
        await self.send(
            self.topics.feedback, event.tenant_id.encode(), event.model_dump_json().encode()
        )

    async def send(
        self, topic: faust.TopicT, key: bytes | None, value: bytes, partition: int | None = None
    ) -> None:
        """Hand one record to the worker's producer (``frugalflow.faust_sends.send_raw``)."""
        await send_raw(self.app, topic.get_topic_name(), key, value, partition)


def parse_record(model: type[M], record: Any) -> M | DeadLetter:
    """A record of one of our own topics (a Faust message or an aiokafka record) as
    ``model``, or the ``corrupt_internal_record`` dead letter that says why it is not."""
    try:
        return model.model_validate_json(record.value or b"")
    except (ValidationError, ValueError, TypeError) as exc:
        return dead_letter(
            Reason.CORRUPT_INTERNAL_RECORD,
            f"{model.__name__}: {exc}",
            record.key, record.value, record.topic, record.partition, record.offset,
        )  # fmt: skip


def raw_topic(app: faust.App, settings: Settings, name: str) -> faust.TopicT:
    # Raw bytes in and out: intake must see malformed input to dead-letter it, and every
    # value we write is a pydantic model serialized by us.
    return app.topic(
        settings.topic(name),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )


def build_faust_app(settings: Settings) -> faust.App:
    brokers = [f"kafka://{host.strip()}" for host in settings.kafka_bootstrap_servers.split(",")]
    config: dict[str, Any] = {
        "broker": brokers,
        "store": "memory://",
        "autodiscover": False,
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "web_host": settings.web_host,
        "web_port": settings.web_port,
        "datadir": settings.data_dir,
        "consumer_auto_offset_reset": "earliest",
        "processing_guarantee": "at_least_once",
        # Batch slices can be large; the llm.batches topic allows 16 MiB.
        "producer_max_request_size": 16 * 1024 * 1024,
        # Every provider call is bounded well below this (DESIGN.md: stream_wait_empty).
        # A call may wait on the flex tier, then on the standard one, then on a retry.
        "broker_rebalance_timeout": max(
            60.0, settings.provider_timeout_s * 3 + settings.flex_wait_s
        ),
        "table_standby_replicas": 0,
        # changelog records without Faust's per-record send layers (frugalflow.faust_sends)
        "Table": LeanTable,
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": max(1.0, settings.session_timeout_s / 10),
    }
    if settings.worker_id:
        config["consumer_group_instance_id"] = settings.worker_id
    config.update(faust_overrides(settings.broker_flavor, brokers))
    # Recovery and seeks that cannot drop records around a start or rebalance
    # (app/faust_compat.py); after the overrides, whose broker URLs it completes.
    config.update(faust_settings(config["broker"]))
    return faust.App(settings.app_id, **config)


def add_readiness_page(app: faust.App) -> None:
    """``/ready``: 200 once tables are recovered and no rebalance is running, else 503.

    Orchestrators (the Helm readiness probe, ``make demo``) wait for this, not for the
    web server. Records published earlier are not lost: they wait in Kafka, and the
    start-up window in which faust-streaming 0.15.3 could drop them is closed by
    ``app/faust_compat.py``; until then the worker is simply not answering yet.
    """

    @app.page("/ready")
    async def ready(self: Any, request: Any) -> Any:
        recovery = app.tables.recovery  # type: ignore[attr-defined]  # the concrete TableManager has it
        is_ready = recovery.completed.is_set() and not app.rebalancing
        return self.json({"ready": is_ready}, status=200 if is_ready else 503)
