"""``frugalflow export``: the raw cost events of ``--start..--end`` (inclusive UTC days) as
CSV, streamed from ``frugalflow.reports.export_rows`` to stdout (``-``) or a file."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TextIO

import asyncpg

from frugalflow.reports import export_rows


def iso_date(text: str) -> date:
    """argparse ``type=``: a ``YYYY-MM-DD`` date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


async def write_export(
    conn: asyncpg.Connection, *, start: date, end: date, tenant: str | None, output: str
) -> int:
    """Write the CSV; a file is written beside its name and renamed when complete."""
    rows = 0
    with ExitStack() as stack:
        if output == "-":
            out: TextIO = sys.stdout
        else:
            target = Path(output)
            partial = target.with_name(f".{target.name}.partial")
            try:
                out = stack.enter_context(partial.open("w", encoding="utf-8", newline=""))
            except OSError as exc:
                print(f"frugalflow: cannot write {output}: {exc.strerror}", file=sys.stderr)
                return 1
            stack.callback(partial.unlink, missing_ok=True)
        async for line in export_rows(conn, start, end, tenant):
            out.write(line)
            rows += 1
        out.flush()
        if output != "-":
            out.close()
            partial.replace(target)
    where = "stdout" if output == "-" else output
    print(f"exported {rows - 1} cost events ({start}..{end}) to {where}", file=sys.stderr)
    return 0
