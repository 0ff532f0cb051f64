"""The budget ledger's arithmetic: reserve, settle, hard stop, alerts and forecast."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frugalflow.policy.budget import BudgetBook, scope_of, scopes_of
from frugalflow.reports.budgets import Budget

TODAY = date(2026, 11, 23)


def budget(
    daily: str | None = "10",
    monthly: str | None = None,
    *,
    service: str = "",
    use_case: str = "",
    ratio: str = "1.5",
    thresholds: tuple[str, ...] = ("0.8", "1.0"),
) -> Budget:
    return Budget(
        tenant="acme",
        service=service,
        use_case=use_case,
        daily_limit_usd=Decimal(daily) if daily else None,
        monthly_limit_usd=Decimal(monthly) if monthly else None,
        alert_thresholds=[Decimal(t) for t in thresholds],
        hard_stop_ratio=Decimal(ratio),
    )


def test_scopes_cover_tenant_service_use_case_and_both() -> None:
    assert scopes_of(None, None) == [""]
    assert scopes_of("search", "chat") == ["", "s:search", "u:chat", "s:search|u:chat"]
    assert scope_of(budget(service="search")) == "s:search"
    assert scope_of(budget(use_case="chat")) == "u:chat"
    assert scope_of(budget(service="search", use_case="chat")) == "s:search|u:chat"


def test_reserve_then_settle_moves_money_from_reserved_to_spent_once() -> None:
    table: dict[str, Any] = {}
    book = BudgetBook(table)
    assert book.reserve("acme", "r1", [""], Decimal("0.30"), TODAY)
    assert not book.reserve("acme", "r1", [""], Decimal("0.30"), TODAY)  # redelivered: no change
    assert book.day_totals("acme", "", TODAY) == (Decimal(0), Decimal("0.30"))
    held = book.settle("acme", "r1", Decimal("0.12"))
    assert held is not None and held.amount == Decimal("0.30")
    assert book.day_totals("acme", "", TODAY) == (Decimal("0.12"), Decimal(0))
    assert book.settle("acme", "r1", Decimal("0.12")) is None  # a repeated answer counts once
    assert book.day_totals("acme", "", TODAY) == (Decimal("0.12"), Decimal(0))
    assert not [k for k in table if k.startswith("r")]  # settled reservations are gone


class CountingTable(dict[str, Any]):
    """A dict that counts writes per key, as a Faust table sends one changelog record each."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[str, int] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes[key] = self.writes.get(key, 0) + 1
        super().__setitem__(key, value)


def test_settling_a_batch_writes_each_tenant_day_once_with_the_same_totals() -> None:
    one_by_one: dict[str, Any] = {}
    together = CountingTable()
    answers = [("acme", f"r{n}", Decimal(n) / 100) for n in range(50)]
    answers += [("globex", "g1", Decimal("0.07")), ("acme", "r3", Decimal("9"))]  # r3 repeated
    for table in (one_by_one, together):
        book = BudgetBook(table)
        for tenant, request_id, _ in answers[:-1]:
            assert book.reserve(tenant, request_id, ["", "s:search"], Decimal("0.60"), TODAY)
    for tenant, request_id, cost in answers:
        BudgetBook(one_by_one).settle(tenant, request_id, cost)
    together.writes.clear()
    settled = BudgetBook(together).settle_all(answers)

    assert [(tenant, held.amount) for tenant, held in settled] == [
        (tenant, Decimal("0.60")) for tenant, _, _ in answers[:-1]
    ]  # the repeated r3 held nothing any more
    assert together == one_by_one  # same totals, same reservations gone
    assert BudgetBook(together).day_totals("acme", "s:search", TODAY) == (
        sum(Decimal(n) / 100 for n in range(50)), Decimal(0)
    )  # fmt: skip
    day_writes = {k: n for k, n in together.writes.items() if k.startswith("d")}
    assert sorted(day_writes.values()) == [1, 1]  # acme's day and globex's day, once each


def test_tenants_with_separator_like_ids_never_share_keys() -> None:
    book = BudgetBook({})
    book.reserve("a\x1fb", "r", [""], Decimal(1), TODAY)
    assert book.reservation("a", "b\x1fr") is None
    assert book.day_totals("a", "", TODAY) == (Decimal(0), Decimal(0))


def test_hard_stop_counts_spent_reserved_and_the_worst_case() -> None:
    book = BudgetBook({})
    limits = [budget(daily="10", ratio="1.0")]
    book.reserve("acme", "r1", [""], Decimal("6"), TODAY)
    assert book.hard_stop("acme", limits, [""], Decimal("4"), TODAY) is None
    stop = book.hard_stop("acme", limits, [""], Decimal("4.01"), TODAY)
    assert stop is not None and stop.period == "daily" and stop.committed == Decimal(6)
    assert "hard stop" in stop.message
    book.settle("acme", "r1", Decimal("1"))  # the real cost was lower: room again
    assert book.hard_stop("acme", limits, [""], Decimal("9"), TODAY) is None


def test_hard_stop_level_is_the_ratio_of_the_limit() -> None:
    book = BudgetBook({})
    book.reserve("acme", "r1", [""], Decimal("14"), TODAY)
    assert book.hard_stop("acme", [budget(daily="10")], [""], Decimal("1"), TODAY) is None
    assert book.hard_stop("acme", [budget(daily="10")], [""], Decimal("1.01"), TODAY) is not None


def test_scoped_budget_only_applies_to_its_scope() -> None:
    book = BudgetBook({})
    search_only = [budget(daily="1", ratio="1", service="search")]
    book.reserve("acme", "r1", scopes_of("search", None), Decimal("1"), TODAY)
    assert book.hard_stop("acme", search_only, scopes_of("other", None), Decimal(5), TODAY) is None
    assert book.hard_stop("acme", search_only, scopes_of("search", None), Decimal("0.01"), TODAY)


def test_monthly_limit_sums_the_days_of_the_month() -> None:
    book = BudgetBook({})
    for day in (1, 10, 22):
        book.reserve("acme", f"r{day}", [""], Decimal(3), TODAY.replace(day=day))
        book.settle("acme", f"r{day}", Decimal(3))
    book.reserve("acme", "old", [""], Decimal(50), date(2026, 10, 31))  # last month
    limits = [budget(daily=None, monthly="10", ratio="1")]
    assert book.period_totals("acme", "", "monthly", TODAY) == (Decimal(9), Decimal(0))
    assert book.hard_stop("acme", limits, [""], Decimal(1), TODAY) is None
    assert book.hard_stop("acme", limits, [""], Decimal("1.5"), TODAY) is not None


def test_alerts_fire_per_threshold_on_spent_money_once_per_period() -> None:
    book = BudgetBook({})
    limits = [budget(daily="10")]
    book.reserve("acme", "r1", [""], Decimal(9), TODAY)
    assert book.alerts_due("acme", limits, [""], TODAY) == []  # reserved is not spent
    book.settle("acme", "r1", Decimal("8.5"))
    due = book.alerts_due("acme", limits, [""], TODAY)
    assert [(a.kind, a.threshold) for a in due] == [("budget_warning", Decimal("0.8"))]
    assert book.mark_alerted("acme", due[0].label, due[0].alert_id)
    assert not book.mark_alerted("acme", due[0].label, due[0].alert_id)
    book.reserve("acme", "r2", [""], Decimal(2), TODAY)
    book.settle("acme", "r2", Decimal(2))
    kinds = [a.kind for a in book.alerts_due("acme", limits, [""], TODAY)]
    assert kinds == ["budget_warning", "budget_exceeded"]


def test_forecast_is_seven_day_average_times_days_in_month() -> None:
    book = BudgetBook({})
    for n in range(7):
        day = TODAY.replace(day=TODAY.day - n)
        book.reserve("acme", f"r{n}", [""], Decimal(2), day)
        book.settle("acme", f"r{n}", Decimal(2))
    assert book.forecast("acme", "", TODAY) == Decimal(60)  # 2/day x 30 days
    over = book.forecast_over("acme", [budget(daily=None, monthly="59")], [""], TODAY)
    assert [a.kind for a in over] == ["forecast_over_budget"]
    assert book.forecast_over("acme", [budget(daily=None, monthly="60")], [""], TODAY) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=5, places=4),  # worst case
            st.floats(min_value=0, max_value=1),  # real cost as a share of it
        ),
        max_size=60,
    )
)
def test_admitting_only_below_the_stop_never_overspends(
    requests: list[tuple[Decimal, float]],
) -> None:
    book, limits = BudgetBook({}), [budget(daily="7", ratio="1")]
    for n, (worst, share) in enumerate(requests):
        if book.hard_stop("acme", limits, [""], worst, TODAY) is None:
            book.reserve("acme", str(n), [""], worst, TODAY)
            if n % 3:  # some answers arrive later than others
                book.settle("acme", str(n), (worst * Decimal(share)).quantize(Decimal("0.0001")))
        spent, reserved = book.day_totals("acme", "", TODAY)
        assert spent + reserved <= Decimal(7)
    for n in range(len(requests)):
        book.settle("acme", str(n), Decimal(0))
    assert book.day_totals("acme", "", TODAY)[0] <= Decimal(7)


@pytest.mark.parametrize("ratio", ["1", "1.5"])
def test_stop_message_names_the_period_and_amounts(ratio: str) -> None:
    book = BudgetBook({})
    book.reserve("acme", "r", [""], Decimal(20), TODAY)
    stop = book.hard_stop("acme", [budget(daily="10", ratio=ratio)], [""], Decimal(1), TODAY)
    assert stop is not None and "daily budget (tenant)" in stop.message
    assert stop.alert(TODAY).kind == "budget_hard_stop"
