"""What a worker knows of every tenant's policy and budgets: one immutable snapshot.

A timer (``frugalflow.policy.live``) loads a new snapshot from Postgres every few seconds and
replaces ``Pipeline.policy`` with it; intake only reads it, so no request waits on I/O.
The snapshot is never changed after it is built, which is why it may cache each tenant's
effective policy inside itself.

A tenant's policy is the defaults ← the ``'*'`` document ← the tenant's document, merged
section by section (``effective_policy``). The admin API validates documents before it
stores them, but a stored document that no longer validates (edited by hand, or written
by another version) must not take other tenants down: that tenant gets the defaults ←
``'*'``, and a warning is logged (at most once a minute per tenant).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from frugalflow.policy.models import TenantPolicy, effective_policy
from frugalflow.reports.budgets import Budget

log = logging.getLogger("frugalflow")

DEFAULT_TENANT = "*"  # the document that applies to every tenant
WARN_EVERY_S = 60.0
NEVER = datetime(1970, 1, 1, tzinfo=UTC)

_last_warned: dict[str, float] = {}  # tenant → monotonic time of its last warning


@dataclass(frozen=True)
class PolicySnapshot:
    budgets: Mapping[str, tuple[Budget, ...]]  # tenant → its budgets
    documents: Mapping[str, dict[str, Any]]  # tenant → stored partial document, incl. '*'
    # (tenant, use case, tier) → (samples, successes) of route outcomes, last 30 days
    learning: Mapping[tuple[str, str, str], tuple[int, int]]
    loaded_at: datetime  # NEVER for the empty snapshot
    _policies: dict[str, TenantPolicy] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def empty(cls) -> PolicySnapshot:
        """Defaults for everyone, no budgets: a worker before (or without) Postgres."""
        return cls(budgets={}, documents={}, learning={}, loaded_at=NEVER)

    def with_base(self, base: Mapping[str, Any]) -> PolicySnapshot:
        """The snapshot with ``base`` (``FRUGALFLOW_POLICY_DEFAULTS``) under the '*' document."""
        if not base:
            return self
        stored = self.documents.get(DEFAULT_TENANT, {})
        merged = {section: {**base.get(section, {}), **stored.get(section, {})}
                  for section in {*base, *stored}}  # fmt: skip
        return replace(self, documents={**self.documents, DEFAULT_TENANT: merged})

    def policy_for(self, tenant: str) -> TenantPolicy:
        # Tenants without a document of their own share the '*' entry of the cache.
        key = tenant if tenant in self.documents else DEFAULT_TENANT
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = self._resolve(key)
        return policy

    def budgets_for(self, tenant: str) -> tuple[Budget, ...]:
        return self.budgets.get(tenant, ())

    def _resolve(self, key: str) -> TenantPolicy:
        default = self._valid_default()
        if key == DEFAULT_TENANT:
            return effective_policy(default)
        try:
            return effective_policy(default, self.documents[key])
        except ValidationError as exc:
            _warn(key, exc)
            return effective_policy(default)

    def _valid_default(self) -> dict[str, Any]:
        document = self.documents.get(DEFAULT_TENANT, {})
        try:
            effective_policy(document)
        except ValidationError as exc:
            _warn(DEFAULT_TENANT, exc)
            return {}
        return document


def _warn(tenant: str, exc: ValidationError) -> None:
    now = time.monotonic()
    last = _last_warned.get(tenant)
    if last is not None and now - last < WARN_EVERY_S:
        return
    _last_warned[tenant] = now
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    fallback = "the defaults" if tenant == DEFAULT_TENANT else "the defaults and the '*' policy"
    log.warning("tenant %r: stored policy is invalid (%s: %s; %d error(s)); using %s",
                tenant, where, first["msg"], exc.error_count(), fallback)  # fmt: skip
