"""Build a ``NEW_RECORD`` request and check it with intake's own validation.

The same function that intake runs on every record (``frugalflow.intake.validate``) runs here
on the exact bytes the client is about to publish, so an upstream developer meets the
same reason codes (``missing_field``, ``invalid_field``, ``value_too_large``, …) before
anything reaches Kafka.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from frugalflow.client.errors import InvalidRequest
from frugalflow.events import DeadLetter, Message, RequestEvent
from frugalflow.intake.validate import validate_record

# Keys the client adds to ``metadata`` (copied to the answer by the pipeline), so the
# reply consumer knows which answers are its own without any change to the contract.
CLIENT_KEY = "frugalflow_client"  # the service's client id: stable across restarts
INSTANCE_KEY = "frugalflow_instance"  # this client object: unique per process

MessagesIn = str | Sequence[Mapping[str, Any] | Message]
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024  # intake's default (FRUGALFLOW_MAX_VALUE_BYTES)


def new_request_id() -> str:
    return uuid.uuid4().hex


def as_messages(messages: MessagesIn) -> list[dict[str, Any]]:
    """A plain string is one user turn; ``Message`` objects and dicts are taken as given."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    out: list[dict[str, Any]] = []
    for message in messages:
        out.append(message.model_dump() if isinstance(message, Message) else dict(message))
    return out


def build_request(
    messages: MessagesIn,
    *,
    tenant_id: str,
    request_id: str,
    marker: Mapping[str, str],
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """The request as a JSON-ready dict; ``options`` left as None are not sent."""
    metadata = dict(options.get("metadata") or {})
    metadata.update(marker)
    body: dict[str, Any] = {
        "event_type": "NEW_RECORD",
        "request_id": request_id,
        "tenant_id": tenant_id,
        "messages": as_messages(messages),
        "created_at": datetime.now(UTC).isoformat(),
    }
    body.update({k: v for k, v in options.items() if v is not None and k != "metadata"})
    body["metadata"] = metadata
    return body


def encode_checked(
    body: Mapping[str, Any], *, topic: str, max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES
) -> tuple[bytes, bytes, RequestEvent]:
    """(key, value, parsed request), or ``InvalidRequest`` with intake's reason code."""
    tenant = body.get("tenant_id")
    key = tenant.encode("utf-8") if isinstance(tenant, str) else None
    try:
        value = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        # What intake would see from a producer that sent this: not a JSON document.
        raise InvalidRequest(
            "invalid_json", f"the request cannot be encoded as JSON: {exc}", _id(body)
        ) from None
    checked = validate_record(
        key, value, topic=topic, partition=-1, offset=-1, max_value_bytes=max_value_bytes
    )
    if isinstance(checked, DeadLetter):
        raise InvalidRequest(checked.reason, checked.detail, _id(body))
    assert key is not None  # a valid record has its tenant as key
    return key, value, checked


def _id(body: Mapping[str, Any]) -> str | None:
    value = body.get("request_id")
    return value if isinstance(value, str) else None
