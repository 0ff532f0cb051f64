"""Context trimming: cap a conversation's history to a token budget, newest turns first.

``ContextPolicy.max_history_tokens`` bounds the *history* (the messages, each at
``estimate_message_tokens``: its text plus the per-message overhead). The system prompt
is never trimmed and does not count against the budget: it is the stable prefix the
prompt cache serves at a tenth of the input price, while an old turn is paid in full on
every request that carries it.

What is kept is always a suffix of the conversation that:

* ends with the last message and holds at least the last user message (and whatever
  follows it), even when that alone is over the budget: the question is never dropped;
* starts with a user message, as providers require;
* is the longest such suffix within the budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from frugalflow.events import Message
from frugalflow.policy.tokens import estimate_message_tokens


def trim_history(
    system: str | None, messages: Sequence[Message], max_history_tokens: int | None
) -> tuple[list[Message], int]:
    """(kept messages, how many were dropped from the front). ``None`` budget keeps all.

    ``system`` is part of the prompt being trimmed but is kept whole (module doc).
    A conversation without any user message is returned as it is.
    """
    kept = list(messages)
    if max_history_tokens is None:
        return kept, 0
    last_user = next((i for i in range(len(kept) - 1, -1, -1) if kept[i].role == "user"), None)
    if last_user is None:
        return kept, 0

    start = last_user  # the shortest suffix we must keep
    used = sum(estimate_message_tokens(m.content) for m in kept[start:])
    candidate = start
    while candidate > 0:
        cost = estimate_message_tokens(kept[candidate - 1].content)
        if used + cost > max_history_tokens:
            break
        used += cost
        candidate -= 1
        if kept[candidate].role == "user":
            start = candidate  # a suffix may only begin with a user message
    return kept[start:], start
