"""In-process prompt-cache simulation for both providers.

Anthropic (explicit): each content block carrying ``cache_control`` is a breakpoint; the
prefix is everything up to and including that block. Breakpoints whose prefix is below the
model's minimum are ignored (as the real API silently does). The longest breakpoint prefix
seen within its TTL is a cache *read*; the tokens between it and the last eligible
breakpoint are a cache *write*, attributed to the TTL of the breakpoint that ends them.
Only explicit breakpoints are checked (the real API also looks back ~20 blocks).

OpenAI (automatic): prompts of at least ``openai_cache_min_tokens`` are hashed at every
``min + k*increment`` token boundary; the longest boundary seen within the TTL (keyed by
model and ``prompt_cache_key``) is reported as ``cached_tokens``. Every boundary is then
(re)stored.

Both caches refresh an entry's TTL when it is used, like the real services.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from frugalflow.emulator.tokens import Segment, prefix_digests, segment_ends, total_tokens

ANTHROPIC_TTL_S = {"5m": 300.0, "1h": 3600.0}


class TTLStore:
    """key -> expiry (monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def hit(self, key: str) -> bool:
        expiry = self._expiry.get(key)
        if expiry is None:
            return False
        if expiry <= self._clock():
            del self._expiry[key]
            return False
        return True

    def put(self, key: str, ttl_s: float) -> None:
        # Never shorten an entry: a 5m read must not cut a 1h entry short.
        expiry = self._clock() + ttl_s
        self._expiry[key] = max(expiry, self._expiry.get(key, 0.0))

    def clear(self) -> None:
        self._expiry.clear()

    def __len__(self) -> int:
        return len(self._expiry)


@dataclass(frozen=True, slots=True)
class AnthropicCacheUsage:
    input_tokens: int  # uncached
    cache_read_tokens: int
    cache_write_tokens: int
    write_by_ttl: dict[str, int] = field(default_factory=dict)


class AnthropicPromptCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = TTLStore(clock)

    def account(
        self,
        model: str,
        segments: list[Segment],
        *,
        min_tokens: int,
        ttl_override_s: float | None = None,
    ) -> AnthropicCacheUsage:
        total = total_tokens(segments)
        ends = segment_ends(segments)
        breakpoints = [
            (ends[i], segment.cache_ttl or "5m")
            for i, segment in enumerate(segments)
            if segment.cache_ttl is not None and ends[i] >= max(min_tokens, 1)
        ]
        if not breakpoints:
            return AnthropicCacheUsage(total, 0, 0, {"5m": 0, "1h": 0})
        digests = prefix_digests(f"anthropic\x00{model}", segments, [end for end, _ in breakpoints])

        read = 0
        for end, _ in sorted(breakpoints, reverse=True):
            if self.store.hit(digests[end]):
                read = end
                break
        write_by_ttl = {"5m": 0, "1h": 0}
        previous = read
        for end, ttl in sorted(breakpoints):
            if end > previous:
                write_by_ttl[ttl] = write_by_ttl.get(ttl, 0) + end - previous
                previous = end
            ttl_s = ttl_override_s or ANTHROPIC_TTL_S.get(ttl, ANTHROPIC_TTL_S["5m"])
            self.store.put(digests[end], ttl_s)
        write = sum(write_by_ttl.values())
        return AnthropicCacheUsage(total - read - write, read, write, write_by_ttl)


class OpenAIPromptCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = TTLStore(clock)

    def account(
        self,
        model: str,
        segments: list[Segment],
        *,
        cache_key: str | None,
        min_tokens: int,
        increment: int,
        ttl_s: float,
    ) -> int:
        """Cached tokens for this prompt; records its prefixes for later calls."""
        total = total_tokens(segments)
        if total < min_tokens:
            return 0
        boundaries = list(range(min_tokens, total + 1, increment))
        digests = prefix_digests(f"openai\x00{model}\x00{cache_key or ''}", segments, boundaries)
        cached = 0
        for boundary in reversed(boundaries):
            if self.store.hit(digests[boundary]):
                cached = boundary
                break
        for boundary in boundaries:
            self.store.put(digests[boundary], ttl_s)
        return cached
