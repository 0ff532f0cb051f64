"""One Postgres connection per command, from ``DATABASE_URL`` (never printed)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import asyncpg

from frugalflow.settings import Settings

CONNECT_TIMEOUT_S = 10.0


class DatabaseUnavailable(Exception):
    """Postgres could not be reached; the message is one line without the DSN."""


def _scrub(message: str, dsn: str) -> str:
    try:
        password = urlsplit(dsn).password
    except ValueError:
        password = None
    message = message.replace(dsn, "<DATABASE_URL>")
    return message.replace(password, "***") if password else message


async def connect(settings: Settings) -> asyncpg.Connection:
    if settings.database_url is None:
        raise DatabaseUnavailable("frugalflow: DATABASE_URL is not set (the Postgres of the sink)")
    dsn = settings.database_url.get_secret_value()
    try:
        return await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # refused, DNS, auth, timeout, malformed DSN...
        reason = _scrub(str(exc).splitlines()[0] if str(exc) else "", dsn)
        detail = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
        raise DatabaseUnavailable(
            f"frugalflow: cannot reach Postgres at DATABASE_URL ({detail})"
        ) from None


def run_with_db(settings: Settings, command: Callable[[asyncpg.Connection], Awaitable[int]]) -> int:
    """Connect, run ``command``, close; Postgres trouble is one line on stderr and exit 1."""

    async def main() -> int:
        conn = await connect(settings)
        try:
            return await command(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(main())
    except DatabaseUnavailable as exc:
        print(exc, file=sys.stderr)
    except asyncpg.UndefinedTableError:
        print(
            "frugalflow: the database at DATABASE_URL has no FrugalFlow tables yet "
            "(a worker creates them when it starts)",
            file=sys.stderr,
        )
    except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError) as exc:
        print(f"frugalflow: lost the connection to DATABASE_URL ({type(exc).__name__})",
              file=sys.stderr)  # fmt: skip
    return 1
