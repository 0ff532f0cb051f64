"""Bad input gives a tool error with a readable message; the process fails cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession

from frugalflow.infra.process import free_port
from tests.mcp.client import ROOT, call_error, mcp_session

BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("cost_summary", {"start": "March 1st"},
     "invalid arguments for cost_summary: start: expected a date as YYYY-MM-DD, got 'March 1st'"),
    ("cost_summary", {"end": "2026-02-30"}, "end: expected a date as YYYY-MM-DD"),
    ("cost_summary", {"group_by": ["colour"]}, "group_by[0]: input should be 'tenant', 'provider'"),
    ("cost_summary", {"start": "2026-03-02", "end": "2026-03-01"},
     "end 2026-03-01 is before start 2026-03-02"),
    ("savings", {"tenant": ""}, "tenant: string should have at least 1 character"),
    ("recommendations", {"month": "may"}, "unknown argument 'month'"),
    ("set_budget", {"tenant": "t", "daily_limit_usd": -1},
     "daily_limit_usd: input should be greater than or equal to 0, got -1"),
    ("set_budget", {"tenant": "t", "monthly_limit_usd": "-0.01"},
     "monthly_limit_usd: input should be greater than or equal to 0"),
    ("set_budget", {"tenant": "t", "daily_limit_usd": "lots"}, "daily_limit_usd: input should be"),
    ("set_budget", {"tenant": "t"}, "give daily_limit_usd and/or monthly_limit_usd"),
    ("get_budget", {}, "tenant: required"),
    ("spend_status", {"tenant": 42}, "tenant: input should be a valid string, got 42"),
    ("list_budgets", {"tenant": "t"}, "unknown argument 'tenant'"),
]  # fmt: skip


async def test_bad_inputs_are_tool_errors(mcp_dsn: str, tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        async with mcp_session(mcp_dsn, log) as session:
            for tool, arguments, expected in BAD_CALLS:
                message = await call_error(session, tool, **arguments)
                assert expected in message, (tool, arguments, message)
                assert "Traceback" not in message and "\n" not in message
            await _unknown_tool_is_a_protocol_error(session)
    assert "Traceback" not in log_path.read_text()


async def _unknown_tool_is_a_protocol_error(session: ClientSession) -> None:
    from mcp.shared.exceptions import MCPError

    with pytest.raises(MCPError, match="unknown tool 'nope'"):
        await session.call_tool("nope", {})


def run_server(
    env: dict[str, str], command: tuple[str, ...] = ("-m", "frugalflow.mcp")
) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, *command],
        env=keep | env,
        cwd=ROOT,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", [("-m", "frugalflow.mcp"), ("-m", "frugalflow.cli", "mcp")])
def test_without_a_database_url_exits_2_with_one_line(command: tuple[str, ...]) -> None:
    done = run_server({}, command)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("frugalflow mcp: DATABASE_URL (or FRUGALFLOW_DATABASE_URL) is not set")


def test_unreachable_database_exits_1_without_the_password() -> None:
    done = run_server({"DATABASE_URL": f"postgresql://ff:s3cret-pw@127.0.0.1:{free_port()}/ff"})
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("frugalflow mcp: cannot connect to the database")
    assert "s3cret-pw" not in done.stderr


async def test_missing_tables_are_a_clear_tool_error(postgres_dsn: str, tmp_path: Path) -> None:
    separator = "&" if "?" in postgres_dsn else "?"
    empty = f"{postgres_dsn}{separator}search_path=no_such_schema"
    with (tmp_path / "server.log").open("w") as log:
        async with mcp_session(empty, log) as session:
            message = await call_error(session, "spend_status", tenant="t")
    assert message.startswith("the cost tables do not exist in this database yet")
