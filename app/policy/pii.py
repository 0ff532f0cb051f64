"""Detectors for personal data and secrets in prompt text, and their redaction.

``find_pii(text)`` returns the spans (offsets into ``text``) of what it found, sorted and
non-overlapping; ``redact(text, spans)`` replaces each with a typed placeholder, so the
model still reads a sentence ("write to [EMAIL] about [CARD]").

Kinds and placeholders::

    api_key      [API_KEY]       sk-… / sk-ant-… / sk-proj-…, Stripe sk_live_…, AKIA/ASIA…,
                                 ghp_/gho_/ghu_/ghs_/ghr_…, github_pat_…, xox[abpr]-…,
                                 AIza…, JWTs, PEM private-key blocks, and long high-entropy
                                 values after ``api_key=``, ``token:``, ``password=``, Bearer
    email        [EMAIL]
    iban         [IBAN]          country length table + mod-97 == 1, spaces optional
    payment_card [CARD]          13-19 digits in a card layout + Luhn + a known IIN range
    national_id  [NATIONAL_ID]   US SSN (invalid ranges excluded), UK NINO, Spanish DNI/NIE
                                 (check letter), French NIR (mod-97 key)
    phone        [PHONE]         +CC… forms; national forms with 9-12 digits — never
                                 dates, times, prices, versions, IPs, ZIP+4 or glued codes

Precision over recall: each detector checks structure *and* a checksum where one exists,
because a false positive rewrites a customer's prompt. Known misses (by design): phones
written as ``612 345 678`` (indistinguishable from a thousands-grouped amount) and bare
10-digit numbers with no phone word before them.

Detection runs on a folded copy of the text (NFKC, invisible format characters removed),
so full-width digits or a zero-width space inside an address don't hide it; spans are
mapped back to the original text, so redaction removes the hiding characters too.
When detections overlap, the higher-priority kind wins (the order of ``PRIORITY``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from frugalflow.policy.folding import fold
from frugalflow.policy.pii_phones import digit_count, find_phones

PRIORITY: tuple[str, ...] = (
    "api_key",
    "email",
    "iban",
    "payment_card",
    "national_id",
    "phone",
    # not detected here; ranked for merged redactions (frugalflow.policy.safety)
    "sensitive_keyword",
)
PII_KINDS: frozenset[str] = frozenset(PRIORITY[:-1])

PLACEHOLDERS: dict[str, str] = {
    "api_key": "[API_KEY]",
    "email": "[EMAIL]",
    "iban": "[IBAN]",
    "payment_card": "[CARD]",
    "national_id": "[NATIONAL_ID]",
    "phone": "[PHONE]",
    "sensitive_keyword": "[REDACTED]",
}
_RANK = {kind: rank for rank, kind in enumerate(PRIORITY)}


@dataclass(frozen=True, slots=True)
class Span:
    """``text[start:end]`` is a detected ``kind``."""

    kind: str
    start: int
    end: int


# --- secrets ---------------------------------------------------------------------------

# (pattern, needs a digit, substrings one of which must occur): a vendor prefix plus a long
# random body. Random bodies always contain digits; prose slugs ("sk-not-a-key") don't.
# The substring test is a fast pre-check: most texts hold none of them.
_KEY_PATTERNS: tuple[tuple[re.Pattern[str], bool, tuple[str, ...]], ...] = (
    (re.compile(r"(?<![\w-])sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"), True, ("sk-",)),
    (re.compile(r"(?<![\w-])[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"), True, ("k_live_", "k_test_")),
    (re.compile(r"(?<!\w)(?:AKIA|ASIA)[0-9A-Z]{16}(?!\w)"), False, ("AKIA", "ASIA")),
    (
        re.compile(r"(?<!\w)gh[pousr]_[A-Za-z0-9]{36,}"),
        False,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    (re.compile(r"(?<!\w)github_pat_[A-Za-z0-9_]{22,}"), False, ("github_pat_",)),
    (re.compile(r"(?<![\w-])xox[abpr]-[A-Za-z0-9-]{10,}"), True, ("xox",)),
    (re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"), False, ("AIza",)),
    (
        re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
        False,
        ("eyJ",),
    ),
    # A PEM block; a truncated one (no END line) is redacted to the end of the text.
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)",
            re.DOTALL,
        ),
        False,
        ("-----BEGIN",),
    ),
)

_PASSWORD_NAMES = ("passw", "pwd", "passphrase")
_SECRET_NAME_WORDS = ("key", "secret", "token", "passw", "pwd", "passphrase", "credential")
# `name = value`, `"name": "value"`, `NAME: value`, matched on the lower-cased text; only
# the value is redacted. The name may carry a prefix ("openai_api_key", "DB_PASSWORD").
_SECRET_ASSIGNMENT = re.compile(
    r"(?:api[_-]?key|apikey|secret(?:[_-]?key)?|access[_-]?key|private[_-]?key|"
    r"(?:access[_-]?|auth[_-]?|refresh[_-]?|bearer[_-]?)?token|passw(?:or)?d|pwd|passphrase|"
    r"credentials?)"
    r"(?![a-z0-9])[\"']?[ \t]*[:=][ \t]*[\"']?(?P<value>[^\s\"'`,;()\[\]{}<>]+)"
)
_BEARER = re.compile(r"bearer\s+(?P<value>[a-z0-9._~+/=-]+)")


def _entropy_bits_per_char(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _looks_random(value: str) -> bool:
    """A long machine-made token: letters and digits, few repeats."""
    return (
        len(value) >= 16
        and any(c.isalpha() for c in value)
        and any(c.isdigit() for c in value)
        and _entropy_bits_per_char(value) >= 3.0
    )


def _looks_like_password(value: str) -> bool:
    # Passwords are short and human-made; require a letter plus a digit or symbol so that
    # prose ("password: Please reset it") is left alone.
    has_letter = any(c.isalpha() for c in value)
    has_other = any(not c.isalpha() for c in value)
    return len(value) >= 6 and has_letter and has_other


def _find_api_keys(text: str, lower: str) -> Iterator[tuple[int, int]]:
    for pattern, needs_digit, triggers in _KEY_PATTERNS:
        if any(trigger in text for trigger in triggers):
            for match in pattern.finditer(text):
                if not needs_digit or any(c.isdigit() for c in match.group()):
                    yield match.span()
    if any(word in lower for word in _SECRET_NAME_WORDS):
        for match in _SECRET_ASSIGNMENT.finditer(lower):
            if lower[match.start() - 1 : match.start()].isalnum():
                continue  # "monkey: …" is not a key
            start = match.start("value")
            value = text[start : match.end("value")].rstrip(".")
            name = lower[match.start() : start]
            is_password = any(word in name for word in _PASSWORD_NAMES)
            if value and (_looks_like_password if is_password else _looks_random)(value):
                yield start, start + len(value)
    if "bearer" in lower:
        for match in _BEARER.finditer(lower):
            start = match.start("value")
            value = text[start : match.end("value")].rstrip(".")
            if not lower[match.start() - 1 : match.start()].isalnum() and _looks_random(value):
                yield start, start + len(value)


# --- e-mail ----------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+%-])\w[\w.%+-]{0,63}@"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])"
)


def _find_emails(text: str, lower: str) -> Iterator[tuple[int, int]]:
    if "@" in text:
        for match in _EMAIL.finditer(text):
            yield match.span()


# --- IBAN ------------------------------------------------------------------------------

# SEPA countries + GB, and a few frequent others (ISO 13616 registry lengths).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AL": 28, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24,
    "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23,
    "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31, "NL": 18,
    "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "VA": 22,
    "AE": 23, "BR": 29, "IL": 23, "SA": 24, "TR": 26, "UA": 29,
}  # fmt: skip
# Anchored on the check digits (regexes that start with a digit class scan fast), then
# looking back for the country code.
_IBAN_CHECK_DIGITS = re.compile(r"[0-9]{2}(?<=[A-Za-z]{2}[0-9]{2})(?= ?[A-Za-z0-9])")


def iban_valid(iban: str) -> bool:
    """``iban`` without spaces: known country, its exact length, and mod-97 == 1."""
    iban = iban.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isascii() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _find_ibans(text: str, lower: str) -> Iterator[tuple[int, int]]:
    for match in _IBAN_CHECK_DIGITS.finditer(text):
        start = match.start() - 2
        before = text[start - 1 : start]
        length = IBAN_LENGTHS.get(text[start : match.start()].upper())
        if length is None or before.isalnum():
            continue
        chars = [text[start : match.end()]]
        count, position = 4, match.end()
        while count < length and position < len(text):
            char = text[position]
            if char == " " and position + 1 < len(text) and text[position + 1] != " ":
                position += 1  # a single space between groups
                continue
            if not (char.isascii() and char.isalnum()):
                break
            chars.append(char)
            count += 1
            position += 1
        following = text[position : position + 1]
        glued = following.isalnum() or following == "_"
        if count == length and not glued and iban_valid("".join(chars)):
            yield start, position


# --- payment cards ---------------------------------------------------------------------

# (lowest prefix, highest prefix, allowed lengths); prefixes compared at their own width.
_IIN_RANGES: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("51", "55", frozenset({16})),  # Mastercard
    ("2221", "2720", frozenset({16})),  # Mastercard 2-series
    ("34", "34", frozenset({15})),  # American Express
    ("37", "37", frozenset({15})),
    ("300", "305", frozenset(range(14, 20))),  # Diners Club
    ("36", "36", frozenset(range(14, 20))),
    ("38", "39", frozenset(range(16, 20))),
    ("3528", "3589", frozenset(range(16, 20))),  # JCB
    ("6011", "6011", frozenset(range(16, 20))),  # Discover
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),
    ("62", "62", frozenset(range(16, 20))),  # UnionPay
    ("2200", "2204", frozenset({16})),  # Mir
    ("5018", "5018", frozenset(range(13, 20))),  # Maestro
    ("5020", "5020", frozenset(range(13, 20))),
    ("5038", "5038", frozenset(range(13, 20))),
    ("5893", "5893", frozenset(range(13, 20))),
    ("6304", "6304", frozenset(range(13, 20))),
    ("6759", "6759", frozenset(range(13, 20))),
    ("6761", "6763", frozenset(range(13, 20))),
)
# A maximal run of digit groups joined by single spaces or dashes, glued to nothing.
_DIGIT_RUN = re.compile(
    r"[0-9](?<![\w+.,/$€£¥#@%-][0-9])(?<![0-9][ -][0-9])(?=[0-9 -]{12})[0-9]*+(?:[ -][0-9]++)*+"
    r"(?!\w)(?!-\w)(?![.,][0-9])"
)
_GROUP = re.compile(r"[0-9]+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _known_iin(digits: str) -> bool:
    return any(
        len(digits) in lengths and low <= digits[: len(low)] <= high
        for low, high, lengths in _IIN_RANGES
    )


def _card_layout(sizes: list[int]) -> bool:
    """Group sizes of one block of 13-19 digits, or of 4-4-4-4(-3), 4-6-5, 4-6-4."""
    if len(sizes) == 1:
        return 13 <= sizes[0] <= 19
    if sizes in ([4, 6, 5], [4, 6, 4]):
        return True
    return len(sizes) >= 4 and all(size == 4 for size in sizes[:-1]) and 1 <= sizes[-1] <= 4


def _find_cards(text: str, lower: str) -> Iterator[tuple[int, int]]:
    for run in _DIGIT_RUN.finditer(text):
        number = run.group()
        if digit_count(number) < 13:
            continue  # most numbers are short: skip the slicing below
        groups = list(_GROUP.finditer(number))
        sizes = [group.end() - group.start() for group in groups]
        first = 0
        while first < len(groups):
            if sizes[first] < 4:  # every card layout starts with at least four digits
                first += 1
                continue
            found = None
            # The longest card-shaped slice starting at this group (a run may hold two).
            for last in range(min(len(groups), first + 5) - 1, first - 1, -1):
                if not _card_layout(sizes[first : last + 1]):
                    continue
                part = groups[first : last + 1]
                digits = "".join(group.group() for group in part)
                one_separator = len({number[group.end()] for group in part[:-1]}) <= 1
                if one_separator and _known_iin(digits) and luhn_valid(digits):
                    found = last
                    yield run.start() + part[0].start(), run.start() + part[-1].end()
                    break
            first = found + 1 if found is not None else first + 1


# --- national ids ----------------------------------------------------------------------

# Each pattern starts with a digit class (a fast scan) and looks back from there.
_NOT_GLUED_BEFORE = r"(?<![\w+.,/$€£¥#@%-][0-9])(?<![0-9][ -][0-9])"
_NOT_GLUED_AFTER = r"(?!\w)(?![ -][0-9])(?!-\w)(?![.,][0-9])"
# US SSN AAA-GG-SSSS: area 000, 666 and 900-999, group 00 and serial 0000 are never issued.
_SSN = re.compile(
    r"[0-8]"
    + _NOT_GLUED_BEFORE
    + r"[0-9]{2}(?<!000)(?<!666)([- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}"
    + _NOT_GLUED_AFTER
)
# UK National Insurance number: prefix letters exclude D F I Q U V (and O second), and a
# few pairs are never allocated; suffix A-D. Pre-checked by its digits.
_NINO_DIGITS = re.compile(r"[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d](?!\w)")
_NINO = re.compile(
    r"(?<!\w)(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D](?!\w)",
    re.IGNORECASE,
)
# Spanish DNI (8 digits) / NIE (X, Y or Z + 7 digits) with their mod-23 check letter.
_SEVEN_DIGITS = re.compile(r"[0-9]{7}")
_DNI = re.compile(r"(?<!\w)(?:([XYZ])-?([0-9]{7})|([0-9]{8}))-?([A-Z])(?!\w)", re.IGNORECASE)
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# French NIR (social security number): 13 characters + a 2-digit key = 97 - (n mod 97).
_NIR = re.compile(
    r"([12])(?<!\w[12]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}|2[AB]) ?([0-9]{3}) ?([0-9]{3})"
    r" ?([0-9]{2})(?!\w)",
    re.IGNORECASE,
)


def _dni_valid(match: re.Match[str]) -> bool:
    if match.group(3) is not None:
        number = int(match.group(3))
    else:
        number = int("XYZ".index(match.group(1).upper()) * 10**7 + int(match.group(2)))
    return _DNI_LETTERS[number % 23] == match.group(4).upper()


def _nir_valid(match: re.Match[str]) -> bool:
    *parts, key = match.groups()
    body = "".join(parts).upper()
    if body[5:7] in ("2A", "2B"):  # Corsica: 2A counts as 19, 2B as 18 for the key
        body = body[:5] + ("19" if body[5:7] == "2A" else "18") + body[7:]
    month = int(body[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(body) % 97 == int(key)


def _find_national_ids(text: str, lower: str) -> Iterator[tuple[int, int]]:
    for match in _SSN.finditer(text):
        yield match.span()
    if _NINO_DIGITS.search(text):  # the full patterns start with letters: scan slowly
        for match in _NINO.finditer(text):
            yield match.span()
    if _SEVEN_DIGITS.search(text):
        for match in _DNI.finditer(text):
            if _dni_valid(match):
                yield match.span()
    for match in _NIR.finditer(text):
        if _nir_valid(match):
            yield match.span()


# --- entry points ----------------------------------------------------------------------

_DETECTORS = (
    ("api_key", _find_api_keys),
    ("email", _find_emails),
    ("iban", _find_ibans),
    ("payment_card", _find_cards),
    ("national_id", _find_national_ids),
    ("phone", find_phones),
)


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep the higher-priority (then earlier, then longer) of overlapping spans."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (_RANK[s.kind], s.start, -s.end)):
        if all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def find_pii(text: str) -> list[Span]:
    """Every detected span in ``text``: sorted by start, non-overlapping."""
    folded = fold(text)
    lower = folded.text.lower()
    if len(lower) != len(folded.text):  # a few letters lower-case to two characters ("İ")
        lower = "".join(c.lower()[:1] or c for c in folded.text)
    found = (
        Span(kind, *folded.original_span(start, end))
        for kind, detector in _DETECTORS
        for start, end in detector(folded.text, lower)
        if end > start
    )
    return resolve_overlaps(found)


def redact(text: str, spans: Iterable[Span]) -> str:
    """Replace each span with its kind's placeholder; overlapping spans become one."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, span.kind, key=_RANK.__getitem__)
            merged[-1] = Span(kind, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    pieces: list[str] = []
    position = 0
    for span in merged:
        pieces.append(text[position : span.start])
        pieces.append(PLACEHOLDERS[span.kind])
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)
