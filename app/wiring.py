"""The wiring: builds a worker's ``Pipeline`` and registers every stage on it.

The one module that imports the stages (``frugalflow.pipeline`` is what they share), so the
dependencies run one way: entry points → wiring → stages → pipeline context → domain.
"""

from __future__ import annotations

import logging

from frugalflow.alerts import agent as notifier
from frugalflow.dispatch import batch_ledger, batcher, immediate, poller
from frugalflow.experiments import agent as experiments
from frugalflow.experiments import live as live_experiments
from frugalflow.faust_sensor import setup_prometheus_sensors
from frugalflow.intake import agent as intake
from frugalflow.pipeline import (
    Pipeline,
    Topics,
    add_readiness_page,
    build_faust_app,
    raw_topic,
)
from frugalflow.policy import direct_spend, ledger
from frugalflow.policy import live as live_policy
from frugalflow.policy.response_cache import ResponseCache, redis_client
from frugalflow.policy.snapshot import PolicySnapshot
from frugalflow.providers.circuit import CircuitBreakers, CircuitConfig
from frugalflow.providers.registry import ProviderRegistry
from frugalflow.settings import Settings
from frugalflow.sink import activity
from frugalflow.sink import agent as sink

log = logging.getLogger(__name__)

# Every stage, in registration order (the ledger's tables before the agents that use them).
STAGES = (
    ledger, live_policy, intake, immediate, batcher, batch_ledger, poller, sink, activity,
    experiments, live_experiments, notifier, direct_spend,
)  # fmt: skip


def build_pipeline(settings: Settings, providers: ProviderRegistry | None = None) -> Pipeline:
    app = build_faust_app(settings)
    topics = Topics(
        requests=raw_topic(app, settings, "llm.requests"),
        admitted=raw_topic(app, settings, "llm.admitted"),
        realtime=raw_topic(app, settings, "llm.admitted.realtime"),
        responses=raw_topic(app, settings, "llm.responses"),
        cost_events=raw_topic(app, settings, "llm.cost-events"),
        dead_letter=raw_topic(app, settings, "llm.dead-letter"),
        alerts=raw_topic(app, settings, "llm.alerts"),
        batches=raw_topic(app, settings, "llm.batches"),
        feedback=raw_topic(app, settings, "llm.feedback"),
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
    pipeline.policy = PolicySnapshot.empty().with_base(settings.policy_defaults)
    pipeline.circuits.add_listener(pipeline.alert_on_circuit)
    if settings.redis_url is not None:
        client = redis_client(
            settings.redis_url.get_secret_value(), timeout_s=settings.redis_timeout_s
        )
        pipeline.response_cache = ResponseCache(client, timeout_s=settings.redis_timeout_s)
    for stage in STAGES:
        stage.register(pipeline)

    @app.task
    async def warm_providers() -> None:  # the SDKs' import and clients, before any request
        built = pipeline.providers.warm()
        log.info("provider clients ready: %s", ", ".join(built) or "none configured")

    setup_prometheus_sensors(app, pattern="/metrics", name_prefix="frugalflow_faust")
    add_readiness_page(app)
    return pipeline
