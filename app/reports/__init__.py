"""The query layer over the cost tables, shared by the admin API, the CLI and the MCP server.

Pure async functions over an asyncpg connection or pool, returning pydantic models with
``Decimal`` money. Date ranges are inclusive UTC days. Summaries, spend and
recommendations read the ``cost_rollups`` kept by the sink; the CSV export streams raw
``cost_events`` through a server-side cursor. ``frugalflow.reports.budgets`` reads and writes the
``budgets`` table for every surface (import it as a module).
"""

from frugalflow.reports.export import EXPORT_COLUMNS, export_rows
from frugalflow.reports.models import (
    DIMENSIONS,
    CostSummary,
    DailySpend,
    Dimension,
    LeverSaving,
    MonthForecast,
    Recommendation,
    SavingsByLever,
    SummaryRow,
    Totals,
)
from frugalflow.reports.recommendations import recommendations
from frugalflow.reports.spend import daily_spend, forecast_month, project_month
from frugalflow.reports.summary import cost_summary, savings_by_lever

__all__ = [
    "DIMENSIONS",
    "EXPORT_COLUMNS",
    "CostSummary",
    "DailySpend",
    "Dimension",
    "LeverSaving",
    "MonthForecast",
    "Recommendation",
    "SavingsByLever",
    "SummaryRow",
    "Totals",
    "cost_summary",
    "daily_spend",
    "export_rows",
    "forecast_month",
    "project_month",
    "recommendations",
    "savings_by_lever",
]
