"""Which batch slice holds each request: one record per slice, not two per request.

The batch ledger must know, for every request of a ``submitting`` record, whether it
already sits in another slice (pending) or in one that finished, so that a redelivered
window is never submitted twice. That knowledge lives in two tables, one record per slice:

* ``batches-pending``: the slice itself while it is pending (it lists its requests);
* ``batches-done``: ``record key → {"at", "partition", "members"}`` once it finished,
  deleted ``batch_membership_ttl_s`` later (``frugalflow.table_ttl``; a redelivery after
  a crash comes long before that).

:class:`Membership` is the in-memory index ``request → slice key (or DONE)`` over both,
rebuilt from them whenever Faust has recovered the tables (start, rebalance) and updated
with every write, so a lookup is one dictionary read. Earlier versions wrote one
``batches-requests`` entry per request (``request → record key``, then ``done@…``); those
entries are still read, finished and expired, so an upgrade in the middle of a batch
neither resubmits nor forgets anything.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from frugalflow.intake.agent import dedupe_key
from frugalflow.table_ttl import Stamp

DONE = "done@"  # the index's mark of a finished slice's request (and the legacy prefix)
LEGACY_DONE = "done:"  # a legacy entry written before done entries expired


def member_key(request: dict[str, Any]) -> str:
    """A request of a slice (as the slice record stores it) as the index keys it."""
    return dedupe_key(request["tenant_id"], request["request_id"])


def done_slice(at: float, partition: int, members: list[str]) -> dict[str, Any]:
    return {"at": round(at, 3), "partition": partition, "members": members}


def done_slice_stamp(value: Any) -> Stamp | None:
    if not isinstance(value, dict) or "at" not in value:
        return None
    return Stamp(partition=int(value["partition"]), at=float(value["at"]))


def legacy_done(value: Any) -> bool:
    return isinstance(value, str) and value.startswith((DONE, LEGACY_DONE))


def done_value(at: float, partition: int) -> str:
    """A legacy ``batches-requests`` done entry (as earlier versions wrote them)."""
    return f"{DONE}{at:.3f}@{partition}"


def done_stamp(value: Any) -> Stamp | None:
    """Legacy done entries expire; a legacy pending entry (a record key) never does."""
    if not isinstance(value, str):
        return None
    if value.startswith(DONE):
        at, _, partition = value.removeprefix(DONE).partition("@")
        return Stamp(partition=int(partition), at=float(at))
    if value.startswith(LEGACY_DONE):
        return Stamp(partition=None, at=None)
    return None


class Membership:
    """The index over ``batches-pending``, ``batches-done`` and the legacy table."""

    def __init__(self, pending: Any, done: Any, legacy: Any) -> None:
        self._pending, self._done, self._legacy = pending, done, legacy
        self._index: dict[str, str] = {}

    def of(self, member: str) -> str | None:
        """The record key of the slice holding ``member``, ``DONE``, or None (free)."""
        held = self._index.get(member)
        if held is not None:
            return held
        legacy = self._legacy.get(member)
        if legacy is None:
            return None
        return DONE if legacy_done(legacy) else str(legacy)

    def hold(self, key: str, members: list[str]) -> None:
        """``members`` are in the pending slice ``key`` (its record carries them)."""
        for member in members:
            self._index[member] = key

    def finish(self, key: str, members: list[str], at: float, partition: int) -> None:
        """The slice answered: one ``batches-done`` record remembers all its requests."""
        mine = [m for m in members if self.of(m) == key]
        for member in mine:
            self._index[member] = DONE
            if self._legacy.get(member) == key:  # held by an earlier version's entry
                del self._legacy[member]
        self._done[key] = done_slice(at, partition, mine)

    def release(self, key: str, members: list[str]) -> None:
        """The provider refused the slice: its requests are free again."""
        for member in members:
            if self._index.get(member) == key:
                del self._index[member]
            if self._legacy.get(member) == key:
                del self._legacy[member]

    def forget(self, members: list[str]) -> None:
        """A done slice expired: its requests are forgotten."""
        for member in members:
            if self._index.get(member) == DONE:
                del self._index[member]

    def rebuild(self) -> int:
        """Index both tables again (after Faust recovered them); returns the entries."""
        index: dict[str, str] = {}
        for value in list(self._done.values()):
            if isinstance(value, dict):
                for member in value.get("members", ()):
                    index[member] = DONE
        for key, value in list(self._pending.items()):
            for request in (value or {}).get("requests", ()):
                index[member_key(request["request"])] = key
        self._index = index
        return len(index)


class DoneSlices(MutableMapping[str, Any]):
    """``batches-done`` as :class:`~frugalflow.table_ttl.TableTTL` sees it: deleting an
    expired slice also forgets its requests in the index."""

    def __init__(self, table: Any, membership: Membership) -> None:
        self.table, self._membership = table, membership

    def __getitem__(self, key: str) -> Any:
        return self.table[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = value

    def __delitem__(self, key: str) -> None:
        value = self.table.get(key)
        if isinstance(value, dict):
            self._membership.forget(list(value.get("members", ())))
        del self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)
