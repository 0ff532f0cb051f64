"""Text folding for detectors: NFKC, invisible format characters removed, look-alikes mapped.

Detectors (``frugalflow.policy.pii``, ``frugalflow.policy.injection``) run on the folded
text, so full-width digits or a zero-width space inside an address do not hide it;
``FoldedText`` maps a span of the folded text back to the original, so redaction
removes the hiding characters too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Cyrillic and Greek look-alikes attackers swap in for Latin letters ("ignore" with a
# Cyrillic o).
# Applied only when case-folding (matching words), never for PII (digits and keys).
_CONFUSABLES = str.maketrans(
    "\u0430\u0432\u0435\u043a\u043c\u043d\u043e\u0440"
    "\u0441\u0442\u0443\u0445\u0456\u0458\u0455\u0501"
    "\u04cf\u0261\u0131\u03b1\u03b5\u03b9\u03ba\u03bd"
    "\u03bf\u03c1\u03c4\u03c5\u03c7",
    "abekmhopctyxijsdlgiaeikvoptux",
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Invisible characters only serve to split what we match: every format character
# (Unicode category Cf: zero-width space and joiners, soft hyphen, bidi controls, BOM,
# the tag characters of "ASCII smuggling") and the variation selectors.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)


@lru_cache(maxsize=8192)
def _fold_char(ch: str, lower: bool) -> str:
    if _INVISIBLE.match(ch) or unicodedata.category(ch) == "Cf":
        return ""
    piece = unicodedata.normalize("NFKC", ch)
    return piece.lower().translate(_CONFUSABLES) if lower else piece


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A normalized copy of a text that remembers where each character came from."""

    text: str
    origin: list[int] | None  # origin[i] = index in the original of text[i]; None = same

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def fold(text: str, *, lower: bool = False) -> FoldedText:
    """NFKC per character, invisible characters dropped, optionally lower-cased.

    Per character (not whole-string NFKC) so every output character maps back to exactly
    one input character. Text that is already normalized (ASCII, most prose) takes a fast
    path whose offsets are the original's. ``lower`` uses ``str.lower`` (plus look-alike
    letters mapped to Latin), not ``casefold``: it keeps one character per character
    ("ß" stays "ß"), so that fast path holds for nearly every text.
    """
    if text.isascii():
        return FoldedText(text.lower() if lower else text, None)
    if unicodedata.is_normalized("NFKC", text) and not _INVISIBLE.search(text):
        if not lower:
            return FoldedText(text, None)
        folded = text.lower().translate(_CONFUSABLES)
        if len(folded) == len(text):  # every character folded to exactly one ("İ" doesn't)
            return FoldedText(folded, None)
    parts: list[str] = []
    origin: list[int] = []
    position = 0
    for match in _NON_ASCII.finditer(text):
        index = match.start()
        if index > position:
            chunk = text[position:index]
            parts.append(chunk.lower() if lower else chunk)
            origin.extend(range(position, index))
        piece = _fold_char(text[index], lower)
        parts.append(piece)
        origin.extend([index] * len(piece))
        position = index + 1
    if position < len(text):
        chunk = text[position:]
        parts.append(chunk.lower() if lower else chunk)
        origin.extend(range(position, len(text)))
    return FoldedText("".join(parts), origin)


def fold_str(text: str, *, casefold: bool = False) -> str:
    """Like ``fold(text).text`` but normalized as a whole, without offsets: faster, and
    ``casefold`` folds fully ("ß" → "ss")."""
    if text.isascii():
        return text.lower() if casefold else text
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return folded.casefold().translate(_CONFUSABLES) if casefold else folded
