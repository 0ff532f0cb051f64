"""The OpenAPI document: valid 3.1, complete, and obeyed by the API (schemathesis).

Schemathesis generates requests from the document itself and sends them, with the
admin token, to the API served on a real port (its own thread and event loop, so the
synchronous schemathesis calls do not block it) over a real Postgres and Redis.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from frugalflow.api import create_app, openapi_document
from frugalflow.api.app import OPERATIONS
from frugalflow.infra.process import free_port
from frugalflow.sink.store import CostStore
from tests.api.helpers import api_settings, auth

DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"] == "3.1.0"
    assert DOCUMENT["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_document_describes_every_route() -> None:
    documented = {(m.upper(), p) for p, ops in DOCUMENT["paths"].items() for m in ops}
    assert documented == {(op.method, op.path) for op in OPERATIONS}
    for path, ops in DOCUMENT["paths"].items():
        for method, op in ops.items():
            public = path in ("/health", "/ready", "/openapi.json")
            assert op["security"] == [] if public else "security" not in op
            if not public:
                for status in ("401", "403", "500"):
                    error = op["responses"][status]["content"]["application/json"]["schema"]
                    assert error == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
            for parameter in op["parameters"]:
                assert "$ref" not in parameter["schema"] or parameter["in"] == "query"


def test_document_bodies_and_money() -> None:
    put = DOCUMENT["paths"]["/v1/budgets/{tenant}"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("BudgetIn")
    assert "422" in put["responses"]
    budget = DOCUMENT["components"]["schemas"]["Budget"]["properties"]
    assert budget["hard_stop_ratio"]["type"] == "string"  # money is a decimal string
    export = DOCUMENT["paths"]["/v1/costs/export.csv"]["get"]["responses"]["200"]
    assert list(export["content"]) == ["text/csv"]


async def test_served_document_is_the_built_one(client: TestClient[Any, Any]) -> None:
    response = await client.get("/openapi.json")
    assert await response.json() == DOCUMENT


class _ThreadedApi:
    """The API on a real port, in a thread with its own event loop."""

    def __init__(self, app: web.Application) -> None:
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> str:
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._thread.start()
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()


@pytest.fixture(scope="module")
def api_url(schema_dsn: str, store: CostStore, redis_url: str) -> Iterator[str]:
    server = _ThreadedApi(create_app(api_settings(schema_dsn, redis_url=redis_url)))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@schema.parametrize()
@settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
def test_api_obeys_its_document(case: Any, api_url: str) -> None:
    case.call_and_validate(
        base_url=api_url,
        headers=auth(),
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_cache_invalidation_documents_the_user_filter() -> None:
    operation = DOCUMENT["paths"]["/v1/cache/{tenant}"]["delete"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"tenant", "user_id"}
    user = parameters["user_id"]
    assert user["in"] == "query" and user["required"] is False
    assert user["schema"]["type"] == "string" and user["schema"]["maxLength"] == 128
    assert "user" in user["description"]
    assert "503" in operation["responses"] and "400" in operation["responses"]
