"""Hypothesis fuzzing of intake, end to end: arbitrary records on ``llm.requests`` of a live
worker each get exactly one outcome, and the worker survives all of them.

Records start from a valid request and are mutated: fields dropped, replaced by arbitrary
JSON, wrong keys, arbitrary text, raw bytes. ``validate_record`` (unit-tested on its own in
``tests/unit/test_validate.py``) says which outcome each must get: a dead letter with that
reason at the record's partition and offset, or one answer for its request id (any final
status: an unknown model is ``rejected``, a provider's 400 is an ``error``…). No record may
get both, none may get neither. Each example is a burst of records on the same worker, so
a poison record that kills or wedges it fails every later check.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from frugalflow.events import DeadLetter
from frugalflow.intake.validate import validate_record
from tests.integration.harness import Deployment
from tests.reliability.support import FINAL_STATUSES, Publisher, read_json

TENANTS = ("acme", "globex")
MODELS = (
    "auto",
    "claude-haiku-4-5",
    "gpt-4o-mini",
    "gemini-2.5-flash-lite",
    "auto",
    "gpt-imaginary",
)
FIELDS = ("event_type", "request_id", "tenant_id", "messages", "max_tokens", "model",
          "priority", "provider", "system", "deadline_s", "temperature", "metadata",
          "cache_ttl_s", "created_at", "service")  # fmt: skip
BAD_REQUEST_IDS = ("", "r" * 129, None, 7, ["r"])  # never a usable id: no dedupe collisions
MAX_VALUE_BYTES = 1024 * 1024
serial = itertools.count()


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(scalars, _containers, max_leaves=6)


@dataclass(frozen=True)
class Shape:
    """A record before it gets its unique request id (assigned when published)."""

    tenant: str
    key: str  # "tenant" | "other" | "none" | "bytes"
    fields: dict[str, Any]
    dropped: frozenset[str]
    junk: dict[str, Any]  # fields replaced by arbitrary JSON
    bad_request_id: Any  # a value from BAD_REQUEST_IDS, or the ``unset`` marker
    raw: bytes | None  # replaces the whole value when set
    truncate: bool

    def build(self, request_id: str) -> tuple[bytes | None, bytes | None]:
        body: dict[str, Any] = {"request_id": request_id, "tenant_id": self.tenant, **self.fields}
        body.update(self.junk)
        if self.bad_request_id != "unset":
            body["request_id"] = self.bad_request_id
        for field in self.dropped:
            body.pop(field, None)
        value = self.raw if self.raw is not None else json.dumps(body).encode()
        if self.truncate and value:
            value = value[: len(value) // 2]
        key = {
            "tenant": self.tenant.encode(),
            "other": TENANTS[TENANTS.index(self.tenant) - 1].encode(),
            "none": None,
            "bytes": b"\xff\x00" + self.tenant.encode(),
        }[self.key]
        return key, value


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    """Mostly valid requests (the minimal example is one), each mutated now and then."""

    def now_and_then(one_in: int) -> bool:  # uniform, and the minimal draw is "no"
        return draw(st.sampled_from([False] * (one_in - 1) + [True]))

    def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> Any:
        return draw(invalid) if now_and_then(6) else draw(valid)

    messages = [{"role": "user", "content": "Say hi."}]
    if now_and_then(2):
        turn = st.fixed_dictionaries(
            {"role": st.sampled_from(["user", "assistant"]), "content": st.text(min_size=1)}
        )
        bad_turn = st.fixed_dictionaries(
            {"role": st.sampled_from(["system", "tool"]), "content": st.text(max_size=5)}
        )
        turns = draw(st.lists(st.builds(lambda: None), max_size=3))
        messages = [mostly(turn, bad_turn) for _ in turns] + messages
    fields: dict[str, Any] = {
        "event_type": "NEW_RECORD",
        "messages": messages,
        "max_tokens": mostly(st.integers(1, 65_536), st.integers(-2, 0) | st.just(65_537)),
        "model": draw(st.sampled_from(MODELS)),
        "priority": mostly(st.sampled_from(["immediate", "batch"]), st.just("urgent")),
    }
    optional = {
        "provider": (st.sampled_from(["anthropic", "openai", "gemini", "ollama", "nope"]),
                     st.just("")),
        "system": (st.text(max_size=40), st.integers()),
        "deadline_s": (st.integers(1, 100_000), st.integers(-1, 0)),
        "temperature": (st.floats(0, 2), st.floats(2.01, 9)),
        "metadata": (st.dictionaries(st.text(max_size=5), json_values, max_size=3),
                     st.lists(st.integers(), max_size=2)),
        "cache_ttl_s": (st.integers(0, 10_000), st.just(-1)),
        "created_at": (st.just("2026-01-01T00:00:00Z"), st.sampled_from(["yesterday", "13:99"])),
    }  # fmt: skip
    for name, (valid, invalid) in optional.items():
        if now_and_then(4):
            fields[name] = mostly(valid, invalid)
    junk_fields = st.sampled_from([f for f in FIELDS if f != "request_id"])
    return Shape(
        tenant=draw(st.sampled_from(TENANTS)),
        key="tenant" if not now_and_then(8) else draw(st.sampled_from(["other", "none", "bytes"])),
        fields=fields,
        dropped=draw(st.frozensets(st.sampled_from(FIELDS), min_size=1, max_size=2))
        if now_and_then(12) else frozenset(),
        junk=draw(st.dictionaries(junk_fields, json_values, min_size=1, max_size=2))
        if now_and_then(12) else {},
        bad_request_id=draw(st.sampled_from(BAD_REQUEST_IDS)) if now_and_then(15) else "unset",
        raw=draw(st.binary(max_size=60) | st.text(max_size=40).map(str.encode))
        if now_and_then(15) else None,
        truncate=now_and_then(15),
    )  # fmt: skip


async def outcomes(
    deployment: Deployment, expected: dict[tuple[int, int], Any], timeout: float = 90
) -> tuple[dict[tuple[int, int], list[str]], dict[str, int]]:
    """Dead-letter reasons by (partition, offset) and answer counts by request id, once every
    expected outcome is there (or at the timeout), plus a moment for any extra one."""
    deadline = time.monotonic() + timeout
    while True:
        letters = await read_json(deployment, "llm.dead-letter")
        answers = await read_json(deployment, "llm.responses")
        reasons: dict[tuple[int, int], list[str]] = {}
        for d in letters:
            reasons.setdefault((d["partition"], d["offset"]), []).append(d["reason"])
        answered: dict[str, int] = {}
        for a in answers:
            assert a["status"] in FINAL_STATUSES, a
            answered[a["request_id"]] = answered.get(a["request_id"], 0) + 1
        done = all(
            (at in reasons) if isinstance(want, DeadLetter) else (want in answered)
            for at, want in expected.items()
        )
        if done or time.monotonic() > deadline:
            return reasons, answered
        await asyncio.sleep(1)


async def run_example(deployment: Deployment, burst: list[Shape]) -> None:
    expected: dict[tuple[int, int], Any] = {}  # (partition, offset) -> DeadLetter | request id
    async with Publisher(deployment) as publisher:
        for shape in burst:
            request_id = f"{deployment.prefix}{next(serial)}"
            key, value = shape.build(request_id)
            at = await publisher.send(key, value)
            verdict = validate_record(
                key, value, topic=deployment.topic("llm.requests"), partition=at[0],
                offset=at[1], max_value_bytes=MAX_VALUE_BYTES,
            )  # fmt: skip
            expected[at] = verdict if isinstance(verdict, DeadLetter) else verdict.request_id
    reasons, answered = await outcomes(deployment, expected)
    for at, want in expected.items():
        if isinstance(want, DeadLetter):
            assert reasons.get(at) == [want.reason], (at, want.reason, reasons.get(at))
        else:
            assert at not in reasons, (at, reasons[at])
            assert answered.get(want) == 1, (want, answered.get(want))
    assert deployment.workers[0].running, deployment.workers[0].tail()


LIVE = settings(
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every step is a live round trip
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
bursts = st.lists(shapes(), min_size=15, max_size=25)


def one_worker_for_all(deployment: Deployment) -> Deployment:
    if not deployment.workers:
        deployment.start_worker()  # one worker for every example: poison would kill it
    return deployment


@settings(LIVE, max_examples=6)
@given(burst=bursts)
def test_arbitrary_records_each_get_exactly_one_outcome(
    deployment: Deployment, burst: list[Shape]
) -> None:
    asyncio.run(run_example(one_worker_for_all(deployment), burst))


@pytest.mark.soak
@pytest.mark.timeout(1800)
@settings(LIVE, max_examples=60)
@given(burst=bursts)
def test_many_arbitrary_bursts_each_get_exactly_one_outcome(
    deployment: Deployment, burst: list[Shape]
) -> None:
    asyncio.run(run_example(one_worker_for_all(deployment), burst))
