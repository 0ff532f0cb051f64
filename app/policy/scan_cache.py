"""Scan a long text once: the safety step's result for texts seen before.

Most traffic repeats a few long system prompts (and shared documents) across thousands
of requests; the PII, secret and keyword detectors are pure functions of the text and
the policy's detector settings, so their result for a text is remembered. Short texts
are not cached (scanning them costs about what a lookup does, and they rarely repeat).
The cache is bounded by the characters it holds and forgets the least recently used.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

MIN_CHARS = 256  # shorter texts are scanned every time
MAX_CHARS = 8_000_000  # about 8 M characters of cached texts (and as many of results)


@dataclass(frozen=True, slots=True)
class Scan:
    text: str  # the text after redaction (the same object when nothing was redacted)
    kinds: frozenset[str]  # every kind found, redacted or not


class ScanCache:
    def __init__(self, *, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> None:
        self._min_chars = min_chars
        self._max_chars = max_chars
        self._held = 0
        self._scans: OrderedDict[tuple[str, Hashable], Scan] = OrderedDict()

    def worth_caching(self, text: str) -> bool:
        return self._min_chars <= len(text) <= self._max_chars

    def get(self, text: str, settings: Hashable) -> Scan | None:
        key = (text, settings)
        scan = self._scans.get(key)
        if scan is not None:
            self._scans.move_to_end(key)
        return scan

    def put(self, text: str, settings: Hashable, scan: Scan) -> None:
        key = (text, settings)
        if key in self._scans:
            return
        self._scans[key] = scan
        self._held += _size(key, scan)
        while self._held > self._max_chars:
            old_key, old_scan = self._scans.popitem(last=False)
            self._held -= _size(old_key, old_scan)

    def __len__(self) -> int:
        return len(self._scans)


def _size(key: tuple[str, Hashable], scan: Scan) -> int:
    return len(key[0]) + (0 if scan.text is key[0] else len(scan.text))
