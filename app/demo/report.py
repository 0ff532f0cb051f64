"""Publish the demo workload as an upstream service would, wait for every answer, report."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.demo.workload import Record
from app.reports.rollups import LEVERS, TOKEN_COLUMNS

TOPICS = ("llm.responses", "llm.dead-letter")

# Called with (answers received, answers expected) after every poll of the answer topics.
ProgressCallback = Callable[[int, int], None]


async def publish(bootstrap: str, records: list[Record], *, topic_prefix: str = "") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for record in records:
            await producer.send(f"{topic_prefix}llm.requests", key=record.key, value=record.value)
        await producer.flush()
    finally:
        await producer.stop()


@dataclass
class Outcome:
    answers: dict[str, dict] = field(default_factory=dict)
    dead_letters: list[dict] = field(default_factory=list)
    expected: int = 0
    expected_dlq: int = 0
    # When known, the exact reasons the dead letters must carry: counts alone would call a
    # run complete when one request slipped through and another record was doubled.
    expected_reasons: Counter[str] | None = None
    cost_rows: int = 0
    db_cost: Decimal = Decimal(0)
    db_baseline: Decimal = Decimal(0)
    db_savings: dict[str, Decimal] = field(default_factory=dict)  # every lever
    db_tokens: dict[str, int] = field(default_factory=dict)  # TOKEN_COLUMNS summed

    @property
    def billed(self) -> int:
        return sum(1 for a in self.answers.values() if a["status"] == "ok")

    @property
    def complete(self) -> bool:
        return (
            len(self.answers) == self.expected
            and len(self.dead_letters) == self.expected_dlq
            and self.cost_rows == self.billed
            and (self.expected_reasons is None or self.reasons() == self.expected_reasons)
        )

    def reasons(self) -> Counter[str]:
        return Counter(d["reason"] for d in self.dead_letters)


async def collect(
    bootstrap: str,
    dsn: str,
    run_id: str,
    expected_ids: set[str],
    expected_dlq: int,
    timeout_s: float,
    *,
    topic_prefix: str = "",
    on_progress: ProgressCallback | None = None,
    expected_reasons: Counter[str] | None = None,
) -> Outcome:
    """Read answers and dead letters of ``run_id`` until all arrived or ``timeout_s``, then
    the cost rows of the run's request ids (``<run_id>-...``) from Postgres."""
    outcome = Outcome(
        expected=len(expected_ids), expected_dlq=expected_dlq, expected_reasons=expected_reasons
    )
    consumer = AIOKafkaConsumer(
        *(f"{topic_prefix}{t}" for t in TOPICS), bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, messages in batches.items():
                for message in messages:
                    _take(outcome, tp.topic, message.value, run_id, expected_ids)
            if on_progress is not None:
                on_progress(len(outcome.answers), outcome.expected)
            if (
                len(outcome.answers) == outcome.expected
                and len(outcome.dead_letters) >= expected_dlq
            ):
                break
    finally:
        await consumer.stop()
    # The sink writes asynchronously: wait (bounded) until every billed answer has its row.
    while time.monotonic() < deadline + 30:
        await _read_costs(outcome, dsn, run_id)
        if outcome.cost_rows >= outcome.billed:
            break
        await asyncio.sleep(0.5)
    return outcome


def _take(outcome: Outcome, topic: str, value: bytes | None, run_id: str, ids: set[str]) -> None:
    if value is None:
        return
    payload = json.loads(value)
    if topic.endswith("llm.responses") and payload.get("request_id") in ids:
        outcome.answers[payload["request_id"]] = payload
    elif topic.endswith("llm.dead-letter") and run_id in payload.get("value", ""):
        outcome.dead_letters.append(payload)


async def _read_costs(outcome: Outcome, dsn: str, run_id: str) -> None:
    conn = await asyncpg.connect(dsn)
    sums = ", ".join(
        f"coalesce(sum({column}), 0) AS {column}"
        for column in (*TOKEN_COLUMNS, *(f"savings_{lever}" for lever in LEVERS))
    )
    try:
        row = await conn.fetchrow(
            f"""SELECT count(*) AS n, coalesce(sum(cost_usd), 0) AS cost,
                       coalesce(sum(baseline_cost_usd), 0) AS baseline, {sums}
                FROM cost_events WHERE request_id LIKE $1""",
            f"{run_id}-%",
        )
    except asyncpg.UndefinedTableError:
        return
    finally:
        await conn.close()
    outcome.cost_rows = row["n"]
    outcome.db_cost, outcome.db_baseline = row["cost"], row["baseline"]
    outcome.db_savings = {lever: row[f"savings_{lever}"] for lever in LEVERS}
    outcome.db_tokens = {column: int(row[column]) for column in TOKEN_COLUMNS}


def render(outcome: Outcome, *, elapsed_s: float) -> str:
    by = Counter((a["path"], a["status"]) for a in outcome.answers.values())
    cost = sum((Decimal(a["cost_usd"]) for a in outcome.answers.values()), Decimal(0))
    baseline = sum((Decimal(a["baseline_cost_usd"]) for a in outcome.answers.values()), Decimal(0))
    reasons = Counter(d["reason"] for d in outcome.dead_letters)
    lines = ["", "Answers by path and status:"]
    lines += [f"  {path:15} {status:9} {n:5}" for (path, status), n in sorted(by.items())]
    lines += [
        f"  {'total':25} {len(outcome.answers):5} of {outcome.expected} requests",
        "",
        f"Dead letters: {len(outcome.dead_letters)} of {outcome.expected_dlq} malformed — "
        + ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items())),
        "",
        f"Cost (answers):      ${cost:.6f}",
        f"Baseline (answers):  ${baseline:.6f}  (list price, real-time, no caching)",
        f"Savings:             ${baseline - cost:.6f}"
        + (f"  ({(baseline - cost) / baseline:.1%})" if baseline else ""),
        f"Cost rows in Postgres: {outcome.cost_rows} for {outcome.billed} billed answers; "
        f"sum ${outcome.db_cost:.6f}, baseline ${outcome.db_baseline:.6f}",
        "Savings by lever (Postgres): "
        + ", ".join(f"{k} ${v:.6f}" for k, v in outcome.db_savings.items()),
        "",
        f"{'COMPLETE' if outcome.complete else 'INCOMPLETE'} in {elapsed_s:.1f}s",
    ]
    return "\n".join(lines)
