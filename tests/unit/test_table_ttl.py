"""Table TTL (app/table_ttl.py) on a fake clock: expiry, bounded work per event, the
index rebuilt after a restart, and values written before TTLs existed; plus the value
formats of the two tables that use it (intake dedupe, batch membership)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import faust
import pytest

from frugalflow.dispatch.batch_ledger import done_stamp, done_value
from frugalflow.intake.agent import seen_origin, seen_stamp, seen_value
from frugalflow.settings import Settings, SettingsError, load_settings
from frugalflow.table_ttl import Stamp, TableTTL, rebuild_on_recovery, record_time

T0 = 1_700_000_000.0
TTL = 60.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def dedupe_ttl(table: dict[str, Any], clock: FakeClock, budget: int = 4) -> TableTTL:
    return TableTTL(table, ttl_s=TTL, budget=budget, parse=seen_stamp, clock=clock)


def write(table: dict[str, Any], ttl: TableTTL, partition: int, key: str, at: float) -> None:
    """What the intake agent does for a request it sees first."""
    table[key] = seen_value(f"{partition}:{len(table)}", at)
    ttl.track(partition, key, at)


def test_entries_expire_a_ttl_after_their_stamp_and_not_before() -> None:
    table: dict[str, Any] = {}
    ttl = dedupe_ttl(table, FakeClock())
    write(table, ttl, 0, "a", T0)
    write(table, ttl, 0, "b", T0 + 10)
    assert ttl.prune(0, T0 + TTL - 0.001) == 0
    assert ttl.prune(0, T0 + TTL) == 1
    assert set(table) == {"b"}
    assert ttl.prune(0, T0 + TTL + 10) == 1
    assert table == {} and ttl.tracked() == 0


def test_prune_touches_only_the_partition_being_processed() -> None:
    table: dict[str, Any] = {}
    ttl = dedupe_ttl(table, FakeClock())
    write(table, ttl, 0, "p0", T0)
    write(table, ttl, 1, "p1", T0)
    assert ttl.prune(1, T0 + 2 * TTL) == 1
    assert set(table) == {"p0"}  # its tombstone belongs to partition 0's changelog


def test_work_per_event_is_bounded_by_the_budget() -> None:
    table: dict[str, Any] = {}
    ttl = dedupe_ttl(table, FakeClock(), budget=3)
    for i in range(10):
        write(table, ttl, 0, f"k{i}", T0 + i)
    later = T0 + 10 * TTL
    assert [ttl.prune(0, later) for _ in range(5)] == [3, 3, 3, 1, 0]
    assert table == {}


def test_a_key_rewritten_later_keeps_its_newer_stamp() -> None:
    table: dict[str, Any] = {}
    ttl = dedupe_ttl(table, FakeClock())
    write(table, ttl, 0, "k", T0)
    write(table, ttl, 0, "k", T0 + 30)  # deleted and written again, say
    assert ttl.prune(0, T0 + TTL) == 0  # the first index entry is stale
    assert "k" in table
    assert ttl.prune(0, T0 + 30 + TTL) == 1
    assert table == {}


def test_the_index_is_rebuilt_from_the_table_after_a_restart() -> None:
    table: dict[str, Any] = {}
    write(table, dedupe_ttl(table, FakeClock()), 2, "old", T0)
    write(table, dedupe_ttl(table, FakeClock()), 2, "new", T0 + 50)
    write(table, dedupe_ttl(table, FakeClock()), 3, "other", T0)
    restarted = dedupe_ttl(table, FakeClock(T0 + 100))  # a new process: empty index
    assert restarted.prune(2, T0 + 100) == 0
    assert restarted.rebuild({}) == (3, 0)
    assert restarted.tracked(2) == 2 and restarted.tracked(3) == 1
    assert restarted.prune(2, T0 + TTL) == 1  # the stamps, not the restart, decide
    assert set(table) == {"new", "other"}


def test_values_without_a_stamp_get_a_full_ttl_from_the_rebuild() -> None:
    clock = FakeClock(T0 + 1000)
    table: dict[str, Any] = {"legacy": "1:42", "fresh": seen_value("1:43", T0 + 990)}
    ttl = dedupe_ttl(table, clock)
    assert ttl.rebuild({}) == (2, 0)  # the partition is in the origin
    assert ttl.prune(1, T0 + 1000 + TTL - 1) == 1  # only "fresh" (stamped 990) is due
    assert set(table) == {"legacy"}
    assert ttl.prune(1, T0 + 1000 + TTL) == 1
    assert table == {}


def test_legacy_done_members_take_their_partition_from_the_changelog() -> None:
    table: dict[str, Any] = {
        "3:acme:r1": "done:b1:2",  # before TTLs: no time, no partition
        "3:acme:r2": "done:b1:2",
        "3:acme:r3": "b9:2",  # pending in batch b9: never expires
        "3:acme:r4": done_value(T0, 2),
    }
    ttl = TableTTL(table, ttl_s=TTL, budget=10, parse=done_stamp, clock=FakeClock(T0))
    assert ttl.rebuild({"3:acme:r1": 2}) == (2, 1)  # r2 came from no known partition
    assert ttl.prune(2, T0 + TTL) == 2
    assert table == {"3:acme:r2": "done:b1:2", "3:acme:r3": "b9:2"}


def test_a_zero_ttl_keeps_everything() -> None:
    table: dict[str, Any] = {}
    ttl = TableTTL(table, ttl_s=0, budget=4, parse=seen_stamp, clock=FakeClock())
    write(table, ttl, 0, "k", T0)
    assert ttl.prune(0, T0 + 10**9) == 0
    assert ttl.rebuild({}) == (0, 0)
    assert set(table) == {"k"}
    with pytest.raises(ValueError):
        TableTTL(table, ttl_s=-1, budget=4, parse=seen_stamp)


def test_record_time_is_capped_at_the_clock_and_kept_to_milliseconds() -> None:
    clock = FakeClock(T0 + 0.12345)
    assert record_time(T0 - 5.5, clock) == T0 - 5.5  # a replayed record keeps its time
    assert record_time(T0 + 3600, clock) == T0 + 0.123  # a fast producer clock is capped
    assert record_time(None, clock) == record_time(0.0, clock) == T0 + 0.123
    at = record_time(None, FakeClock(T0 + 0.0004999))
    assert float(f"{at:.3f}") == at  # what a value stores is what the index holds


def test_value_formats_round_trip() -> None:
    value = seen_value("3:1234", T0 + 0.5)
    assert seen_origin(value) == "3:1234" and seen_origin("3:1234") == "3:1234"
    assert seen_stamp(value) == Stamp(partition=3, at=T0 + 0.5)
    assert seen_stamp("3:1234") == Stamp(partition=3, at=None)
    assert done_stamp(done_value(T0 + 0.25, 7)) == Stamp(partition=7, at=T0 + 0.25)
    assert done_stamp("done:batch-1:7") == Stamp(partition=None, at=None)
    assert done_stamp("batch-1:7") is None and done_stamp(None) is None


async def test_a_recovered_faust_table_is_indexed_with_its_changelog_partitions() -> None:
    app = faust.App("ttl-unit", store="memory://", autodiscover=False)
    table = app.Table("batches-requests", default=None, partitions=4)
    ttl = TableTTL(table, ttl_s=TTL, budget=4, parse=done_stamp, clock=FakeClock(T0))
    rebuild_on_recovery(table, ttl)

    def changelog(partition: int, key: str, value: str) -> Any:
        message = SimpleNamespace(partition=partition, value=value.encode())
        return SimpleNamespace(key=key, value=value, message=message)

    table.apply_changelog_batch([
        changelog(1, "3:acme:r1", "done:b1:1"),  # legacy: partition from the changelog
        changelog(2, "4:beta:r2", done_value(T0, 2)),
        changelog(2, "4:beta:r3", "b2:2"),  # pending
    ])  # fmt: skip
    await table.call_recover_callbacks()
    assert (ttl.tracked(1), ttl.tracked(2), ttl.tracked()) == (1, 1, 2)


def test_the_dedupe_window_outlasts_batch_membership() -> None:
    """A repeat accepted again by intake must not find the first one's batch membership."""
    defaults = {name: Settings.model_fields[name].default for name in
                ("dedupe_ttl_s", "batch_membership_ttl_s")}  # fmt: skip
    # By default, even past the longest provider batch (24 h).
    assert defaults["dedupe_ttl_s"] >= defaults["batch_membership_ttl_s"] + 24 * 3600
    with pytest.raises(SettingsError, match=r"FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S: .*exceed"):
        load_settings(dedupe_ttl_s=10, batch_membership_ttl_s=20)
    with pytest.raises(SettingsError, match="FRUGALFLOW_DEDUPE_TTL_S=0"):
        load_settings(dedupe_ttl_s=10, batch_membership_ttl_s=0)
    assert load_settings(dedupe_ttl_s=0, batch_membership_ttl_s=0).dedupe_ttl_s == 0
    assert load_settings(dedupe_ttl_s=0, batch_membership_ttl_s=5).batch_membership_ttl_s == 5
