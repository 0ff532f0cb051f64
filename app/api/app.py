"""The admin API's aiohttp application, and how to run it.

``create_app(settings)`` builds it (no I/O: Postgres and Redis connect on first use);
``run_api(settings, host, port)`` serves it until interrupted; ``main_api(settings)`` is
what ``frugalflow api`` calls.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web

from frugalflow.api import (
    activity,
    alerts,
    budgets,
    cache,
    costs,
    experiments,
    health,
    policies,
    session,
)
from frugalflow.api.auth import auth_middleware
from frugalflow.api.errors import error_middleware
from frugalflow.api.openapi import build_document
from frugalflow.api.routing import STATE, Operation
from frugalflow.api.state import ApiState
from frugalflow.console import add_console
from frugalflow.settings import Settings

log = logging.getLogger("frugalflow.api")

MAX_BODY_BYTES = 1024 * 1024

DOCUMENT = web.AppKey("frugalflow_api_openapi", dict)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[DOCUMENT])


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/openapi.json", openapi, "This OpenAPI 3.1 document", "meta", "openapi", public=True
    ),
    *health.OPERATIONS,
    *budgets.OPERATIONS,
    *costs.OPERATIONS,
    *experiments.OPERATIONS,
    *cache.OPERATIONS,
    *policies.OPERATIONS,
    *alerts.OPERATIONS,
    *activity.OPERATIONS,
    *session.OPERATIONS,
)


def _version() -> str:
    try:
        return version("frugalflow")
    except PackageNotFoundError:
        return "0.0.0"


def openapi_document() -> dict[str, Any]:
    return build_document(OPERATIONS, version=_version())


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, auth_middleware(settings)], client_max_size=MAX_BODY_BYTES
    )
    api_state = ApiState(settings)
    app[STATE] = api_state
    app[DOCUMENT] = openapi_document()
    for op in OPERATIONS:
        app.router.add_route(op.method, op.path, op.handler)
    add_console(app)

    async def close(_: web.Application) -> None:
        await api_state.close()

    app.on_cleanup.append(close)
    return app


def run_api(settings: Settings, host: str, port: int) -> None:
    """Serve the admin API on ``host:port`` until SIGINT/SIGTERM."""
    if settings.admin_token is None:
        log.warning("FRUGALFLOW_ADMIN_TOKEN is not set: the admin API refuses every request")
    web.run_app(create_app(settings), host=host, port=port, print=None, access_log=log)


def main_api(settings: Settings) -> int:
    """``frugalflow api``: serve on ``FRUGALFLOW_API_HOST:FRUGALFLOW_API_PORT``."""
    run_api(settings, settings.api_host, settings.api_port)
    return 0
