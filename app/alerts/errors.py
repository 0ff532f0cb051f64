"""Why a delivery attempt failed: a stable code, whether to try again, a safe detail.

The detail never holds a URL, header, key or password: only status codes, exception
class names and short texts the receiver answered.
"""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, code: str, detail: str = "", *, retryable: bool) -> None:
        self.code, self.detail, self.retryable = code, detail[:300], retryable
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


def http_status_error(status: int, body: str = "") -> DeliveryError:
    """429, 408 and 5xx are worth another try; any other 4xx will fail the same way again."""
    retryable = status in (408, 425, 429) or status >= 500
    return DeliveryError(f"http_{status}", body.strip()[:200], retryable=retryable)
