"""Counters and a bounded log of recent request bodies, served by ``GET /_emulator/stats``,
and an opt-in full capture of request bodies, served by ``GET /_emulator/requests``.

Headers are never recorded, so API keys cannot leak through either endpoint.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import Any


class Stats:
    def __init__(self, log_size: int) -> None:
        self.requests: Counter[str] = Counter()
        self.responses_by_status: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.batches_created: Counter[str] = Counter()
        self.cache: Counter[str] = Counter()
        self.files_created = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.capture = RequestCapture()

    def resize_log(self, log_size: int) -> None:
        if self.recent.maxlen != log_size:
            self.recent = deque(self.recent, maxlen=log_size)

    def count_request(self, endpoint: str) -> None:
        self.requests[endpoint] += 1

    def log_body(self, endpoint: str, body: Any) -> None:
        entry = {"endpoint": endpoint, "at": time.time(), "body": body}
        self.recent.append(entry)
        self.capture.add(entry)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "requests_total": sum(self.requests.values()),
            "responses_by_status": dict(self.responses_by_status),
            "faults": dict(self.faults),
            "batches_created": dict(self.batches_created),
            "files_created": self.files_created,
            "cache": dict(self.cache),
            "recent_requests": list(self.recent),
        }


class RequestCapture:
    """Every API request body received while enabled, in full (not just the last N).

    For tests that must see exactly what reached a provider (e.g. that no personal data
    did). Off by default because it keeps whole bodies; bounded by ``limit``, and
    ``dropped`` counts the bodies that did not fit, so a reader knows when it is partial.
    Bodies are what ``Stats.log_body`` receives: parsed JSON, a short preview of non-JSON,
    and a summary for multipart uploads (the control endpoint adds OpenAI batch input files).
    """

    DEFAULT_LIMIT = 10_000

    def __init__(self) -> None:
        self.enabled = False
        self.limit = self.DEFAULT_LIMIT
        self.entries: list[dict[str, Any]] = []
        self.dropped = 0

    def start(self, limit: int = DEFAULT_LIMIT) -> None:
        """Begin a fresh capture (earlier entries are discarded)."""
        self.enabled, self.limit = True, limit
        self.entries, self.dropped = [], 0

    def stop(self) -> None:
        """Stop capturing; what was captured stays readable until the next ``start``."""
        self.enabled = False

    def add(self, entry: dict[str, Any]) -> None:
        if not self.enabled:
            return
        if len(self.entries) >= self.limit:
            self.dropped += 1
            return
        self.entries.append(entry)

    def snapshot(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "limit": self.limit,
            "dropped": self.dropped,
            "requests": list(self.entries),
        }
