"""kill -9 of the worker while immediate-path calls are in flight, three times in a row:
every request still answered, no cost counted twice.

Intake answers immediate requests itself, many calls at once (up to
``immediate_concurrency``, each in a task of its own), so its events of ``llm.requests``
finish out of offset order. The emulator answers after
a fixed latency and fails some calls with a retryable error whose ``retry-after`` makes
the retried call finish seconds after later ones: the oldest events of a partition are
then still running while newer ones are done, which is when faust-streaming 0.15.3
commits past an unfinished event (``app/dispatch/ordered_acks.py``). Each round starts a
worker, publishes a burst, waits until part of it is answered and the group has committed
offsets of it, and SIGKILLs the worker with the rest in flight. A last worker finishes
everything. A request whose offset was committed before it was answered would
never be read again: it stays unanswered and the test names it.

At-least-once: a call in flight at a kill runs again on the next worker, so a request may
be answered twice; the copies collapse on ``request_id`` and the cost event's stable id
(the sink stores one row per request).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from frugalflow.bench.traffic import topic_partitions
from tests.integration.harness import Deployment, request
from tests.reliability.support import (
    FINAL_STATUSES,
    EmulatorControl,
    answers_for,
    group_by_request,
    read_json,
    wait_for,
)

ROUNDS = 3
CONCURRENCY = 32  # calls in flight per worker, set below the default so some requests queue
PER_ROUND = 48  # above CONCURRENCY: some wait in the queue, all overlap
LATENCY_MS = 1500
RETRY_AFTER_S = 3.0  # a retried call ends >= 6 s after it started, its successors at 1.5 s
MODELS = ("gpt-4o-mini", "claude-haiku-4-5")


def round_requests(run: str, round_no: int) -> dict[str, tuple[bytes, bytes]]:
    out = {}
    for i in range(PER_ROUND):
        request_id = f"{run}-r{round_no}-{i}"
        out[request_id] = request(
            request_id, f"tenant{i % 8}", model=MODELS[i % 2],
            content=f"Round {round_no}, question {i}: what is {i} squared?",  # never cached
        )  # fmt: skip
    return out


async def answered(deployment: Deployment, request_ids: set[str]) -> set[str]:
    responses = await read_json(deployment, "llm.responses")
    return {a["request_id"] for a in responses} & request_ids


async def committed_requests(deployment: Deployment) -> int:
    """The sum of the worker group's committed offsets on ``llm.requests``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=deployment.bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(deployment.env()["FRUGALFLOW_APP_ID"])
    finally:
        await admin.close()
    topic = deployment.topic("llm.requests")
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def end_of_requests(deployment: Deployment) -> int:
    """The sum of the request topic's end offsets: committed up to it, every event is done."""
    topic = deployment.topic("llm.requests")
    partitions = await topic_partitions(deployment.bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=deployment.bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def test_kills_mid_flight_lose_no_immediate_request_and_bill_none_twice(
    deployment: Deployment, emulator: EmulatorControl
) -> None:
    run = deployment.prefix.rstrip(".")
    deployment.extra_env["FRUGALFLOW_IMMEDIATE_CONCURRENCY"] = str(CONCURRENCY)
    # A retried call takes latency + retry-after + latency: it finishes after its successors.
    await emulator.set(
        latency_ms=LATENCY_MS, error_rate=0.3, error_statuses=[529], retry_after_s=RETRY_AFTER_S
    )
    sent: set[str] = set()
    in_flight_at_kill: list[int] = []
    for round_no in range(1, ROUNDS + 1):
        worker = deployment.start_worker(f"w{round_no}")
        records = round_requests(run, round_no)
        sent.update(records)
        await deployment.publish(list(records.values()))
        ids, start = set(records), await committed_requests(deployment)

        async def committed_mid_round(ids: set[str] = ids, start: int = start) -> bool:
            # The worker committed offsets of this round; its retried calls still run.
            return bool(await answered(deployment, ids)) and (
                await committed_requests(deployment) > start
            )

        await wait_for(committed_mid_round, timeout=90, what=f"round {round_no} committed")
        worker.kill()
        assert not worker.running
        in_flight_at_kill.append(PER_ROUND - len(await answered(deployment, ids)))
    # The test means something only if calls were cut short (a kill after the last answer
    # proves nothing); with 48 calls of 1.5 s+ over 32 slots and retried calls of 6 s+,
    # that is every round.
    assert any(in_flight_at_kill), f"every round was answered before its kill: {in_flight_at_kill}"
    deployment.start_worker("final")

    await answers_for(deployment, sent, timeout=150)

    async def all_done() -> bool:
        # Re-run calls answer again; once every request is committed, all are out.
        return await committed_requests(deployment) >= await end_of_requests(deployment)

    await wait_for(all_done, timeout=60, what="every request committed")
    by_id = group_by_request(await read_json(deployment, "llm.responses"))
    lost = sorted(sent - set(by_id))
    assert not lost, f"{len(lost)} requests never answered (committed past?): {lost[:8]}"
    assert set(by_id) == sent, "answers for requests never sent"
    for request_id, copies in by_id.items():
        assert {a["status"] for a in copies} <= FINAL_STATUSES, request_id
        assert {a["path"] for a in copies} <= {"immediate", "fallback"}, request_id
        # A call made again gives the same answer: the emulator is deterministic.
        assert len({a["cost_usd"] for a in _ok(copies)}) <= 1, request_id

    # Every provider answer has its cost row; a fallback may have one too (another
    # provider, a stale cached answer): one row per request at most, priced as answered.
    billed = {r for r, copies in by_id.items() if _ok(copies)}
    assert billed, "no call succeeded: the test did not exercise the provider path"
    rows = await deployment.wait_cost_rows(f"{run}-%", len(billed), timeout=60)
    counted = Counter(r["request_id"] for r in rows)
    assert [r for r, n in counted.items() if n > 1] == [], "a cost counted twice"
    assert billed <= set(counted) <= sent
    for row in rows:
        answered_costs = {Decimal(a["cost_usd"]) for a in by_id[row["request_id"]]}
        assert row["cost_usd"] in answered_costs, row["request_id"]


def _ok(copies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in copies if a["status"] == "ok"]
