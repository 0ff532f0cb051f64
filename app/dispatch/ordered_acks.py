"""Acks released in offset order per partition, so Faust never commits past a held event.

The batcher holds ``llm.admitted`` events un-acked while their window is open and acks
every other event at once. faust-streaming 0.15.3 does not cope with such gaps
(``Consumer._new_offset``): it commits the first run of consecutive acked offsets, and
its gap check is off by one (it refuses only when ``min(acked) - committed > 1``, and
checks nothing while no offset is committed yet). An event held at the committed position
while later ones are acked is therefore committed over, and lost if the worker dies
before it is sent. And during a revocation Faust has already forgotten the committed
offset, so acking an old event then commits *its* offset: the partition rewinds and
everything after it is read again.

Releasing this stream's acks in offset order avoids both: the consumer never sees an
acked offset above one this stream still holds. Pure, no Faust: the batcher tracks each
event on arrival, marks it done when handled, and acks what :meth:`OrderedAcks.done`
releases. The immediate agent does the same with one instance shared by its concurrent
actors (``frugalflow.dispatch.immediate``), whose calls finish out of order.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Collection
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class Acking(Protocol):
    """What acks an event: a Faust stream (``Stream.ack``)."""

    def ack(self, event: Any) -> Awaitable[Any]: ...


@dataclass(eq=False, slots=True)
class Ticket(Generic[T]):
    """One tracked event: acked once it and every earlier one of its partition are done."""

    partition: int
    offset: int
    token: T
    done: bool = False


class OrderedAcks(Generic[T]):
    def __init__(self) -> None:
        # partition -> tickets not yet released, by offset (arrival order among equals:
        # a record read again after a seek is a new event that needs its own ack)
        self._waiting: dict[int, list[Ticket[T]]] = {}

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    def track(self, partition: int, offset: int, token: T) -> Ticket[T]:
        ticket = Ticket(partition, offset, token)
        queue = self._waiting.setdefault(partition, [])
        bisect.insort_right(queue, ticket, key=lambda t: t.offset)
        return ticket

    def done(self, ticket: Ticket[T]) -> list[T]:
        """Mark handled; returns the tokens to ack now, in offset order (maybe none)."""
        ticket.done = True
        return self._release(ticket.partition)

    def discard(self, ticket: Ticket[T]) -> list[T]:
        """Stop tracking an event whose handling failed (never acked); returns what that frees."""
        queue = self._waiting.get(ticket.partition, [])
        if ticket in queue:
            queue.remove(ticket)
        return self._release(ticket.partition)

    def forget(self, partitions: Collection[int]) -> int:
        """Drop the tickets of partitions no longer ours (never acked); returns how many."""
        return sum(len(self._waiting.pop(p, [])) for p in partitions)

    def _release(self, partition: int) -> list[T]:
        queue = self._waiting.get(partition, [])
        ready = 0
        while ready < len(queue) and queue[ready].done:
            ready += 1
        released = [t.token for t in queue[:ready]]
        del queue[:ready]
        return released


async def ack_done(stream: Acking, acks: OrderedAcks[Any], ticket: Ticket[Any]) -> None:
    """Mark ``ticket`` done and ack, through ``stream``, every event that releases."""
    for event in acks.done(ticket):
        await stream.ack(event)


async def ack_discarded(stream: Acking, acks: OrderedAcks[Any], ticket: Ticket[Any]) -> None:
    """Stop tracking ``ticket`` (its event stays un-acked) and ack what that releases."""
    for event in acks.discard(ticket):
        await stream.ack(event)
