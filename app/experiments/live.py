"""Experiments applied to live traffic.

Every worker keeps the running experiments in ``Pipeline.experiments`` (tenant → its
running experiment), a plain dict that a Faust timer replaces every
``FRUGALFLOW_EXPERIMENT_REFRESH_S`` from Postgres through its own one-connection pool (the
sink's ``CostStore``). Intake only reads it: no I/O per request. While Postgres is
unreachable the dict keeps its last value and a warning is logged.

A request with a ``user_id`` whose tenant has a running experiment gets the variant
``assign`` picks for the user (``trial``). The variant may set ``model`` (a catalog model;
the provider follows the model, and the baseline is priced on it) and ``prompt`` (replaces
the system prompt). The answer's metadata carries ``frugalflow_experiment =
{"id", "variant"}`` (a reserved key: a caller value under it is replaced while an
experiment applies; other keys are untouched), and intake publishes an ``impression`` on
``llm.feedback`` whose ``event_id`` is stable per request, so redelivery never counts
twice. A variant naming a model outside the catalog is not applied: the request is served
as asked, without the experiment, and a warning is logged.

When a tenant has several running experiments, the oldest one applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from frugalflow.costing.catalog import UnknownModelError, price_of
from frugalflow.events import RequestEvent
from frugalflow.experiments import store
from frugalflow.experiments.assignment import assign
from frugalflow.experiments.models import Experiment, FeedbackEvent
from frugalflow.metrics import EXPERIMENTS_RUNNING
from frugalflow.pipeline import Pipeline, log
from frugalflow.sink.store import CostStore, connect_store

EXPERIMENT_KEY = "frugalflow_experiment"


@dataclass(frozen=True, slots=True)
class Trial:
    """One request under one variant: ``request`` is what the variant serves."""

    experiment_id: str
    variant: str
    request: RequestEvent

    def impression(self, occurred_at: datetime) -> FeedbackEvent:
        r = self.request
        return FeedbackEvent(
            event_id=FeedbackEvent.impression_id(r.tenant_id, r.request_id, self.experiment_id),
            experiment_id=self.experiment_id,
            variant=self.variant,
            user_id=r.user_id,
            tenant_id=r.tenant_id,
            kind="impression",
            value=1.0,
            occurred_at=occurred_at,
        )


def trial(request: RequestEvent, running: dict[str, Experiment]) -> Trial | None:
    """The request under its user's variant, or None (no user, no experiment, bad variant)."""
    experiment = running.get(request.tenant_id)
    if request.user_id is None or experiment is None:
        return None
    variant = assign(experiment.id, request.user_id, experiment.variants)
    changes: dict[str, Any] = {
        "metadata": {
            **request.metadata,
            EXPERIMENT_KEY: {"id": experiment.id, "variant": variant.name},
        }
    }
    if variant.model is not None:
        try:
            price_of(variant.model)
        except UnknownModelError:
            log.warning("experiment %s: variant %r names unknown model %r; request %s served "
                        "without the experiment", experiment.id, variant.name, variant.model,
                        request.request_id)  # fmt: skip
            return None
        changes.update(model=variant.model, provider=None)  # the provider follows the model
    if variant.prompt is not None:
        changes["system"] = variant.prompt
    return Trial(experiment.id, variant.name, request.model_copy(update=changes))


def running_by_tenant(experiments: Iterable[Experiment]) -> dict[str, Experiment]:
    """tenant → its oldest running experiment."""
    ordered = sorted(experiments, key=lambda e: (e.created_at, e.id))
    found: dict[str, Experiment] = {}
    for experiment in ordered:
        if experiment.status == "running":
            found.setdefault(experiment.tenant, experiment)
    return found


def register(p: Pipeline) -> None:
    connected: list[CostStore] = []  # the store once the first refresh has connected

    @p.app.timer(p.settings.experiment_refresh_s, name="experiment-refresh")
    async def refresh_experiments() -> None:
        if not connected:
            connected.append(await connect_store(p.settings.database_url, max_size=1))
        await refresh(p, connected[0])

    @p.app.on_before_shutdown.connect  # type: ignore[arg-type]  # mode's stub names a string type
    async def close_store(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        while connected:
            await connected.pop().close()


async def refresh(p: Pipeline, cost_store: CostStore) -> None:
    """Reload ``p.experiments``; on any Postgres trouble keep the last value."""
    try:
        found = await store.list_all(cost_store.pool, status="running")
    except Exception as exc:  # connection lost, server restarting, pool closed...
        log.warning("experiments: Postgres failed (%s); keeping the %d running experiment(s) "
                    "already known", type(exc).__name__, len(p.experiments))  # fmt: skip
        return
    p.experiments = running_by_tenant(found)
    EXPERIMENTS_RUNNING.set(len(p.experiments))  # what intake applies: one per tenant
