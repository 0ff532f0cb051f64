"""Per-batch polling backoff: doubles while pending, capped, forgotten when done."""

from __future__ import annotations

from frugalflow.dispatch.poller import PollSchedule


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_pending_batches_are_polled_less_and_less_often_up_to_the_cap() -> None:
    clock = Clock()
    schedule = PollSchedule(base_s=5, max_s=60, clock=clock)
    assert schedule.due("b")  # never polled: due at once
    delays = [schedule.postpone("b") for _ in range(6)]
    assert delays == [5, 10, 20, 40, 60, 60]
    assert not schedule.due("b")
    clock.now += 59.9
    assert not schedule.due("b")
    clock.now += 0.1
    assert schedule.due("b")


def test_finished_batches_are_forgotten() -> None:
    schedule = PollSchedule(base_s=1, max_s=10, clock=Clock())
    schedule.postpone("a")
    schedule.postpone("b")
    schedule.keep_only({"b"})
    assert schedule.due("a")  # a fresh key again
    assert not schedule.due("b")


def test_an_answered_batch_is_not_due_again_while_the_ledger_still_lists_it() -> None:
    clock = Clock()
    schedule = PollSchedule(base_s=1, max_s=10, clock=clock)
    schedule.finish("a")
    clock.now += 3600  # the ledger is slow to apply the ``done`` record
    schedule.keep_only({"a", "b"})  # still listed as submitted
    assert not schedule.due("a")
    assert schedule.due("b")


def test_a_finished_batch_is_forgotten_once_the_ledger_drops_it() -> None:
    schedule = PollSchedule(base_s=1, max_s=10, clock=Clock())
    schedule.finish("a")
    schedule.keep_only(set())  # done applied, or the partition moved away
    assert schedule.due("a")  # if it is ever listed as submitted again, poll it
