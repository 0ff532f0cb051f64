"""Postgres access for tenant policies and route outcomes (tables of migration 0003).

``tenant_policies`` holds, per tenant, the partial document an operator sent (only what
differs from the defaults); tenant ``'*'`` is the default for every tenant. A document
is valid when ``effective_policy`` accepts it merged over the defaults; writes validate
first and raise ``InvalidPolicy`` (a ``ValueError``) naming the offending field.

- ``get_policy`` / ``list_policies`` / ``put_policy`` (replace) / ``patch_policy`` (merge
  sections) / ``delete_policy``: the admin API's operations.
- ``insert_route_outcomes``: the feedback agent's write; ``route_outcome_days`` is
  updated in the same statement from exactly the rows newly inserted.
- ``load_snapshot``: everything a worker needs (budgets, policies, learning counts) as
  one ``PolicySnapshot``.

Functions take an asyncpg connection or pool (``Conn``). Writes reach workers when they
next load a snapshot (``FRUGALFLOW_POLICY_REFRESH_S``); nothing is pushed.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, ValidationError

from frugalflow.costing.catalog import UnknownModelError, price_of
from frugalflow.events import utcnow
from frugalflow.experiments.models import RouteOutcome
from frugalflow.policy.models import BaselinePolicy, effective_policy
from frugalflow.policy.snapshot import PolicySnapshot
from frugalflow.policy.tiers import tier_models_problems
from frugalflow.reports.budgets import Budget, list_budgets
from frugalflow.reports.rollups import Conn

LEARNING_WINDOW_DAYS = 30  # UTC days, today included

_COLUMNS = "tenant_id, policy, updated_at"

_PUT = f"""
INSERT INTO tenant_policies (tenant_id, policy, updated_at) VALUES ($1, $2::jsonb, now())
ON CONFLICT (tenant_id) DO UPDATE SET policy = EXCLUDED.policy, updated_at = now()
RETURNING {_COLUMNS}
"""

_INSERT_OUTCOMES = """
WITH inserted AS (
    INSERT INTO route_outcomes (
        event_id, tenant_id, request_id, use_case, model, tier, success, occurred_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::bool[], $8::timestamptz[])
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id, tenant_id, use_case, tier, success, occurred_at
), counted AS (
    INSERT INTO route_outcome_days AS d (tenant_id, use_case, tier, day, samples, successes)
    SELECT tenant_id, use_case, tier, (occurred_at AT TIME ZONE 'UTC')::date, count(*),
           count(*) FILTER (WHERE success)
    FROM inserted
    WHERE tier IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4  -- one lock order across concurrent writers
    ON CONFLICT (tenant_id, use_case, tier, day) DO UPDATE SET
        samples = d.samples + EXCLUDED.samples,
        successes = d.successes + EXCLUDED.successes
)
SELECT event_id FROM inserted
"""

_LEARNING = """
SELECT tenant_id, use_case, tier, sum(samples)::bigint AS samples,
       sum(successes)::bigint AS successes
FROM route_outcome_days
WHERE day BETWEEN $1 AND $2
GROUP BY 1, 2, 3
"""


class InvalidPolicy(ValueError):
    """A policy document that does not validate.

    ``errors`` are ``{loc, message, type}`` (never the input); ``unknown_field`` tells a
    section or field that does not exist from a bad value.
    """

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors

    @property
    def unknown_field(self) -> bool:
        return any(e["type"] == "extra_forbidden" for e in self.errors)


class StoredPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant: str
    document: dict[str, Any]  # as the operator sent it: only what differs
    updated_at: datetime


def validate_document(document: object) -> dict[str, Any]:
    """``document`` if it is a valid (partial) policy, else ``InvalidPolicy``."""
    if not isinstance(document, dict):
        raise _invalid([], "a policy document is a JSON object of sections", "dict_type")
    problem = _unstorable(document)
    if problem is not None:
        raise problem
    try:
        policy = effective_policy(document)
    except ValidationError as exc:
        raise _invalid_all([
            {"loc": [str(p) for p in e["loc"]], "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]) from None  # fmt: skip
    problems = tier_models_problems(policy.router.tier_models)
    if problems:
        loc = ["router", "tier_models"]
        raise _invalid_all([{"loc": loc, "message": p, "type": "tier_model"} for p in problems])
    unpriced = baseline_problems(policy.baseline)
    if unpriced:
        raise _invalid_all(unpriced)
    return document


def baseline_problems(baseline: BaselinePolicy) -> list[dict[str, Any]]:
    """A baseline model must be priced, or no saving can be measured against it."""
    named = [(["baseline", "model"], baseline.model)] + [
        (["baseline", "by_use_case", use_case], model)
        for use_case, model in sorted(baseline.by_use_case.items())
    ]
    found = []
    for loc, model in named:
        if model is None:
            continue
        try:
            price_of(model)
        except UnknownModelError:
            message = f"model {model!r} is not in the catalog"
            found.append({"loc": loc, "message": message, "type": "baseline_model"})
    return found


def merge_sections(document: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` over ``document``: keys within a section override, a ``null`` section
    removes it (a ``null`` field is a value: e.g. "no rate limit")."""
    merged = {section: dict(values) if isinstance(values, dict) else values
              for section, values in document.items()}  # fmt: skip
    for section, values in changes.items():
        if values is None:
            merged.pop(section, None)
        elif isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section].update(values)
        else:
            merged[section] = values  # a non-object is left for validation to name
    return merged


async def get_policy(conn: Conn, tenant: str) -> StoredPolicy | None:
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM tenant_policies WHERE tenant_id = $1", tenant
    )
    return None if record is None else _stored(record)


async def list_policies(conn: Conn) -> list[StoredPolicy]:
    records = await conn.fetch(f"SELECT {_COLUMNS} FROM tenant_policies ORDER BY tenant_id")
    return [_stored(r) for r in records]


async def put_policy(conn: Conn, tenant: str, document: object) -> StoredPolicy:
    """Replace the tenant's document; ``InvalidPolicy`` if it does not validate."""
    valid = validate_document(document)
    record = await conn.fetchrow(_PUT, tenant, json.dumps(valid))
    assert record is not None  # RETURNING always yields the row
    return _stored(record)


async def patch_policy(conn: Conn, tenant: str, changes: object) -> StoredPolicy:
    """Merge ``changes`` into the stored document (``merge_sections``) and validate the
    result; concurrent patches of one tenant apply one after the other."""
    if not isinstance(changes, dict):
        raise _invalid([], "a policy patch is a JSON object of sections", "dict_type")
    async with _connection(conn) as c, c.transaction():
        # Lock the tenant's row, creating it if needed, so no concurrent patch is lost; a
        # failed validation rolls the new row back.
        await c.execute(
            "INSERT INTO tenant_policies (tenant_id, policy) VALUES ($1, '{}')"
            " ON CONFLICT (tenant_id) DO NOTHING", tenant,
        )  # fmt: skip
        record = await c.fetchrow(
            "SELECT policy FROM tenant_policies WHERE tenant_id = $1 FOR UPDATE", tenant
        )
        assert record is not None  # inserted or already there, and locked
        return await put_policy(c, tenant, merge_sections(json.loads(record["policy"]), changes))


async def delete_policy(conn: Conn, tenant: str) -> bool:
    """Delete the tenant's document; whether there was one."""
    record = await conn.fetchrow(
        "DELETE FROM tenant_policies WHERE tenant_id = $1 RETURNING tenant_id", tenant
    )
    return record is not None


async def insert_route_outcomes(conn: Conn, outcomes: Sequence[RouteOutcome]) -> set[str]:
    """Insert and count per day in one statement; returns the event ids that were new."""
    if not outcomes:
        return set()
    columns: list[list[object]] = [[] for _ in range(8)]
    for o in outcomes:
        row = (o.event_id, o.tenant_id, o.request_id, o.use_case, o.model, o.tier, o.success,
               o.occurred_at)  # fmt: skip
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    records = await conn.fetch(_INSERT_OUTCOMES, *columns)
    return {r["event_id"] for r in records}


async def load_learning(
    conn: Conn, *, now: datetime | None = None
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(tenant, use case, tier) → (samples, successes) over the last 30 UTC days."""
    today = (now or utcnow()).date()
    start = today - timedelta(days=LEARNING_WINDOW_DAYS - 1)
    records = await conn.fetch(_LEARNING, start, today)
    return {
        (r["tenant_id"], r["use_case"], r["tier"]): (r["samples"], r["successes"]) for r in records
    }


async def load_snapshot(conn: Conn) -> PolicySnapshot:
    """Every budget, every policy document and the learning counts, as one snapshot."""
    loaded_at = utcnow()
    budgets: defaultdict[str, list[Budget]] = defaultdict(list)
    for budget in await list_budgets(conn):
        budgets[budget.tenant].append(budget)
    documents = {p.tenant: p.document for p in await list_policies(conn)}
    return PolicySnapshot(
        budgets={tenant: tuple(found) for tenant, found in budgets.items()},
        documents=documents,
        learning=await load_learning(conn, now=loaded_at),
        loaded_at=loaded_at,
    )


@asynccontextmanager
async def _connection(conn: Conn) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as acquired:
            yield acquired
    else:
        yield conn


def _stored(record: asyncpg.Record) -> StoredPolicy:
    return StoredPolicy(
        tenant=record["tenant_id"],
        document=json.loads(record["policy"]),
        updated_at=record["updated_at"],
    )


def _invalid(loc: list[str], message: str, kind: str) -> InvalidPolicy:
    return _invalid_all([{"loc": loc, "message": message, "type": kind}])


def _invalid_all(errors: list[dict[str, Any]]) -> InvalidPolicy:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidPolicy(f"{_where(first['loc'])}: {first['message']}{more}", errors)


def _where(loc: list[str]) -> str:
    return ".".join(loc) or "policy"


def _unstorable(document: dict[str, Any]) -> InvalidPolicy | None:
    """What JSON parses but Postgres ``jsonb`` cannot hold: NUL characters, lone surrogates
    (``"\\ud800"``), NaN and Infinity.

    Iterative: a deeply nested document must not exhaust the stack here."""
    pending: list[tuple[object, tuple[str, ...]]] = [(document, ())]
    while pending:
        value, loc = pending.pop()
        if isinstance(value, str) and not _storable_text(value):
            return _invalid(list(loc), "NUL characters and lone surrogates are not allowed",
                            "string_unstorable")  # fmt: skip
        if isinstance(value, float) and not math.isfinite(value):
            return _invalid(list(loc), "numbers must be finite", "finite_number")
        if isinstance(value, dict):
            for key, item in value.items():
                if not _storable_text(key):
                    return _invalid([*loc, key.encode(errors="replace").decode()],
                                    "NUL characters and lone surrogates are not allowed in keys",
                                    "string_unstorable")  # fmt: skip
                pending.append((item, (*loc, key)))
        elif isinstance(value, list):
            pending.extend((item, (*loc, str(i))) for i, item in enumerate(value))
    return None


def _storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
