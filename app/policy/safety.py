"""The safety step: what a request's text may carry before any provider sees it.

``check_request(request, policy)`` scans the ``system`` prompt and every message's
``content`` (never ``metadata``: it is not sent to providers) and returns the request to
send — a redacted copy when something was redacted, the same object otherwise — and a
``SafetyOutcome`` recorded on the answer.

What is looked for, and what the tenant's ``SafetyPolicy`` does with it::

    email, phone, payment_card,      policy.pii             redact | block | allow
    national_id, iban, api_key       (frugalflow.policy.pii)
    sensitive_keyword                policy.keyword_action  redact | block
                                     (policy.sensitive_keywords: case-insensitive,
                                     whole word or phrase; NFKC, invisible characters
                                     and look-alike letters folded as for injection)
    prompt_injection                 policy.injection       block | flag | allow
                                     (user messages only: the system prompt is the
                                     operator's; never redacted, "flag" = send + record)

``findings`` lists every kind found (sorted, unique), allowed ones included; ``action`` is
the strongest of what the policy says for them: block > redact > flag > allow.

Rejection codes when ``action == "block"`` (stable; intake puts them in ``error.code``).
When several kinds block, the first in this list names the rejection:

    prompt_injection    a user message tries to override or extract the instructions
    sensitive_keyword   a term on the tenant's sensitive list, with keyword_action=block
    pii_blocked         personal data or a secret, with pii=block

Redaction replaces each span with a typed placeholder (``[EMAIL]``, ``[CARD]``, …,
``[REDACTED]`` for keywords) and scans the result again until nothing redactable is
left, so the output is stable: checking it again finds nothing. A blocked request is
returned with whatever redactions apply anyway; it must not be sent.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from frugalflow.events import RequestEvent
from frugalflow.policy.folding import fold
from frugalflow.policy.injection import find_injection
from frugalflow.policy.models import SafetyOutcome, SafetyPolicy
from frugalflow.policy.pii import PII_KINDS, PLACEHOLDERS, Span, find_pii, redact
from frugalflow.policy.scan_cache import Scan, ScanCache

Action = Literal["allow", "flag", "redact", "block"]

CODE_PII = "pii_blocked"
CODE_INJECTION = "prompt_injection"
CODE_KEYWORD = "sensitive_keyword"
SAFETY_CODES: tuple[str, ...] = (CODE_INJECTION, CODE_KEYWORD, CODE_PII)  # precedence order

_STRENGTH: dict[Action, int] = {"allow": 0, "flag": 1, "redact": 2, "block": 3}
_SCANS = ScanCache()  # a long system prompt shared by many requests is scanned once
_PLACEHOLDER = re.compile("|".join(re.escape(p.lower()) for p in PLACEHOLDERS.values()))


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@lru_cache(maxsize=512)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation for a tenant's list; cached because a policy's list rarely changes."""
    alternatives = {
        r"\s+".join(re.escape(word) for word in words)
        + (r"(?!\w)" if _is_word_char(words[-1][-1]) else "")
        for words in (fold(keyword, lower=True).text.split() for keyword in keywords)
        if words
    }
    if not alternatives:
        return None
    longest_first = sorted(alternatives, key=lambda a: (-len(a), a))  # a phrase beats its word
    # The leading word boundary is checked by the caller: a look-behind in front would make
    # the regex engine try every position instead of scanning for the keywords' first letters.
    return re.compile("|".join(longest_first))


def _find_keywords(text: str, pattern: re.Pattern[str]) -> list[Span]:
    folded = fold(text, lower=True)
    words = folded.text
    # Our own placeholders are not the tenant's words (a keyword "card" vs "[CARD]").
    placeholders = [m.span() for m in _PLACEHOLDER.finditer(words)] if "[" in words else []
    spans: list[Span] = []
    position = 0
    while (match := pattern.search(words, position)) is not None:
        start, end = match.span()
        whole_word = not (
            start > 0 and _is_word_char(words[start - 1]) and _is_word_char(words[start])
        )
        outside_placeholders = all(
            end <= p_start or start >= p_end for p_start, p_end in placeholders
        )
        if whole_word and outside_placeholders and end > start:
            spans.append(Span("sensitive_keyword", *folded.original_span(start, end)))
            position = end
        else:
            position = start + 1
    return spans


def _action_for(kind: str, policy: SafetyPolicy) -> Action:
    if kind == "prompt_injection":
        return policy.injection
    if kind == "sensitive_keyword":
        return policy.keyword_action
    return policy.pii


def _block_code(kinds: set[str], policy: SafetyPolicy) -> str:
    blocking = {kind for kind in kinds if _action_for(kind, policy) == "block"}
    if "prompt_injection" in blocking:
        return CODE_INJECTION
    if "sensitive_keyword" in blocking:
        return CODE_KEYWORD
    return CODE_PII


class _Scanner:
    """Scans texts under one policy, collecting the kinds found across all of them."""

    def __init__(self, policy: SafetyPolicy) -> None:
        self.kinds: set[str] = set()
        keywords = tuple(policy.sensitive_keywords)
        self._keywords = _keyword_pattern(keywords) if keywords else None
        self._redactable = {
            kind
            for kind in (*PII_KINDS, "sensitive_keyword")
            if _action_for(kind, policy) == "redact"
        }
        # What a text's scan depends on besides the text.
        self._settings = (keywords, frozenset(self._redactable))

    def _scan(self, text: str) -> list[Span]:
        spans = find_pii(text)
        if self._keywords is not None:
            spans.extend(_find_keywords(text, self._keywords))
        return spans

    def clean(self, text: str) -> str:
        """``text`` with every redactable span replaced, re-scanned until none is left.

        A second pass can find what the first could not see: a number glued to a card
        stands alone once the card is a placeholder. Each pass replaces at least one
        character that is not a placeholder and no detector matches inside one, so the
        loop ends; ``len(text) + 1`` passes is only the proof's bound.
        """
        cacheable = _SCANS.worth_caching(text)
        if cacheable and (seen := _SCANS.get(text, self._settings)) is not None:
            self.kinds.update(seen.kinds)
            return seen.text
        original, kinds = text, set[str]()
        for _ in range(len(text) + 1):
            spans = self._scan(text)
            kinds.update(span.kind for span in spans)
            to_redact = [span for span in spans if span.kind in self._redactable]
            if not to_redact:
                break
            text = redact(text, to_redact)
        self.kinds.update(kinds)
        if cacheable:
            _SCANS.put(original, self._settings, Scan(text, frozenset(kinds)))
        return text


def check_request(
    request: RequestEvent, policy: SafetyPolicy
) -> tuple[RequestEvent, SafetyOutcome]:
    """The request to send (redacted copy or the same object) and what was done to it."""
    scanner = _Scanner(policy)
    system = scanner.clean(request.system) if request.system is not None else None
    messages = []
    for message in request.messages:
        if message.role == "user" and find_injection(message.content) is not None:
            scanner.kinds.add("prompt_injection")
        content = scanner.clean(message.content)
        messages.append(
            message
            if content == message.content
            else message.model_copy(update={"content": content})
        )

    kinds = scanner.kinds
    action: Action = max(
        (_action_for(kind, policy) for kind in kinds), key=_STRENGTH.__getitem__, default="allow"
    )
    outcome = SafetyOutcome(
        action=action,
        findings=sorted(kinds),
        code=_block_code(kinds, policy) if action == "block" else None,
    )
    unchanged = system == request.system and all(
        sent is original for sent, original in zip(messages, request.messages, strict=True)
    )
    if unchanged:
        return request, outcome
    return request.model_copy(update={"system": system, "messages": messages}), outcome
