"""Lexical guards of the semantic cache: changes that flip an answer but barely move a vector.

Sentence embeddings place "What is 2 + 2?" and "What is 2 + 3?" (or "cancel my order"
and "don't cancel my order", "London to Paris" and "Paris to London") within a hair of
each other, often closer than two honest paraphrases. No similarity threshold separates
those, so a semantic hit must also pass these checks, which compare the two questions'
words directly:

* numbers: the same numbers, digits or number words ("3" and "three" agree);
* negation: as many negations (not, no, never, don't, ...);
* dates and times: the same weekdays, months, am/pm and relative days;
* opposites: no swap between the sides of a common opposite pair (enable/disable, ...);
* word order: the words the two share appear in the same order.

They make the semantic cache conservative on purpose: a paraphrase that changes any of
these misses and is answered by a provider, which costs money, never correctness.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})

_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen "
_UNITS += "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
_NUMBER_WORDS: dict[str, str] = {word: str(i) for i, word in enumerate(_UNITS.split())}
_NUMBER_WORDS |= {
    w: str(n)
    for w, n in [("thirty", 30), ("forty", 40), ("fifty", 50), ("sixty", 60), ("seventy", 70),
                 ("eighty", 80), ("ninety", 90), ("hundred", 100), ("thousand", 1000),
                 ("million", 10**6), ("billion", 10**9), ("dozen", 12), ("half", 0.5),
                 ("first", 1), ("second", 2), ("third", 3), ("fourth", 4), ("fifth", 5),
                 ("once", 1), ("twice", 2), ("single", 1), ("double", 2), ("triple", 3)]
}  # fmt: skip

_NEGATIONS = _word_set(
    "not no never none nobody nothing neither nor nowhere without cannot dont doesnt didnt "
    "isnt arent wasnt werent cant couldnt wont wouldnt shouldnt hasnt havent hadnt mustnt "
    "neednt aint"
)

# "may", "sun", "mar" and "sat" are left out: as words they are far more common.
_CALENDAR = _word_set(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur "
    "thurs fri weekday weekend january february march april june july august september "
    "october november december jan feb apr jun jul aug sep sept oct nov dec today tomorrow "
    "yesterday tonight morning afternoon evening night noon midnight am pm next last "
    "previous daily weekly monthly yearly hourly"
)

_OPPOSITES: tuple[tuple[str, str], ...] = (
    ("enable", "disable"), ("activate", "deactivate"), ("upgrade", "downgrade"),
    ("increase", "decrease"), ("add", "remove"), ("open", "close"), ("start", "stop"),
    ("lock", "unlock"), ("subscribe", "unsubscribe"), ("include", "exclude"),
    ("allow", "deny"), ("accept", "reject"), ("buy", "sell"), ("import", "export"),
    ("upload", "download"), ("connect", "disconnect"), ("install", "uninstall"),
    ("encrypt", "decrypt"), ("follow", "unfollow"), ("hide", "show"), ("mute", "unmute"),
    ("pause", "resume"), ("approve", "decline"), ("login", "logout"), ("win", "lose"),
    ("before", "after"), ("more", "less"), ("most", "least"), ("higher", "lower"),
    ("maximum", "minimum"), ("max", "min"), ("cheapest", "expensive"), ("best", "worst"),
    ("above", "below"), ("over", "under"), ("first", "last"), ("early", "late"),
    ("old", "new"), ("junior", "senior"), ("beginner", "advanced"), ("men", "women"),
    ("male", "female"), ("hot", "cold"), ("fast", "slow"), ("long", "short"),
    ("big", "small"), ("large", "small"), ("light", "dark"), ("positive", "negative"),
    ("pros", "cons"), ("advantages", "disadvantages"), ("true", "false"), ("yes", "no"),
)  # fmt: skip

# Function words: left out of the word-order check (they move freely in paraphrases).
_STOPWORDS = _word_set(
    "a an the of to in on at for from by with about into onto as is are was were be been "
    "being am do does did doing have has had having i me my mine we us our you your yours "
    "he him his she her it its they them their this that these those there here what which "
    "who whom whose when where why how can could would should will shall may might must "
    "please kindly just also and or but so if then than too very really some any all each "
    "every up out down off again further once tell give show let know want need like get "
    "s t ll re ve d m"
)


def _inflections(base: str) -> set[str]:
    forms = {base, base + "s", base + "es", base + "ed", base + "d", base + "ing"}
    if base.endswith("e"):
        forms.add(base[:-1] + "ing")
    return forms


_OPPOSITE_FORMS: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(_inflections(a)), frozenset(_inflections(b))) for a, b in _OPPOSITES
)


def words(text: str) -> list[str]:
    """Lower-case word and number tokens; apostrophes kept inside words, then dropped."""
    folded = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    tokens: list[str] = []
    for token in _TOKEN.findall(folded):
        if token.endswith("n't"):
            tokens.append("not")
            continue
        tokens.append(token.replace("'", ""))
    return tokens


@dataclass(frozen=True)
class QuestionFeatures:
    """What the guards compare, computed once per question."""

    numbers: Counter[str]
    negations: int
    calendar: Counter[str]
    opposites: tuple[tuple[bool, bool], ...]
    content: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> QuestionFeatures:
        tokens = words(text)
        vocabulary = set(tokens)
        return cls(
            numbers=Counter(_number(t) for t in tokens if _number(t) is not None),  # type: ignore[misc]
            negations=sum(1 for t in tokens if t in _NEGATIONS),
            calendar=Counter(t for t in tokens if t in _CALENDAR),
            opposites=tuple(
                (bool(vocabulary & a), bool(vocabulary & b)) for a, b in _OPPOSITE_FORMS
            ),
            content=tuple(t for t in tokens if t not in _STOPWORDS),
        )


def _number(token: str) -> str | None:
    if token[0].isdigit():
        return token.replace(",", "")
    return _NUMBER_WORDS.get(token)


def conflicts(a: QuestionFeatures, b: QuestionFeatures) -> list[str]:
    """The names of the guards the pair fails; empty when the pair may share an answer."""
    failed = []
    if a.numbers != b.numbers:
        failed.append("numbers")
    if a.negations != b.negations:
        failed.append("negation")
    if a.calendar != b.calendar:
        failed.append("calendar")
    if any(x != y and u != v for (x, u), (y, v) in zip(a.opposites, b.opposites, strict=True)):
        failed.append("opposites")  # one side of a pair in one question, the other in the other
    if _shared_order(a.content, b.content) != _shared_order(b.content, a.content):
        failed.append("word_order")
    return failed


def _shared_order(tokens: Iterable[str], other: Iterable[str]) -> list[str]:
    """``tokens`` that also occur in ``other``, each once, in the order of ``tokens``."""
    wanted = set(other)
    return list(dict.fromkeys(t for t in tokens if t in wanted))
