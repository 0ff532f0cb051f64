"""Prompt-cache placement: Anthropic ``cache_control`` breakpoints and OpenAI's cache key.

Anthropic caches only where we mark it: a breakpoint caches the prompt prefix up to and
including the marked block, if that prefix reaches the model's minimum cacheable length,
and at most 4 blocks of a request may carry one. :func:`place_breakpoints` marks the
*stable prefix* (what the next request of the same kind will repeat), in this order:

1. the system prompt, shared by every conversation that uses it;
2. the end of the history (every message but the last one), which the next turn of this
   conversation repeats;
3. the ends of earlier turns (2, 4, … messages before that): the breakpoints the
   previous requests of the conversation wrote, so this one reads their cache entries.

A breakpoint is placed only where the prefix up to it is estimated (chars / 4, which
never overestimates the provider's count) to reach the minimum; the minimum comes from the
pricing catalog, or the adapter's default for a model the catalog does not know.

OpenAI caches automatically; ``prompt_cache_key`` only steers requests sharing a prefix to
the same cache. :func:`openai_cache_key` hashes the *leading* stable content (the system
prompt, or else the first message of a conversation with history): unlike a hash of the
whole history it stays the same from one turn to the next, so turn N+1 lands where turn N
left its prefix, and every conversation sharing a system prompt shares its cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from anthropic.types import CacheControlEphemeralParam

from frugalflow.costing.catalog import price_of
from frugalflow.providers.base import ChatMessage

MAX_BREAKPOINTS: Final = 4  # Anthropic rejects a request with more
CHARS_PER_TOKEN_ESTIMATE: Final = 4
# Batch results can take hours: a 1-hour cache entry outlives a batch's processing, a
# 5-minute one may not. Off by default (a 1h write costs 2x input instead of 1.25x).
BATCH_CACHE_TTL_1H: Final = False


def estimate_tokens(text: str) -> float:
    return len(text) / CHARS_PER_TOKEN_ESTIMATE


def min_cacheable_tokens(model: str, default: int) -> int:
    """The catalog's minimum cacheable prompt for ``model``; ``default`` when unknown."""
    try:
        return price_of(model).min_cacheable_tokens
    except LookupError:
        return default


def cache_control(ttl_1h: bool = False) -> CacheControlEphemeralParam:
    if ttl_1h:
        return {"type": "ephemeral", "ttl": "1h"}
    return {"type": "ephemeral"}


@dataclass(frozen=True, slots=True)
class Breakpoints:
    """Where to put ``cache_control``: on the system prompt, and on these messages (indexes)."""

    system: bool = False
    messages: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return int(self.system) + len(self.messages)


def place_breakpoints(
    system: str | None,
    messages: Sequence[ChatMessage],
    min_tokens: int,
    *,
    max_breakpoints: int = MAX_BREAKPOINTS,
) -> Breakpoints:
    """Breakpoints on the stable prefix (system, then history ends), see the module doc."""
    system_tokens = estimate_tokens(system) if system else 0.0
    prefix_end = [system_tokens]  # estimated prefix length through message i, shifted by one
    for message in messages:
        prefix_end.append(prefix_end[-1] + estimate_tokens(message.content))
    on_system = bool(system) and max_breakpoints > 0 and system_tokens >= min_tokens
    chosen: list[int] = []
    slots = max_breakpoints - int(on_system)
    # The last message is the new question: never part of the stable prefix.
    for index in range(len(messages) - 2, -1, -2):
        if len(chosen) >= slots or prefix_end[index + 1] < min_tokens:
            break  # earlier prefixes are shorter still
        chosen.append(index)
    return Breakpoints(system=on_system, messages=frozenset(chosen))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def openai_cache_key(system: str | None, messages: Sequence[ChatMessage]) -> str | None:
    """First 32 hex chars of the sha256 of the leading stable content, or None if none."""
    if system:
        return _digest(system)
    if len(messages) > 1:  # the first message of a conversation is repeated every turn
        return _digest(messages[0].content)
    return None
