"""Deterministic synthetic completions.

The answer depends only on (model, last user message text, max_tokens) and the
``answer_tokens`` knob of the config:

* natural length ``= answer_tokens`` when the knob is set (benches that need long answers,
  e.g. 500-token document summaries), else
  ``12 + int(sha256(model + "\\n" + last_user_text)[:8], 16) % 48`` tokens (12..59);
* ``output_tokens = min(max_tokens, natural length)``; when capped, the stop reason is the
  provider's "max tokens" reason (Anthropic ``max_tokens``, OpenAI ``length``, Gemini
  ``MAX_TOKENS``), as the real APIs report a cut answer;
* the text starts with ``"[emulated <model>] answer <hash8>: "`` and is cut/padded to exactly
  ``4 * output_tokens`` characters, so it re-tokenizes to ``output_tokens`` with the same rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from frugalflow.emulator.tokens import CHARS_PER_TOKEN

MIN_ANSWER_TOKENS = 12
ANSWER_TOKEN_SPREAD = 48
_FILLER = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua "
)


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    output_tokens: int
    truncated: bool  # hit max_tokens


def natural_length(model: str, last_user_text: str) -> int:
    digest = hashlib.sha256(f"{model}\n{last_user_text}".encode()).hexdigest()
    return MIN_ANSWER_TOKENS + int(digest[:8], 16) % ANSWER_TOKEN_SPREAD


def synthesize(
    model: str, last_user_text: str, max_tokens: int, *, answer_tokens: int | None = None
) -> Answer:
    """The answer to ``last_user_text``; ``answer_tokens`` replaces the natural length."""
    natural = natural_length(model, last_user_text) if answer_tokens is None else answer_tokens
    tokens = max(0, min(max_tokens, natural))
    digest = hashlib.sha256(f"{model}\n{last_user_text}".encode()).hexdigest()
    head = f"[emulated {model}] answer {digest[:8]}: "
    width = tokens * CHARS_PER_TOKEN
    body = head + _FILLER * (width // len(_FILLER) + 1)
    return Answer(text=body[:width], output_tokens=tokens, truncated=natural > max_tokens)
