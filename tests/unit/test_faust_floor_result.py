"""The Faust floor's result line, as the bench reads it from the floor process's stdout."""

from __future__ import annotations

import json

from frugalflow.bench.faust_floor import RESULT, _result_line


def test_the_result_is_found_after_faust_s_terminal_control_codes() -> None:
    report = {"records": 200, "wall_s": 0.4, "cpu_s": 0.38, "peak_rss": 1 << 27}
    out = b"starting\n\x1b[?25l\x1b[?25h" + (RESULT + json.dumps(report)).encode() + b"\n"
    assert _result_line(out) == report


def test_a_process_that_printed_no_result_reports_nothing_answered() -> None:
    assert _result_line(b"Traceback (most recent call last):\n  ...\n") == {}
    assert _result_line(b"") == {}
