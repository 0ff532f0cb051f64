"""Deterministic synthetic completions.

The answer depends only on (model, last user message text, max_tokens):

* natural length ``= 12 + int(sha256(model + "\\n" + last_user_text)[:8], 16) % 48`` tokens
  (12..59);
* ``output_tokens = min(max_tokens, natural length)``; when capped, the stop reason is the
  provider's "max tokens" reason;
* the text starts with ``"[emulated <model>] answer <hash8>: "`` and is cut/padded to exactly
  ``4 * output_tokens`` characters, so it re-tokenizes to ``output_tokens`` with the same rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.emulator.tokens import CHARS_PER_TOKEN

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


def synthesize(model: str, last_user_text: str, max_tokens: int) -> Answer:
    natural = natural_length(model, last_user_text)
    tokens = max(0, min(max_tokens, natural))
    digest = hashlib.sha256(f"{model}\n{last_user_text}".encode()).hexdigest()
    head = f"[emulated {model}] answer {digest[:8]}: "
    width = tokens * CHARS_PER_TOKEN
    body = head
    while len(body) < width:
        body += _FILLER
    return Answer(text=body[:width], output_tokens=tokens, truncated=natural > max_tokens)
