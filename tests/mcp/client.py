"""An MCP client session with ``python -m frugalflow.mcp`` started as a subprocess."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client

ROOT = Path(__file__).resolve().parents[2]


def server_parameters(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "frugalflow.mcp"], env=env, cwd=str(ROOT)
    )


@asynccontextmanager
async def mcp_session(dsn: str, errlog: TextIO) -> AsyncIterator[ClientSession]:
    params = server_parameters({"DATABASE_URL": dsn, "FRUGALFLOW_LOG_LEVEL": "INFO"})
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call_ok(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; its text content is the JSON of its structured one."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    data = json.loads(text_of(result))
    assert data == result.structured_content
    assert isinstance(data, dict)
    return data


async def call_error(session: ClientSession, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail with a tool error; returns its message."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, text_of(result)
    return text_of(result)


def text_of(result: types.CallToolResult) -> str:
    [content] = result.content
    assert isinstance(content, types.TextContent)
    return content.text
