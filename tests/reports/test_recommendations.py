"""Each recommendation kind triggers on data with its pattern, and not without it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from frugalflow.events import Path
from frugalflow.reports import Recommendation, recommendations
from frugalflow.reports.recommendations import confidence
from frugalflow.sink.store import CostStore
from tests.reports.factories import event

DAY = date(2026, 5, 4)
WHEN = datetime(2026, 5, 4, 9, tzinfo=UTC)


async def recs(store: CostStore, tenant: str, kind: str) -> list[Recommendation]:
    return [r for r in await recommendations(store.pool, DAY, DAY, tenant) if r.kind == kind]


def many(tenant: str, n: int, **fields: object) -> list:
    return [event(tenant, occurred_at=WHEN, **fields) for _ in range(n)]  # type: ignore[arg-type]


async def test_model_switch(store: CostStore, tenant: str) -> None:
    # 100 requests x (10k in, 1k out) on Sonnet 4.5: $4.50 per day at list price.
    await store.insert(
        many(tenant, 100, use_case="summarize", input_tokens=10_000, output_tokens=1_000,
             cost="0.045")
    )  # fmt: skip
    [rec] = await recs(store, tenant, "model_switch")
    assert (rec.use_case, rec.model) == ("summarize", "claude-sonnet-4-5")
    # the next cheaper, not older, routable Anthropic model ($2 / $10)
    assert "claude-sonnet-5-5" in rec.title
    assert rec.estimated_monthly_saving_usd == Decimal("45.00")  # ($4.50 - $3.00) x 30
    assert rec.confidence == 0.5 and rec.sample_requests == 100

    cheapest = f"{tenant}-nano"
    await store.insert(
        many(cheapest, 100, provider="openai", model="gpt-5-nano", input_tokens=10_000,
             output_tokens=1_000, cost="0.0009")
    )  # fmt: skip
    assert await recs(store, cheapest, "model_switch") == []


async def test_model_migration_from_deprecated_models(store: CostStore, tenant: str) -> None:
    # gpt-4o ($2.50 / $10) retires on 2027-01-14; its successor gpt-5.6-terra is $2 / $12.
    await store.insert(
        many(tenant, 100, use_case="chat", provider="openai", model="gpt-4o",
             input_tokens=10_000, output_tokens=1_000, cost="0.035")
    )  # fmt: skip
    # gemini-2.5-flash ($0.30 / $2.50) retired on 2026-12-01: 3 Flash ($0.50 / $3) costs more.
    await store.insert(
        many(tenant, 100, use_case="tag", provider="gemini", model="gemini-2.5-flash",
             input_tokens=10_000, output_tokens=1_000, cost="0.0055")
    )  # fmt: skip
    found = {r.model: r for r in await recs(store, tenant, "model_migration")}
    assert found["gpt-4o"].title == "Migrate chat from gpt-4o to gpt-5.6-terra"
    assert found["gpt-4o"].estimated_monthly_saving_usd == Decimal("9.00")  # $0.003 x 100 x 30
    assert "retires on 2027-01-14" in found["gpt-4o"].detail
    flash = found["gemini-2.5-flash"]
    assert flash.estimated_monthly_saving_usd == Decimal("-7.50")  # shown although it costs
    assert "adds $7.50 a month" in flash.detail and "(retired now)" in flash.detail


async def test_batch_path(store: CostStore, tenant: str) -> None:
    await store.insert(many(tenant, 10, use_case="nightly", cost="0.10"))
    [rec] = await recs(store, tenant, "batch_path")
    assert rec.use_case == "nightly" and rec.model is None
    assert rec.estimated_monthly_saving_usd == Decimal("15.00")  # $1 x 50 % x 30

    batched = f"{tenant}-b"
    await store.insert(many(batched, 10, use_case="nightly", path=Path.BATCH, cost="0.05"))
    assert await recs(store, batched, "batch_path") == []


async def test_prompt_cache(store: CostStore, tenant: str) -> None:
    await store.insert(
        many(tenant, 50, use_case="rag", input_tokens=8_000, cache_read_tokens=0, cost="0.03")
    )
    [rec] = await recs(store, tenant, "prompt_cache")
    # 50 % of 400k prompt tokens moved to cache reads: 200k x ($3 - $0.30)/M x 30
    assert rec.estimated_monthly_saving_usd == Decimal("16.20")
    assert rec.model == "claude-sonnet-4-5"

    cached = f"{tenant}-c"
    await store.insert(
        many(cached, 50, use_case="rag", input_tokens=1_000, cache_read_tokens=7_000, cost="0.01")
    )
    short = f"{tenant}-s"  # nothing worth caching: prompts below the minimum prefix
    await store.insert(many(short, 50, use_case="rag", input_tokens=300, cost="0.001"))
    assert await recs(store, cached, "prompt_cache") == []
    assert await recs(store, short, "prompt_cache") == []


async def test_prompt_length_outlier(store: CostStore, tenant: str) -> None:
    await store.insert(
        many(tenant, 20, use_case="faq", input_tokens=500)
        + many(tenant, 20, use_case="chat", input_tokens=600)
        + many(tenant, 20, use_case="triage", input_tokens=400)
        + many(tenant, 20, use_case="legal", input_tokens=6_000)
    )
    [rec] = await recs(store, tenant, "prompt_length")
    assert rec.use_case == "legal"
    # median of the averages: 550; excess (1 - 550/6000) of 120k tokens at $3/M, x 30
    expected = Decimal(120_000) * (1 - Decimal(550) / 6000) * Decimal("0.000003") * 30
    assert rec.estimated_monthly_saving_usd == expected.quantize(Decimal("0.01"))

    even = f"{tenant}-even"
    await store.insert(
        many(even, 20, use_case="faq", input_tokens=500)
        + many(even, 20, use_case="chat", input_tokens=1_000)
        + many(even, 20, use_case="legal", input_tokens=1_400)
    )
    assert await recs(store, even, "prompt_length") == []


async def test_ordering_confidence_and_empty(store: CostStore, tenant: str) -> None:
    await store.insert(
        many(tenant, 5, use_case="a", input_tokens=50_000, cost="0.15")
        + many(tenant, 400, use_case="b", model="gpt-5", provider="openai", cost="0.01")
    )
    found = await recommendations(store.pool, DAY, DAY, tenant)
    # migrations off deprecated models (claude-sonnet-4-5, gpt-5) come first, by size
    migrations = [r for r in found if r.kind == "model_migration"]
    assert found[: len(migrations)] == migrations and {r.model for r in migrations} == {
        "claude-sonnet-4-5", "gpt-5"
    }  # fmt: skip
    savings = [r.estimated_monthly_saving_usd for r in found[len(migrations) :]]
    assert savings == sorted(savings, reverse=True) and savings[0] > 0
    assert found == await recommendations(store.pool, DAY, DAY, tenant)  # deterministic
    assert confidence(0) == 0 < confidence(5) < confidence(400) < 1
    assert await recommendations(store.pool, DAY, DAY, f"{tenant}-none") == []

    # the same data over a 7-day range is a seventh of the monthly estimate
    week = await recommendations(store.pool, DAY, date(2026, 5, 10), tenant)
    assert [r.kind for r in week] == [r.kind for r in found]
    for weekly, daily in zip(week, [r.estimated_monthly_saving_usd for r in found], strict=True):
        assert abs(weekly.estimated_monthly_saving_usd * 7 - daily) <= Decimal("0.07")
