"""The pattern responder: free, instant answers to small talk ("hi", "thanks", "ok").

A request matches a rule when its last user message, normalized, equals one of the
rule's phrases (normalized the same way) as a whole: "thanks!" matches ``thanks``,
"thanks, but why is it slow?" does not. Normalization: NFKC, casefold, punctuation and
symbols (emoji included) become spaces, format characters and variation selectors go,
whitespace collapses. A message that is only emoji normalizes to nothing and never
matches.

Not answered, so a model sees them:

* a message that replies to a question: when the assistant turn just before it ends in
  "?", "ok" or "thanks" answer that question ("Shall I write the tests?" — "ok");
* rules limited to other use cases (``PatternRule.use_cases``; empty = every use case).

Rules come from the tenant's ``PatternPolicy.rules``, or the packaged defaults
(app/policy/patterns.yaml: greetings, thanks, acknowledgements, goodbyes in English and
a few other languages) when that is unset. Answers are plain text sent verbatim: there
are no placeholders, so ``{name}`` in a template reaches the caller as written.

The packaged defaults apply to every use case. A service whose user messages are data
rather than conversation (translate, classify) should disable the responder or set its
own rules with ``use_cases``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import yaml

from frugalflow.events import RequestEvent
from frugalflow.policy.models import PatternPolicy, PatternRule

_DROPPED = {chr(c) for c in range(0xFE00, 0xFE10)}  # emoji/text variation selectors


@dataclass(frozen=True)
class PatternMatch:
    rule: str  # the rule's name
    answer: str  # the text to answer with, verbatim


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """The form messages and phrases are compared in (module doc)."""
    chars: list[str] = []
    for char in unicodedata.normalize("NFKC", text).casefold():
        category = unicodedata.category(char)
        if category == "Cf" or char in _DROPPED:
            continue
        chars.append(" " if category[0] in "PS" else char)
    return " ".join("".join(chars).split())


@cache
def default_rules() -> tuple[PatternRule, ...]:
    """The packaged rules (app/policy/patterns.yaml), validated once."""
    text = (
        resources.files("frugalflow.policy").joinpath("patterns.yaml").read_text(encoding="utf-8")
    )
    document = yaml.safe_load(text)
    return tuple(PatternRule.model_validate(rule) for rule in document["rules"])


def _answers_a_question(request: RequestEvent) -> bool:
    if len(request.messages) < 2:
        return False
    before = request.messages[-2]
    return before.role == "assistant" and before.content.rstrip().endswith("?")


PhraseIndex = dict[str, list[PatternRule]]  # normalized phrase → its rules, in rule order

# Tenant rule lists → their index, built once per policy snapshot's list (held here, so
# its id is not reused while cached); cleared when full, since snapshots replace lists.
_INDEXES: dict[int, tuple[Sequence[PatternRule], PhraseIndex]] = {}
_MAX_INDEXES = 256


def _index(rules: Sequence[PatternRule]) -> PhraseIndex:
    index: PhraseIndex = {}
    for rule in rules:
        for said in {normalize(phrase) for phrase in rule.phrases}:
            index.setdefault(said, []).append(rule)
    return index


@cache
def _default_index() -> PhraseIndex:
    return _index(default_rules())


def _index_of(rules: Sequence[PatternRule]) -> PhraseIndex:
    cached = _INDEXES.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1]
    if len(_INDEXES) >= _MAX_INDEXES:
        _INDEXES.clear()
    index = _index(rules)
    _INDEXES[id(rules)] = (rules, index)
    return index


def match_pattern(request: RequestEvent, policy: PatternPolicy) -> PatternMatch | None:
    """The first rule whose phrase is the whole last user message, or None.

    One dictionary lookup per request: the rules' phrases are indexed once per rule list.
    """
    if not policy.enabled or request.messages[-1].role != "user":
        return None
    if _answers_a_question(request):
        return None
    said = normalize(request.messages[-1].content)
    if not said:
        return None
    index = _default_index() if policy.rules is None else _index_of(policy.rules)
    for rule in index.get(said, ()):
        if not rule.use_cases or request.use_case in rule.use_cases:
            return PatternMatch(rule=rule.name, answer=rule.answer)
    return None
