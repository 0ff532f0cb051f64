"""Every malformed record maps to one stable reason code; valid ones parse."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frugalflow.events import DeadLetter, RequestEvent
from frugalflow.intake.validate import Reason, validate_record

GOOD = {
    "event_type": "NEW_RECORD",
    "request_id": "r1",
    "tenant_id": "acme",
    "messages": [{"role": "user", "content": "hi"}],
    "max_tokens": 10,
}


def check(value: bytes | None, key: bytes | None = b"acme") -> RequestEvent | DeadLetter:
    return validate_record(
        key, value, topic="llm.requests", partition=2, offset=7, max_value_bytes=1 << 20
    )


def with_(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def without(field: str) -> bytes:
    return json.dumps({k: v for k, v in GOOD.items() if k != field}).encode()


def test_valid_request_parses_with_defaults() -> None:
    result = check(with_(metadata={"a": 1}, unknown_field="ignored"))
    assert isinstance(result, RequestEvent)
    assert (result.model, result.priority, result.metadata) == ("auto", "immediate", {"a": 1})


@pytest.mark.parametrize(
    ("value", "key", "reason"),
    [
        (None, b"acme", Reason.EMPTY_VALUE),
        (b"", b"acme", Reason.EMPTY_VALUE),
        (b"x" * ((1 << 20) + 1), b"acme", Reason.VALUE_TOO_LARGE),
        (b"\xff\xfe\x00garbage", b"acme", Reason.NOT_UTF8),
        (b"{not json", b"acme", Reason.INVALID_JSON),
        (b"[1, 2]", b"acme", Reason.NOT_AN_OBJECT),
        (b'"text"', b"acme", Reason.NOT_AN_OBJECT),
        (with_(event_type="UPDATED_RECORD"), b"acme", Reason.WRONG_EVENT_TYPE),
        (without("event_type"), b"acme", Reason.WRONG_EVENT_TYPE),
        (without("request_id"), b"acme", Reason.MISSING_FIELD),
        (without("tenant_id"), b"acme", Reason.MISSING_FIELD),
        (without("messages"), b"acme", Reason.MISSING_FIELD),
        (without("max_tokens"), b"acme", Reason.MISSING_FIELD),
        (with_(request_id=""), b"acme", Reason.INVALID_FIELD),
        (with_(request_id="x" * 129), b"acme", Reason.INVALID_FIELD),
        (with_(max_tokens=0), b"acme", Reason.INVALID_FIELD),
        (with_(max_tokens=65537), b"acme", Reason.INVALID_FIELD),
        (with_(max_tokens="ten"), b"acme", Reason.INVALID_FIELD),
        (with_(messages=[]), b"acme", Reason.INVALID_FIELD),
        (with_(messages=[{"role": "system", "content": "x"}]), b"acme", Reason.INVALID_FIELD),
        (with_(messages=[{"role": "assistant", "content": "x"}]), b"acme", Reason.INVALID_FIELD),
        (with_(messages=[{"role": "user", "content": ""}]), b"acme", Reason.INVALID_FIELD),
        (with_(priority="urgent"), b"acme", Reason.INVALID_FIELD),
        (with_(temperature=3), b"acme", Reason.INVALID_FIELD),
        (with_(deadline_s=0), b"acme", Reason.INVALID_FIELD),
        (with_(metadata=[1]), b"acme", Reason.INVALID_FIELD),
        (with_(created_at="yesterday"), b"acme", Reason.INVALID_FIELD),
        (GOOD and with_(), None, Reason.MISSING_KEY),
        (with_(), b"globex", Reason.KEY_MISMATCH),
    ],
)
def test_bad_input_gets_a_stable_reason(
    value: bytes | None, key: bytes | None, reason: Reason
) -> None:
    result = check(value, key)
    assert isinstance(result, DeadLetter)
    assert result.reason == reason.value
    assert result.detail
    assert (result.source_topic, result.partition, result.offset) == ("llm.requests", 2, 7)


def test_dead_letter_keeps_the_original_value() -> None:
    text = check(b"{oops", b"acme")
    assert isinstance(text, DeadLetter)
    assert (text.value, text.value_encoding) == ("{oops", "utf-8")
    binary = check(b"\xff\x00", b"acme")
    assert isinstance(binary, DeadLetter)
    assert binary.value_encoding == "base64"
    assert base64.b64decode(binary.value) == b"\xff\x00"


@given(st.binary(max_size=2000), st.one_of(st.none(), st.binary(max_size=40)))
def test_any_bytes_map_to_exactly_one_outcome(value: bytes, key: bytes | None) -> None:
    result = check(value, key)
    assert isinstance(result, RequestEvent | DeadLetter)


@given(
    st.dictionaries(
        st.sampled_from([*GOOD, "model", "priority", "deadline_s", "system"]),
        st.one_of(
            st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3)
        ),
    )
)
def test_any_json_object_maps_to_exactly_one_outcome(payload: dict[str, object]) -> None:
    result = check(json.dumps({**GOOD, **payload}).encode())
    assert isinstance(result, RequestEvent | DeadLetter)
