"""Phone numbers for ``frugalflow.policy.pii``: +CC forms and national forms of 9-12 digits.

Never dates, times, prices, versions, IPs, ZIP+4 or numbers glued to other text; a bare
10-11 digit block only after a phone word ("call me at 5551234567").
"""

from __future__ import annotations

import re
from collections.abc import Iterator


def digit_count(number: str) -> int:
    """Digits in a run made of digits and the separators `` ()+.-`` (cards use it too)."""
    return len(number) - sum(map(number.count, " ()+.-"))


# A "+" always starts a number; a digit right after another number's "123 " does not.
_PHONE_RUN = re.compile(
    r"[+(0-9](?<![\w+.,/$€£¥#@%-].)(?<![0-9][ .-][(0-9])(?=[0-9() .-]{8})[0-9() .-]*+"
)
_LEADING_AREA_CODE = re.compile(r"\([0-9]+\)")
_PHONE_TOKEN = re.compile(r"\(([0-9]+)\)|([0-9]+)|( ?[.-] ?| {1,2})")
# Words that announce a bare 10-11 digit block as a phone number: "call me at 5551234567".
_PHONE_CUE = re.compile(
    r"(?<!\w)(?:(?:tele)?phone|tel|mobile|cell|call|fax|whatsapp|sms|text)"
    r"(?:\W+(?:me|at|on|is|number|no|nr))*\W{0,6}$",
    re.IGNORECASE,
)


def _is_year(group: str) -> bool:
    return len(group) == 4 and 1900 <= int(group) <= 2099


def _is_month(group: str) -> bool:
    return len(group) <= 2 and 1 <= int(group) <= 12


def _is_day(group: str) -> bool:
    return len(group) <= 2 and 1 <= int(group) <= 31


def _looks_like_date(groups: list[str]) -> bool:
    for a, b, c in zip(groups, groups[1:], groups[2:], strict=False):
        if (_is_year(a) and _is_month(b) and _is_day(c)) or (
            _is_year(c) and ((_is_day(a) and _is_month(b)) or (_is_month(a) and _is_day(b)))
        ):
            return True
    return False


def _parse_phone(candidate: str) -> tuple[list[str], list[str], int | None] | None:
    """Digit groups, the separators between them, and which group was parenthesized."""
    groups: list[str] = []
    separators: list[str] = []
    paren: int | None = None
    position = 0
    while position < len(candidate):
        token = _PHONE_TOKEN.match(candidate, position)
        if token is None:
            return None
        position = token.end()
        if token.group(3) is not None:  # a separator: only ever between two groups
            if len(separators) == len(groups):
                return None
            separators.append(token.group(3).strip() or " ")
            continue
        if len(separators) < len(groups):
            # two groups with nothing between: only around a parenthesis, "(555)123"
            if not (token.group(1) or paren == len(groups) - 1):
                return None
            separators.append("")
        if token.group(1) is not None:
            if paren is not None:
                return None
            paren = len(groups)
        groups.append(token.group(1) or token.group(2))
    if not groups or len(separators) == len(groups):
        return None
    return groups, separators, paren


def _is_phone(candidate: str, before: str) -> bool:
    international = candidate.startswith("+")
    parsed = _parse_phone(candidate[1:].lstrip() if international else candidate)
    if parsed is None:
        return False
    groups, separators, paren = parsed
    if not international and paren != 0 and 3 <= len(groups[0]) <= 5 and groups[0][:2] == "00":
        international = True  # 0049 30 … is the dialled form of +49 30 …
        groups = [groups[0][2:], *groups[1:]]
    digits = "".join(groups)
    dotted = "." in separators
    if dotted and set(separators) != {"."}:
        return False
    if international:
        return 9 <= len(digits) <= 15 and (len(groups) == 1 or len(groups[-1]) >= 2)
    sizes = tuple(len(group) for group in groups)
    if len(groups) == 1:  # a bare block: trunk-prefixed, or announced as a phone
        return 10 <= len(digits) <= 11 and (
            digits.startswith("0") or bool(_PHONE_CUE.search(before))
        )
    nanp_prefix = groups[0] == "1" and sizes[1:] == (3, 3, 4)  # 1-800-555-1234
    return (
        9 <= len(digits) <= 12
        and max(sizes) <= 8
        and (paren in (None, 0) or (paren == 1 and nanp_prefix))
        and (min(sizes) >= 2 or (nanp_prefix and min(sizes[1:]) >= 2))
        and sizes != (3, 2, 4)  # the SSN shape
        and not (len(groups) == 2 and not groups[0].startswith("0") and paren != 0)  # ZIP+4
        and not (sizes[0] == 4 and not groups[0].startswith("0"))  # years, "2024 2025 …"
        and not (  # thousands grouping: "1 234 567 890"
            sizes[0] <= 3 and not groups[0].startswith("0") and set(sizes[1:]) == {3}
        )
        and not _looks_like_date(groups)
        and (not dotted or sizes in ((3, 3, 4), (2, 2, 2, 2, 2)))  # not versions or IPs
    )


def find_phones(text: str, lower: str) -> Iterator[tuple[int, int]]:
    for run in _PHONE_RUN.finditer(text):
        start, candidate = run.start(), run.group()
        if candidate.startswith("(") and not _LEADING_AREA_CODE.match(candidate):
            start, candidate = start + 1, candidate[1:]  # a parenthesis around the number
        candidate = candidate.rstrip(" .-()")
        if not 9 <= digit_count(candidate) <= 15 or not candidate[-1].isdigit():
            continue  # no phone number has that many digits, or it does not end in one
        end = start + len(candidate)
        following = text[end : end + 2]
        if following[:1].isalnum() or following[:1] == "_":
            continue
        if following[:1] in (".", ",", "-", "/") and (following[1:].isalnum()):
            continue  # glued to more: "555-123-4567-A1", "4567,89"
        if _is_phone(candidate, text[max(0, start - 24) : start]):
            yield start, end
