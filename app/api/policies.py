"""``/v1/tenants/{tenant}/policy``: a tenant's policy document (``*``: every tenant's default).

A document holds only what differs from the defaults, by section (``rate_limits``,
``safety``, ``cache``, ``patterns``, ``router``, ``context``, ``fallback``). Workers
apply defaults ← the ``*`` document ← the tenant's document, and pick a change up within
``FRUGALFLOW_POLICY_REFRESH_S``.

* ``GET``: the stored document (``{}`` when none) and the effective policy.
* ``PUT``: replace the document. ``PATCH``: merge sections into it (a field given
  replaces the stored one; a ``null`` section removes it). ``DELETE``: remove it.

An invalid document is a 422 whose code says why, with field errors in ``details``:
``unknown_policy_field`` (a section or field that does not exist) or
``invalid_policy_value`` (a wrong type or value, or a ``tier_models`` model that is not
in the catalog or not served by that provider).
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

from aiohttp import web

from frugalflow.api.errors import ApiError, bad_request, not_found
from frugalflow.api.models import PolicyPatch, PolicyView
from frugalflow.api.routing import TENANT, Operation, json, path_param, state
from frugalflow.policy import store
from frugalflow.policy.models import TenantPolicy
from frugalflow.policy.snapshot import DEFAULT_TENANT, NEVER, PolicySnapshot
from frugalflow.policy.store import InvalidPolicy, StoredPolicy
from frugalflow.reports.rollups import Conn

UNKNOWN_FIELD = "unknown_policy_field"
INVALID_VALUE = "invalid_policy_value"


async def _document(request: web.Request) -> Any:
    try:
        return jsonlib.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("the body is not valid JSON") from None


def _rejected(exc: InvalidPolicy) -> ApiError:
    code = UNKNOWN_FIELD if exc.unknown_field else INVALID_VALUE
    return ApiError(422, code, str(exc), exc.errors)


async def _view(conn: Conn, tenant: str, stored: StoredPolicy | None) -> PolicyView:
    """The stored document and what a worker would apply, with the '*' document it has now."""
    documents = {tenant: stored.document} if stored is not None else {}
    if tenant != DEFAULT_TENANT:
        default = await store.get_policy(conn, DEFAULT_TENANT)
        if default is not None:
            documents[DEFAULT_TENANT] = default.document
    snapshot = PolicySnapshot(budgets={}, documents=documents, learning={}, loaded_at=NEVER)
    return PolicyView(
        tenant=tenant,
        document=stored.document if stored is not None else {},
        effective=snapshot.policy_for(tenant),
        updated_at=stored.updated_at if stored is not None else None,
    )


async def get_policy(request: web.Request) -> web.Response:
    tenant = path_param(request, TENANT)
    pool = await state(request).pool()
    return json(await _view(pool, tenant, await store.get_policy(pool, tenant)))


async def put_policy(request: web.Request) -> web.Response:
    tenant = path_param(request, TENANT)
    document = await _document(request)
    pool = await state(request).pool()
    try:
        stored = await store.put_policy(pool, tenant, document)
    except InvalidPolicy as exc:
        raise _rejected(exc) from None
    return json(await _view(pool, tenant, stored))


async def patch_policy(request: web.Request) -> web.Response:
    tenant = path_param(request, TENANT)
    changes = await _document(request)
    pool = await state(request).pool()
    try:
        stored = await store.patch_policy(pool, tenant, changes)
    except InvalidPolicy as exc:
        raise _rejected(exc) from None
    return json(await _view(pool, tenant, stored))


async def delete_policy(request: web.Request) -> web.Response:
    tenant = path_param(request, TENANT)
    if not await store.delete_policy(await state(request).pool(), tenant):
        raise not_found(f"no policy stored for tenant {tenant!r}")
    return web.Response(status=204)


_PATH = "/v1/tenants/{tenant}/policy"
OPERATIONS = [
    Operation("GET", _PATH, get_policy, "A tenant's stored and effective policy ('*': default)",
              "policies", "getPolicy", path_params=(TENANT,), response=PolicyView,
              errors=(400,)),
    Operation("PUT", _PATH, put_policy, "Replace a tenant's policy document ('*': default)",
              "policies", "putPolicy", path_params=(TENANT,), body=TenantPolicy,
              response=PolicyView, errors=(400, 422)),
    Operation("PATCH", _PATH, patch_policy, "Merge sections into a tenant's policy document",
              "policies", "patchPolicy", path_params=(TENANT,), body=PolicyPatch,
              response=PolicyView, errors=(400, 422)),
    Operation("DELETE", _PATH, delete_policy, "Delete a tenant's policy document", "policies",
              "deletePolicy", path_params=(TENANT,), status=204, errors=(400, 404)),
]  # fmt: skip
