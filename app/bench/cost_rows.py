"""A run's answers (from ``llm.responses``) and its cost rows (from Postgres), totalled.

The sink writes asynchronously, so the totals are read until Postgres holds a row for
every answer that comes with a cost event (bounded by ``ROWS_TIMEOUT_S``). The request ids
of a run all start with ``<run id>-``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg

from frugalflow.bench.runner import BenchStack
from frugalflow.bench.traffic import AnswerWatch, Outgoing, new_producer, publish_all
from frugalflow.reports.rollups import LEVERS, TOKEN_COLUMNS

ROWS_TIMEOUT_S = 30.0


def has_cost_event(answer: dict[str, Any]) -> bool:
    """As ``frugalflow.dispatch.answers`` emits them: every ``ok`` answer (free ones record what
    they saved) and a ``fallback`` a provider was paid for; never a rejection or an error."""
    status = answer.get("status")
    return status == "ok" or (status == "fallback" and answer.get("path") != "fallback")


@dataclass
class RunCosts:
    expected: int  # requests published
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # request id → answer
    rows: int = 0
    cost: Decimal = Decimal(0)
    baseline: Decimal = Decimal(0)
    savings: dict[str, Decimal] = field(default_factory=dict)  # every lever
    tokens: dict[str, int] = field(default_factory=dict)  # TOKEN_COLUMNS summed

    @property
    def with_cost_event(self) -> int:
        return sum(1 for a in self.answers.values() if has_cost_event(a))

    @property
    def complete(self) -> bool:
        return len(self.answers) == self.expected and self.rows == self.with_cost_event


async def publish_and_total(
    stack: BenchStack, run_id: str, payloads: list[dict[str, Any]], *, rate: float | None,
    timeout_s: float,
) -> RunCosts:  # fmt: skip
    """Publish (all at once, or ``rate`` per second), wait for the answers, total the rows."""
    records = [Outgoing.request(p) for p in payloads]
    watch = await AnswerWatch(
        stack.bootstrap, stack.topic("llm.responses"), [r.request_id for r in records]
    ).start()
    producer = new_producer(stack.bootstrap)
    await producer.start()
    topic = stack.topic("llm.requests")
    try:
        if rate is None:
            await publish_all(producer, topic, records)
        else:
            started = time.monotonic()
            for i, record in enumerate(records):
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                await producer.send(topic, key=record.key, value=record.value)
            await producer.flush()
        await watch.wait(timeout_s)
    finally:
        await producer.stop()
        await watch.stop()
    run = RunCosts(len(records), {rid: a.payload for rid, a in watch.arrivals.items()})
    deadline = time.monotonic() + ROWS_TIMEOUT_S
    while True:
        await read_totals(run, stack.dsn, run_id)
        if run.rows >= run.with_cost_event or time.monotonic() > deadline:
            return run
        await asyncio.sleep(0.5)


async def read_totals(run: RunCosts, dsn: str, run_id: str) -> None:
    sums = ", ".join(
        f"coalesce(sum({column}), 0) AS {column}"
        for column in (*TOKEN_COLUMNS, *(f"savings_{lever}" for lever in LEVERS))
    )
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        row = await conn.fetchrow(
            f"""SELECT count(*) AS n, coalesce(sum(cost_usd), 0) AS cost,
                       coalesce(sum(baseline_cost_usd), 0) AS baseline, {sums}
                FROM cost_events WHERE request_id LIKE $1""",
            f"{run_id}-%",
        )
    except asyncpg.UndefinedTableError:  # the sink has not migrated the schema yet
        return
    finally:
        await conn.close()
    run.rows = int(row["n"])
    run.cost, run.baseline = Decimal(row["cost"]), Decimal(row["baseline"])
    run.savings = {lever: Decimal(row[f"savings_{lever}"]) for lever in LEVERS}
    run.tokens = {column: int(row[column]) for column in TOKEN_COLUMNS}
