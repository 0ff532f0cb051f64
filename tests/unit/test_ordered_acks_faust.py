"""Why acks must reach Faust in offset order: faust-streaming 0.15.3's commit arithmetic.

``Consumer._new_offset`` (the offset Faust commits next for a partition) on a real Faust
consumer, built but never started. Should a Faust upgrade fix these, the tests fail and
``app/dispatch/ordered_acks.py`` can be reconsidered.
"""

from __future__ import annotations

import faust
from faust.types import TP

from frugalflow.dispatch.ordered_acks import OrderedAcks

TOPIC_PARTITION = TP("llm.admitted", 0)


def _consumer(committed: int | None, acked: list[int]) -> faust.types.ConsumerT:
    app = faust.App("ordered-acks-faust-test", broker="kafka://localhost:9092", store="memory://")
    consumer = app.consumer
    consumer._committed_offset[TOPIC_PARTITION] = committed  # type: ignore[attr-defined]
    consumer._acked[TOPIC_PARTITION] = list(acked)  # type: ignore[attr-defined]
    consumer._acked_index[TOPIC_PARTITION] = set(acked)  # type: ignore[attr-defined]
    return consumer


def _next_commit(consumer: faust.types.ConsumerT) -> int | None:
    offset: int | None = consumer._new_offset(TOPIC_PARTITION)  # type: ignore[attr-defined]
    return offset


async def test_faust_commits_past_the_event_held_at_the_committed_offset() -> None:
    # Committed 10 means "10 is next": 10 still runs, 11 and 12 are done.
    assert _next_commit(_consumer(committed=10, acked=[11, 12])) == 13  # 10 skipped


async def test_faust_checks_no_gap_before_its_first_commit() -> None:
    assert _next_commit(_consumer(committed=None, acked=[3, 4])) == 5  # 0, 1, 2 skipped


async def test_faust_waits_only_for_a_gap_of_two_or_more() -> None:
    assert _next_commit(_consumer(committed=10, acked=[12, 13])) is None


async def test_ordered_release_never_gives_faust_an_ack_above_a_running_event() -> None:
    acks: OrderedAcks[int] = OrderedAcks()
    running, done_first, done_second = (acks.track(0, offset, offset) for offset in (10, 11, 12))
    released = acks.done(done_first) + acks.done(done_second)
    assert released == []  # Faust sees nothing while 10 runs: nothing to commit past it
    released = acks.done(running)
    assert _next_commit(_consumer(committed=10, acked=released)) == 13
