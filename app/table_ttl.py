"""Time-to-live for the tables that keep one entry per request (dedupe, batch membership).

Faust writes a table only inside an agent's per-event stream iteration, and sends each
change to the changelog partition of the event being processed. So expiry cannot run on
a timer: the agent that owns the table calls :meth:`TableTTL.prune` while it processes an
event of partition P, and deletes there at most ``budget`` of P's expired keys (a key is
only ever written from its tenant's partition, so the tombstone lands where the key
lives). Work per event is bounded, so latency stays flat; a budget above the entries one
event can add keeps the table from growing.

Each value carries its stamp (when it was written and, where the key does not tell, on
which partition), so the in-memory index, a min-heap of ``(stamped_at, key)`` per
partition, is rebuilt from the table whenever Faust has recovered it (start, rebalance):
:func:`rebuild_on_recovery`. Values written before TTLs existed carry no time: they get
the full TTL from the rebuild, and their partition comes from the changelog record that
restored them.

Time is *record time*: the Kafka timestamp of the record being processed, never later
than the worker's clock (:func:`record_time`). A backlog replayed after an outage
therefore expires only what was already expired when those records were written, and a
producer with a fast clock cannot expire anything early.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("frugalflow")

Clock = Callable[[], float]


@dataclass(frozen=True)
class Stamp:
    """What a table value says about its own expiry."""

    partition: int | None  # None: not in the value (the changelog record tells)
    at: float | None  # record time it was written; None: written before TTLs existed


# value -> its stamp, or None for a value that never expires (e.g. a pending batch member)
ParseStamp = Callable[[Any], Stamp | None]


def record_time(timestamp: float | None, clock: Clock = time.time) -> float:
    """A record's timestamp (s), capped at the worker's clock; the clock if it has none.

    In whole milliseconds, as Kafka keeps them, so a stamp written into a value as
    ``f"{at:.3f}"`` reads back as exactly the ``at`` that was indexed.
    """
    now = clock()
    if timestamp is not None and timestamp > 0:
        now = min(timestamp, now)
    return round(now, 3)


class TableTTL:
    """Expires a table's entries ``ttl_s`` after their stamp; ``ttl_s == 0`` keeps them."""

    def __init__(
        self,
        table: MutableMapping[str, Any],
        *,
        ttl_s: float,
        budget: int,
        parse: ParseStamp,
        clock: Clock = time.time,
    ) -> None:
        if ttl_s < 0 or budget < 1:
            raise ValueError("ttl_s must be >= 0 and budget >= 1")
        self.table, self.ttl_s, self.budget = table, ttl_s, budget
        self._parse, self._clock = parse, clock
        self._heaps: dict[int, list[tuple[float, str]]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def tracked(self, partition: int | None = None) -> int:
        """Index entries (of one partition, or all): what is waiting to expire."""
        if partition is not None:
            return len(self._heaps.get(partition, ()))
        return sum(len(heap) for heap in self._heaps.values())

    def track(self, partition: int, key: str, at: float) -> None:
        """``key`` was just written on ``partition`` with a value stamped ``at``."""
        if self.enabled:
            heapq.heappush(self._heaps.setdefault(partition, []), (at, key))

    def prune(self, partition: int, now: float) -> int:
        """Delete up to ``budget`` expired keys of ``partition``; returns how many.

        Call only while processing an event of ``partition`` (Faust writes the tombstones
        to the current event's changelog partition).
        """
        heap = self._heaps.get(partition)
        deleted = 0
        for _ in range(self.budget):  # index entries looked at, deleted or not
            if not heap or heap[0][0] + self.ttl_s > now:
                break
            _, key = heapq.heappop(heap)
            value = self.table.get(key)
            stamp = None if value is None else self._parse(value)
            if stamp is None:
                continue  # deleted meanwhile, or no longer expiring
            if stamp.at is not None and stamp.at + self.ttl_s > now:
                continue  # rewritten later: its own index entry comes later
            if stamp.partition is not None and stamp.partition != partition:
                continue  # never expected: deleting it here would tombstone the wrong log
            del self.table[key]
            deleted += 1
        return deleted

    def rebuild(self, key_partitions: Mapping[str, int]) -> tuple[int, int]:
        """Index the whole table again; returns (indexed, left without a known partition).

        ``key_partitions``: the changelog partition each recovered key came from, used for
        values that do not carry theirs. Unstamped values expire ``ttl_s`` from now.
        """
        heaps: dict[int, list[tuple[float, str]]] = {}
        if not self.enabled:
            self._heaps = heaps
            return 0, 0
        now, unplaced = self._clock(), 0
        for key, value in list(self.table.items()):
            stamp = self._parse(value)
            if stamp is None:
                continue
            partition = stamp.partition if stamp.partition is not None else key_partitions.get(key)
            if partition is None:
                unplaced += 1
                continue
            heaps.setdefault(partition, []).append((stamp.at if stamp.at is not None else now, key))
        for heap in heaps.values():
            heapq.heapify(heap)
        self._heaps = heaps
        return sum(len(heap) for heap in heaps.values()), unplaced


def rebuild_on_recovery(table: Any, ttl: TableTTL) -> None:
    """Rebuild ``ttl``'s index each time Faust has recovered ``table`` (start, rebalance)."""

    async def rebuild() -> None:
        # The memory store remembers which changelog partition restored each key; other
        # stores do not expose it, and then only values that carry their partition expire.
        key_partitions: Mapping[str, int] = getattr(table.data, "_key_partition", {})
        indexed, unplaced = ttl.rebuild(key_partitions)
        log.info("table %s: %d entries wait to expire", table.name, indexed)
        if unplaced:
            log.warning("table %s: %d entries of unknown partition never expire", table.name,
                        unplaced)  # fmt: skip

    table.on_recover(rebuild)
