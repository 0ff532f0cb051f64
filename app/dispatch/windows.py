"""Batch windows: which batch-path requests go out together, and when.

Pure (no Faust, no I/O, clocks injected) so every rule is unit-tested; the batcher
(``frugalflow.dispatch.batcher``) feeds it ``llm.admitted`` events and sends what it flushes.

A window holds the buffered requests of one (partition, provider, model). It flushes:

* ``size``: it holds ``window_max_requests``, or the provider's request cap per batch;
* ``bytes``: the next request would take it past the provider's byte cap per batch (or it
  is already past it after a failed send put requests back): what is there goes first,
  the request opens the next window;
* ``age``: its oldest request has waited ``window_max_seconds``;
* ``deadline``: the earliest submit-by time in it has come (:func:`submit_deadline`);
* ``drain``: the batcher asks for everything (rebalance or stop; its docstring says why).

A flushed window is packed into batches (:func:`pack`): each is one ``llm.batches`` record
and one provider batch, under the record cap and the provider's request and byte caps.

Cache affinity. Requests that share a prompt prefix (:func:`prompt_prefix`) form a group.
A batch holds whole groups, each contiguous and in arrival order, so the first request
of a group writes the provider's prompt cache and the rest of the group read it. A group
is spread over two batches only when it alone exceeds one batch. Because windows live
across ``take()`` calls, a group collects every request that arrives while it is open.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import count
from typing import Generic, NamedTuple, TypeVar

from frugalflow.events import Admitted, utcnow

T = TypeVar("T")  # what the caller acks once a request's batch is sent (a Faust event)

# A provider batch line wraps the request in its own envelope (custom_id, method, url,
# cache_control blocks): this bounds what it adds to the request's size.
PROVIDER_LINE_OVERHEAD = 512


class FlushReason(StrEnum):
    SIZE = "size"
    BYTES = "bytes"
    AGE = "age"
    DEADLINE = "deadline"
    DRAIN = "drain"


@dataclass(frozen=True, slots=True)
class Caps:
    """Limits of one batch: its ``llm.batches`` record, and the provider's batch caps."""

    record_bytes: int  # budget for the requests in one record (headroom already removed)
    max_requests: int = 0  # per provider batch; 0 = no cap
    provider_bytes: int = 0  # per provider batch; 0 = no cap


class WindowKey(NamedTuple):
    partition: int
    provider: str
    model: str


def request_size(admitted: Admitted) -> int:
    """Bytes the request takes in a batch record (its JSON plus list overhead)."""
    return len(admitted.model_dump_json()) + 64


def prompt_prefix(admitted: Admitted) -> str:
    """sha256 of what the provider can cache for this request and reuse for another.

    Provider, model, system prompt and every message before the last one (the last is
    always the new ``user`` turn, the part that differs): requests equal in all of these
    share their whole cacheable prefix.
    """
    request = admitted.request
    leading = [[m.role, m.content] for m in request.messages[:-1]]
    material = [admitted.provider, admitted.model, request.system, leading]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:32]


def submit_deadline(admitted: Admitted, margin_s: float) -> datetime | None:
    """The latest time this request's batch may be submitted; None = no deadline.

    ``deadline_at = (request.created_at or admitted_at) + deadline_s`` (a naive
    ``created_at`` is UTC), and the batch must be submitted by ``deadline_at - margin_s``
    with ``margin_s = batch_min_deadline_s``: intake sends a request the batch way only
    when ``deadline_s >= batch_min_deadline_s`` (``frugalflow.intake.route``), the time the
    provider's batch API is given to answer, so a window may spend only the slack above
    it. A request admitted with exactly that deadline flushes its window at once; so does
    one whose submit-by time passed while it waited upstream (lag, a backlog after a
    restart): it goes out with its window immediately and is never held further.
    """
    deadline_s = admitted.request.deadline_s
    if deadline_s is None:
        return None
    start = admitted.request.created_at or admitted.admitted_at
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return start + timedelta(seconds=deadline_s - margin_s)


@dataclass(frozen=True, slots=True)
class Pending(Generic[T]):
    """A buffered request, with what the windows need to know about it."""

    admitted: Admitted
    token: T
    partition: int
    size: int  # request_size()
    prefix: str  # prompt_prefix()
    arrived_at: float  # on the windows' clock
    submit_by: float | None  # on the windows' clock; None = no deadline
    seq: int  # arrival order, kept when a request is put back

    @property
    def line_bytes(self) -> int:
        return self.size + PROVIDER_LINE_OVERHEAD

    @property
    def key(self) -> WindowKey:
        return WindowKey(self.partition, self.admitted.provider, self.admitted.model)


@dataclass(frozen=True, slots=True)
class Flush(Generic[T]):
    """A window that is due: its requests packed into batches (one record each)."""

    key: WindowKey
    reason: FlushReason
    batches: list[list[Pending[T]]]


@dataclass(slots=True)
class _Window(Generic[T]):
    max_requests: int
    caps: Caps
    items: list[Pending[T]] = field(default_factory=list)
    line_bytes: int = 0
    opened_at: float = float("inf")  # arrival of its oldest request
    submit_by: float | None = None  # the earliest submit-by time in it

    def add(self, item: Pending[T]) -> None:
        self.items.append(item)
        self.line_bytes += item.line_bytes
        self.opened_at = min(self.opened_at, item.arrived_at)
        if item.submit_by is not None and (
            self.submit_by is None or item.submit_by < self.submit_by
        ):
            self.submit_by = item.submit_by

    def would_overflow(self, item: Pending[T]) -> bool:
        cap = self.caps.provider_bytes
        return bool(self.items) and cap > 0 and self.line_bytes + item.line_bytes > cap


class Windows(Generic[T]):
    """The open windows of one worker, and the rules that close them.

    No method awaits: each runs to completion, so a flush has popped its requests before
    the caller sends anything, and two flushes never hold the same request.
    """

    def __init__(
        self,
        *,
        max_requests: int,
        max_age_s: float,
        deadline_margin_s: float,
        caps_of: Callable[[str], Caps],
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._max_requests = max_requests
        self._max_age_s = max_age_s
        self._margin_s = deadline_margin_s
        self._caps_of = caps_of
        self._clock = clock
        self._wall_clock = wall_clock
        self._open: dict[WindowKey, _Window[T]] = {}
        self._seq = count()

    def __len__(self) -> int:
        """Requests buffered in all windows."""
        return sum(len(window.items) for window in self._open.values())

    def add(self, admitted: Admitted, token: T, partition: int) -> list[Flush[T]]:
        """Buffer a batch-path request; returns the windows this closes (0, 1 or 2)."""
        now = self._clock()
        deadline = submit_deadline(admitted, self._margin_s)
        submit_by = None
        if deadline is not None:  # onto the monotonic clock: wall-clock steps do not matter
            submit_by = now + (deadline - self._wall_clock()).total_seconds()
        item = Pending(
            admitted=admitted, token=token, partition=partition, size=request_size(admitted),
            prefix=prompt_prefix(admitted), arrived_at=now, submit_by=submit_by,
            seq=next(self._seq),
        )  # fmt: skip
        key = item.key
        flushes: list[Flush[T]] = []
        window = self._open.get(key)
        if window is not None and window.would_overflow(item):
            flushes.append(self._close(key, FlushReason.BYTES))
        self._window(key).add(item)
        reason = self._reason(self._open[key], now)
        if reason is not None:
            flushes.append(self._close(key, reason))
        return flushes

    def due(self) -> list[Flush[T]]:
        """Close every window that is full, old enough, or at its earliest deadline."""
        now = self._clock()
        closing = [(key, reason) for key, window in self._open.items()
                   if (reason := self._reason(window, now)) is not None]  # fmt: skip
        return [self._close(key, reason) for key, reason in closing]

    def drain(self) -> list[Flush[T]]:
        """Close every window now."""
        return [self._close(key, FlushReason.DRAIN) for key in list(self._open)]

    def drop(self, partitions: Collection[int]) -> list[Pending[T]]:
        """Forget the windows of partitions this worker no longer owns (nothing is acked)."""
        dropped: list[Pending[T]] = []
        for key in [k for k in self._open if k.partition in partitions]:
            dropped.extend(self._open.pop(key).items)
        return dropped

    def put_back(self, items: Iterable[Pending[T]]) -> None:
        """Return requests of a flush that could not be sent; they keep their age and order."""
        for item in items:
            self._window(item.key).add(item)

    def _window(self, key: WindowKey) -> _Window[T]:
        window = self._open.get(key)
        if window is None:
            caps = self._caps_of(key.provider)
            limit = self._max_requests
            if caps.max_requests > 0:
                limit = min(limit, caps.max_requests)
            window = self._open[key] = _Window(limit, caps)
        return window

    def _reason(self, window: _Window[T], now: float) -> FlushReason | None:
        if len(window.items) >= window.max_requests:
            return FlushReason.SIZE
        if window.caps.provider_bytes > 0 and window.line_bytes > window.caps.provider_bytes:
            return FlushReason.BYTES
        if window.submit_by is not None and now >= window.submit_by:
            return FlushReason.DEADLINE
        if now - window.opened_at >= self._max_age_s:
            return FlushReason.AGE
        return None

    def _close(self, key: WindowKey, reason: FlushReason) -> Flush[T]:
        window = self._open.pop(key)
        return Flush(key, reason, pack(window.items, window.caps))


@dataclass(slots=True)
class _Batch(Generic[T]):
    caps: Caps
    items: list[Pending[T]] = field(default_factory=list)
    record_bytes: int = 0
    line_bytes: int = 0

    def fits(self, group: list[Pending[T]], record_bytes: int, line_bytes: int) -> bool:
        caps = self.caps
        return (
            self.record_bytes + record_bytes <= caps.record_bytes
            and (caps.max_requests <= 0 or len(self.items) + len(group) <= caps.max_requests)
            and (caps.provider_bytes <= 0 or self.line_bytes + line_bytes <= caps.provider_bytes)
        )

    def extend(self, group: list[Pending[T]], record_bytes: int, line_bytes: int) -> None:
        self.items.extend(group)
        self.record_bytes += record_bytes
        self.line_bytes += line_bytes


def pack(items: Iterable[Pending[T]], caps: Caps) -> list[list[Pending[T]]]:
    """Split requests into batches under ``caps``, keeping prompt-prefix groups whole.

    Groups are taken in order of their first request's arrival; each goes whole into the
    first batch it fits (first fit), else into a new one. A group too large for any
    batch fills new batches in order; a single request larger than the record cap gets a
    batch of its own (the batcher never buffers one: it serves it right away).
    """
    groups: dict[str, list[Pending[T]]] = {}
    for item in sorted(items, key=lambda i: i.seq):
        groups.setdefault(item.prefix, []).append(item)
    batches: list[_Batch[T]] = []
    for group in groups.values():
        size, lines = sum(i.size for i in group), sum(i.line_bytes for i in group)
        fresh: _Batch[T] = _Batch(caps)
        target = next((b for b in batches if b.fits(group, size, lines)), None)
        if target is None and fresh.fits(group, size, lines):
            target = fresh
            batches.append(fresh)
        if target is not None:
            target.extend(group, size, lines)
            continue
        current = fresh  # the group alone exceeds a batch: spread it over batches, in order
        batches.append(current)
        for item in group:
            if current.items and not current.fits([item], item.size, item.line_bytes):
                current = _Batch(caps)
                batches.append(current)
            current.extend([item], item.size, item.line_bytes)
    return [batch.items for batch in batches]
