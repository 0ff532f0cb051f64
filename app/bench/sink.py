"""``frugalflow bench sink``: cost events per second into Postgres.

Two measurements on the same scratch schema:

* ``CostStore.insert`` directly, one batch of ``--batch-size`` events at a time (what the
  sink agent does per window): events/s and the time of one insert;
* the real path: events published to ``llm.cost-events`` while the worker is paused
  (SIGSTOP, for a few seconds: well inside its group's session timeout), so the rate is
  the sink's own and not the bench producer's; timed from the worker's resume (SIGCONT)
  until Postgres holds every row (counted every ``POLL_S``).

The events are synthetic but shaped like real ones: several tenants, models and paths,
spread over 30 days so the daily roll-up upserts touch many rows.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from frugalflow.bench.measure import ProcessMeter, ProcessUsage, machine, mib, percentile
from frugalflow.bench.report import BenchReport
from frugalflow.bench.runner import BenchStack, bench_stack, new_run_id, scratch_schema
from frugalflow.bench.traffic import Outgoing, new_producer, publish_all
from frugalflow.cli_reports.table import Column
from frugalflow.events import CostEvent, Savings
from frugalflow.events import Path as AnswerPath
from frugalflow.settings import Settings
from frugalflow.sink.store import CostStore

POLL_S = 0.1
_MODELS = (("anthropic", "claude-haiku-4-5"), ("anthropic", "claude-sonnet-4-6"),
           ("openai", "gpt-5.4-mini"))  # fmt: skip


def synthetic_events(run_id: str, n: int, *, seed: int = 1) -> list[CostEvent]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    events = []
    for i in range(n):
        provider, model = _MODELS[i % len(_MODELS)]
        tenant, request_id = f"sink-t{i % 8}", f"{run_id}-{i}"
        cost = Decimal(rng.randint(1, 50_000)) / Decimal(10_000_000)
        events.append(
            CostEvent(
                event_id=CostEvent.stable_id(tenant, request_id),
                request_id=request_id,
                tenant_id=tenant,
                service="bench",
                use_case=f"use-{i % 5}",
                provider=provider,
                model=model,
                path=AnswerPath.BATCH if i % 3 == 0 else AnswerPath.IMMEDIATE,
                input_tokens=rng.randint(10, 4000),
                output_tokens=rng.randint(10, 800),
                cache_read_tokens=rng.choice((0, 1024, 2048)),
                cost_usd=cost,
                baseline_cost_usd=cost * 2,
                savings_usd=Savings(batch=cost / 2, prompt_cache=cost / 2),
                success=True,
                occurred_at=now - timedelta(days=i % 30, seconds=i),
            )
        )
    return events


@dataclass(frozen=True)
class StoreResult:
    events: int
    inserted: int
    elapsed_s: float
    insert_ms: list[float]


@dataclass(frozen=True)
class AgentResult:
    events: int
    stored: int
    elapsed_s: float | None  # the worker's resume → every row in Postgres
    usage: ProcessUsage


def run_sink(
    settings: Settings, workdir: Path, *, events: int, batch_size: int, agent_events: int,
    timeout_s: float,
) -> BenchReport:  # fmt: skip
    report = BenchReport(
        "sink",
        {
            "events (CostStore)": events,
            "batch size": batch_size,
            "events (sink agent)": agent_events or "skipped",
            "event spread": "8 tenants, 3 models, 2 paths, 30 days",
        },
        machine(),
    )
    agent: AgentResult | None = None
    if agent_events:
        pacing = {"FRUGALFLOW_SINK_BATCH_SIZE": str(batch_size)}
        with bench_stack(settings, workdir, pacing=pacing) as stack:
            report.parameters["broker"] = stack.broker
            store = asyncio.run(_store_path(stack.dsn, stack.run_id, events, batch_size))
            agent = asyncio.run(_agent_path(stack, agent_events, timeout_s))
            report.machine["postgres"] = asyncio.run(_server_version(stack.dsn))
    else:
        run_id = new_run_id()
        with scratch_schema(settings, workdir, run_id) as dsn:
            store = asyncio.run(_store_path(dsn, run_id, events, batch_size))
            report.machine["postgres"] = asyncio.run(_server_version(dsn))
    _render(report, store, agent, batch_size)
    return report


async def _server_version(dsn: str) -> str:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def _store_path(dsn: str, run_id: str, n: int, batch_size: int) -> StoreResult:
    events = synthetic_events(f"{run_id}-store", n)
    store = CostStore(dsn, max_size=1)
    await store.start()
    timings: list[float] = []
    inserted = 0
    try:
        started = time.monotonic()
        for i in range(0, n, batch_size):
            t0 = time.monotonic()
            inserted += len(await store.insert(events[i : i + batch_size]))
            timings.append((time.monotonic() - t0) * 1000)
        elapsed = time.monotonic() - started
    finally:
        await store.close()
    return StoreResult(n, inserted, elapsed, timings)


async def _count_rows(conn: asyncpg.Connection, pattern: str) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM cost_events WHERE request_id LIKE $1", pattern)
    )


async def _agent_path(stack: BenchStack, n: int, timeout_s: float) -> AgentResult:
    run_id = f"{stack.run_id}-agent"
    records = [
        Outgoing(e.request_id, e.tenant_id.encode(), e.model_dump_json().encode())
        for e in synthetic_events(run_id, n, seed=2)
    ]
    producer = new_producer(stack.bootstrap)
    conn = await asyncpg.connect(stack.dsn, timeout=10)
    await producer.start()
    stored, done_at = 0, None
    os.kill(stack.worker_pid, signal.SIGSTOP)
    try:
        await publish_all(producer, stack.topic("llm.cost-events"), records)
        await producer.flush()
    finally:
        os.kill(stack.worker_pid, signal.SIGCONT)
    meter = ProcessMeter(stack.worker_pid).start()
    started = time.monotonic()
    try:
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            stored = await _count_rows(conn, f"{run_id}-%")
            if stored >= n:
                done_at = time.monotonic()
                break
            await asyncio.sleep(POLL_S)
    finally:
        usage = meter.stop()
        await producer.stop()
        await conn.close()
    return AgentResult(n, stored, None if done_at is None else done_at - started, usage)


def _render(
    report: BenchReport, store: StoreResult, agent: AgentResult | None, batch_size: int
) -> None:
    table = report.section(
        "Cost events into Postgres",
        Column("path"), Column("events", "int"), Column("stored", "int"),
        Column("elapsed s", "num"), Column("events/s", "num"),
        Column("insert P50 ms", "num"), Column("insert P95 ms", "num"),
        Column("worker CPU %", "num"), Column("worker peak RSS MiB", "num"),
    )  # fmt: skip
    table.add(
        f"CostStore.insert, {batch_size} per insert", store.events, store.inserted,
        round(store.elapsed_s, 3), round(store.inserted / store.elapsed_s, 1),
        round(percentile(store.insert_ms, 50), 1), round(percentile(store.insert_ms, 95), 1),
        None, None,
    )  # fmt: skip
    complete = store.inserted == store.events
    if agent is not None:
        rate = None if not agent.elapsed_s else round(agent.stored / agent.elapsed_s, 1)
        cpu = agent.usage.cpu_percent
        table.add(
            "llm.cost-events -> sink agent", agent.events, agent.stored,
            None if agent.elapsed_s is None else round(agent.elapsed_s, 2), rate, None, None,
            None if cpu is None else round(cpu), mib(agent.usage.peak_rss),
        )  # fmt: skip
        report.notes.append(
            "sink: the events were published while the worker was paused; timed from its "
            f"resume until Postgres held every row, counted every {POLL_S} s "
            "(so up to that much is added); CPU % is of one core"
        )
        complete = complete and agent.stored == agent.events
    report.notes.append(
        "each insert writes the raw rows and upserts the daily roll-ups (one statement)"
    )
    report.complete = complete
