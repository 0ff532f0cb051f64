"""The emulator's documented tokenizer approximation and prompt linearization.

Rule (identical for both providers, so tests can assert exact numbers):

* a text block costs ``ceil(len(text) / 4)`` tokens (``0`` for ``""``);
* a non-text block (image, tool_result, ...) costs ``ceil(len(canonical_json(block)) / 4)``
  with its ``cache_control`` removed;
* every message costs ``MESSAGE_OVERHEAD_TOKENS`` (4) on top of its blocks; an Anthropic
  top-level ``system`` counts as one such message when present (OpenAI system/developer
  messages already are messages);
* every request costs ``REQUEST_OVERHEAD_TOKENS`` (3) once, placed at the very start.

So ``{"system": "abcd", "messages": [{"role": "user", "content": "hello"}]}`` is
``3 + (4 + 1) + (4 + 2) = 14`` input tokens.

A prompt is linearized into ``Segment``s (overheads and blocks, in prompt order) so the
prompt cache can hash any token prefix: token ``i`` of a text is ``text[4i:4i+4]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from frugalflow.policy.tokens import TYPICAL_CHARS_PER_TOKEN, typical_text_tokens

CHARS_PER_TOKEN = TYPICAL_CHARS_PER_TOKEN
REQUEST_OVERHEAD_TOKENS = 3
MESSAGE_OVERHEAD_TOKENS = 4


def text_tokens(text: str) -> int:
    """ceil(len(text) / 4): the production estimate of a typical answer, counted the same."""
    return typical_text_tokens(text)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def block_text(block: Mapping[str, Any]) -> str:
    """The text a block is tokenized as: its text, or its canonical JSON without cache_control."""
    if block.get("type") == "text" and isinstance(block.get("text"), str):
        return str(block["text"])
    return canonical_json({k: v for k, v in block.items() if k != "cache_control"})


def _header_text(label: str, tokens: int) -> str:
    # Overheads are padded to exactly 4*tokens chars so they tokenize to exactly ``tokens``.
    width = tokens * CHARS_PER_TOKEN
    return f"<|{label}|>".ljust(width, "~")[:width]


@dataclass(frozen=True, slots=True)
class Segment:
    """One run of tokens in prompt order: an overhead or a content block."""

    marker: str  # hashed but not counted: keeps block boundaries unambiguous
    text: str
    cache_ttl: str | None = None  # "5m"/"1h" when the block carries a cache breakpoint

    @property
    def tokens(self) -> int:
        return text_tokens(self.text)


def request_segment() -> Segment:
    return Segment("\x00request", _header_text("req", REQUEST_OVERHEAD_TOKENS))


def message_segment(role: str) -> Segment:
    return Segment("\x00message", _header_text(role[:8], MESSAGE_OVERHEAD_TOKENS))


def block_segment(block: Mapping[str, Any]) -> Segment:
    cache_control = block.get("cache_control")
    ttl: str | None = None
    if isinstance(cache_control, Mapping):
        ttl = str(cache_control.get("ttl") or "5m")
    return Segment("\x00block:" + str(block.get("type", "text")), block_text(block), ttl)


def total_tokens(segments: Iterable[Segment]) -> int:
    return sum(segment.tokens for segment in segments)


def segment_ends(segments: list[Segment]) -> list[int]:
    """Cumulative token position at the end of each segment."""
    ends: list[int] = []
    position = 0
    for segment in segments:
        position += segment.tokens
        ends.append(position)
    return ends


def prefix_digests(
    namespace: str, segments: list[Segment], boundaries: Iterable[int]
) -> dict[int, str]:
    """sha256 of the first ``b`` tokens for every boundary ``b`` (within the prompt).

    ``namespace`` (model, cache key) is hashed first so caches never cross models.
    """
    wanted = sorted({b for b in boundaries if b > 0})
    digests: dict[int, str] = {}
    hasher = hashlib.sha256(namespace.encode())
    position = 0
    index = 0
    for segment in segments:
        if index >= len(wanted):
            break
        hasher.update(segment.marker.encode())
        end = position + segment.tokens
        offset = 0
        while index < len(wanted) and wanted[index] <= end:
            cut = (wanted[index] - position) * CHARS_PER_TOKEN
            hasher.update(segment.text[offset:cut].encode())
            offset = cut
            digests[wanted[index]] = hasher.hexdigest()
            index += 1
        hasher.update(segment.text[offset:].encode())
        position = end
    return digests
