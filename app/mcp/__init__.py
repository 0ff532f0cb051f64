"""FrugalFlow's MCP server: cost, savings, recommendations and budgets as MCP tools.

``frugalflow mcp`` (or ``python -m app.mcp``) serves over stdio; see ``server`` for the
transport and errors, ``tools`` for the tools, ``budgets`` and ``status`` for the queries
beyond ``app.reports``.
"""

from app.mcp.server import main_mcp

__all__ = ["main_mcp"]
