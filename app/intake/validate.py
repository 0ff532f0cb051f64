"""Turn one raw Kafka record into a ``RequestEvent`` or a ``DeadLetter`` with a stable reason.

Pure and total: every byte string maps to exactly one of the two, never an exception, so
poison input can never stop the worker.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from enum import StrEnum

from pydantic import ValidationError

from frugalflow.events import DeadLetter, RequestEvent


class Reason(StrEnum):
    """Dead-letter reason codes. Stable: downstream alerting matches on them."""

    VALUE_TOO_LARGE = "value_too_large"
    EMPTY_VALUE = "empty_value"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    WRONG_EVENT_TYPE = "wrong_event_type"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    MISSING_KEY = "missing_key"
    KEY_MISMATCH = "key_mismatch"
    DUPLICATE_REQUEST = "duplicate_request_id"
    CORRUPT_INTERNAL_RECORD = "corrupt_internal_record"  # our own topics: should never happen


def validate_record(
    key: bytes | None,
    value: bytes | None,
    *,
    topic: str,
    partition: int,
    offset: int,
    max_value_bytes: int,
) -> RequestEvent | DeadLetter:
    def dead(reason: Reason, detail: str) -> DeadLetter:
        return dead_letter(reason, detail, key, value, topic, partition, offset)

    if not value:
        return dead(Reason.EMPTY_VALUE, "the record has no value")
    if len(value) > max_value_bytes:
        return dead(
            Reason.VALUE_TOO_LARGE, f"value is {len(value)} bytes, limit is {max_value_bytes}"
        )
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return dead(Reason.NOT_UTF8, f"value is not UTF-8: {exc.reason} at byte {exc.start}")
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return dead(Reason.INVALID_JSON, f"value is not JSON: {exc}")
    if not isinstance(payload, dict):
        return dead(Reason.NOT_AN_OBJECT, f"value is JSON {type(payload).__name__}, not an object")
    if payload.get("event_type") != "NEW_RECORD":
        return dead(
            Reason.WRONG_EVENT_TYPE,
            f"event_type is {payload.get('event_type')!r}, expected 'NEW_RECORD'",
        )
    try:
        request = RequestEvent.model_validate(payload)
    except ValidationError as exc:
        return _field_error(exc, dead)
    if key is None:
        return dead(Reason.MISSING_KEY, "the record has no key; it must be the tenant_id")
    if key != request.tenant_id.encode("utf-8"):
        return dead(
            Reason.KEY_MISMATCH,
            f"record key {key.decode('utf-8', 'replace')!r} != tenant_id {request.tenant_id!r}",
        )
    return request


def _field_error(exc: ValidationError, dead: Callable[[Reason, str], DeadLetter]) -> DeadLetter:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "value"
    reason = Reason.MISSING_FIELD if first["type"] == "missing" else Reason.INVALID_FIELD
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in errors[:5]
    )
    return dead(reason, detail if detail.startswith(where) else f"{where}: {detail}")


def dead_letter(
    reason: Reason,
    detail: str,
    key: bytes | None,
    value: bytes | None,
    topic: str,
    partition: int,
    offset: int,
) -> DeadLetter:
    """The original value travels as text when it is UTF-8, else base64 (nothing is lost)."""
    raw = value or b""
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    return DeadLetter(
        reason=reason.value,
        detail=detail[:2000],
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=None if key is None else key.decode("utf-8", "replace"),
        value=text,
        value_encoding=encoding,  # type: ignore[arg-type]
    )
