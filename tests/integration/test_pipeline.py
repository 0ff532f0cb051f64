"""End to end on real parts: a worker process, Apache Kafka, Postgres, the emulator.

Upstream publishes with aiokafka exactly as a service would; we assert on effects only:
exactly N answers, N cost rows, a dead letter with the right reason for each bad input.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from tests.integration.harness import Deployment, request

SHARED_SYSTEM = "You are a careful assistant for ACME. " + "Rule: be precise and brief. " * 300


async def test_every_request_is_answered_once_and_costed_once(deployment: Deployment) -> None:
    run = deployment.prefix.rstrip(".")
    n = 40
    records = []
    for i in range(n):
        tenant = "acme" if i % 2 else "globex"
        records.append(
            request(
                f"{run}-{i}",
                tenant,
                priority="batch" if i % 4 in (0, 1) else "immediate",
                model="claude-sonnet-4-6" if tenant == "acme" else "gpt-4o-mini",
                system=SHARED_SYSTEM,
                content=f"Question number {i}?",
                metadata={"i": i},
            )
        )
    bad = [
        (b"acme", b"\x00not json"),
        (b"acme", json.dumps({"event_type": "DELETED", "request_id": f"{run}-x"}).encode()),
        (b"acme", request(f"{run}-nomax", "acme")[1].replace(b'"max_tokens": 64, ', b"")),
        (b"globex", request(f"{run}-wrongkey", "acme")[1]),
        request(f"{run}-0", "globex"),  # duplicate request id
        request(f"{run}-unknown", "acme", model="gpt-imaginary"),  # answered: rejected
    ]
    deployment.start_worker()
    await deployment.publish(records + bad)

    answers = await deployment.read("llm.responses", until=n + 1, timeout=120)
    ids = Counter(a["request_id"] for a in answers)
    assert set(ids) == {f"{run}-{i}" for i in range(n)} | {f"{run}-unknown"}
    assert max(ids.values()) == 1, "a request was answered twice"
    by_id = {a["request_id"]: a for a in answers}
    assert by_id[f"{run}-unknown"]["status"] == "rejected"
    assert by_id[f"{run}-unknown"]["error"]["code"] == "unknown_model"
    paths = Counter(by_id[f"{run}-{i}"]["path"] for i in range(n))
    assert paths == {"batch": n // 2, "immediate": n // 2}
    assert all(by_id[f"{run}-{i}"]["status"] == "ok" for i in range(n))
    assert by_id[f"{run}-3"]["metadata"] == {"i": 3}
    # A cache write costs more than list price (25 % premium), so one immediate answer may
    # exceed its baseline; batch answers never do, and the whole run is cheaper.
    mine = [by_id[f"{run}-{i}"] for i in range(n)]
    for answer in mine:
        assert Decimal(answer["cost_usd"]) > 0
        if answer["path"] == "batch":
            assert Decimal(answer["cost_usd"]) < Decimal(answer["baseline_cost_usd"])
    assert sum(Decimal(a["cost_usd"]) for a in mine) < sum(
        Decimal(a["baseline_cost_usd"]) for a in mine
    )

    letters = await deployment.read("llm.dead-letter", until=5, timeout=30)
    assert sorted(d["reason"] for d in letters) == sorted(
        [
            "invalid_json",
            "wrong_event_type",
            "missing_field",
            "key_mismatch",
            "duplicate_request_id",
        ]
    )

    rows = await deployment.wait_cost_rows(f"{run}-%", n)
    assert len(rows) == n
    assert {r["request_id"] for r in rows} == {f"{run}-{i}" for i in range(n)}
    for row in rows:
        answer = by_id[row["request_id"]]
        assert row["cost_usd"] == Decimal(answer["cost_usd"])
        levers = ("batch", "prompt_cache", "response_cache", "pattern", "routing")
        savings = sum(row[f"savings_{lever}"] for lever in levers)
        assert savings == row["baseline_cost_usd"] - row["cost_usd"]
    assert any(r["cache_read_tokens"] > 0 for r in rows), "shared prefix never read from cache"

    metrics = deployment.metrics()
    assert metrics["frugalflow_cost_events_stored_total"] == n
    assert metrics['frugalflow_requests_total{path="batch",status="ok"}'] == n // 2
    assert metrics['frugalflow_requests_total{path="none",status="rejected"}'] == 1
    assert metrics['frugalflow_dead_letters_total{reason="key_mismatch"}'] == 1
    assert metrics['frugalflow_errors_total{code="unknown_model"}'] == 1
    stored_cost = sum(r["cost_usd"] for r in rows)
    prom_cost = sum(v for k, v in metrics.items() if k.startswith("frugalflow_cost_usd_total{"))
    assert abs(prom_cost - float(stored_cost)) < 1e-9
    assert all(deployment.workers[0].running for _ in [0]), "worker died on bad input"


async def test_worker_killed_mid_batch_resumes_polling_without_resubmitting(
    deployment: Deployment, emulator_url: str
) -> None:
    run = deployment.prefix.rstrip(".")
    n = 24
    started = time.time() - 1
    _configure(emulator_url, {"batch_delay_s": 6.0})  # batches stay pending across the crash
    try:
        worker = deployment.start_worker("w1")
        await deployment.publish(
            [request(f"{run}-{i}", f"tenant{i % 3}", priority="batch", model="gpt-4o-mini")
             for i in range(n)]
        )  # fmt: skip
        await _wait_for(lambda: _batched_requests(emulator_url, started)[1] >= n, timeout=60)
        worker.kill()  # SIGKILL while every batch is still in progress at the provider
        batches_before, requests_before = _batched_requests(emulator_url, started)
        assert requests_before == n

        deployment.start_worker("w2")
        answers = await deployment.read("llm.responses", until=n, timeout=120)
    finally:
        _configure(emulator_url, {"batch_delay_s": 1.0})
    ids = Counter(a["request_id"] for a in answers)
    assert set(ids) == {f"{run}-{i}" for i in range(n)}
    assert all(a["path"] == "batch" and a["status"] == "ok" for a in answers)
    assert _batched_requests(emulator_url, started) == (batches_before, n), (
        "a batch was resubmitted"
    )
    rows = await deployment.wait_cost_rows(f"{run}-%", n)
    assert len(rows) == n  # redelivered answers are never counted twice


def _configure(url: str, changes: dict) -> None:
    req = urllib.request.Request(
        f"{url}/_emulator/config", data=json.dumps(changes).encode(), method="PUT",
        headers={"content-type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(req, timeout=5).close()


def _batched_requests(url: str, since: float) -> tuple[int, int]:
    """(batches, requests) the emulator's OpenAI Batch API accepted since ``since``."""
    req = urllib.request.Request(
        f"{url}/v1/batches?limit=100", headers={"authorization": "Bearer test"}
    )
    with urllib.request.urlopen(req, timeout=5) as response:
        batches = [b for b in json.loads(response.read())["data"] if b["created_at"] >= since]
    return len(batches), sum(b["request_counts"]["total"] for b in batches)


async def _wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.2)
