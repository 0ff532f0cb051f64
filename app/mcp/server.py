"""The MCP server over stdio: tool listing and calls, an asyncpg pool, ``main_mcp``.

stdout carries the protocol only; logs go to stderr. A tool call that fails returns a
tool error (``isError: true``) with one readable line: invalid arguments name the
argument, database trouble says so, anything unexpected is logged to stderr with its
traceback and reported without details. The database URL never appears in a result or
a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from frugalflow.mcp.inputs import ToolInputError
from frugalflow.mcp.tools import BY_NAME, TOOLS, Json
from frugalflow.settings import Settings

log = logging.getLogger("frugalflow.mcp")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
INSTRUCTIONS = (
    "FrugalFlow's LLM cost data: what each tenant spent, what batching, caching and"
    " routing saved, how to cut the bill further, and per-tenant budgets."
)


def build_server(pool: asyncpg.Pool) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(spec.name) for spec in TOOLS])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await call(pool, params.name, params.arguments)

    return Server(
        "frugalflow",
        version=_version(),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _tool(name: str) -> types.Tool:
    spec = BY_NAME[name]
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.schema(),
        annotations=types.ToolAnnotations(
            read_only_hint=spec.read_only,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )


async def call(
    pool: asyncpg.Pool, name: str, arguments: dict[str, Any] | None
) -> types.CallToolResult:
    """Run one tool; every failure but an unknown tool name is a tool error result."""
    spec = BY_NAME.get(name)
    if spec is None:
        raise MCPError(types.INVALID_PARAMS, f"unknown tool {name!r}; tools: {', '.join(BY_NAME)}")
    try:
        return _result(await spec.call(pool, arguments))
    except ToolInputError as exc:
        return _error(f"invalid arguments for {name}: {exc}")
    except asyncpg.UndefinedTableError:
        return _error(
            "the cost tables do not exist in this database yet: a worker's sink creates"
            " them when it starts"
        )
    except (asyncpg.PostgresConnectionError, OSError, TimeoutError) as exc:
        log.warning("tool %s: database unavailable (%s)", name, type(exc).__name__)
        return _error(f"{name} failed: the database is unavailable, try again later")
    except asyncpg.PostgresError as exc:
        log.warning("tool %s: database error %s", name, exc.sqlstate)
        return _error(f"{name} failed: database error {exc.sqlstate} ({type(exc).__name__})")
    except Exception:
        log.exception("tool %s failed", name)
        return _error(f"{name} failed with an internal error (logged by the server)")


def _result(data: Json) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(data, ensure_ascii=False))],
        structured_content=data,
    )


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("frugalflow")
    except PackageNotFoundError:
        return "0"


async def serve(dsn: str) -> int:
    """Open the pool, then serve stdio until the client closes stdin."""
    try:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, command_timeout=30)
    except (OSError, TimeoutError, asyncpg.PostgresError, ValueError) as exc:
        print(
            f"frugalflow mcp: cannot connect to the database: {_redacted(str(exc), dsn)}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    try:
        server = build_server(pool)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        await pool.close()
    return EXIT_OK


def _redacted(text: str, dsn: str) -> str:
    """``text`` without the URL or its password (drivers may quote either)."""
    text = text.replace(dsn, "<DATABASE_URL>")
    try:
        password = urlsplit(dsn).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def main_mcp(settings: Settings) -> int:
    """``frugalflow mcp``: serve the tools over stdio. Exit 2 when no database is set."""
    logging.basicConfig(
        stream=sys.stderr,
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.database_url is None:
        print(
            "frugalflow mcp: DATABASE_URL (or FRUGALFLOW_DATABASE_URL) is not set;"
            " the MCP server reads costs and budgets from Postgres",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        return asyncio.run(serve(settings.database_url.get_secret_value()))
    except KeyboardInterrupt:
        return EXIT_OK
