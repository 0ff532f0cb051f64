"""The requests the benches publish, built to exact token counts.

Token counts follow the emulator's documented rule (``frugalflow.emulator.tokens``): a text is
``ceil(len/4)`` tokens, every message (the system prompt included) adds 4, every request
adds 3. ``text_of(tokens)`` is a text of exactly that many tokens.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from frugalflow.emulator.tokens import (
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD_TOKENS,
    REQUEST_OVERHEAD_TOKENS,
)

Priority = Literal["immediate", "batch"]
TENANTS = 8  # spread over every partition, as real traffic would be

_WORDS = (
    "the quarterly report lists revenue by region with notes on churn hiring and the "
    "supplier contracts renewed in the period under review "
)


def text_of(tokens: int, head: str = "") -> str:
    """``head`` padded (or cut) to exactly ``tokens`` tokens: ``4 * tokens`` characters."""
    width = tokens * CHARS_PER_TOKEN
    body = head
    while len(body) < width:
        body += _WORDS
    return body[:width]


def request(
    run_id: str, i: int, *, priority: Priority, model: str, max_tokens: int = 32,
    **fields: Any,
) -> dict[str, Any]:  # fmt: skip
    """A short NEW_RECORD with a unique question; response caching off (``cache_ttl_s=0``)
    so every request reaches the provider path being measured."""
    return {
        "event_type": "NEW_RECORD",
        "request_id": f"{run_id}-{i}",
        "tenant_id": f"bench-t{i % TENANTS}",
        "messages": [{"role": "user", "content": f"Benchmark question {i} of run {run_id}?"}],
        "max_tokens": max_tokens,
        "model": model,
        "priority": priority,
        "cache_ttl_s": 0,
        "service": "bench",
        "use_case": "bench",
        **fields,
    }


# --- (a) document processing, as in PipesHub ---------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentShape:
    """Per document: input tokens (all of the prompt), the shared prefix, and the output
    (the request's ``max_tokens``, and the answer length the cost bench asks the emulator for)."""

    input_tokens: int = 2000
    prefix_tokens: int = 1500
    output_tokens: int = 500

    @property
    def system_text_tokens(self) -> int:
        # The cached prefix is request overhead + system message overhead + system text.
        return self.prefix_tokens - REQUEST_OVERHEAD_TOKENS - MESSAGE_OVERHEAD_TOKENS

    @property
    def document_text_tokens(self) -> int:
        return self.input_tokens - self.prefix_tokens - MESSAGE_OVERHEAD_TOKENS


PIPESHUB = DocumentShape()


def document_requests(
    run_id: str, n: int, *, model: str, shape: DocumentShape = PIPESHUB
) -> list[dict[str, Any]]:
    """``n`` documents sharing one extraction prompt, on the batch path."""
    system = text_of(
        shape.system_text_tokens,
        "You extract the parties, dates and amounts of the document below and summarise it. ",
    )
    return [
        {
            "event_type": "NEW_RECORD",
            "request_id": f"{run_id}-{i}",
            "tenant_id": f"docs-t{i % TENANTS}",
            "system": system,
            "messages": [
                {"role": "user", "content": text_of(shape.document_text_tokens, f"Document {i}: ")}
            ],
            "max_tokens": shape.output_tokens,
            "model": model,
            "priority": "batch",
            "service": "documents",
            "use_case": "document-processing",
        }
        for i in range(n)
    ]


# --- (b) a coaching chat mix -------------------------------------------------------------

CoachingKind = Literal["trivial", "repeated", "simple", "complex"]
COACHING_MIX: dict[CoachingKind, float] = {
    "trivial": 0.20,
    "repeated": 0.10,
    "simple": 0.60,
    "complex": 0.10,
}
TRIVIAL = ("hi", "hello!", "thanks", "thank you!", "ok", "good morning", "bye", "great, thanks")
COACH_SYSTEM = text_of(
    1200,
    "You are a running and fitness coach. Answer in plain language, ask about injuries "
    "before suggesting load increases, and keep plans within the athlete's stated time. ",
)
# A repeat asks a question asked at least this many chats earlier: its first answer has
# had time to land in a response cache before the repeat is published.
REPEAT_MIN_DISTANCE = 40


@dataclass(frozen=True, slots=True)
class Chat:
    kind: CoachingKind
    payload: dict[str, Any]


def coaching_chats(run_id: str, n: int, *, seed: int) -> list[Chat]:
    """``n`` chats in the ``COACHING_MIX`` proportions, shuffled by ``seed``.

    A repeated question comes from the tenant that asked it first (response caches are
    per tenant). The run id opens the system prompt, so no cache outlives its run."""
    rng = random.Random(seed)
    kinds: list[CoachingKind] = []
    for kind, share in COACHING_MIX.items():
        kinds += [kind] * round(n * share)
    kinds = (kinds + ["simple"] * n)[:n]
    rng.shuffle(kinds)
    system = f"Coaching session {run_id}. {COACH_SYSTEM}"
    asked: list[tuple[int, str, str]] = []  # (position, tenant, question) of simple ones
    chats: list[Chat] = []
    for i, kind in enumerate(kinds):
        tenant = f"coach-t{i % TENANTS}"
        earlier = [(t, q) for position, t, q in asked if position <= i - REPEAT_MIN_DISTANCE]
        if kind == "repeated" and not earlier:
            kind = "simple"  # nothing old enough to repeat yet
        messages: list[dict[str, str]]
        max_tokens = 300
        if kind == "trivial":
            messages = [{"role": "user", "content": rng.choice(TRIVIAL)}]
            max_tokens = 50
        elif kind == "repeated":
            tenant, question = rng.choice(earlier)
            messages = [{"role": "user", "content": question}]
        elif kind == "simple":
            question = (
                f"How should I adjust my {rng.choice(('easy', 'tempo', 'long'))} run in week "
                f"{i} if I slept {rng.randint(4, 9)} hours?"
            )
            asked.append((i, tenant, question))
            messages = [{"role": "user", "content": question}]
        else:
            messages = [
                {"role": "user", "content": text_of(300, f"My training log for block {i}: ")},
                {"role": "assistant", "content": text_of(150, "Thanks, here is what I see: ")},
                {
                    "role": "user",
                    "content": f"Build me a 12-week marathon plan from this, case {i}.",
                },
            ]
            max_tokens = 1500
        chats.append(
            Chat(
                kind,
                {
                    "event_type": "NEW_RECORD",
                    "request_id": f"{run_id}-{i}",
                    "tenant_id": tenant,
                    "system": system,
                    "messages": messages,
                    "max_tokens": max_tokens,
                    "model": "auto",
                    "priority": "immediate",
                    "service": "coaching",
                    "use_case": "chat",
                },
            )
        )
    return chats
