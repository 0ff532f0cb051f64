"""The worker's log: the SDKs' HTTP clients do not log a line per provider call at INFO."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from frugalflow.worker import PER_REQUEST_LOGGERS, quiet_per_request_loggers


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    before = {name: logging.getLogger(name).level for name in PER_REQUEST_LOGGERS}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_at_info_a_provider_call_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    quiet_per_request_loggers("INFO")
    with caplog.at_level(logging.INFO):
        for name in PER_REQUEST_LOGGERS:  # as httpx logs each request
            logging.getLogger(name).info('HTTP Request: POST %s "HTTP/1.1 200 OK"', "url")
            logging.getLogger(name).warning("a retry")
    assert [r.getMessage() for r in caplog.records] == ["a retry"] * len(PER_REQUEST_LOGGERS)


def test_at_debug_every_call_is_shown() -> None:
    quiet_per_request_loggers("DEBUG")
    assert all(logging.getLogger(n).level == logging.NOTSET for n in PER_REQUEST_LOGGERS)
