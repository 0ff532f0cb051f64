"""Tool arguments: one pydantic model per tool, its JSON schema, readable errors.

Models forbid unknown arguments. A validation failure becomes ``ToolInputError`` with
one line per problem (``start: expected a date as YYYY-MM-DD, got 'May 1st'``), which the
server returns as a tool error (``isError: true``), never as a traceback.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from frugalflow.reports.models import Dimension
from frugalflow.reports.periods import utc_today

Tenant = Annotated[str, Field(min_length=1, max_length=128, description="tenant id")]
Scope = Annotated[
    str | None,
    Field(max_length=128, description="narrow to this value; omitted or '' = any"),
]
Limit = Annotated[
    Decimal | None,
    Field(
        ge=0,
        max_digits=20,
        decimal_places=10,
        description="USD, >= 0 (number or decimal string); null removes the limit",
    ),
]

_MAX_SHOWN = 60


class ToolInputError(ValueError):
    """Arguments a tool cannot accept; the message is shown to the caller as it is."""


class ToolArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(ToolArgs):
    """An inclusive range of UTC days, month to date unless given."""

    tenant: Tenant | None = Field(None, description="tenant id; omitted = every tenant")
    start: date | None = Field(
        None, description="first UTC day (YYYY-MM-DD); default: first day of end's month"
    )
    end: date | None = Field(
        None, description="last UTC day, included (YYYY-MM-DD); default: today"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        start, end = self.bounds()
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        return self

    def bounds(self) -> tuple[date, date]:
        end = self.end or utc_today()
        return self.start or end.replace(day=1), end


class CostSummaryArgs(Period):
    group_by: list[Dimension] = Field(
        default_factory=list,
        max_length=7,
        description="dimensions to break the totals down by, in order; none = one total row",
    )


class BudgetKey(ToolArgs):
    tenant: Tenant
    service: Scope = None
    use_case: Scope = None


class SetBudgetArgs(BudgetKey):
    daily_limit_usd: Limit = None
    monthly_limit_usd: Limit = None

    @model_validator(mode="after")
    def _some_limit(self) -> SetBudgetArgs:
        if not {"daily_limit_usd", "monthly_limit_usd"} & self.model_fields_set:
            raise ValueError("give daily_limit_usd and/or monthly_limit_usd")
        return self


class NoArgs(ToolArgs):
    pass


class TenantArgs(ToolArgs):
    tenant: Tenant


ArgsT = TypeVar("ArgsT", bound=ToolArgs)


def parse_args(model: type[ArgsT], arguments: dict[str, Any] | None) -> ArgsT:
    """Validate a tool's arguments, raising ``ToolInputError`` with a readable message."""
    try:
        return model.model_validate(arguments or {})
    except ValidationError as exc:
        raise ToolInputError("; ".join(_describe(e) for e in exc.errors())) from None


def input_schema(model: type[ToolArgs]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return schema


def _describe(error: Any) -> str:
    where = _location(error["loc"])
    kind: str = error["type"]
    got = _shown(error.get("input"))
    if kind == "extra_forbidden":
        return f"unknown argument {where!r}"
    if kind == "missing":
        return f"{where}: required"
    if kind.startswith("date"):
        return f"{where}: expected a date as YYYY-MM-DD, got {got}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not where:  # a check across arguments: its message says it all
        return message
    return f"{where}: {message[:1].lower()}{message[1:]}, got {got}"


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 3]}..."
