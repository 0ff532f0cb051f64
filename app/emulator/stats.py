"""Counters and a bounded log of recent request bodies, served by ``GET /_emulator/stats``.

Headers are never recorded, so API keys cannot leak through the stats endpoint.
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

    def resize_log(self, log_size: int) -> None:
        if self.recent.maxlen != log_size:
            self.recent = deque(self.recent, maxlen=log_size)

    def count_request(self, endpoint: str) -> None:
        self.requests[endpoint] += 1

    def log_body(self, endpoint: str, body: Any) -> None:
        self.recent.append({"endpoint": endpoint, "at": time.time(), "body": body})

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
