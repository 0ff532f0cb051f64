"""Provider faults end to end: a worker process, Apache Kafka, Postgres, the emulator.

The emulator is shared by the session: each test changes its fault knobs at run time
(``PUT /_emulator/config``) and puts the previous values back in ``finally``.

These tests watch the circuit breaker itself, so the fallback chain's failover to another
provider is turned off (``FRUGALFLOW_POLICY_DEFAULTS``); test_policies.py covers it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.harness import Deployment, EmulatorFaults, request

MODEL, OTHER_MODEL = "gpt-4o-mini", "gpt-4.1-mini"
# frugalflow.providers.circuit defaults: 5 consecutive failures, 2 billing errors, 30 s cooldown
# (the cooldown is far longer than these tests, so no half-open probe interferes).
FAILURE_THRESHOLD, BILLING_THRESHOLD = 5, 2
ATTEMPTS_PER_CALL = 3  # the adapters' default RetryPolicy: 1 call + 2 retries on 5xx


@pytest.fixture
async def emulator(emulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as client:
        yield client


@pytest.fixture
async def faults(emulator: httpx.AsyncClient) -> AsyncIterator[EmulatorFaults]:
    changed = EmulatorFaults(emulator)
    try:
        yield changed
    finally:
        await changed.restore()


def immediate(run: str, first: int, n: int, model: str = MODEL) -> list[tuple[bytes, bytes]]:
    return [request(f"{run}-{i}", f"tenant{i % 3}", model=model) for i in range(first, first + n)]


async def answered(deployment: Deployment, n: int) -> dict[str, dict[str, Any]]:
    """Every answer once ``n`` arrived; asserts none was answered twice."""
    answers = await deployment.read("llm.responses", until=n, timeout=120)
    counts = Counter(a["request_id"] for a in answers)
    assert max(counts.values()) == 1, f"answered twice: {counts.most_common(3)}"
    return {a["request_id"]: a for a in answers}


def codes(by_id: dict[str, dict[str, Any]], ids: list[str]) -> Counter[str]:
    return Counter(
        "ok" if by_id[i]["status"] == "ok" else f"{by_id[i]['status']}:{by_id[i]['error']['code']}"
        for i in ids
    )


@pytest.fixture
def deployment(deployment: Deployment) -> Deployment:
    deployment.extra_env["FRUGALFLOW_POLICY_DEFAULTS"] = json.dumps(
        {"fallback": {"alternate_provider": False}}
    )
    return deployment


async def test_failing_provider_opens_the_circuit_and_stops_calls(
    deployment: Deployment, faults: EmulatorFaults
) -> None:
    run = deployment.prefix.rstrip(".")
    deployment.start_worker()
    await faults.set(error_rate=1.0, error_statuses=[500], fail_next_n=0)
    calls_before = await faults.chat_calls()

    # 1. Every call fails after its retries: stable error answers, and the breaker opens.
    await deployment.publish(immediate(run, 0, FAILURE_THRESHOLD))
    by_id = await answered(deployment, FAILURE_THRESHOLD)
    failing = [f"{run}-{i}" for i in range(FAILURE_THRESHOLD)]
    assert set(by_id) == set(failing)
    assert codes(by_id, failing) == {"error:provider_server_error": FAILURE_THRESHOLD}
    calls_open = await faults.chat_calls()
    assert calls_open - calls_before == FAILURE_THRESHOLD * ATTEMPTS_PER_CALL
    metrics = deployment.metrics()
    assert metrics[f'frugalflow_circuit_state{{model="{MODEL}",provider="openai"}}'] == 2

    # 2. Open: answered at once with circuit_open, the provider is not called. Another
    #    model of the same provider has its own breaker and is still called.
    n = 10
    await deployment.publish(
        immediate(run, FAILURE_THRESHOLD, n) + immediate(run, 100, 1, model=OTHER_MODEL)
    )
    by_id = await answered(deployment, FAILURE_THRESHOLD + n + 1)
    refused = [f"{run}-{i}" for i in range(FAILURE_THRESHOLD, FAILURE_THRESHOLD + n)]
    assert set(by_id) == {*failing, *refused, f"{run}-100"}
    assert codes(by_id, refused) == {"error:circuit_open": n}
    assert all(by_id[i]["path"] == "immediate" for i in refused)
    assert codes(by_id, [f"{run}-100"]) == {"error:provider_server_error": 1}
    assert await faults.chat_calls() - calls_open == ATTEMPTS_PER_CALL, "called while open"
    assert deployment.workers[0].running


async def test_transient_faults_are_retried_and_billing_errors_trip_sooner(
    deployment: Deployment, faults: EmulatorFaults
) -> None:
    run = deployment.prefix.rstrip(".")
    deployment.start_worker()

    # 1. Two 500s are absorbed by the adapter's retries: the answer is ok.
    await faults.set(error_statuses=[500], fail_next_n=2)
    await deployment.publish(immediate(run, 0, 1))
    by_id = await answered(deployment, 1)
    assert codes(by_id, [f"{run}-0"]) == {"ok": 1}

    # 2. Out of credit (402): not retried, and two in a row open the breaker.
    await faults.set(error_rate=1.0, error_statuses=[402], fail_next_n=0)
    calls_before = await faults.chat_calls()
    billing = [f"{run}-{i}" for i in range(1, 1 + BILLING_THRESHOLD)]
    await deployment.publish(immediate(run, 1, BILLING_THRESHOLD))
    by_id = await answered(deployment, 1 + BILLING_THRESHOLD)
    assert codes(by_id, billing) == {"error:provider_billing_error": BILLING_THRESHOLD}
    calls_open = await faults.chat_calls()
    assert calls_open - calls_before == BILLING_THRESHOLD  # one attempt each

    refused = [f"{run}-{i}" for i in range(1 + BILLING_THRESHOLD, 6 + BILLING_THRESHOLD)]
    await deployment.publish(immediate(run, 1 + BILLING_THRESHOLD, len(refused)))
    by_id = await answered(deployment, 1 + BILLING_THRESHOLD + len(refused))
    assert set(by_id) == {f"{run}-0", *billing, *refused}
    assert codes(by_id, refused) == {"error:circuit_open": len(refused)}
    assert await faults.chat_calls() == calls_open
