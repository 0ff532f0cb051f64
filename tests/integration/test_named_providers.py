"""Named OpenAI-compatible providers end to end: a worker, Apache Kafka, Postgres and the
provider emulator standing in for OpenRouter and Cerebras (no keys set).

* a request for an ``openrouter/…`` model is answered at the vendor model's list price,
  and OpenRouter's reported cost is recorded beside ours on the answer, the cost event
  and the Postgres row;
* when OpenRouter reports a different figure, the answer and the row are flagged
  ``cost_mismatch`` and the worker counts it;
* ``model: "auto"`` with ``provider: "cerebras"`` routes to a Cerebras model by tier.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from tests.integration.harness import Deployment, EmulatorFaults, request

SONNET = "openrouter/anthropic/claude-sonnet-4-6"


async def test_openrouter_cost_is_recorded_beside_ours(
    deployment: Deployment, faults: EmulatorFaults
) -> None:
    run = deployment.prefix.rstrip(".")
    deployment.start_worker()

    await deployment.publish([
        request(f"{run}-or", "acme", model=SONNET),
        request(f"{run}-cb", "acme", provider="cerebras"),  # model "auto"
    ])  # fmt: skip
    answers = {a["request_id"]: a for a in await deployment.read("llm.responses", until=2)}
    routed = answers[f"{run}-or"]
    assert (routed["status"], routed["provider"], routed["model"]) == ("ok", "openrouter", SONNET)
    usage = routed["usage"]
    ours = Decimal(routed["cost_usd"])
    # claude-sonnet-4-6's list price: $3 / $15 per million tokens
    assert ours == (usage["input_tokens"] * 3 + usage["output_tokens"] * 15) / Decimal(10**6)
    assert Decimal(routed["provider_reported_cost_usd"]) == ours
    assert routed["cost_mismatch"] is False
    auto = answers[f"{run}-cb"]
    assert (auto["status"], auto["provider"]) == ("ok", "cerebras")
    assert auto["model"].startswith("cerebras/") and auto["route_reason"].startswith("complexity:")
    assert auto["provider_reported_cost_usd"] is None and auto["cost_mismatch"] is None

    # OpenRouter bills half as much again as the catalog says: flagged and counted.
    await faults.set(openrouter_cost_factor=1.5)
    await deployment.publish([request(f"{run}-off", "acme", model=SONNET)])
    later = await deployment.read("llm.responses", until=3)
    [off] = [a for a in later if a["request_id"] == f"{run}-off"]
    assert off["status"] == "ok" and off["cost_mismatch"] is True
    assert Decimal(off["provider_reported_cost_usd"]) == Decimal(off["cost_usd"]) * Decimal("1.5")

    rows = {r["request_id"]: r for r in await deployment.wait_cost_rows(f"{run}-%", 3)}
    row = rows[f"{run}-or"]
    assert (row["provider"], row["model"]) == ("openrouter", SONNET)
    assert row["cost_usd"] == ours and row["provider_reported_cost_usd"] == ours
    assert row["cost_mismatch"] is False
    mismatched = rows[f"{run}-off"]
    assert mismatched["cost_mismatch"] is True
    assert mismatched["provider_reported_cost_usd"] == mismatched["cost_usd"] * Decimal("1.5")
    assert rows[f"{run}-cb"]["provider_reported_cost_usd"] is None
    key = f'frugalflow_provider_cost_mismatch_total{{model="{SONNET}",provider="openrouter"}}'
    samples = await metrics_with(deployment, key)
    assert samples[key] == 1
    assert samples['frugalflow_provider_reported_cost_usd_total{provider="openrouter"}'] > 0


async def metrics_with(deployment: Deployment, key: str, timeout: float = 10) -> dict[str, float]:
    """The worker's samples once ``key`` is among them (the sink counts after it writes)."""
    deadline = time.monotonic() + timeout
    samples = deployment.metrics()
    while key not in samples and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        samples = deployment.metrics()
    return samples
