"""Error responses of the admin API: one JSON shape, stable codes.

    {"error": {"code": "validation_error", "message": "...", "details": [...]}}

ApiError                      raised by handlers and helpers, rendered by ``error_middleware``
 ├─ 400 bad_request           malformed JSON, bad query parameters, bad date range
 ├─ 401 unauthorized          no or malformed bearer token, or the API has no token set
 ├─ 403 forbidden             wrong token, or the read-only token on a write
 ├─ 404 not_found             unknown resource or route
 ├─ 405 method_not_allowed
 ├─ 409 conflict              duplicate name, status change not allowed
 ├─ 422 validation_error      a body that does not match its schema (``details``: field errors)
 ├─ 503 database_unavailable  Postgres unreachable
 └─ 503 cache_unavailable     no Redis configured, or Redis unreachable
Anything else is a 500 ``internal_error`` whose details stay in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict
from pydantic_core import ErrorDetails

log = logging.getLogger("frugalflow.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "bad_request",
    415: "bad_request",
    422: "validation_error",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    model_config = ConfigDict(title="Error")

    error: ErrorDetail


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        body = ErrorBody(error=ErrorDetail(code=self.code, message=self.message,
                                           details=self.details))  # fmt: skip
        return web.json_response(
            text=body.model_dump_json(exclude_none=True), status=self.status, headers=headers
        )


def bad_request(message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def field_errors(errors: list[ErrorDetails]) -> list[dict[str, Any]]:
    """Pydantic's errors as JSON-safe ``{loc, message, type}`` (never echoing the input)."""
    return [
        {"loc": [str(p) for p in e["loc"]], "message": e["msg"], "type": e["type"]} for e in errors
    ]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "internal_error")
        return ApiError(exc.status, code, exc.reason).response()
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        log.warning("%s %s: Postgres unavailable (%s)", request.method, request.path,
                    type(exc).__name__)  # fmt: skip
        return ApiError(503, "database_unavailable", "Postgres is unreachable").response()
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return ApiError(500, "internal_error", "internal error; see the server log").response()
