"""One shape for every bench's output: parameters, tables of figures, notes, the machine.

Printed as aligned tables (``frugalflow.cli_reports.table``) or, with ``--json``, as one JSON
document whose sections are lists of rows keyed by column title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from frugalflow.cli_reports.table import Column, render_table, to_json


@dataclass
class Section:
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)

    def add(self, *row: Any) -> None:
        self.rows.append(list(row))


@dataclass
class BenchReport:
    bench: str
    parameters: dict[str, Any]
    machine: dict[str, str]
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # every request answered (or every event stored)

    def section(self, title: str, *columns: Column) -> Section:
        section = Section(title, list(columns))
        self.sections.append(section)
        return section

    def render(self) -> str:
        lines = [f"frugalflow bench {self.bench}", ""]
        lines.append(
            render_table(
                [Column("parameter"), Column("value")],
                [[k, _plain(v)] for k, v in self.parameters.items()],
            )
        )
        for section in self.sections:
            lines += ["", f"{section.title}:", render_table(section.columns, section.rows)]
        if self.notes:
            lines += ["", *(f"• {note}" for note in self.notes)]
        lines += ["", "machine: " + ", ".join(f"{k} {v}" for k, v in self.machine.items())]
        lines.append("COMPLETE" if self.complete else "INCOMPLETE")
        return "\n".join(lines)

    def to_json(self) -> str:
        return to_json(
            {
                "bench": self.bench,
                "parameters": self.parameters,
                "sections": {
                    s.title: [
                        {c.title: v for c, v in zip(s.columns, row, strict=True)} for row in s.rows
                    ]
                    for s in self.sections
                },
                "notes": self.notes,
                "machine": self.machine,
                "complete": self.complete,
            }
        )


def _plain(value: Any) -> str:
    return "-" if value is None else str(value)
