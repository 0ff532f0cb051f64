"""Exact per-tenant budgets: a ledger of reservations and spend kept in a Faust table.

Why exact: one worker owns every tenant's partition, and intake handles a tenant's
requests one at a time, so "check, then reserve" needs no lock. A request reserves its
worst-case cost (``frugalflow.policy.tokens.worst_case_cost``) before any provider sees it; the
stage that publishes the answer settles the reservation with the real cost
(``frugalflow.policy.ledger``; a failure settles at $0, which releases it). Hence

    spent + reserved + worst case of the next request  <=  hard-stop level

holds at every admission, and the money spent never passes the hard-stop level (as long
as the worst-case estimate holds; see ``tokens.py`` for how conservative it is).

Layout of the table (``budget-ledger``; values are JSON objects, money as strings):

* ``d␟<len>:tenant␟2026-11-23`` → ``{scope: [spent, reserved]}``: one day of one tenant.
  Scopes: ``""`` (all of the tenant), ``"s:<service>"``, ``"u:<use case>"``,
  ``"s:<service>|u:<use case>"`` (see ``scopes_of``). A month is the sum of its days.
* ``r␟<len>:tenant␟request id`` → ``{day, amount, scopes}``: an open reservation. Settling
  deletes it, so a redelivered answer never counts twice.
* ``a␟<len>:tenant␟period`` → ``[alert ids]``: alerts already sent for a period, so each
  threshold alerts once per day or month.

Spend is booked on the day the request was admitted (its reservation's day): a batch
admitted at 23:59 and answered after midnight counts against the day that allowed it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from frugalflow.reports.budgets import Budget

SEP = "\x1f"
ZERO = Decimal("0")
ONE = Decimal("1")
FORECAST_DAYS = 7

Period = Literal["daily", "monthly"]


def scopes_of(service: str | None, use_case: str | None) -> list[str]:
    """Every scope a request's spend counts toward."""
    scopes = [""]
    if service:
        scopes.append(f"s:{service}")
    if use_case:
        scopes.append(f"u:{use_case}")
    if service and use_case:
        scopes.append(f"s:{service}|u:{use_case}")
    return scopes


def scope_of(budget: Budget) -> str:
    """The scope a budget caps (its service / use case, ``''`` = any)."""
    return scopes_of(budget.service, budget.use_case)[-1]


def _key(kind: str, tenant: str, rest: str) -> str:
    return f"{kind}{SEP}{len(tenant)}:{tenant}{SEP}{rest}"  # length prefix: unambiguous


def _day_key(tenant: str, day: date) -> str:
    return _key("d", tenant, day.isoformat())


def _reservation_key(tenant: str, request_id: str) -> str:
    return _key("r", tenant, request_id)


def _alerts_key(tenant: str, period: str) -> str:
    return _key("a", tenant, period)


def period_label(period: Period, day: date) -> str:
    return day.isoformat() if period == "daily" else day.strftime("%Y-%m")


# One answer's real cost for the ledger: (tenant, request id, cost).
Charge = tuple[str, str, Decimal]


def _book(ledger: dict[str, list[str]], scopes: Iterable[str], spent: Decimal,
          reserved: Decimal) -> None:  # fmt: skip
    for scope in scopes:
        s, r = ledger.get(scope, ("0", "0"))
        ledger[scope] = [format(Decimal(s) + spent, "f"), format(Decimal(r) + reserved, "f")]


@dataclass(frozen=True, slots=True)
class Reservation:
    day: date
    amount: Decimal
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stop:
    """Admission would pass a hard-stop level."""

    budget: Budget
    period: Period
    committed: Decimal  # spent + reserved so far in the period
    level: Decimal  # limit x hard_stop_ratio

    @property
    def message(self) -> str:
        scope = scope_of(self.budget) or "tenant"
        return (
            f"{self.period} budget ({scope}) is at its hard stop: ${self.committed:f} committed"
            f" of ${self.level:f} allowed"
        )

    def alert(self, day: date) -> AlertDue:
        label = period_label(self.period, day)
        ratio = self.budget.hard_stop_ratio
        return AlertDue(self.budget, "budget_hard_stop", self.period, label, self.committed,
                        self.level, ratio)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AlertDue:
    budget: Budget
    kind: str  # budget_warning | budget_exceeded | budget_hard_stop | forecast_over_budget
    period: Period
    label: str  # "2026-11-23" | "2026-11"
    spent: Decimal
    limit: Decimal
    threshold: Decimal

    @property
    def alert_id(self) -> str:
        return f"{self.kind}:{scope_of(self.budget)}:{self.label}:{self.threshold}"


class BudgetBook:
    """The ledger over any mutable mapping (a Faust table in the worker, a dict in tests)."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self._table = table

    # --- reading

    def _day(self, tenant: str, day: date) -> dict[str, list[str]]:
        return dict(self._table.get(_day_key(tenant, day)) or {})

    def day_totals(self, tenant: str, scope: str, day: date) -> tuple[Decimal, Decimal]:
        """(spent, reserved) of one scope on one day."""
        entry = self._day(tenant, day).get(scope)
        return (Decimal(entry[0]), Decimal(entry[1])) if entry else (ZERO, ZERO)

    def period_totals(
        self, tenant: str, scope: str, period: Period, day: date
    ) -> tuple[Decimal, Decimal]:
        """(spent, reserved) of a scope over the day, or the month up to and including it."""
        if period == "daily":
            return self.day_totals(tenant, scope, day)
        spent, reserved = ZERO, ZERO
        for d in range(1, day.day + 1):
            s, r = self.day_totals(tenant, scope, day.replace(day=d))
            spent, reserved = spent + s, reserved + r
        return spent, reserved

    def reservation(self, tenant: str, request_id: str) -> Reservation | None:
        raw = self._table.get(_reservation_key(tenant, request_id))
        if raw is None:
            return None
        return Reservation(
            date.fromisoformat(raw["day"]), Decimal(raw["amount"]), tuple(raw["scopes"])
        )

    # --- writing (only from per-event stream iteration when the table is a Faust table)

    def _add(
        self, tenant: str, day: date, scopes: Iterable[str], spent: Decimal, reserved: Decimal
    ) -> None:
        ledger = self._day(tenant, day)
        _book(ledger, scopes, spent, reserved)
        self._table[_day_key(tenant, day)] = ledger

    def reserve(
        self, tenant: str, request_id: str, scopes: list[str], amount: Decimal, day: date
    ) -> bool:
        """Hold ``amount`` for a request; False (and nothing changes) if it already holds one."""
        key = _reservation_key(tenant, request_id)
        if self._table.get(key) is not None:
            return False
        self._table[key] = {"day": day.isoformat(), "amount": format(amount, "f"), "scopes": scopes}
        self._add(tenant, day, scopes, ZERO, amount)
        return True

    def settle(self, tenant: str, request_id: str, cost: Decimal) -> Reservation | None:
        """Replace a request's reservation by its real cost; None if it holds none (any more)."""
        settled = self.settle_all([(tenant, request_id, cost)])
        return settled[0][1] if settled else None

    def settle_all(self, charges: Iterable[Charge]) -> list[tuple[str, Reservation]]:
        """:meth:`settle` for many answers at once: (tenant, reservation) of each one that
        held a reservation. Each day's totals are written once, not once per answer: a
        batch of 500 answers is then one changelog record for the day, not 500."""
        settled: list[tuple[str, Reservation]] = []
        days: dict[tuple[str, date], dict[str, list[str]]] = {}
        for tenant, request_id, cost in charges:
            held = self.reservation(tenant, request_id)
            if held is None:
                continue
            ledger = days.get((tenant, held.day))
            if ledger is None:
                ledger = days[(tenant, held.day)] = self._day(tenant, held.day)
            _book(ledger, held.scopes, cost, -held.amount)
            del self._table[_reservation_key(tenant, request_id)]  # a repeat settles nothing
            settled.append((tenant, held))
        for (tenant, day), ledger in days.items():
            self._table[_day_key(tenant, day)] = ledger
        return settled

    def mark_alerted(self, tenant: str, label: str, alert_id: str) -> bool:
        """Remember an alert as sent; False when it had been sent already."""
        key = _alerts_key(tenant, label)
        sent = list(self._table.get(key) or [])
        if alert_id in sent:
            return False
        self._table[key] = [*sent, alert_id]
        return True

    # --- decisions

    def hard_stop(
        self, tenant: str, budgets: Iterable[Budget], scopes: list[str], worst: Decimal, day: date
    ) -> Stop | None:
        """The first budget the request would push past its hard-stop level, if any."""
        for budget in budgets:
            if scope_of(budget) not in scopes:
                continue
            for period, limit in limits_of(budget):
                spent, reserved = self.period_totals(tenant, scope_of(budget), period, day)
                level = limit * budget.hard_stop_ratio
                if spent + reserved + worst > level:
                    return Stop(budget, period, spent + reserved, level)
        return None

    def alerts_due(
        self, tenant: str, budgets: Iterable[Budget], scopes: Iterable[str], day: date
    ) -> list[AlertDue]:
        """Thresholds that the money spent (not reserved) has reached in the request's scopes."""
        due: list[AlertDue] = []
        for budget in budgets:
            if scope_of(budget) not in scopes:
                continue
            for period, limit in limits_of(budget):
                spent, _ = self.period_totals(tenant, scope_of(budget), period, day)
                for threshold in sorted(budget.alert_thresholds):
                    if limit > 0 and spent >= limit * threshold:
                        kind = "budget_exceeded" if threshold >= 1 else "budget_warning"
                        due.append(AlertDue(budget, kind, period, period_label(period, day),
                                            spent, limit, threshold))  # fmt: skip
        return due

    def forecast(self, tenant: str, scope: str, day: date) -> Decimal:
        """The month's projected spend: the last 7 days' average x the days in the month."""
        total = sum(
            (
                self.day_totals(tenant, scope, day - timedelta(days=n))[0]
                for n in range(FORECAST_DAYS)
            ),
            ZERO,
        )
        return total / FORECAST_DAYS * calendar.monthrange(day.year, day.month)[1]

    def forecast_over(
        self, tenant: str, budgets: Iterable[Budget], scopes: Iterable[str], day: date
    ) -> list[AlertDue]:
        """Monthly budgets whose forecast is above the limit: degrade and alert."""
        over: list[AlertDue] = []
        for budget in budgets:
            limit = budget.monthly_limit_usd
            if limit is None or scope_of(budget) not in scopes:
                continue
            projected = self.forecast(tenant, scope_of(budget), day)
            if projected > limit:
                label = period_label("monthly", day)
                over.append(
                    AlertDue(
                        budget, "forecast_over_budget", "monthly", label, projected, limit, ONE
                    )
                )
        return over


def limits_of(budget: Budget) -> list[tuple[Period, Decimal]]:
    limits: list[tuple[Period, Decimal]] = []
    if budget.daily_limit_usd is not None:
        limits.append(("daily", budget.daily_limit_usd))
    if budget.monthly_limit_usd is not None:
        limits.append(("monthly", budget.monthly_limit_usd))
    return limits
