"""API errors in each provider's real wire shape.

Handlers raise ``ApiError``; the middleware renders it as Anthropic
(``{"type": "error", "error": {"type", "message"}, "request_id"}``) or OpenAI
(``{"error": {"message", "type", "param", "code"}}``) depending on the route.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, Literal

from aiohttp import web

Provider = Literal["anthropic", "openai"]

ANTHROPIC_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
OPENAI_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
}
OPENAI_CODE_BY_STATUS = {401: "invalid_api_key", 429: "rate_limit_exceeded"}
RETRY_AFTER_STATUSES = frozenset({429, 503, 529})


def provider_for_path(path: str) -> Provider:
    return "anthropic" if path.startswith("/v1/messages") else "openai"


def anthropic_error_type(status: int) -> str:
    return ANTHROPIC_TYPE_BY_STATUS.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )


def anthropic_error_body(
    status: int, message: str, error_type: str | None = None
) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type or anthropic_error_type(status), "message": message},
        "request_id": new_request_id("anthropic"),
    }


def openai_error_body(
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    default_type = "server_error" if status >= 500 else "invalid_request_error"
    return {
        "error": {
            "message": message,
            "type": error_type or OPENAI_TYPE_BY_STATUS.get(status, default_type),
            "param": param,
            "code": code or OPENAI_CODE_BY_STATUS.get(status),
        }
    }


def new_request_id(provider: Provider) -> str:
    return ("req_" if provider == "anthropic" else "req-") + uuid.uuid4().hex[:24]


class ApiError(Exception):
    """An HTTP error response; the middleware renders it in the route's provider shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.error_type = error_type
        self.retry_after_s = retry_after_s

    def render(self, provider: Provider) -> web.Response:
        if provider == "anthropic":
            body = anthropic_error_body(self.status, self.message, self.error_type)
            headers = {"request-id": body["request_id"]}
        else:
            body = openai_error_body(
                self.status,
                self.message,
                error_type=self.error_type,
                param=self.param,
                code=self.code,
            )
            headers = {"x-request-id": new_request_id("openai")}
        if self.retry_after_s is not None and self.status in RETRY_AFTER_STATUSES:
            # retry-after is whole seconds per HTTP; the SDKs prefer the precise -ms variant.
            headers["retry-after"] = str(math.ceil(self.retry_after_s))
            headers["retry-after-ms"] = str(round(self.retry_after_s * 1000))
        return web.json_response(body, status=self.status, headers=headers)


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)
