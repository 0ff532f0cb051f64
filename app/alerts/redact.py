"""Keep channel URLs out of the logs.

httpx logs every request at INFO with its full URL (``HTTP Request: POST <url> ...``),
and a Slack or webhook URL is the credential itself. The worker keeps httpx to warnings
unless ``FRUGALFLOW_LOG_LEVEL=DEBUG``; this filter covers that, and any other process.
On the ``httpx`` logger, it replaces the URL of any configured channel by
``<alert channel NAME>``; every other record passes unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

HTTPX_LOGGER = "httpx"


class RedactChannelUrls(logging.Filter):
    def __init__(self, channels: Mapping[str, Any]) -> None:
        super().__init__()
        self._names: dict[str, str] = {}
        for name, channel in channels.items():
            url = getattr(channel, "url", None)
            if isinstance(url, SecretStr):
                self._names[url.get_secret_value()] = name

    def filter(self, record: logging.LogRecord) -> bool:
        if self._names and isinstance(record.args, tuple):
            record.args = tuple(
                f"<alert channel {self._names[str(arg)]}>" if str(arg) in self._names else arg
                for arg in record.args
            )
        return True

    def install(self) -> None:
        logging.getLogger(HTTPX_LOGGER).addFilter(self)

    def remove(self) -> None:
        logging.getLogger(HTTPX_LOGGER).removeFilter(self)
