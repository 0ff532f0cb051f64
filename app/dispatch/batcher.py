"""The batcher: windows batch-path requests into provider batches.

Commit order (why nothing is lost or submitted twice):

1. take a window of ``llm.admitted`` events without acking (``noack_take``);
2. group the batch-path requests by (partition, provider, model) and split them so each
   group fits one ``llm.batches`` record and one provider batch (the adapter's
   ``capabilities.batch_max_requests`` / ``batch_max_bytes``: each record is submitted as
   one provider batch);
3. send each group as a ``submitting`` record to ``llm.batches`` on the *same partition
   number* as its requests, so the worker that owns the tenants owns the batch;
4. ack the window. Faust flushes the producer before committing offsets, so the records
   are durable before the offsets move.

The provider call itself happens in the batch ledger (a per-event agent that owns the
batch tables), so a redelivered window can be recognised there and never resubmitted.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from app.events import Admitted, BatchRecord
from app.pipeline import BATCH_RECORD_HEADROOM, Pipeline


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics.admitted, name="batcher")
    async def batcher(stream: Any) -> Any:
        async for events in stream.noack_take(
            p.settings.window_max_requests, within=p.settings.window_max_seconds
        ):
            groups: dict[tuple[int, str, str], list[Admitted]] = defaultdict(list)
            for event in events:
                admitted = await p.parse_internal(Admitted, event.message)
                if admitted is not None and admitted.path == "batch":
                    key = (event.message.partition, admitted.provider, admitted.model)
                    groups[key].append(admitted)
            for (partition, provider, _model), requests in groups.items():
                for chunk in _fit(requests, _caps(p, provider)):
                    if len(chunk) == 1 and _size(chunk[0]) > p.settings.batch_record_max_bytes:
                        # Too large to keep in a batch record: serve it right away instead.
                        await p.publish_admitted(chunk[0].model_copy(update={"path": "immediate"}))
                        continue
                    record = BatchRecord(
                        batch_key=batch_key(chunk),
                        partition=partition,
                        state="submitting",
                        provider=provider,
                        requests=chunk,
                    )
                    await p.topics.batches.send(
                        key=record.record_key.encode(),
                        value=record.model_dump_json().encode(),
                        partition=partition,
                    )
            for event in events:
                await stream.ack(event)


def batch_key(requests: list[Admitted]) -> str:
    """Deterministic: the same window redelivered gets the same key."""
    digest = hashlib.sha256()
    for admitted in requests:
        digest.update(admitted.request.tenant_id.encode() + b"\x00")
        digest.update(admitted.request.request_id.encode() + b"\x01")
    return digest.hexdigest()[:24]


def _size(admitted: Admitted) -> int:
    return len(admitted.model_dump_json()) + 64


# A provider batch line wraps the request in its own envelope (custom_id, method, url,
# cache_control blocks): this bounds what it adds to the request's size.
PROVIDER_LINE_OVERHEAD = 512


@dataclass(frozen=True, slots=True)
class Caps:
    """Limits of one chunk: its ``llm.batches`` record, and the provider's batch caps."""

    record_bytes: int  # budget for the requests in one record (headroom already removed)
    max_requests: int = 0  # per provider batch; 0 = no cap
    provider_bytes: int = 0  # per provider batch; 0 = no cap


def _caps(p: Pipeline, provider: str) -> Caps:
    record_bytes = p.settings.batch_record_max_bytes - BATCH_RECORD_HEADROOM
    try:
        capabilities = p.providers.get(provider).capabilities
    except LookupError:  # not configured: the ledger's submission fails and reroutes
        return Caps(record_bytes)
    return Caps(record_bytes, capabilities.batch_max_requests, capabilities.batch_max_bytes)


def _fit(requests: list[Admitted], caps: Caps) -> list[list[Admitted]]:
    """Split into chunks under the record cap and the provider's request and byte caps."""
    chunks: list[list[Admitted]] = [[]]
    used = provider_used = 0
    for admitted in requests:
        size = _size(admitted)
        line = size + PROVIDER_LINE_OVERHEAD
        chunk = chunks[-1]
        full = chunk and (
            used + size > caps.record_bytes
            or (caps.max_requests > 0 and len(chunk) >= caps.max_requests)
            or (caps.provider_bytes > 0 and provider_used + line > caps.provider_bytes)
        )
        if full:
            chunks.append([])
            used = provider_used = 0
        chunks[-1].append(admitted)
        used += size
        provider_used += line
    return [chunk for chunk in chunks if chunk]
