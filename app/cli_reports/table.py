"""Plain-text tables and JSON for the reporting commands (standard library only).

Columns have a kind: ``text`` is left-aligned; ``int``, ``money``, ``pct`` and ``num`` are
right-aligned. A money column shows 6 decimals while every amount in it is below $1 and 4
otherwise, so a column's decimal points line up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

Kind = Literal["text", "int", "money", "pct", "num"]
NUMERIC: frozenset[Kind] = frozenset({"int", "money", "pct", "num"})


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    kind: Kind = "text"


def money_decimals(values: Sequence[Decimal | None]) -> int:
    """6 decimals when every amount is below $1 (sub-cent LLM costs), else 4."""
    return 6 if all(v is None or abs(v) < 1 for v in values) else 4


def money(value: Decimal | None, decimals: int | None = None) -> str:
    if value is None:
        return "-"
    places = money_decimals([value]) if decimals is None else decimals
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{places}f}"


def pct(value: Decimal | float | None) -> str:
    return "-" if value is None else f"{Decimal(str(value)):.1f}%"


def _cell(value: Any, kind: Kind, decimals: int) -> str:
    if value is None:
        return "-"
    if kind == "money":
        return money(Decimal(value), decimals)
    if kind == "pct":
        return pct(value)
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned table: header, a rule, one line per row (no trailing spaces)."""
    decimals = [
        money_decimals([r[i] for r in rows]) if c.kind == "money" else 0
        for i, c in enumerate(columns)
    ]
    cells = [
        [_cell(v, c.kind, d) for v, c, d in zip(r, columns, decimals, strict=True)] for r in rows
    ]
    widths = [max([len(c.title), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if c.kind in NUMERIC else v.ljust(w)
            for v, w, c in zip(values, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line([c.title for c in columns]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def to_json(document: Any) -> str:
    """One JSON document; money (``Decimal``) as decimal strings, dates in ISO 8601."""
    return json.dumps(document, default=_plain, indent=2)
