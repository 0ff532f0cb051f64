"""The sample workload: two tenants, shared system prompts, both paths, some bad input."""

from __future__ import annotations

import json
from dataclasses import dataclass

ACME_SYSTEM = (
    "You are Acme's support assistant. Answer in the customer's language, cite the policy "
    "section you rely on, never promise refunds above the policy limits, and escalate "
    "legal questions. "
) + " ".join(f"Policy section {i}: standard terms for case type {i} apply." for i in range(90))
GLOBEX_SYSTEM = (
    "You are Globex's document analyst. Summarise the document in three bullet points and "
    "list every date, amount and party it names. "
) + " ".join(f"Extraction rule {i}: normalise field {i} before output." for i in range(90))

QUESTIONS = [
    "Where is my order {i}?",
    "Can I change the delivery address for order {i}?",
    "Summarise contract {i} for the board.",
    "What is the refund policy for item {i}?",
    "Extract the parties from invoice {i}.",
]


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    valid: bool
    request_id: str | None
    reason: str | None = None  # the dead-letter reason a malformed record must get


def build(run_id: str, n_valid: int) -> list[Record]:
    records: list[Record] = []
    for i in range(n_valid):
        acme = i % 2 == 0
        tenant = "acme" if acme else "globex"
        batch = i % 5 in (1, 2, 3)  # 60 % may wait for the Batch API
        request = {
            "event_type": "NEW_RECORD",
            "request_id": f"{run_id}-{i}",
            "tenant_id": tenant,
            "system": ACME_SYSTEM if acme else GLOBEX_SYSTEM,
            "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)].format(i=i)}],
            "max_tokens": 200,
            "model": "claude-sonnet-4-5" if acme else "gpt-4o-mini",
            "priority": "batch" if batch else "immediate",
            "service": "support" if acme else "documents",
            "use_case": "content",
            "metadata": {"demo_run": run_id, "n": i},
        }
        records.append(Record(tenant.encode(), json.dumps(request).encode(), True, f"{run_id}-{i}"))
    records.extend(malformed(run_id))
    return records


def malformed(run_id: str) -> list[Record]:
    """One of each common mistake; every one must land on the dead-letter topic."""
    good: dict[str, object] = {
        "event_type": "NEW_RECORD",
        "tenant_id": "acme",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10,
    }

    def bad(
        reason: str, suffix: str, key: bytes = b"acme", drop: str = "", **changes: object
    ) -> Record:
        payload = {**good, "request_id": f"{run_id}-{suffix}", **changes}
        payload.pop(drop, None)
        return Record(key, json.dumps(payload).encode(), False, None, reason)

    return [
        Record(b"acme", f"not json {run_id}".encode(), False, None, "invalid_json"),
        bad("wrong_event_type", "bad-type", event_type="UPDATED_RECORD"),
        bad("missing_field", "bad-missing", drop="max_tokens"),
        bad("key_mismatch", "bad-key", key=b"globex"),
        bad("invalid_field", "bad-role", messages=[{"role": "assistant", "content": "x"}]),
        bad("duplicate_request_id", "0"),  # duplicate of the first valid request id
        bad("value_too_large", "bad-big", system="x" * 1_100_000),  # over the 1 MiB limit
    ]
