"""``/v1/tenants/{tenant}/policy`` against a real Postgres, and what workers then load."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from frugalflow.api import openapi_document
from frugalflow.policy.models import TenantPolicy
from frugalflow.policy.store import load_snapshot
from frugalflow.sink.store import CostStore
from tests.api.helpers import READONLY, auth

Client = TestClient[Any, Any]
DEFAULTS = TenantPolicy().model_dump(mode="json")


def path(tenant: str) -> str:
    return f"/v1/tenants/{tenant}/policy"


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    error: dict[str, Any] = (await response.json())["error"]
    assert error["code"] == code and error["message"]
    return error


async def test_policy_lifecycle(client: Client, tenant: str) -> None:
    nothing = await ok(await client.get(path(tenant), headers=auth()))
    assert nothing == {"tenant": tenant, "document": {}, "effective": DEFAULTS,
                       "updated_at": None}  # fmt: skip

    document = {"safety": {"pii": "block"}, "rate_limits": {"requests_per_minute": 60}}
    put = await ok(await client.put(path(tenant), json=document, headers=auth()))
    assert put["document"] == document and put["updated_at"] is not None
    assert put["effective"]["safety"] == {**DEFAULTS["safety"], "pii": "block"}
    assert put["effective"]["rate_limits"]["requests_per_minute"] == 60
    assert await ok(await client.get(path(tenant), headers=auth())) == put

    patch = {"safety": {"injection": "flag"}, "rate_limits": None, "cache": {"enabled": False}}
    patched = await ok(await client.patch(path(tenant), json=patch, headers=auth()))
    assert patched["document"] == {"safety": {"pii": "block", "injection": "flag"},
                                   "cache": {"enabled": False}}  # fmt: skip
    assert patched["effective"]["rate_limits"] == DEFAULTS["rate_limits"]

    replaced = await ok(await client.put(path(tenant), json={}, headers=auth()))
    assert replaced["document"] == {} and replaced["effective"] == DEFAULTS

    assert (await client.delete(path(tenant), headers=auth())).status == 204
    await error_of(await client.delete(path(tenant), headers=auth()), 404, "not_found")
    assert (await ok(await client.get(path(tenant), headers=auth())))["updated_at"] is None


async def test_the_default_tenant_applies_under_each_tenants_own(
    client: Client, tenant: str
) -> None:
    default = {"rate_limits": {"requests_per_minute": 10}, "safety": {"pii": "block"}}
    assert (await client.put(path("*"), json=default, headers=auth())).status == 200
    try:
        own = {"rate_limits": {"requests_per_minute": 100}}
        await client.put(path(tenant), json=own, headers=auth())
        effective = (await ok(await client.get(path(tenant), headers=auth())))["effective"]
        assert effective["rate_limits"]["requests_per_minute"] == 100
        assert effective["safety"]["pii"] == "block"
        star = await ok(await client.get(path("*"), headers=auth()))
        assert star["tenant"] == "*" and star["document"] == default
    finally:
        assert (await client.delete(path("*"), headers=auth())).status == 204


@pytest.mark.parametrize(
    ("body", "code", "loc"),
    [
        ({"surprise": {}}, "unknown_policy_field", ["surprise"]),
        ({"safety": {"pii": "block", "typo": 1}}, "unknown_policy_field", ["safety", "typo"]),
        ({"safety": {"pii": "shout"}}, "invalid_policy_value", ["safety", "pii"]),
        ({"rate_limits": {"tokens_per_minute": -5}}, "invalid_policy_value",
         ["rate_limits", "tokens_per_minute"]),
        ({"cache": "off"}, "invalid_policy_value", ["cache"]),
        ({"router": {"tier_models": {"anthropic": {"small": "gpt-4o-mini"}}}},
         "invalid_policy_value", ["router", "tier_models"]),
        ({"safety": {"sensitive_keywords": ["a\u0000b"]}}, "invalid_policy_value",
         ["safety", "sensitive_keywords", "0"]),
        ([{"safety": {}}], "invalid_policy_value", []),
    ],
)  # fmt: skip
async def test_invalid_documents_are_422_with_a_stable_code(
    client: Client, tenant: str, body: Any, code: str, loc: list[str]
) -> None:
    await client.put(path(tenant), json={"safety": {"pii": "allow"}}, headers=auth())
    for method in ("PUT", "PATCH"):
        response = await client.request(method, path(tenant), json=body, headers=auth())
        error = await error_of(response, 422, code)
        assert error["details"][0]["loc"] == loc, error
        if loc:
            assert error["message"].startswith(".".join(loc))
    stored = await ok(await client.get(path(tenant), headers=auth()))
    assert stored["document"] == {"safety": {"pii": "allow"}}  # unchanged


async def test_a_body_that_is_not_json_is_400(client: Client, tenant: str) -> None:
    for method in ("PUT", "PATCH"):
        response = await client.request(method, path(tenant), data=b"{nope", headers=auth())
        await error_of(response, 400, "bad_request")


async def test_the_readonly_token_reads_but_cannot_write(client: Client, tenant: str) -> None:
    assert (await client.get(path(tenant), headers=auth(READONLY))).status == 200
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(method, path(tenant), json={}, headers=auth(READONLY))
        await error_of(response, 403, "forbidden")
    await error_of(await client.get(path(tenant)), 401, "unauthorized")


async def test_a_write_is_what_workers_load_next(
    client: Client, store: CostStore, tenant: str
) -> None:
    document = {"router": {"strategy": "learning", "learning_min_samples": 5}}
    assert (await client.put(path(tenant), json=document, headers=auth())).status == 200
    router = (await load_snapshot(store.pool)).policy_for(tenant).router
    assert (router.strategy, router.learning_min_samples) == ("learning", 5)


def test_the_document_describes_the_bodies() -> None:
    operations = openapi_document()["paths"]["/v1/tenants/{tenant}/policy"]
    assert set(operations) == {"get", "put", "patch", "delete"}
    schemas = openapi_document()["components"]["schemas"]
    for method, model in (("put", "TenantPolicy"), ("patch", "PolicyPatch")):
        body = operations[method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model}"}
        assert "422" in operations[method]["responses"]
        assert set(schemas[model]["properties"]) == set(TenantPolicy.model_fields)
    assert "404" in operations["delete"]["responses"]
