"""The client's configuration: where Kafka is, the topic prefix, who this service is."""

from __future__ import annotations

import os
from dataclasses import dataclass

from frugalflow.client.requests import DEFAULT_MAX_VALUE_BYTES


@dataclass(frozen=True)
class ClientConfig:
    bootstrap_servers: str = "localhost:9092"
    client_id: str = "frugalflow-client"  # this service's name: marks its requests' answers
    topic_prefix: str = ""  # the deployment's FRUGALFLOW_TOPIC_PREFIX
    timeout_s: float = 120.0  # complete() waits this long unless told otherwise
    max_tokens: int = 1024  # sent when a call does not say
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES  # intake's FRUGALFLOW_MAX_VALUE_BYTES

    def __post_init__(self) -> None:
        if not self.client_id or len(self.client_id) > 128:
            raise ValueError("client_id must be 1-128 characters")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @classmethod
    def from_env(cls, client_id: str, **overrides: object) -> ClientConfig:
        """Kafka and prefix from the worker's own variables (``KAFKA_BOOTSTRAP_SERVERS``…)."""
        env = os.environ
        values: dict[str, object] = {
            "bootstrap_servers": env.get("FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS")
            or env.get("KAFKA_BOOTSTRAP_SERVERS")
            or "localhost:9092",
            "topic_prefix": env.get("FRUGALFLOW_TOPIC_PREFIX", ""),
            "client_id": client_id,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
