"""Tokens and settings shared by the admin API tests."""

from __future__ import annotations

from frugalflow.settings import Settings

ADMIN = "admin-secret-token"
READONLY = "readonly-secret-token"


def api_settings(dsn: str | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": dsn,
        "admin_token": ADMIN,
        "admin_readonly_token": READONLY,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def auth(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
