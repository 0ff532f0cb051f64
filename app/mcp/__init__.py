"""FrugalFlow's MCP server: cost, savings, recommendations and budgets as MCP tools.

``frugalflow mcp`` (or ``python -m app.mcp``) serves over stdio; see ``server`` for the
transport and errors, ``tools`` for the tools (the spend-status query is
``app.reports.spend_status``) and ``budgets`` for how budgets (``app.reports.budgets``) are shown.
"""

from app.mcp.server import main_mcp

__all__ = ["main_mcp"]
