"""The client's exceptions: one root, stable codes.

ClientError                  every error the client raises
 ├─ InvalidRequest           the request would be dead-lettered by intake (``reason``
 │                           is intake's code: ``missing_field``, ``invalid_field``, …),
 │                           found before publishing, or reported on ``llm.dead-letter``
 ├─ AnswerTimeout            no answer within the timeout; names the request id. The
 │                           answer is not lost: ``client.answer(request_id)`` awaits it
 ├─ PublishError             Kafka did not take the request
 ├─ ClientNotStarted         used before ``start()`` / ``async with`` or after ``stop()``
 └─ TrackingError           ``track_cost`` could not price a provider response
                             (``code``: ``unknown_model``, ``unsupported_response``, …)
"""

from __future__ import annotations


class ClientError(Exception):
    """Root of every error the FrugalFlow client raises."""

    code: str = "client_error"


class InvalidRequest(ClientError):
    """Intake would reject this request; ``reason`` is its dead-letter reason code."""

    def __init__(self, reason: str, detail: str, request_id: str | None = None) -> None:
        self.reason = self.code = reason
        self.detail = detail
        self.request_id = request_id
        where = f" (request {request_id!r})" if request_id else ""
        super().__init__(f"{reason}: {detail}{where}")


class AnswerTimeout(ClientError, TimeoutError):
    """No answer arrived in time. The request stays pending: await it again later."""

    code = "answer_timeout"

    def __init__(self, request_id: str, tenant_id: str, timeout_s: float) -> None:
        self.request_id, self.tenant_id, self.timeout_s = request_id, tenant_id, timeout_s
        super().__init__(
            f"no answer for request {request_id!r} (tenant {tenant_id!r}) within "
            f"{timeout_s:g}s; it is still pending: await client.answer({request_id!r}) "
            "or read it from llm.responses"
        )


class PublishError(ClientError):
    code = "publish_failed"

    def __init__(self, request_id: str, cause: BaseException) -> None:
        self.request_id = request_id
        super().__init__(f"request {request_id!r} was not published: {type(cause).__name__}")


class ClientNotStarted(ClientError):
    code = "client_not_started"

    def __init__(self) -> None:
        super().__init__("the client is not running: use 'async with' or await start() first")


class TrackingError(ClientError):
    """``track_cost`` could not turn a provider response into a cost event."""

    def __init__(self, code: str, detail: str) -> None:
        self.code, self.detail = code, detail
        super().__init__(f"{code}: {detail}")
