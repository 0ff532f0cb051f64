"""Every admin API route by hand, against real Postgres and Redis."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio
from aiohttp.test_utils import TestClient, TestServer

from frugalflow.api import create_app
from frugalflow.events import UsageOut
from frugalflow.policy.response_cache import CachedAnswer, ResponseCache
from frugalflow.sink.store import CostStore
from tests.api.helpers import ADMIN, READONLY, api_settings, auth
from tests.reports.factories import event

Client = TestClient[Any, Any]


async def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- authentication


async def test_public_routes_need_no_token(client: Client) -> None:
    assert (await (await client.get("/health")).json()) == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready", "postgres": "ok"}
    assert (await client.get("/openapi.json")).status == 200


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer ", "Basic abc", "Token admin-secret-token", "bearer"]
)
async def test_missing_or_malformed_token_is_401(client: Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await client.get("/v1/budgets", headers=headers)
    await error_of(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_wrong_token_is_403(client: Client) -> None:
    await error_of(await client.get("/v1/budgets", headers=auth("nope")), 403, "forbidden")
    await error_of(await client.get("/v1/budgets", headers=auth(ADMIN + "x")), 403, "forbidden")


async def test_scheme_is_case_insensitive(client: Client) -> None:
    response = await client.get("/v1/budgets", headers={"Authorization": f"bearer {ADMIN}"})
    assert response.status == 200


async def test_readonly_token_reads_but_cannot_write(client: Client, tenant: str) -> None:
    assert (await client.get("/v1/budgets", headers=auth(READONLY))).status == 200
    put = await client.put(f"/v1/budgets/{tenant}", json={}, headers=auth(READONLY))
    error = await error_of(put, 403, "forbidden")
    assert "read-only" in error["message"]
    for method, path, body in [
        ("DELETE", f"/v1/budgets/{tenant}", None),
        ("POST", "/v1/experiments", {}),
        ("POST", "/v1/experiments/x/status", {"status": "running"}),
        ("DELETE", f"/v1/cache/{tenant}", None),
    ]:
        response = await client.request(method, path, json=body, headers=auth(READONLY))
        await error_of(response, 403, "forbidden")


async def test_no_admin_token_disables_the_api(schema_dsn: str) -> None:
    app = create_app(api_settings(schema_dsn, admin_token=None, admin_readonly_token=None))
    async with TestClient(TestServer(app)) as c:
        error = await error_of(await c.get("/v1/budgets", headers=auth()), 401, "unauthorized")
        assert "FRUGALFLOW_ADMIN_TOKEN" in error["message"]
        assert (await c.get("/health")).status == 200


async def test_unknown_route_is_json_404(client: Client) -> None:
    await error_of(await client.get("/v1/nothing", headers=auth()), 404, "not_found")
    await error_of(await client.patch("/v1/budgets", headers=auth()), 405, "method_not_allowed")


# --- readiness without Postgres


async def test_ready_is_503_and_routes_are_503_without_postgres() -> None:
    dsn = "postgresql://nobody@127.0.0.1:1/none"
    async with TestClient(TestServer(create_app(api_settings(dsn)))) as c:
        ready = await c.get("/ready")
        assert ready.status == 503
        assert await ready.json() == {"status": "unavailable", "postgres": "unreachable"}
        await error_of(await c.get("/v1/budgets", headers=auth()), 503, "database_unavailable")
        assert (await c.get("/health")).status == 200


# --- budgets


async def test_budget_lifecycle(client: Client, tenant: str) -> None:
    path = f"/v1/budgets/{tenant}"
    await error_of(await client.get(path, headers=auth()), 404, "not_found")
    body = {"daily_limit_usd": "12.50", "monthly_limit_usd": 300, "alert_thresholds": [0.5, "1"]}
    put = await client.put(path, json=body, headers=auth())
    assert put.status == 200, await put.text()
    stored = await put.json()
    assert stored["tenant"] == tenant and stored["service"] == "" and stored["use_case"] == ""
    assert Decimal(stored["daily_limit_usd"]) == Decimal("12.5")
    assert Decimal(stored["monthly_limit_usd"]) == Decimal(300)
    assert [Decimal(t) for t in stored["alert_thresholds"]] == [Decimal("0.5"), Decimal(1)]
    assert Decimal(stored["hard_stop_ratio"]) == Decimal("1.5")
    assert isinstance(stored["daily_limit_usd"], str)
    datetime.fromisoformat(stored["updated_at"])

    scoped = f"{path}?service=search&use_case=summarize"
    put = await client.put(
        scoped, json={"daily_limit_usd": 1, "hard_stop_ratio": 2}, headers=auth()
    )
    assert put.status == 200
    assert (await (await client.get(scoped, headers=auth())).json())["service"] == "search"

    listed = await (await client.get(f"/v1/budgets?tenant={tenant}", headers=auth())).json()
    assert [(b["service"], b["use_case"]) for b in listed["budgets"]] == [
        ("", ""),
        ("search", "summarize"),
    ]
    replaced = await client.put(path, json={"daily_limit_usd": None}, headers=auth())
    assert (await replaced.json())["daily_limit_usd"] is None

    assert (await client.delete(scoped, headers=auth())).status == 204
    await error_of(await client.delete(scoped, headers=auth()), 404, "not_found")
    assert (await client.get(path, headers=auth())).status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"daily_limit_usd": -1}, "daily_limit_usd"),
        ({"monthly_limit_usd": "abc"}, "monthly_limit_usd"),
        ({"monthly_limit_usd": "NaN"}, "monthly_limit_usd"),
        ({"alert_thresholds": [0]}, "alert_thresholds"),
        ({"alert_thresholds": [10.5]}, "alert_thresholds"),
        ({"hard_stop_ratio": 0.9}, "hard_stop_ratio"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_budget_validation_is_422_with_field_errors(
    client: Client, tenant: str, body: dict[str, Any], field: str
) -> None:
    response = await client.put(f"/v1/budgets/{tenant}", json=body, headers=auth())
    error = await error_of(response, 422, "validation_error")
    assert any(d["loc"][0] == field for d in error["details"]), error


async def test_budget_body_must_be_json(client: Client, tenant: str) -> None:
    response = await client.put(f"/v1/budgets/{tenant}", data=b"{not json", headers=auth())
    await error_of(response, 400, "bad_request")
    response = await client.put(f"/v1/budgets/{tenant}", json=[1], headers=auth())
    await error_of(response, 422, "validation_error")


# --- costs


@pytest.fixture(scope="module")
async def costs(store: CostStore) -> str:
    tenant = "costs-tenant"
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    await store.insert(
        [
            event(tenant, occurred_at=at, provider="anthropic", model="claude-sonnet-4-6",
                  cost="0.0045", baseline="0.0090", savings={"batch": "0.0045"}),
            event(tenant, occurred_at=at, provider="openai", model="gpt-4o",
                  cost="0.0100", baseline="0.0100"),
            event("other-tenant", occurred_at=at, cost="1", baseline="1"),
        ]
    )  # fmt: skip
    return tenant


async def test_cost_summary_grouped(client: Client, costs: str) -> None:
    response = await client.get(
        "/v1/costs/summary",
        params={"start": "2026-03-01", "end": "2026-03-31", "tenant": costs,
                "group_by": "provider,model"},
        headers=auth(),
    )  # fmt: skip
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["group_by"] == ["provider", "model"]
    assert [r["key"] for r in body["rows"]] == [
        {"provider": "openai", "model": "gpt-4o"},
        {"provider": "anthropic", "model": "claude-sonnet-4-6"},
    ]
    assert body["totals"]["cost_usd"] == "0.0145000000"
    assert body["totals"]["requests"] == 2


async def test_savings_by_lever(client: Client, costs: str) -> None:
    params = {"start": "2026-03-10", "end": "2026-03-10", "tenant": costs}
    body = await (await client.get("/v1/costs/savings", params=params, headers=auth())).json()
    assert Decimal(body["savings_usd"]) == Decimal("0.0045")
    assert body["levers"][0]["lever"] == "batch"
    assert body["start"] == body["end"] == "2026-03-10"


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-03-10", "end": "2026-03-01"},
        {"start": "2025-01-01", "end": "2026-03-01"},
        {"start": "yesterday"},
        {"group_by": "provider,colour"},
        {"end": "0001-01-01"},
    ],
)
async def test_bad_ranges_and_dimensions_are_400(client: Client, params: dict[str, str]) -> None:
    response = await client.get("/v1/costs/summary", params=params, headers=auth())
    error = await error_of(response, 400, "bad_request")
    assert error["details"]


async def test_export_csv_streams_rows(client: Client, costs: str) -> None:
    params = {"start": "2026-03-10", "end": "2026-03-10", "tenant": costs}
    response = await client.get("/v1/costs/export.csv", params=params, headers=auth())
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 2
    assert {r["tenant_id"] for r in rows} == {costs}
    assert sorted(Decimal(r["cost_usd"]) for r in rows) == [Decimal("0.0045"), Decimal("0.01")]


async def test_export_csv_errors_are_json(client: Client) -> None:
    params = {"start": "2026-03-10", "end": "2026-03-01"}
    response = await client.get("/v1/costs/export.csv", params=params, headers=auth())
    await error_of(response, 400, "bad_request")


async def test_recommendations(client: Client, costs: str) -> None:
    params = {"start": "2026-03-01", "end": "2026-03-31", "tenant": costs}
    response = await client.get("/v1/recommendations", params=params, headers=auth())
    assert response.status == 200
    body = await response.json()
    assert body["tenant"] == costs and body["start"] == "2026-03-01"
    assert isinstance(body["recommendations"], list)
    for r in body["recommendations"]:
        assert r["tenant_id"] == costs
        assert isinstance(r["estimated_monthly_saving_usd"], str)


# --- experiments

VARIANTS = [
    {"name": "control", "weight": 1},
    {"name": "cheap", "weight": 1, "model": "gpt-4o-mini"},
]


async def test_experiment_lifecycle(client: Client, tenant: str) -> None:
    body = {"name": "cheaper-model", "tenant": tenant, "variants": VARIANTS}
    created = await client.post("/v1/experiments", json=body, headers=auth())
    assert created.status == 201, await created.text()
    experiment = await created.json()
    assert experiment["status"] == "draft"
    assert [v["name"] for v in experiment["variants"]] == ["control", "cheap"]
    one = f"/v1/experiments/{experiment['id']}"

    duplicate = await client.post("/v1/experiments", json=body, headers=auth())
    await error_of(duplicate, 409, "conflict")

    assert (await (await client.get(one, headers=auth())).json()) == experiment
    listed = await client.get(f"/v1/experiments?tenant={tenant}", headers=auth())
    assert [e["id"] for e in (await listed.json())["experiments"]] == [experiment["id"]]

    for status in ("running", "paused", "running", "completed"):
        moved = await client.post(f"{one}/status", json={"status": status}, headers=auth())
        assert moved.status == 200 and (await moved.json())["status"] == status
    stuck = await client.post(f"{one}/status", json={"status": "running"}, headers=auth())
    await error_of(stuck, 409, "conflict")
    bad = await client.post(f"{one}/status", json={"status": "exploded"}, headers=auth())
    await error_of(bad, 422, "validation_error")

    completed = await client.get(
        f"/v1/experiments?tenant={tenant}&status=completed", headers=auth()
    )
    assert len((await completed.json())["experiments"]) == 1

    analysis = await client.get(f"{one}/analysis", headers=auth())
    assert analysis.status == 200
    result = await analysis.json()
    assert result["control"] == "control" and result["min_sample"] == 100
    assert result["sample_size_met"] is False
    assert [m["metric"] for m in result["metrics"]] == ["conversion", "adoption", "satisfaction"]
    assert all(m["winner"] is None for m in result["metrics"])


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "tenant": "t", "variants": [{"name": "only", "weight": 1}]},
        {"name": "x", "tenant": "t", "variants": [{"name": "a", "weight": 1}] * 2},
        {"name": "x", "tenant": "t", "variants": [{"name": "a", "weight": 0},
                                                  {"name": "b", "weight": 1}]},
        {"name": "", "tenant": "t", "variants": VARIANTS},
        {"name": "x", "tenant": "t", "variants": VARIANTS, "status": "completed"},
        {"tenant": "t", "variants": VARIANTS},
    ],
)  # fmt: skip
async def test_experiment_validation(client: Client, body: dict[str, Any]) -> None:
    response = await client.post("/v1/experiments", json=body, headers=auth())
    error = await error_of(response, 422, "validation_error")
    assert error["details"]


async def test_unknown_experiment_is_404(client: Client) -> None:
    for path in ("/v1/experiments/nope", "/v1/experiments/nope/analysis"):
        await error_of(await client.get(path, headers=auth()), 404, "not_found")
    moved = await client.post(
        "/v1/experiments/nope/status", json={"status": "running"}, headers=auth()
    )
    await error_of(moved, 404, "not_found")


async def test_analysis_min_sample_is_validated(client: Client) -> None:
    response = await client.get("/v1/experiments/x/analysis?min_sample=0", headers=auth())
    await error_of(response, 400, "bad_request")


# --- response cache


async def test_cache_invalidation_deletes_only_the_tenants_keys(
    client: Client, redis_url: str
) -> None:
    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        tenant = "acme*[x]"  # glob characters must not widen the match
        for i in range(2500):
            await r.set(f"ff:rc:{tenant}:{i}", "v")
        await r.set("ff:rc:acme-other:1", "v")
        await r.set("ff:rc:acme*[x]-2:1", "v")
        response = await client.delete("/v1/cache/acme%2A%5Bx%5D", headers=auth())
        assert response.status == 200, await response.text()
        assert await response.json() == {"tenant": tenant, "deleted": 2500}
        assert await r.exists("ff:rc:acme-other:1", "ff:rc:acme*[x]-2:1") == 2
    finally:
        await r.aclose()


async def test_cache_invalidation_by_user_deletes_only_their_entries(
    client: Client, redis_url: str
) -> None:
    r = redis.asyncio.Redis.from_url(redis_url)
    cache = ResponseCache(r, timeout_s=5)
    answer = CachedAnswer(
        content="Paris.", provider="anthropic", model="claude-haiku-4-5", usage=UsageOut(),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    try:
        tenant = "shop:*[eu]"
        for user, digest in [("u:1", "a" * 64), ("u:1", "b" * 64), ("u2", "c" * 64)]:
            await cache.put(tenant, user, digest, answer, ttl_s=60, stale_ttl_s=600)
        await cache.put("shop", "u:1", "a" * 64, answer, ttl_s=60, stale_ttl_s=600)
        response = await client.delete(
            "/v1/cache/shop%3A%2A%5Beu%5D", params={"user_id": "u:1"}, headers=auth()
        )
        assert response.status == 200, await response.text()
        # two entries, fresh and stale each, and the user's index
        assert await response.json() == {"tenant": tenant, "deleted": 5}
        assert await cache.get(tenant, "a" * 64) is None
        assert await cache.get_stale(tenant, "b" * 64) is None
        assert await cache.get(tenant, "c" * 64) == answer
        assert await cache.get("shop", "a" * 64) == answer
        again = await client.delete(
            "/v1/cache/shop%3A%2A%5Beu%5D", params={"user_id": "u:1"}, headers=auth()
        )
        assert await again.json() == {"tenant": tenant, "deleted": 0}
        everything = await client.delete("/v1/cache/shop%3A%2A%5Beu%5D", headers=auth())
        assert await everything.json() == {"tenant": tenant, "deleted": 3}
        assert await cache.get("shop", "a" * 64) == answer
    finally:
        await r.aclose()


@pytest.mark.parametrize("user_id", ["", "x" * 129, "a\x01b"])
async def test_cache_invalidation_rejects_a_bad_user_id(client: Client, user_id: str) -> None:
    response = await client.delete("/v1/cache/acme", params={"user_id": user_id}, headers=auth())
    await error_of(response, 400, "bad_request")


async def test_user_cache_invalidation_needs_the_admin_token(client: Client) -> None:
    response = await client.delete(
        "/v1/cache/acme", params={"user_id": "u1"}, headers=auth(READONLY)
    )
    await error_of(response, 403, "forbidden")


async def test_cache_without_redis_is_503(schema_dsn: str) -> None:
    async with TestClient(TestServer(create_app(api_settings(schema_dsn)))) as c:
        response = await c.delete("/v1/cache/acme", headers=auth())
        await error_of(response, 503, "cache_unavailable")
    unreachable = api_settings(schema_dsn, redis_url="redis://127.0.0.1:1/0")
    async with TestClient(TestServer(create_app(unreachable))) as c:
        response = await c.delete("/v1/cache/acme", headers=auth())
        await error_of(response, 503, "cache_unavailable")
        response = await c.delete("/v1/cache/acme?user_id=u1", headers=auth())
        await error_of(response, 503, "cache_unavailable")
