"""Acks are released per partition in offset order: never one above a held event."""

from __future__ import annotations

from frugalflow.dispatch.ordered_acks import OrderedAcks


def test_an_event_done_out_of_order_waits_for_the_earlier_ones_of_its_partition() -> None:
    acks: OrderedAcks[str] = OrderedAcks()
    held, immediate, later = (acks.track(0, offset, f"o{offset}") for offset in (5, 6, 7))
    assert acks.done(immediate) == []  # o5 is still in a window
    assert acks.done(later) == []
    assert acks.done(held) == ["o5", "o6", "o7"]
    assert len(acks) == 0


def test_partitions_do_not_wait_for_each_other() -> None:
    acks: OrderedAcks[str] = OrderedAcks()
    acks.track(0, 1, "p0o1")  # held
    other = acks.track(1, 9, "p1o9")
    assert acks.done(other) == ["p1o9"]
    assert len(acks) == 1


def test_a_record_read_again_after_a_seek_is_ordered_by_offset_and_acked_itself() -> None:
    acks: OrderedAcks[str] = OrderedAcks()
    first = acks.track(0, 5, "o5")
    again = acks.track(0, 3, "o3 again")  # the partition was rewound
    copy = acks.track(0, 5, "o5 copy")
    assert acks.done(first) == []  # o3 comes first
    assert acks.done(again) == ["o3 again", "o5"]
    assert acks.done(copy) == ["o5 copy"]


def test_forgotten_partitions_are_never_acked() -> None:
    acks: OrderedAcks[str] = OrderedAcks()
    revoked = acks.track(2, 1, "p2o1")
    kept = acks.track(3, 1, "p3o1")
    assert acks.forget({2, 4}) == 1
    assert acks.done(revoked) == []
    assert acks.done(kept) == ["p3o1"]


def test_a_discarded_event_is_never_acked_and_no_longer_holds_the_others() -> None:
    acks: OrderedAcks[str] = OrderedAcks()
    failed = acks.track(0, 1, "o1")
    later = acks.track(0, 2, "o2")
    assert acks.done(later) == []
    assert acks.discard(failed) == ["o2"]
    assert len(acks) == 0
