"""End to end on real parts: a worker process, Apache Kafka, Postgres, the emulator.

Upstream publishes with aiokafka exactly as a service would; we assert on effects only:
exactly N answers, N cost rows, a dead letter with the right reason for each bad input.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.harness import Deployment, request

SHARED_SYSTEM = "You are a careful assistant for ACME. " + "Rule: be precise and brief. " * 300


@pytest.fixture
def deployment(
    kafka_bootstrap: str, postgres_dsn: str, emulator_url: str, isolated_prefix: str, tmp_path: Path
) -> Iterator[Deployment]:
    d = Deployment(kafka_bootstrap, postgres_dsn, emulator_url, isolated_prefix, tmp_path)
    yield d
    d.stop_all()


def emulator_stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=5) as response:
        return json.loads(response.read())


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
                model="claude-sonnet-4-5" if tenant == "acme" else "gpt-4o-mini",
                system=SHARED_SYSTEM,
                content=f"Question number {i}?",
                metadata={"i": i},
            )  # fmt: skip
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

    rows = await _wait_rows(deployment, f"{run}-%", n)
    assert len(rows) == n
    assert {r["request_id"] for r in rows} == {f"{run}-{i}" for i in range(n)}
    for row in rows:
        answer = by_id[row["request_id"]]
        assert row["cost_usd"] == Decimal(answer["cost_usd"])
        savings = sum(row[f"savings_{lever}"] for lever in
                      ("batch", "prompt_cache", "response_cache", "pattern", "routing"))  # fmt: skip
        assert savings == row["baseline_cost_usd"] - row["cost_usd"]
    assert any(r["cache_read_tokens"] > 0 for r in rows), "shared prefix never read from cache"
    assert all(deployment.workers[0].running for _ in [0]), "worker died on bad input"


async def test_worker_killed_mid_batch_resumes_polling_without_resubmitting(
    deployment: Deployment, emulator_url: str
) -> None:
    run = deployment.prefix.rstrip(".")
    n = 24
    deployment.extra_env["FRUGALFLOW_WINDOW_MAX_SECONDS"] = "0.3"
    before = emulator_stats(emulator_url)
    worker = deployment.start_worker("w1")
    await deployment.publish(
        [
            request(f"{run}-{i}", f"tenant{i % 3}", priority="batch", model="gpt-4o-mini")
            for i in range(n)
        ]
    )
    # Wait until every request sits in a submitted provider batch, then crash the worker.
    await _wait_for(lambda: _batched(emulator_url, before) >= n, timeout=60)
    worker.kill()
    submitted_batches = emulator_stats(emulator_url)["batches_created"] - before["batches_created"]

    deployment.start_worker("w2")
    answers = await deployment.read("llm.responses", until=n, timeout=120)
    ids = Counter(a["request_id"] for a in answers)
    assert set(ids) == {f"{run}-{i}" for i in range(n)}
    assert all(a["path"] == "batch" and a["status"] == "ok" for a in answers)
    after = emulator_stats(emulator_url)
    assert after["batches_created"] - before["batches_created"] == submitted_batches, "resubmitted"
    rows = await _wait_rows(deployment, f"{run}-%", n)
    assert len(rows) == n  # redelivered answers are not counted twice


def _batched(url: str, before: dict) -> int:
    return emulator_stats(url)["batch_requests_received"] - before["batch_requests_received"]


async def _wait_for(predicate: object, timeout: float) -> None:
    import asyncio
    import time

    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.2)


async def _wait_rows(deployment: Deployment, like: str, n: int, timeout: float = 30) -> list:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    rows = await deployment.cost_rows(like)
    while len(rows) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        rows = await deployment.cost_rows(like)
    return rows
