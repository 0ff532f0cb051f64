"""kill -9 of the worker mid-batch, three times in a row (ten in the soak run): nothing
lost, nothing billed twice.

Each round starts a worker, publishes Batch-API requests for both providers, waits until
the emulator has accepted every one of them (so the batches are pending at the provider),
and SIGKILLs the worker. A last worker then finishes everything. The emulator's request
capture shows exactly what was submitted: OpenAI batches carry our record key in their
metadata, so a restarted worker adopts them and never resubmits; Anthropic batches cannot
be looked up that way, and ``app/dispatch/batch_ledger.py`` documents that a crash in the
milliseconds between "submitting" and "submitted" resubmits that one slice: at most one
slice per kill.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from functools import partial

import pytest

from frugalflow.providers.ids import safe_custom_id
from tests.integration.harness import Deployment, request
from tests.reliability.support import (
    SOAK,
    EmulatorControl,
    answers_for,
    batch_submissions,
    group_by_request,
    submitted_request_ids,
    wait_for,
)

PER_PROVIDER = 6  # requests per provider per round
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


def round_requests(run: str, round_no: int) -> dict[str, tuple[bytes, bytes]]:
    out = {}
    for provider, model in MODELS.items():
        for i in range(PER_PROVIDER):
            request_id = f"{run}-r{round_no}-{provider}-{i}"
            out[request_id] = request(
                request_id, f"tenant{i % 4}", priority="batch", model=model,
                content=f"Round {round_no}, question {i} for {provider}?",
            )  # fmt: skip
    return out


async def all_submitted(emulator: EmulatorControl, request_ids: set[str]) -> bool:
    return set(submitted_request_ids(await emulator.captured(), request_ids)) == request_ids


@pytest.mark.parametrize("kills", [3, pytest.param(10, marks=SOAK)])
async def test_kills_mid_batch_lose_nothing_and_bill_nothing_twice(
    deployment: Deployment, emulator: EmulatorControl, kills: int
) -> None:
    run = deployment.prefix.rstrip(".")
    await emulator.set(batch_delay_s=4.0)  # every kill lands while batches are pending
    await emulator.start_capture()
    provider_of: dict[str, str] = {}
    for round_no in range(1, kills + 1):
        worker = deployment.start_worker(f"w{round_no}")
        records = round_requests(run, round_no)
        provider_of.update({r: r.split("-")[-2] for r in records})
        await deployment.publish(list(records.values()))
        submitted = partial(all_submitted, emulator, set(records))
        await wait_for(submitted, timeout=60, what=f"round {round_no} batches submitted")
        worker.kill()
        assert not worker.running
    deployment.start_worker("final")

    sent = set(provider_of)
    answers = await answers_for(deployment, sent, timeout=150)
    by_id = group_by_request(answers)
    assert set(by_id) == sent, f"never answered: {sorted(sent - set(by_id))[:5]}"
    for request_id, copies in by_id.items():
        assert {(a["status"], a["path"]) for a in copies} == {("ok", "batch")}, request_id
        # A redelivered answer is the same answer: same cost, so dedupe cannot change a sum.
        assert len({a["cost_usd"] for a in copies}) == 1, request_id

    rows = await deployment.wait_cost_rows(f"{run}-%", len(sent), timeout=60)
    assert Counter(r["request_id"] for r in rows) == Counter(sent), "a cost counted twice"
    answered_cost = sum(Decimal(copies[0]["cost_usd"]) for copies in by_id.values())
    assert sum(r["cost_usd"] for r in rows) == answered_cost
    assert all(r["cost_usd"] > 0 for r in rows)

    captured = await emulator.captured()
    submissions = submitted_request_ids(captured, sent)
    openai_ids = {r for r in sent if provider_of[r] == "openai"}
    assert {r: submissions[r] for r in openai_ids} == dict.fromkeys(openai_ids, 1), (
        "an OpenAI batch was resubmitted"
    )
    # Anthropic: only whole slices may repeat (the documented window), at most one per kill.
    ours = {safe_custom_id(r) for r in sent if provider_of[r] == "anthropic"}
    slices = [
        frozenset(ids)
        for provider, ids in batch_submissions(captured)
        if provider == "anthropic" and ours & set(ids)
    ]
    distinct = set(slices)
    assert Counter(c for s in distinct for c in s) == Counter(ours), "requests re-batched"
    assert len(slices) - len(distinct) <= kills, "Anthropic slices resubmitted beyond the window"
