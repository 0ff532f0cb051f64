"""A standard-library progress bar for stderr.

On a terminal: one line redrawn in place, ``\\r[#####.....] 120/240 answers``. Elsewhere
(CI logs, pipes): a plain line whenever the count changed and ``interval_s`` passed, and
at the end, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self,
        label: str = "answers",
        *,
        stream: TextIO | None = None,
        width: int = 30,
        interval_s: float = 5.0,
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interval_s = interval_s
        self.tty = self.stream.isatty()
        self._last: tuple[int, int] | None = None
        self._last_line_at = 0.0

    def bar(self, done: int, total: int) -> str:
        filled = self.width if total <= 0 else min(self.width, self.width * done // total)
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {self.label}"

    def update(self, done: int, total: int) -> None:
        if (done, total) == self._last:
            return
        self._last = (done, total)
        if self.tty:
            self.stream.write(f"\r{self.bar(done, total)}")
            self.stream.flush()
            return
        now = time.monotonic()
        if done >= total or now - self._last_line_at >= self.interval_s:
            self._last_line_at = now
            print(f"{done}/{total} {self.label}", file=self.stream, flush=True)

    def finish(self) -> None:
        if self.tty and self._last is not None:
            self.stream.write("\n")
            self.stream.flush()
