"""Forty kinds of malformed input on ``llm.requests``: each dead-lettered with its exact
reason code (``frugalflow.intake.validate.Reason``), and the worker still answers afterwards.

Each malformed record is recognisable in ``llm.dead-letter`` by its key and its original
value (kept as text, or base64 when it is not UTF-8), so every kind is checked on its own.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

from frugalflow.intake.validate import Reason
from tests.integration.harness import Deployment, request
from tests.reliability.support import answers_for

TENANT = "acme"
MAX_VALUE_BYTES = 1024 * 1024  # Settings.max_value_bytes default


def valid(request_id: str, /, **changes: Any) -> dict[str, Any]:
    body = {
        "event_type": "NEW_RECORD", "request_id": request_id, "tenant_id": TENANT,
        "messages": [{"role": "user", "content": "What is 2 + 2?"}], "max_tokens": 16,
    }  # fmt: skip
    return {**body, **changes}


def without(request_id: str, field: str) -> bytes:
    return json.dumps({k: v for k, v in valid(request_id).items() if k != field}).encode()


def changed(request_id: str, /, **changes: Any) -> bytes:
    return json.dumps(valid(request_id, **changes)).encode()


def malformed(run: str) -> list[tuple[str, bytes | None, bytes | None, Reason]]:
    """``(kind, key, value, expected reason)``; keys and values unique per kind."""
    t = TENANT.encode()

    def rid(kind: str) -> str:
        return f"{run}-{kind}"

    text = json.dumps(valid(rid("utf16")))
    return [
        ("null value (tombstone)", b"tenant-null", None, Reason.EMPTY_VALUE),
        ("empty value", b"tenant-empty", b"", Reason.EMPTY_VALUE),
        ("value over the size limit",
         t, changed(rid("huge"), system="x" * (MAX_VALUE_BYTES + 1)), Reason.VALUE_TOO_LARGE),
        ("invalid UTF-8 bytes", t, b"\xff\xfe\x00garbage", Reason.NOT_UTF8),
        ("UTF-16 encoded JSON", t, text.encode("utf-16"), Reason.NOT_UTF8),
        ("Latin-1 encoded JSON",
         t, json.dumps(valid(rid("latin1"), system="café"), ensure_ascii=False)
         .encode("latin-1"), Reason.NOT_UTF8),
        ("truncated JSON", t, changed(rid("truncated"))[:-5], Reason.INVALID_JSON),
        ("JSON behind a byte-order mark",
         t, b"\xef\xbb\xbf" + changed(rid("bom")), Reason.INVALID_JSON),
        ("JSON nested 100,000 deep", t, b"[" * 100_000 + b"]" * 100_000, Reason.INVALID_JSON),
        ("Python repr, not JSON", t, repr(valid(rid("repr"))).encode(), Reason.INVALID_JSON),
        ("trailing garbage", t, changed(rid("trailing")) + b" extra", Reason.INVALID_JSON),
        ("JSON array", t, b'[{"event_type": "NEW_RECORD"}]', Reason.NOT_AN_OBJECT),
        ("JSON string", t, b'"NEW_RECORD"', Reason.NOT_AN_OBJECT),
        ("JSON number", t, b"42", Reason.NOT_AN_OBJECT),
        ("JSON null", t, b"null", Reason.NOT_AN_OBJECT),
        ("another event type",
         t, changed(rid("deleted"), event_type="DELETED_RECORD"), Reason.WRONG_EVENT_TYPE),
        ("no event type", t, without(rid("no-type"), "event_type"), Reason.WRONG_EVENT_TYPE),
        ("lower-case event type",
         t, changed(rid("lower"), event_type="new_record"), Reason.WRONG_EVENT_TYPE),
        ("no request_id", t, without(rid("no-id"), "request_id"), Reason.MISSING_FIELD),
        ("no tenant_id", t, without(rid("no-tenant"), "tenant_id"), Reason.MISSING_FIELD),
        ("no messages", t, without(rid("no-messages"), "messages"), Reason.MISSING_FIELD),
        ("no max_tokens", t, without(rid("no-max"), "max_tokens"), Reason.MISSING_FIELD),
        ("empty request_id", t, changed(rid("x"), request_id=""), Reason.INVALID_FIELD),
        ("request_id over 128 chars",
         t, changed(rid("x"), request_id="r" * 129), Reason.INVALID_FIELD),
        ("numeric tenant_id", t, changed(rid("num-tenant"), tenant_id=7), Reason.INVALID_FIELD),
        ("max_tokens 0", t, changed(rid("max0"), max_tokens=0), Reason.INVALID_FIELD),
        ("max_tokens over 65536", t, changed(rid("max-big"), max_tokens=65537),
         Reason.INVALID_FIELD),
        ("max_tokens NaN", t, changed(rid("nan"), max_tokens=float("nan")), Reason.INVALID_FIELD),
        ("max_tokens as words", t, changed(rid("ten"), max_tokens="ten"), Reason.INVALID_FIELD),
        ("no message at all", t, changed(rid("no-msg"), messages=[]), Reason.INVALID_FIELD),
        ("last message from the assistant",
         t, changed(rid("assistant"), messages=[{"role": "assistant", "content": "hi"}]),
         Reason.INVALID_FIELD),
        ("system role in messages",
         t, changed(rid("system-role"), messages=[{"role": "system", "content": "hi"}]),
         Reason.INVALID_FIELD),
        ("non-text content",
         t, changed(rid("content"), messages=[{"role": "user", "content": 5}]),
         Reason.INVALID_FIELD),
        ("unknown priority", t, changed(rid("urgent"), priority="urgent"), Reason.INVALID_FIELD),
        ("temperature 3", t, changed(rid("temp"), temperature=3), Reason.INVALID_FIELD),
        ("deadline 0 s", t, changed(rid("deadline"), deadline_s=0), Reason.INVALID_FIELD),
        ("metadata not an object", t, changed(rid("meta"), metadata=[1]), Reason.INVALID_FIELD),
        ("created_at not a time",
         t, changed(rid("created"), created_at="yesterday"), Reason.INVALID_FIELD),
        ("empty model", t, changed(rid("model"), model=""), Reason.INVALID_FIELD),
        ("no record key", None, changed(rid("no-key")), Reason.MISSING_KEY),
        ("key of another tenant", b"globex", changed(rid("other-key")), Reason.KEY_MISMATCH),
        ("request_id seen before",
         t, changed(rid("original"), metadata={"copy": 2}), Reason.DUPLICATE_REQUEST),
    ]  # fmt: skip


def as_dead_letter_value(value: bytes | None) -> str:
    """How ``llm.dead-letter`` carries an original value (``validate.dead_letter``)."""
    raw = value or b""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii")


async def test_every_kind_of_malformed_input_is_dead_lettered_with_its_reason(
    deployment: Deployment,
) -> None:
    run = deployment.prefix.rstrip(".")
    cases = malformed(run)
    assert len({kind for kind, *_ in cases}) >= 20
    original = (TENANT.encode(), changed(f"{run}-original"))  # the duplicate's first copy
    deployment.start_worker()
    await deployment.publish([original] + [(key, value) for _, key, value, _ in cases])

    letters = await deployment.read("llm.dead-letter", until=len(cases), timeout=90)
    got = Counter((d["key"], d["value"]) for d in letters)
    for kind, key, value, reason in cases:
        ident = (None if key is None else key.decode(), as_dead_letter_value(value))
        matching = [d for d in letters if (d["key"], d["value"]) == ident]
        assert len(matching) == 1, f"{kind}: {len(matching)} dead letters"
        assert matching[0]["reason"] == reason.value, f"{kind}: {matching[0]['reason']}"
        assert matching[0]["detail"], kind
        assert matching[0]["source_topic"] == deployment.topic("llm.requests")
    assert sum(got.values()) == len(cases), "a record was dead-lettered twice"
    metrics = deployment.metrics()
    for reason, n in Counter(reason for *_, reason in cases).items():
        assert metrics[f'frugalflow_dead_letters_total{{reason="{reason.value}"}}'] == n

    # Alive and well: the duplicate's original was answered, and so is a new request.
    assert deployment.workers[0].running, deployment.workers[0].tail()
    await deployment.publish([request(f"{run}-after", TENANT)])
    answers = await answers_for(deployment, {f"{run}-original", f"{run}-after"}, timeout=60)
    assert Counter(a["request_id"] for a in answers) == {f"{run}-original": 1, f"{run}-after": 1}
    assert all(a["status"] == "ok" for a in answers)
