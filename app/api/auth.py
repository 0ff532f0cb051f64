"""Bearer-token authentication of the admin API.

``FRUGALFLOW_ADMIN_TOKEN`` may do everything; ``FRUGALFLOW_ADMIN_READONLY_TOKEN`` (optional)
may only read (GET/HEAD). With no admin token configured the API refuses every request
but the public ones (``/health``, ``/ready``, ``/openapi.json``, and the console's
static files at ``/`` and ``/console/``, which hold no data). Tokens are compared in
constant time and never logged.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Middleware

from app.api.errors import ApiError, Handler
from app.console.routes import is_console_path
from app.settings import Settings

PUBLIC_PATHS = frozenset({"/health", "/ready", "/openapi.json"})
ROLE = "frugalflow_role"  # request key: "admin" or "readonly", set once authenticated
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="frugalflow"'}


def _same(given: bytes, secret: str) -> bool:
    return hmac.compare_digest(given, secret.encode())


def auth_middleware(settings: Settings) -> Middleware:
    """The middleware for ``settings``' tokens."""
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    readonly = (
        settings.admin_readonly_token.get_secret_value() if settings.admin_readonly_token else None
    )

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS or is_console_path(request.path):
            return await handler(request)
        if admin is None:
            raise _unauthorized("the admin API is disabled until FRUGALFLOW_ADMIN_TOKEN is set")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("send 'Authorization: Bearer <token>'")
        given = token.encode()
        if _same(given, admin):
            request[ROLE] = "admin"
            return await handler(request)
        if readonly is not None and _same(given, readonly):
            if request.method in READ_METHODS:
                request[ROLE] = "readonly"
                return await handler(request)
            raise ApiError(403, "forbidden", "the read-only token cannot change anything")
        raise ApiError(403, "forbidden", "invalid token")

    return authenticate


class _Unauthorized(ApiError):
    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return super().response({**_CHALLENGE, **(headers or {})})


def _unauthorized(message: str) -> ApiError:
    return _Unauthorized(401, "unauthorized", message)
