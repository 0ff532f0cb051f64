"""Publish the demo workload as an upstream service would, wait for every answer, report.

Waves go out one after another: the next is published only once every answer of the
previous one arrived (the repeat wave needs the first answers in the response cache).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from frugalflow.demo.workload import Expect, Record
from frugalflow.kafka_compat import FETCH_MAX_WAIT_MS
from frugalflow.reports.rollups import LEVERS, TOKEN_COLUMNS

TOPICS = ("llm.responses", "llm.dead-letter")
SHOW_MISMATCHES = 5  # unexpected answers listed in the report; the rest are counted

# Called with (answers received, answers expected so far) after every poll.
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


def produces_cost_event(answer: dict[str, Any]) -> bool:
    """Whether an answer comes with a cost event (app/dispatch/answers.py): every ``ok``
    answer, free ones included (they record what they saved), and a ``fallback`` a
    provider was paid for (another provider's answer, path immediate or batch); never a
    rejection, an error, or a stale or static fallback (path ``fallback``)."""
    status = answer["status"]
    return status == "ok" or (status == "fallback" and answer["path"] != "fallback")


@dataclass
class Outcome:
    # request id → how it must be answered; None: any answer will do (``collect``)
    expectations: dict[str, Expect | None] = field(default_factory=dict)
    expected_dlq: int = 0
    # When known, the exact reasons the dead letters must carry: counts alone would call a
    # run complete when one request slipped through and another record was doubled.
    expected_reasons: Counter[str] | None = None
    repeat_ids: frozenset[str] = frozenset()  # the repeat wave's request ids
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0  # answers to a request id that was answered already
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    cost_rows: int = 0
    db_cost: Decimal = Decimal(0)
    db_baseline: Decimal = Decimal(0)
    db_savings: dict[str, Decimal] = field(default_factory=dict)  # every lever
    db_tokens: dict[str, int] = field(default_factory=dict)  # TOKEN_COLUMNS summed

    @property
    def expected(self) -> int:
        """How many requests must be answered."""
        return len(self.expectations)

    @property
    def billed(self) -> int:
        """Answers that must have a cost row in Postgres."""
        return sum(1 for a in self.answers.values() if produces_cost_event(a))

    @property
    def complete(self) -> bool:
        """Every request answered exactly once and as expected, every malformed record
        dead-lettered (with its reason, when known), and a cost row for every billed answer."""
        return (
            self.answers.keys() == self.expectations.keys()
            and self.duplicates == 0
            and not self.mismatches()
            and len(self.dead_letters) == self.expected_dlq
            and (self.expected_reasons is None or self.reasons() == self.expected_reasons)
            and self.cost_rows == self.billed
        )

    def reasons(self) -> Counter[str]:
        return Counter(d["reason"] for d in self.dead_letters)

    def mismatches(self) -> list[str]:
        """Each answer that is not what its request expects, described."""
        found = []
        for request_id, answer in sorted(self.answers.items()):
            expect = self.expectations[request_id]
            if expect is None:
                continue
            got = _as_expected(answer, expect)
            if got != expect:
                why = f" ({answer['error']['message']})" if answer.get("error") else ""
                expected, actual = _describe(expect), _describe(got)
                found.append(f"{request_id}: expected {expected}, got {actual}{why}")
        return found

    def expected_rejections(self) -> Counter[str]:
        return Counter(
            e.code or "" for e in self.expectations.values() if e and e.status == "rejected"
        )


def _as_expected(answer: dict[str, Any], expect: Expect) -> Expect:
    """The answer in the terms of ``expect``: only the parts ``expect`` sets are taken."""
    error, safety = answer.get("error") or {}, answer.get("safety") or {}
    return Expect(
        status=answer["status"],
        path=answer["path"] if expect.path is not None else None,
        code=error.get("code"),
        safety=safety.get("action", "allow") if expect.safety is not None else None,
    )


def _describe(expect: Expect) -> str:
    named = (("path", expect.path), ("code", expect.code), ("safety", expect.safety))
    return ", ".join([expect.status, *(f"{k} {v}" for k, v in named if v is not None)])


@dataclass(frozen=True)
class _Step:
    publish: Sequence[Record]  # what to send first (nothing: published already)
    ids: frozenset[str]  # the answers this step waits for
    dlq: int  # the dead letters this step waits for


def _valid_ids(records: Iterable[Record]) -> frozenset[str]:
    return frozenset(r.request_id for r in records if r.valid and r.request_id)


async def run_waves(
    bootstrap: str,
    dsn: str,
    run_id: str,
    waves: Sequence[Sequence[Record]],
    timeout_s: float,
    *,
    topic_prefix: str = "",
    on_progress: ProgressCallback | None = None,
) -> Outcome:
    """Publish each wave once the previous one is answered, then wait for the last, all
    within ``timeout_s``; every valid record must be answered as its ``expect`` says."""
    records = [record for wave in waves for record in wave]
    outcome = Outcome(
        expectations={r.request_id: r.expect or Expect() for r in records
                      if r.valid and r.request_id},
        expected_dlq=sum(1 for r in records if not r.valid),
        expected_reasons=Counter(r.reason for r in records if r.reason),
        repeat_ids=frozenset().union(*(_valid_ids(wave) for wave in waves[1:])),
    )  # fmt: skip
    steps = [_Step(wave, _valid_ids(wave), sum(1 for r in wave if not r.valid)) for wave in waves]
    return await _gather(bootstrap, dsn, run_id, outcome, steps, timeout_s,
                         topic_prefix=topic_prefix, on_progress=on_progress)  # fmt: skip


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
    """Read answers and dead letters of ``run_id`` (published already) until all arrived
    or ``timeout_s``; any answer will do."""
    outcome = Outcome(
        expectations=dict.fromkeys(expected_ids),
        expected_dlq=expected_dlq,
        expected_reasons=expected_reasons,
    )
    steps = [_Step((), frozenset(expected_ids), expected_dlq)]
    return await _gather(bootstrap, dsn, run_id, outcome, steps, timeout_s,
                         topic_prefix=topic_prefix, on_progress=on_progress)  # fmt: skip


async def _gather(
    bootstrap: str,
    dsn: str,
    run_id: str,
    outcome: Outcome,
    steps: Sequence[_Step],
    timeout_s: float,
    *,
    topic_prefix: str,
    on_progress: ProgressCallback | None,
) -> Outcome:
    """Run the steps in order, then read the cost rows of the run's request ids
    (``<run_id>-...``) from Postgres."""
    consumer = AIOKafkaConsumer(
        *(f"{topic_prefix}{t}" for t in TOPICS), bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,  # Tansu holds a fetch for its full wait
    )  # fmt: skip
    await consumer.start()
    deadline = time.monotonic() + timeout_s
    try:
        awaited: set[str] = set()
        awaited_dlq = 0
        for step in steps:
            awaited |= step.ids
            awaited_dlq += step.dlq
            if step.publish:
                await publish(bootstrap, list(step.publish), topic_prefix=topic_prefix)
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                for tp, messages in batches.items():
                    for message in messages:
                        _take(outcome, tp.topic, message.value, run_id)
                if on_progress is not None:
                    on_progress(len(outcome.answers), len(awaited))
                if awaited <= outcome.answers.keys() and len(outcome.dead_letters) >= awaited_dlq:
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


def _take(outcome: Outcome, topic: str, value: bytes | None, run_id: str) -> None:
    if value is None:
        return
    payload = json.loads(value)
    if topic.endswith("llm.responses") and payload.get("request_id") in outcome.expectations:
        if payload["request_id"] in outcome.answers:
            outcome.duplicates += 1
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


# ------------------------------------------------------------------ the report


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _money(answers: Iterable[dict[str, Any]], field_name: str) -> Decimal:
    return sum((Decimal(a[field_name]) for a in answers), Decimal(0))


def is_auto_routed(answer: dict[str, Any]) -> bool:
    """Chosen by the router: a reason other than the caller's pinned model or a pattern."""
    reason = answer.get("route_reason") or ""
    return reason not in ("", "requested") and not reason.startswith("pattern:")


def policy_lines(outcome: Outcome) -> list[str]:
    """What each stream policy did in this run, counted from the answers."""
    answers = list(outcome.answers.values())
    ok = [a for a in answers if a["status"] == "ok"]
    pattern = [a for a in ok if a["path"] == "pattern"]
    cached = [a for a in ok if a["path"] == "response_cache"]
    redacted = [a for a in answers if (a.get("safety") or {}).get("action") == "redact"]
    rejected = Counter(a["error"]["code"] for a in answers if a["status"] == "rejected")
    expected_rejections = outcome.expected_rejections()
    routed = [a for a in answers if a["status"] == "ok" and is_auto_routed(a)]
    repeats = [outcome.answers[i] for i in outcome.repeat_ids if i in outcome.answers]
    repeat_hits = sum(1 for a in repeats if a["path"] == "response_cache")

    def rejection(code: str, n: int) -> str:
        expected = min(n, expected_rejections[code])
        return f"{code} {n}" + (f" ({expected} expected)" if expected else " (unexpected)")

    lines = [
        "Policies:",
        f"  pattern answers   {len(pattern):5}  ${_money(pattern, 'cost_usd'):.6f}  "
        + _counts(Counter(a["route_reason"].removeprefix("pattern:") for a in pattern)),
        f"  cache hits        {len(cached):5}  ${_money(cached, 'cost_usd'):.6f}  "
        f"repeat wave: {repeat_hits} of {len(outcome.repeat_ids)} from the response cache",
        f"  redactions        {len(redacted):5}  findings: "
        + (_counts(Counter(k for a in redacted for k in a["safety"]["findings"])) or "none"),
        f"  rejections        {sum(rejected.values()):5}  "
        + (", ".join(rejection(c, n) for c, n in sorted(rejected.items())) or "none"),
        f"  auto-routed       {len(routed):5}  models: "
        + (_counts(Counter(a["model"] for a in routed)) or "none"),
    ]
    by_reason: dict[str, Counter[str]] = {}
    example: dict[str, str] = {}
    for a in routed:
        head, _, why = a["route_reason"].partition(" (")
        by_reason.setdefault(head, Counter())[a["model"]] += 1
        example.setdefault(head, f"({why}" if why else "")
    for head in sorted(by_reason):
        lines.append(f"    {head:18} → {_counts(by_reason[head])}  e.g. {example[head]}")
    return lines


def render(outcome: Outcome, *, elapsed_s: float) -> str:
    answers = list(outcome.answers.values())
    by = Counter((a["path"], a["status"]) for a in answers)
    cost, baseline = _money(answers, "cost_usd"), _money(answers, "baseline_cost_usd")
    first = outcome.expected - len(outcome.repeat_ids)
    lines = ["", "Answers by path and status:"]
    lines += [f"  {path:15} {status:9} {n:5}" for (path, status), n in sorted(by.items())]
    lines += [f"  {'total':25} {len(answers):5} of {outcome.expected} requests"
              f" ({first} + {len(outcome.repeat_ids)} repeated)"]  # fmt: skip
    if outcome.duplicates:
        lines.append(f"  duplicate answers: {outcome.duplicates}")
    mismatches = outcome.mismatches()
    if mismatches:
        lines.append(f"  not as expected: {len(mismatches)}")
        lines += [f"    {m}" for m in mismatches[:SHOW_MISMATCHES]]
    lines += [
        "",
        f"Dead letters: {len(outcome.dead_letters)} of {outcome.expected_dlq} malformed — "
        + ", ".join(f"{r}: {n}" for r, n in sorted(outcome.reasons().items())),
        "",
        *policy_lines(outcome),
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
