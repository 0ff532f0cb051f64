"""Bearer-token authentication of the admin API.

``FRUGALFLOW_ADMIN_TOKEN`` may do everything; ``FRUGALFLOW_ADMIN_READONLY_TOKEN`` (optional)
may only read (GET/HEAD). With no admin token configured the API refuses every request
but the public ones (``/health``, ``/ready``, ``/openapi.json``, and the console's
static files at ``/`` and ``/console/``, which hold no data). Tokens are compared in
constant time and never logged.
"""

from __future__ import annotations

import hmac
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Middleware

from frugalflow.api.errors import ApiError, Handler
from frugalflow.console.routes import is_console_path
from frugalflow.settings import Settings

PUBLIC_PATHS = frozenset({"/health", "/ready", "/openapi.json"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="frugalflow"'}

Role = Literal["admin", "readonly"]


def _same(given: bytes, secret: str) -> bool:
    return hmac.compare_digest(given, secret.encode())


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def role_of(token: str, settings: Settings) -> Role | None:
    """What ``token`` may do under ``settings`` (``None``: nothing)."""
    given = token.encode()
    if settings.admin_token is not None and _same(given, settings.admin_token.get_secret_value()):
        return "admin"
    readonly = settings.admin_readonly_token
    if readonly is not None and _same(given, readonly.get_secret_value()):
        return "readonly"
    return None


def auth_middleware(settings: Settings) -> Middleware:
    """The middleware for ``settings``' tokens."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS or is_console_path(request.path):
            return await handler(request)
        if settings.admin_token is None:
            raise _unauthorized("the admin API is disabled until FRUGALFLOW_ADMIN_TOKEN is set")
        token = bearer_token(request)
        if token is None:
            raise _unauthorized("send 'Authorization: Bearer <token>'")
        role = role_of(token, settings)
        if role == "admin":
            return await handler(request)
        if role == "readonly":
            if request.method in READ_METHODS:
                return await handler(request)
            raise ApiError(403, "forbidden", "the read-only token cannot change anything")
        raise ApiError(403, "forbidden", "invalid token")

    return authenticate


class _Unauthorized(ApiError):
    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return super().response({**_CHALLENGE, **(headers or {})})


def _unauthorized(message: str) -> ApiError:
    return _Unauthorized(401, "unauthorized", message)
