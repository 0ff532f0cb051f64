"""FrugalFlow's MCP server: cost, savings, recommendations and budgets as MCP tools.

``frugalflow mcp`` (or ``python -m frugalflow.mcp``) serves over stdio; see ``server`` for the
transport and errors, ``tools`` for the tools (the spend-status query is
``frugalflow.reports.spend_status``) and ``budgets`` for how budgets
(``frugalflow.reports.budgets``) are shown.
"""

from frugalflow.mcp.server import main_mcp

__all__ = ["main_mcp"]
