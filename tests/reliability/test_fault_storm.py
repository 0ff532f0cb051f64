"""A provider fault storm: every request is still answered, ok or flagged, none lost.

The emulator fails 20 % of inference calls and batch submissions with 429/5xx (with
``retry-after``), hangs 5 % of them past the worker's provider timeout, errors 20 % of
batch lines, and lets every batch expire after its first two lines. Each request must get
exactly one final answer: ``ok``, a flagged ``fallback``, or ``error``/``rejected`` with a
stable code; and the worker must survive it all.
"""

from __future__ import annotations

from collections import Counter

import pytest

from frugalflow.emulator.config import DEFAULT_FAULT_ENDPOINTS
from tests.integration.harness import Deployment, request
from tests.reliability.support import (
    FINAL_STATUSES,
    SOAK,
    EmulatorControl,
    answers_for,
    explain,
    group_by_request,
)

MODELS = {"anthropic": "claude-haiku-4-5", "openai": "gpt-4o-mini"}
STORM = {
    "error_rate": 0.2,
    "error_statuses": [429, 500, 503, 529],
    "retry_after_s": 0.5,
    "timeout_rate": 0.05,
    "timeout_hang_s": 20.0,  # far past FRUGALFLOW_PROVIDER_TIMEOUT_S below
    "fault_endpoints": [
        *DEFAULT_FAULT_ENDPOINTS, "POST /v1/messages/batches", "POST /v1/batches",
    ],
    "batch_error_rate": 0.2,
    "batch_expire": True,
    "batch_expire_completed": 2,
    "seed": 20,
}  # fmt: skip


def faults_fired(before: dict, after: dict) -> Counter[str]:
    return Counter(after["faults"]) - Counter(before["faults"])


@pytest.mark.parametrize("per_kind", [12, pytest.param(600, marks=SOAK)])
async def test_every_request_is_answered_or_flagged_through_a_fault_storm(
    deployment: Deployment, emulator: EmulatorControl, per_kind: int
) -> None:
    """``per_kind`` requests for each (provider, priority)."""
    run = deployment.prefix.rstrip(".")
    deployment.extra_env["FRUGALFLOW_PROVIDER_TIMEOUT_S"] = "3"
    deployment.start_worker()
    before = await emulator.stats()
    await emulator.set(**STORM)
    records = {
        f"{run}-{provider}-{priority}-{i}": request(
            f"{run}-{provider}-{priority}-{i}", f"tenant{i % 4}", priority=priority,
            model=model, content=f"Storm question {i} for {provider} ({priority})?",
        )
        for provider, model in MODELS.items()
        for priority in ("immediate", "batch")
        for i in range(per_kind)
    }  # fmt: skip
    await deployment.publish(list(records.values()))

    by_id = group_by_request(await answers_for(deployment, set(records), timeout=240))
    assert set(by_id) == set(records), f"lost: {sorted(set(records) - set(by_id))[:5]}"
    for request_id, copies in by_id.items():
        assert len(copies) == 1, f"{request_id} answered {len(copies)} times"
        answer = copies[0]
        assert answer["status"] in FINAL_STATUSES
        if answer["status"] in ("error", "rejected"):
            assert answer["error"]["code"], request_id
        if answer["status"] == "fallback":
            assert answer.get("fallback_reason"), request_id
    outcomes = Counter(explain(copies[0]) for copies in by_id.values())
    assert outcomes["ok"] > 0, outcomes

    fired = faults_fired(before, await emulator.stats())
    assert fired["timeout"] > 0 and sum(fired.values()) > fired["timeout"], fired
    assert deployment.workers[0].running, deployment.workers[0].tail()
    # Still healthy once the storm is over: a new request gets a plain answer.
    await emulator.restore()
    await deployment.publish([request(f"{run}-after", "tenant0")])
    after = group_by_request(await answers_for(deployment, {f"{run}-after"}, timeout=60))
    assert [explain(a) for a in after[f"{run}-after"]] == ["ok"]
