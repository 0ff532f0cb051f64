"""``frugalflow experiments``: the A/B experiments table."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from app.cli_reports.table import Column, render_table

_QUERY = """
SELECT id, name, tenant_id, status, variants, created_at FROM experiments
ORDER BY tenant_id, created_at, id
"""


class ExperimentRow(BaseModel):
    id: str
    name: str
    tenant_id: str
    status: str
    variants: Any  # the jsonb as stored (usually a list of variant objects or names)
    created_at: datetime


async def list_experiments(conn: asyncpg.Connection) -> list[ExperimentRow]:
    return [
        ExperimentRow(
            id=r["id"],
            name=r["name"],
            tenant_id=r["tenant_id"],
            status=r["status"],
            variants=json.loads(r["variants"]) if isinstance(r["variants"], str) else r["variants"],
            created_at=r["created_at"],
        )
        for r in await conn.fetch(_QUERY)
    ]


def variant_names(variants: Any) -> str:
    if not isinstance(variants, list):
        return json.dumps(variants)
    names = [
        str(v.get("name") or v.get("id") or json.dumps(v)) if isinstance(v, dict) else str(v)
        for v in variants
    ]
    return ", ".join(names) or "-"


def render_experiments(rows: list[ExperimentRow]) -> str:
    if not rows:
        return "No experiments."
    return render_table(
        [Column("id"), Column("name"), Column("tenant"), Column("status"), Column("variants")],
        [[r.id, r.name, r.tenant_id, r.status, variant_names(r.variants)] for r in rows],
    )
