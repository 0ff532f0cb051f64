"""The console's routes and the API routes it added: public static files under a strict
CSP, the token's role, and the same 4xx JSON errors as every other route."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.api.helpers import ADMIN, READONLY, auth


async def test_the_console_page_is_public_and_locked_down(client: TestClient[Any, Any]) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    script = await client.get("/console/js/app.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "Content-Security-Policy" in script.headers


async def test_an_unknown_console_file_is_the_apis_404(client: TestClient[Any, Any]) -> None:
    for path in ("/console/nope.js", "/console/..%2Fapp%2Fsettings.py", "/console/vendor/"):
        response = await client.get(path)
        assert response.status == 404, path
        assert (await response.json())["error"]["code"] == "not_found"


async def test_the_session_says_what_the_token_may_do(client: TestClient[Any, Any]) -> None:
    admin = await client.get("/v1/session", headers=auth(ADMIN))
    assert await admin.json() == {"role": "admin", "can_write": True}
    readonly = await client.get("/v1/session", headers=auth(READONLY))
    assert await readonly.json() == {"role": "readonly", "can_write": False}
    missing = await client.get("/v1/session")
    assert missing.status == 401
    assert (await missing.json())["error"]["code"] == "unauthorized"
    wrong = await client.get("/v1/session", headers=auth("nope"))
    assert wrong.status == 403
    assert await wrong.json() == {"error": {"code": "forbidden", "message": "invalid token"}}


async def test_activity_routes_refuse_bad_queries(client: TestClient[Any, Any]) -> None:
    for path in ("/v1/alerts?limit=0", "/v1/alerts?limit=x", "/v1/rejections?start=2026-13-01",
                 "/v1/rejections?start=2026-02-01&end=2026-01-01", "/v1/batches?state=lost",
                 "/v1/batches?limit=1001"):  # fmt: skip
        response = await client.get(path, headers=auth(READONLY))
        assert response.status == 400, path
        assert (await response.json())["error"]["code"] == "bad_request"


async def test_a_tenant_without_budget_or_traffic(
    client: TestClient[Any, Any], tenant: str
) -> None:
    status = await (await client.get(f"/v1/tenants/{tenant}/status", headers=auth())).json()
    assert status["state"] == "no_budget" and status["budgets"] == []
    assert status["today_usd"] == "0"
    for path, key in (("/v1/alerts", "alerts"), ("/v1/batches", "batches")):
        body = await (await client.get(f"{path}?tenant={tenant}", headers=auth())).json()
        assert body == {key: []}
    rejections = await (await client.get(f"/v1/rejections?tenant={tenant}", headers=auth())).json()
    assert (rejections["total"], rejections["by_code"], rejections["recent"]) == (0, [], [])
