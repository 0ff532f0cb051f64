"""``python -m frugalflow.mcp``: the MCP server with settings from the environment."""

from __future__ import annotations

import sys

from frugalflow.mcp.server import EXIT_USAGE, main_mcp
from frugalflow.settings import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    return main_mcp(settings)


if __name__ == "__main__":
    sys.exit(main())
