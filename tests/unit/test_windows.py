"""Batch windows: every flush reason, packing under caps, prefix grouping, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from frugalflow.dispatch.windows import (
    Caps,
    Flush,
    FlushReason,
    Pending,
    WindowKey,
    Windows,
    pack,
    prompt_prefix,
    request_size,
    submit_deadline,
)
from frugalflow.events import Admitted, RequestEvent

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
MARGIN_S = 3600  # batch_min_deadline_s
BIG = 10**9


class Clock:
    """Monotonic seconds and the wall clock, advanced together by the test."""

    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.t)


def admitted(
    rid: str, *, system: str = "S1", history: tuple[str, ...] = (), question: str = "Q",
    model: str = "gpt-4o-mini", deadline_s: int | None = None,
    created_at: datetime | None = None, admitted_at: datetime = START,
) -> Admitted:  # fmt: skip
    roles = ("user", "assistant")
    messages = [{"role": roles[i % 2], "content": text} for i, text in enumerate(history)]
    request = RequestEvent.model_validate(
        {"event_type": "NEW_RECORD", "request_id": rid, "tenant_id": "acme", "max_tokens": 64,
         "messages": [*messages, {"role": "user", "content": question}], "system": system,
         "model": model, "priority": "batch", "deadline_s": deadline_s, "created_at": created_at}
    )  # fmt: skip
    return Admitted(
        request=request, path="batch", provider="openai", model=model,
        requested_model=model, admitted_at=admitted_at,
    )  # fmt: skip


SIZE = request_size(admitted("r00"))  # every request built with 3-char ids and defaults


def windows(
    clock: Clock, *, max_requests: int = 100, max_age_s: float = 60, caps: Caps | None = None
) -> Windows[str]:
    return Windows(
        max_requests=max_requests, max_age_s=max_age_s, deadline_margin_s=MARGIN_S,
        caps_of=lambda provider: caps or Caps(record_bytes=BIG),
        clock=clock.monotonic, wall_clock=clock.wall,
    )  # fmt: skip


def ids(flush: Flush[str]) -> list[list[str]]:
    return [[item.token for item in batch] for batch in flush.batches]


def add(w: Windows[str], a: Admitted, partition: int = 0) -> list[Flush[str]]:
    return w.add(a, a.request.request_id, partition)


# --- flush reasons


def test_a_window_flushes_when_it_holds_window_max_requests() -> None:
    w = windows(Clock(), max_requests=3)
    assert add(w, admitted("r01")) == []
    assert add(w, admitted("r02")) == []
    [flush] = add(w, admitted("r03"))
    assert flush.reason is FlushReason.SIZE
    assert ids(flush) == [["r01", "r02", "r03"]]
    assert len(w) == 0


def test_the_provider_request_cap_closes_a_window_below_window_max_requests() -> None:
    w = windows(Clock(), max_requests=100, caps=Caps(record_bytes=BIG, max_requests=2))
    add(w, admitted("r01"))
    [flush] = add(w, admitted("r02"))
    assert flush.reason is FlushReason.SIZE
    assert ids(flush) == [["r01", "r02"]]


def test_a_request_that_would_pass_the_provider_byte_cap_goes_to_the_next_window() -> None:
    caps = Caps(record_bytes=BIG, provider_bytes=2 * (SIZE + 512))  # two lines fit
    w = windows(Clock(), caps=caps)
    add(w, admitted("r01"))
    assert add(w, admitted("r02")) == []
    [flush] = add(w, admitted("r03"))
    assert flush.reason is FlushReason.BYTES
    assert ids(flush) == [["r01", "r02"]]  # what was there goes first
    assert len(w) == 1  # r03 opened the next window


def test_a_window_flushes_when_its_oldest_request_is_window_max_seconds_old() -> None:
    clock = Clock()
    w = windows(clock, max_age_s=2)
    add(w, admitted("r01"))
    clock.t = 1.5
    add(w, admitted("r02"))
    clock.t = 1.99
    assert w.due() == []
    clock.t = 2.0
    [flush] = w.due()
    assert flush.reason is FlushReason.AGE
    assert ids(flush) == [["r01", "r02"]]
    assert w.due() == []


def test_the_earliest_deadline_in_a_window_flushes_it_before_its_age() -> None:
    clock = Clock()
    w = windows(clock, max_age_s=600)
    add(w, admitted("r01"))  # no deadline
    add(w, admitted("r02", deadline_s=MARGIN_S + 30, created_at=START))  # submit by t=30
    add(w, admitted("r03", deadline_s=MARGIN_S + 10, created_at=START))  # submit by t=10
    clock.t = 9.9
    assert w.due() == []
    clock.t = 10
    [flush] = w.due()
    assert flush.reason is FlushReason.DEADLINE
    assert ids(flush) == [["r01", "r02", "r03"]]


def test_a_request_admitted_with_the_minimum_deadline_flushes_its_window_at_once() -> None:
    w = windows(Clock())
    add(w, admitted("r01"))
    [flush] = add(w, admitted("r02", deadline_s=MARGIN_S))  # created_at unset: admitted_at
    assert flush.reason is FlushReason.DEADLINE
    assert ids(flush) == [["r01", "r02"]]


def test_a_request_whose_deadline_got_too_tight_upstream_is_not_held() -> None:
    clock = Clock()
    clock.t = 50  # it reaches the batcher 50 s after it was created
    w = windows(clock)
    naive_created = START.replace(tzinfo=None)  # a naive created_at is UTC
    [flush] = add(w, admitted("r01", deadline_s=MARGIN_S + 20, created_at=naive_created))
    assert flush.reason is FlushReason.DEADLINE


def test_submit_deadline_leaves_the_batch_path_its_minimum_deadline() -> None:
    created = START - timedelta(minutes=5)
    a = admitted("r01", deadline_s=2 * MARGIN_S, created_at=created)
    assert submit_deadline(a, MARGIN_S) == created + timedelta(seconds=MARGIN_S)
    # No created_at: counted from admission. No deadline: no submit-by time.
    later = admitted("r02", deadline_s=MARGIN_S, admitted_at=START)
    assert submit_deadline(later, MARGIN_S) == START
    assert submit_deadline(admitted("r03"), MARGIN_S) is None


def test_drain_closes_every_window_at_once() -> None:
    w = windows(Clock())
    add(w, admitted("r01"), partition=0)
    add(w, admitted("r02"), partition=1)
    add(w, admitted("r03", model="gpt-4o"), partition=1)
    flushes = w.drain()
    assert {f.key for f in flushes} == {
        WindowKey(0, "openai", "gpt-4o-mini"),
        WindowKey(1, "openai", "gpt-4o-mini"),
        WindowKey(1, "openai", "gpt-4o"),
    }
    assert all(f.reason is FlushReason.DRAIN for f in flushes)
    assert len(w) == 0 and w.drain() == []


# --- windows, revocation, failed sends


def test_windows_are_kept_apart_by_partition_provider_and_model() -> None:
    w = windows(Clock(), max_requests=2)
    assert add(w, admitted("r01"), partition=0) == []
    assert add(w, admitted("r02"), partition=1) == []
    assert add(w, admitted("r03", model="gpt-4o"), partition=0) == []
    [flush] = add(w, admitted("r04"), partition=0)
    assert flush.key == WindowKey(0, "openai", "gpt-4o-mini")
    assert ids(flush) == [["r01", "r04"]]


def test_revoked_partitions_are_dropped_without_flushing() -> None:
    w = windows(Clock())
    add(w, admitted("r01"), partition=0)
    add(w, admitted("r02"), partition=1)
    add(w, admitted("r03", model="gpt-4o"), partition=1)
    dropped = w.drop({1, 7})
    assert sorted(item.token for item in dropped) == ["r02", "r03"]
    [kept] = w.drain()
    assert ids(kept) == [["r01"]]


def test_requests_put_back_after_a_failed_send_keep_their_age_and_order() -> None:
    clock = Clock()
    w = windows(clock, max_age_s=10)
    add(w, admitted("r01"))
    clock.t = 4
    add(w, admitted("r02"))
    [failed] = w.drain()
    add(w, admitted("r03"))  # arrived while the failed send was in flight
    w.put_back(item for batch in failed.batches for item in batch)
    clock.t = 10  # r01's age, not the put-back time, decides
    [flush] = w.due()
    assert flush.reason is FlushReason.AGE
    assert ids(flush) == [["r01", "r02", "r03"]]


# --- cache affinity and packing


def test_same_prefix_requests_are_contiguous_in_arrival_order_of_their_groups() -> None:
    clock = Clock()
    w = windows(clock, max_age_s=5)
    for rid, system in [("a01", "S1"), ("b01", "S2"), ("a02", "S1"), ("c01", "S3"),
                        ("b02", "S2")]:  # fmt: skip
        add(w, admitted(rid, system=system))
        clock.t += 1  # separate takes: the buffer keeps the groups together
    [flush] = w.due()
    assert ids(flush) == [["a01", "a02", "b01", "b02", "c01"]]


def test_the_prefix_is_what_the_provider_can_cache() -> None:
    base = prompt_prefix(admitted("r01", history=("hi", "hello")))
    assert prompt_prefix(admitted("r02", history=("hi", "hello"), question="other")) == base
    assert prompt_prefix(admitted("r03", history=("hi", "bye"))) != base
    assert prompt_prefix(admitted("r04", system="S2", history=("hi", "hello"))) != base
    assert prompt_prefix(admitted("r05", model="gpt-4o", history=("hi", "hello"))) != base


def pending(rid: str, prefix: str, seq: int) -> Pending[str]:
    a = admitted(rid)
    return Pending(a, rid, 0, request_size(a), prefix, 0.0, None, seq)


def tokens(batches: list[list[Pending[str]]]) -> list[list[str]]:
    return [[item.token for item in batch] for batch in batches]


def test_packing_keeps_prefix_groups_whole_when_a_window_is_split() -> None:
    items = [pending("a01", "A", 0), pending("b01", "B", 1), pending("a02", "A", 2),
             pending("c01", "C", 3), pending("a03", "A", 4), pending("b02", "B", 5)]  # fmt: skip
    batches = pack(items, Caps(record_bytes=4 * SIZE))
    assert tokens(batches) == [["a01", "a02", "a03", "c01"], ["b01", "b02"]]


def test_a_group_too_large_for_one_batch_is_spread_in_order() -> None:
    items = [pending(f"a0{i}", "A", i) for i in range(5)] + [pending("b01", "B", 9)]
    batches = pack(items, Caps(record_bytes=BIG, max_requests=2))
    assert tokens(batches) == [["a00", "a01"], ["a02", "a03"], ["a04", "b01"]]


@pytest.mark.parametrize(
    "caps",
    [
        Caps(record_bytes=3 * SIZE),
        Caps(record_bytes=BIG, max_requests=3),
        Caps(record_bytes=BIG, provider_bytes=3 * (SIZE + 512)),
    ],
    ids=["record-bytes", "provider-requests", "provider-bytes"],
)
def test_every_batch_fits_each_cap(caps: Caps) -> None:
    items = [pending(f"r{i:02}", "ABCD"[i % 4], i) for i in range(10)]
    batches = pack(items, caps)
    assert sorted(t for batch in tokens(batches) for t in batch) == sorted(i.token for i in items)
    assert all(len(batch) <= 3 for batch in batches)
    assert all(sum(i.size for i in batch) <= 3 * SIZE for batch in batches)


def test_a_flush_splits_a_window_over_the_record_cap_into_several_batches() -> None:
    w = windows(Clock(), max_requests=5, caps=Caps(record_bytes=2 * SIZE))
    for i, system in enumerate(["S1", "S2", "S1", "S2"]):
        add(w, admitted(f"r0{i}", system=system))
    [flush] = add(w, admitted("r04", system="S3"))
    assert flush.reason is FlushReason.SIZE
    assert ids(flush) == [["r00", "r02"], ["r01", "r03"], ["r04"]]
