"""Issue 18 end to end: the client and the notifier against a real worker process on
real Kafka, Postgres and the provider emulator, with real local receivers (an aiohttp
server for webhook / Slack / PagerDuty, aiosmtpd for e-mail).

One worker serves the whole module (it is the slow part to start).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path as FsPath

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from anthropic import AsyncAnthropic
from anthropic.types import Message

from frugalflow.alerts.signing import HEADER, verify
from frugalflow.client import (
    AnswerTimeout,
    ClientConfig,
    FrugalFlowClient,
    InvalidRequest,
    SyncClient,
)
from frugalflow.client.sdk_usage import read_response
from frugalflow.client.track import cost_event
from frugalflow.events import Alert, Path
from frugalflow.policy.store import put_policy
from frugalflow.reports.budgets import Budget, put_budget
from frugalflow.sink.store import CostStore
from tests.alerts.receivers import HttpReceiver, SmtpReceiver, channel_config
from tests.integration.harness import Deployment

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SECRET = "whsec_e2e_secret"


@dataclass
class Stack:
    deployment: Deployment
    http: HttpReceiver
    smtp: SmtpReceiver
    dsn: str

    def config(self, client_id: str = "faq-service", **overrides: object) -> ClientConfig:
        return ClientConfig(
            bootstrap_servers=self.deployment.bootstrap,
            topic_prefix=self.deployment.prefix,
            client_id=client_id,
            timeout_s=60,
            max_tokens=64,
            **overrides,  # type: ignore[arg-type]
        )


@pytest.fixture(scope="module")
async def stack(
    kafka_bootstrap: str,
    postgres_dsn: str,
    emulator_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    http = await HttpReceiver().start()
    smtp = SmtpReceiver().start()
    schema = f"issue18_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(postgres_dsn)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    dsn = f"{postgres_dsn}{'&' if '?' in postgres_dsn else '?'}search_path={schema}"
    store = CostStore(dsn)
    await store.start()
    async with store.pool.acquire() as conn:
        await put_policy(conn, "quiet", {"alerts": {"channels": []}})
        await put_policy(conn, "paged", {"alerts": {"channels": ["pager", "ops-hook"],
                                                    "kinds": ["budget_hard_stop"]}})  # fmt: skip
    await store.close()
    deployment = Deployment(
        kafka_bootstrap, dsn, emulator_url, f"t{uuid.uuid4().hex[:10]}.",
        FsPath(tmp_path_factory.mktemp("issue18")),
        extra_env={
            "FRUGALFLOW_ALERT_CHANNELS": json.dumps(channel_config(http, smtp, SECRET)),
            "FRUGALFLOW_ALERT_DEFAULT_CHANNELS": "ops-hook,mail",
            "FRUGALFLOW_ALERT_RETRY_BASE_S": "0.2",
        },
    )  # fmt: skip
    try:
        await deployment.create_topics()
        await asyncio.to_thread(deployment.start_worker)
        yield Stack(deployment, http, smtp, dsn)
    finally:
        deployment.stop_all()
        smtp.stop()
        await http.stop()
        conn = await asyncpg.connect(postgres_dsn)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_complete_submit_answers_and_late_answers(stack: Stack) -> None:
    async with FrugalFlowClient(stack.config()) as client:
        answer = await client.complete(
            "What is the capital of France?", tenant_id="acme", model="claude-haiku-4-5",
            metadata={"ticket": 7}, use_case="faq",
        )  # fmt: skip
        assert answer.status == "ok" and answer.ok and answer.content
        assert answer.path == "immediate" and answer.model == "claude-haiku-4-5"
        assert answer.cost_usd > 0 and answer.savings_usd == (
            answer.baseline_cost_usd - answer.cost_usd
        )
        assert answer.metadata["ticket"] == 7

        # Concurrent calls over the one reply consumer each get their own answer.
        many = await asyncio.gather(*(
            client.complete(f"Question {i}: what is {i} + {i}?", tenant_id=f"tenant-{i % 3}")
            for i in range(8)
        ))  # fmt: skip
        assert len({a.request_id for a in many}) == 8
        assert all(a.status == "ok" for a in many)

        # A timeout names the request; the answer that comes later is not lost.
        with pytest.raises(AnswerTimeout) as late:
            await client.complete("Summarise the quarter.", tenant_id="acme",
                                  priority="batch", timeout_s=0.2)  # fmt: skip
        assert late.value.request_id in str(late.value)
        kept = await client.answer(late.value.request_id, timeout_s=60)
        assert kept.request_id == late.value.request_id and kept.path == "batch"

        # Fire and forget, then the answers of this client as they come.
        ids = {await client.submit(f"Batch item {i}", tenant_id="globex") for i in range(3)}
        got: set[str] = set()
        async with asyncio.timeout(60):
            async for answer in client.answers():
                got.add(answer.request_id)
                if got >= ids:
                    break
        assert got == ids


async def test_invalid_requests_fail_with_intakes_reason_codes(stack: Stack) -> None:
    async with (
        FrugalFlowClient(stack.config()) as first,
        FrugalFlowClient(stack.config()) as second,
    ):
        with pytest.raises(InvalidRequest) as bad:
            await first.complete("Hi there, a question", tenant_id="acme", max_tokens=0)
        assert bad.value.reason == "invalid_field" and "max_tokens" in bad.value.detail

        # What only intake can know — a request id another service already used — comes
        # back from llm.dead-letter as the same typed error, long before any timeout.
        request_id = f"dup-{uuid.uuid4().hex[:8]}"
        await first.complete("What is 2 + 2?", tenant_id="acme", request_id=request_id)
        started = time.monotonic()
        with pytest.raises(InvalidRequest) as duplicate:
            await second.complete("What is 3 + 3?", tenant_id="acme", request_id=request_id)
        assert duplicate.value.reason == "duplicate_request_id"
        assert time.monotonic() - started < 30


async def test_track_cost_books_direct_sdk_calls_once(stack: Stack) -> None:
    sdk = AsyncAnthropic(base_url=stack.deployment.emulator_url, api_key="emulator",
                         max_retries=0)  # fmt: skip
    async with FrugalFlowClient(stack.config(client_id="etl")) as client:
        tracker = client.track_cost(tenant_id="acme", service="etl", use_case="direct-test")

        @tracker
        async def ask(question: str) -> object:
            return await sdk.messages.create(
                model="claude-haiku-4-5", max_tokens=32,
                messages=[{"role": "user", "content": question}],
            )  # fmt: skip

        response = await ask("What is the capital of Spain?")
        async with tracker as again:  # the same response recorded twice: booked once
            again.record(response)
    await sdk.close()
    message_id = response.id  # type: ignore[attr-defined]
    rows = await stack.deployment.wait_cost_rows(message_id, 1, timeout=30)
    await asyncio.sleep(2)  # let a second event, if any, reach the sink
    rows = await stack.deployment.cost_rows(message_id)
    assert len(rows) == 1
    row = rows[0]
    assert (row["path"], row["provider"], row["service"]) == ("direct", "anthropic", "etl")
    assert row["cost_usd"] > 0 and row["input_tokens"] > 0
    assert row["cost_usd"] == row["baseline_cost_usd"] - row["savings_prompt_cache"]


def test_sync_client_for_scripts(stack: Stack) -> None:
    with SyncClient(stack.config(client_id="script")) as client:
        answer = client.complete("What is the capital of Italy?", tenant_id="acme")
        assert answer.status == "ok" and answer.content
        request_id = client.submit("Batch for a script", tenant_id="acme")
        assert client.next_answer(timeout_s=60).request_id == request_id


async def test_the_readme_example_runs(stack: Stack) -> None:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.deployment.bootstrap,
        "FRUGALFLOW_TOPIC_PREFIX": stack.deployment.prefix,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "frugalflow.client.example", "--tenant", "acme", "--timeout", "60",
        "What is the capital of Portugal?",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-2000:]
    lines = out.decode().splitlines()
    assert lines[0].startswith("ok via immediate") and "saved $" in lines[1]
    assert len([line for line in lines if " via batch, cost $" in line]) == 2


async def test_alerts_reach_each_configured_channel_once(stack: Stack) -> None:
    tenant = f"acme-{uuid.uuid4().hex[:6]}"
    exceeded = Alert(tenant_id=tenant, kind="budget_exceeded", period="2026-12",
                     spent_usd=Decimal("100.4"), limit_usd=Decimal("100"))  # fmt: skip
    quiet = exceeded.model_copy(update={"tenant_id": "quiet"})
    paged_warning = exceeded.model_copy(update={"tenant_id": "paged"})
    paged_stop = paged_warning.model_copy(update={"kind": "budget_hard_stop"})
    hooks_before = len(stack.http.at("/hook"))
    stack.http.script["/hook"] = [503]  # the first webhook attempt fails: retried
    stack.http.delay_s["/hook"] = 2.0  # and every webhook call takes 2 s
    old = exceeded.model_copy(
        update={"kind": "budget_warning", "occurred_at": exceeded.occurred_at - timedelta(days=2)}
    )
    records = [exceeded, exceeded, quiet, paged_warning, paged_stop, old]  # one record twice
    producer = AIOKafkaProducer(bootstrap_servers=stack.deployment.bootstrap)
    await producer.start()
    try:
        for alert in records:
            await producer.send_and_wait(
                stack.deployment.topic("llm.alerts"), key=alert.tenant_id.encode(),
                value=alert.model_dump_json().encode(),
            )  # fmt: skip
    finally:
        await producer.stop()

    # While the slow webhook holds a delivery, answers are not held up.
    try:
        await stack.http.wait_for("/hook", hooks_before + 1, timeout=30)  # one call in flight
        async with FrugalFlowClient(stack.config(client_id="during-alerts")) as client:
            started = time.monotonic()
            answer = await client.complete("What is 5 + 5?", tenant_id="acme")
            assert answer.status == "ok" and time.monotonic() - started < 2.0
    finally:
        stack.http.delay_s.clear()

    mails = await stack.smtp.wait_for(1, timeout=60)
    pages = await stack.http.wait_for("/v2/enqueue", 1, timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = await _states(stack.dsn, [exceeded.identity(), paged_stop.identity()])
        if len(done) == 4 and all(s == "delivered" for s, _ in done.values()):
            break
        await asyncio.sleep(0.3)
    assert done == {
        (exceeded.identity(), "ops-hook"): ("delivered", 2),  # 503, then accepted
        (exceeded.identity(), "mail"): ("delivered", 1),
        (paged_stop.identity(), "pager"): ("delivered", 1),
        (paged_stop.identity(), "ops-hook"): ("delivered", 1),
    }
    await asyncio.sleep(1.5)  # nothing more arrives for the repeated record
    hooks = stack.http.at("/hook")[hooks_before:]
    ids = [json.loads(h.body)["alert_id"] for h in hooks]
    assert sorted(ids) == sorted([exceeded.identity()] * 2 + [paged_stop.identity()])
    assert all(verify(SECRET, h.body, h.headers[HEADER]) for h in hooks)
    assert [m["X-FrugalFlow-Alert-Id"] for _, m in mails] == [exceeded.identity()]
    assert [json.loads(p.body)["dedup_key"] for p in pages] == [paged_stop.identity()]
    stale = await _states(stack.dsn, [old.identity()])
    assert stale == {(old.identity(), "ops-hook"): ("failed", 0),
                     (old.identity(), "mail"): ("failed", 0)}  # fmt: skip
    quiet_rows = await _states(stack.dsn, [quiet.identity(), paged_warning.identity()])
    assert quiet_rows == {}  # no channels for 'quiet'; 'paged' wants hard stops only
    log = (stack.deployment.workdir / "w1.log").read_text()
    assert SECRET not in log and "R0UT1NGKEY" not in log
    assert "/services/T000/B000/XXXX" not in log and "/hook" not in log  # URLs are secrets
    assert "delivered to ops-hook" in log  # the channel by name (httpx's own request log,
    # redacted the same way, is quiet at INFO: tests/alerts/test_delivery.py checks it)


async def _states(dsn: str, alert_ids: list[str]) -> dict[tuple[str, str], tuple[str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT alert_id, channel, state, attempts FROM alert_deliveries "
            "WHERE alert_id = ANY($1::text[])",
            alert_ids,
        )
    finally:
        await conn.close()
    return {(r["alert_id"], r["channel"]): (r["state"], r["attempts"]) for r in rows}


async def test_direct_spend_counts_in_budgets_once(stack: Stack) -> None:
    """A direct call booked by track_cost is spent money: its alerts fire, the tenant's
    next streamed request meets the hard stop, and booking it twice counts it once."""
    sdk = AsyncAnthropic(base_url=stack.deployment.emulator_url, api_key="emulator",
                         max_retries=0)  # fmt: skip
    response = await sdk.messages.create(
        model="claude-haiku-4-5", max_tokens=32,
        messages=[{"role": "user", "content": "Rank these ten documents."}],
    )  # fmt: skip
    await sdk.close()
    cost = cost_event(read_response(response), tenant_id="spender", service="etl",
                      use_case=None).cost_usd  # fmt: skip
    # The call is 90 % of the daily limit: once is a warning, twice would be "exceeded".
    conn = await asyncpg.connect(stack.dsn)
    try:
        await put_budget(conn, Budget(
            tenant="spender", service="", use_case="",
            daily_limit_usd=(cost / Decimal("0.9")).quantize(Decimal("1e-10")),
            monthly_limit_usd=None, alert_thresholds=[Decimal("0.8"), Decimal("1")],
            hard_stop_ratio=Decimal("1.5"),
        ))  # fmt: skip
    finally:
        await conn.close()
    await asyncio.sleep(3)  # workers reload budgets every FRUGALFLOW_POLICY_REFRESH_S (2 s)

    async with FrugalFlowClient(stack.config(client_id="spender-etl")) as client:
        async with client.track_cost(tenant_id="spender", service="etl") as tracker:
            tracker.record(response)
            tracker.record(response)  # the same call twice: one event id
        deadline, kinds = time.monotonic() + 60, set()
        while time.monotonic() < deadline and not kinds:
            await asyncio.sleep(0.3)
            kinds = await _alert_kinds(stack.dsn, "spender")
        await asyncio.sleep(1.5)  # a second booking would raise budget_exceeded by now
        assert await _alert_kinds(stack.dsn, "spender") == {"budget_warning"}

        answer = await client.complete("What is 1 + 1?", tenant_id="spender")
        assert answer.status == "rejected" and answer.error is not None
        assert answer.error.code == "budget_hard_stop"
    rows = await stack.deployment.wait_cost_rows(response.id, 1, timeout=30)
    assert [(r["tenant_id"], r["path"]) for r in rows] == [("spender", "direct")]  # reported


async def test_a_bad_direct_cost_is_dead_lettered_not_booked(stack: Stack) -> None:
    response = Message.model_validate({
        "id": f"msg_{uuid.uuid4().hex[:8]}", "type": "message", "role": "assistant",
        "model": "claude-haiku-4-5", "content": [], "stop_reason": "end_turn",
        "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5},
    })  # fmt: skip
    event = cost_event(read_response(response), tenant_id="acme", service=None, use_case=None)
    streamed = event.model_copy(update={"path": Path.IMMEDIATE})
    topic = stack.deployment.topic("llm.direct-costs")
    producer = AIOKafkaProducer(bootstrap_servers=stack.deployment.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=b"acme", value=streamed.model_dump_json().encode())
        await producer.send_and_wait(topic, key=b"globex", value=event.model_dump_json().encode())
    finally:
        await producer.stop()
    letters: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while len(letters) < 2 and time.monotonic() < deadline:
        every = await stack.deployment.read("llm.dead-letter", until=1, timeout=5, settle=1)
        letters = [letter for letter in every if letter["source_topic"] == topic]
    assert sorted(letter["reason"] for letter in letters) == ["invalid_field", "key_mismatch"]
    assert await stack.deployment.cost_rows(response.id) == []  # neither reached the sink


async def _alert_kinds(dsn: str, tenant: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT kind FROM alert_deliveries WHERE tenant_id = $1", tenant)
    finally:
        await conn.close()
    return {r["kind"] for r in rows}
