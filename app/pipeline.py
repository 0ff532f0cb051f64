"""The Faust app, its topics and tables, and the wiring of every stage.

``build_pipeline`` is the only place that creates a ``faust.App``; nothing is built at
import time. Stages register their agents on the returned ``Pipeline``:

    llm.requests ─ intake ─► llm.admitted ─┬─ immediate (concurrent SDK calls) ─┐
                                           └─ batcher (windows) ─► llm.batches   │
                                llm.batches ─ batch ledger (submit, table) ◄─ poller timer
                                                                    │            │
                                     llm.responses + llm.cost-events ◄───────────┘
                                     llm.cost-events ─ sink ─► Postgres + Prometheus

Intake also applies running A/B experiments (``app.experiments.live``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, TypeVar

import faust
from pydantic import BaseModel, ValidationError

from app import metrics
from app.dispatch.answers import Answer
from app.events import Admitted, DeadLetter
from app.experiments.models import Experiment, FeedbackEvent
from app.intake.validate import Reason, dead_letter
from app.kafka_compat import faust_overrides
from app.providers.circuit import CircuitBreakers, CircuitConfig
from app.providers.registry import ProviderRegistry
from app.settings import Settings

log = logging.getLogger("frugalflow")

M = TypeVar("M", bound=BaseModel)

BATCH_RECORD_HEADROOM = 64 * 1024  # bytes kept free under the record cap for the envelope


@dataclass
class Topics:
    requests: faust.TopicT
    admitted: faust.TopicT
    responses: faust.TopicT
    cost_events: faust.TopicT
    dead_letter: faust.TopicT
    alerts: faust.TopicT
    batches: faust.TopicT
    feedback: faust.TopicT


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

    # --- outputs shared by every stage

    async def publish_answer(self, answer: Answer) -> None:
        """Send the response and its cost event. Callers ack their input only after this."""
        response = answer.response
        key = response.tenant_id.encode()
        await self.topics.responses.send(key=key, value=response.model_dump_json().encode())
        if answer.cost is not None:
            await self.topics.cost_events.send(
                key=key, value=answer.cost.model_dump_json().encode()
            )
        metrics.REQUESTS.labels(path=response.path.value, status=response.status.value).inc()
        if response.error is not None:
            metrics.ERRORS.labels(code=response.error.code).inc()
        metrics.LATENCY.labels(path=response.path.value).observe(response.latency_ms / 1000)

    async def publish_dead_letter(self, letter: DeadLetter, key: bytes | None) -> None:
        await self.topics.dead_letter.send(key=key, value=letter.model_dump_json().encode())
        metrics.DEAD_LETTERS.labels(reason=letter.reason).inc()
        log.warning("dead-letter %s: %s", letter.reason, letter.detail[:200])

    async def parse_internal(self, model: type[M], message: Any) -> M | None:
        """Parse a record of one of our own topics; a corrupt one is dead-lettered, not fatal."""
        try:
            return model.model_validate_json(message.value)
        except (ValidationError, ValueError, TypeError) as exc:
            letter = dead_letter(
                Reason.CORRUPT_INTERNAL_RECORD,
                f"{model.__name__}: {exc}",
                message.key, message.value, message.topic, message.partition, message.offset,
            )  # fmt: skip
            await self.publish_dead_letter(letter, message.key)
            return None

    async def publish_admitted(self, admitted: Admitted) -> None:
        await self.topics.admitted.send(
            key=admitted.request.tenant_id.encode(), value=admitted.model_dump_json().encode()
        )

    async def publish_feedback(self, event: FeedbackEvent) -> None:
        await self.topics.feedback.send(
            key=event.tenant_id.encode(), value=event.model_dump_json().encode()
        )


def _raw_topic(app: faust.App, settings: Settings, name: str) -> faust.TopicT:
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
        "broker_rebalance_timeout": max(60.0, settings.provider_timeout_s * 3),
        "table_standby_replicas": 0,
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": max(1.0, settings.session_timeout_s / 10),
    }
    if settings.worker_id:
        config["consumer_group_instance_id"] = settings.worker_id
    config.update(faust_overrides(settings.broker_flavor))
    return faust.App(settings.app_id, **config)


def build_pipeline(settings: Settings, providers: ProviderRegistry | None = None) -> Pipeline:
    from app.dispatch import batch_ledger, batcher, immediate, poller
    from app.experiments import agent as experiments
    from app.experiments import live as live_experiments
    from app.intake import agent as intake
    from app.sink import agent as sink

    app = build_faust_app(settings)
    topics = Topics(
        requests=_raw_topic(app, settings, "llm.requests"),
        admitted=_raw_topic(app, settings, "llm.admitted"),
        responses=_raw_topic(app, settings, "llm.responses"),
        cost_events=_raw_topic(app, settings, "llm.cost-events"),
        dead_letter=_raw_topic(app, settings, "llm.dead-letter"),
        alerts=_raw_topic(app, settings, "llm.alerts"),
        batches=_raw_topic(app, settings, "llm.batches"),
        feedback=_raw_topic(app, settings, "llm.feedback"),
    )
    pipeline = Pipeline(
        settings=settings,
        app=app,
        topics=topics,
        providers=providers or ProviderRegistry(settings),
        circuits=CircuitBreakers(
            CircuitConfig(
                failure_threshold=settings.circuit_failure_threshold,
                billing_threshold=settings.circuit_billing_threshold,
                cooldown_s=settings.circuit_cooldown_s,
            )
        ),
    )
    intake.register(pipeline)
    immediate.register(pipeline)
    batcher.register(pipeline)
    batch_ledger.register(pipeline)
    poller.register(pipeline)
    sink.register(pipeline)
    experiments.register(pipeline)
    live_experiments.register(pipeline)
    from faust.sensors.prometheus import setup_prometheus_sensors

    setup_prometheus_sensors(app, pattern="/metrics", name_prefix="frugalflow_faust")
    _add_readiness_page(app)
    return pipeline


def _add_readiness_page(app: faust.App) -> None:
    """``/ready``: 200 once tables are recovered and no rebalance is running, else 503.

    Publishers and orchestrators should wait for this, not for the web server: records
    that arrive while a worker is still starting can be redelivered, and (observed with
    faust-streaming 0.15.3) the first record of a partition in that window can be lost.
    """

    @app.page("/ready")
    async def ready(self: Any, request: Any) -> Any:
        recovery = app.tables.recovery  # type: ignore[attr-defined]  # the concrete TableManager has it
        is_ready = recovery.completed.is_set() and not app.rebalancing
        return self.json({"ready": is_ready}, status=200 if is_ready else 503)
