"""The demo's workload exercises every stream policy as its records say, and the report's
completeness rule holds a run to exactly those expectations."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from frugalflow.demo.report import Outcome, policy_lines, produces_cost_event
from frugalflow.demo.workload import Expect, Record, build
from frugalflow.events import RequestEvent
from frugalflow.policy.models import TenantPolicy
from frugalflow.policy.patterns import match_pattern
from frugalflow.policy.response_cache import cache_digest
from frugalflow.policy.router import LearningStats, route_auto
from frugalflow.policy.safety import check_request
from frugalflow.policy.tiers import deployment_defaults
from frugalflow.settings import Settings

POLICY = TenantPolicy()  # what the demo's tenants run on: the defaults


def _valid(records: list[Record]) -> list[tuple[RequestEvent, Expect]]:
    return [
        (RequestEvent.model_validate_json(r.value), r.expect or Expect())
        for r in records
        if r.valid
    ]


@pytest.mark.parametrize("n", [20, 40, 240])
def test_first_wave_has_the_requested_count_and_the_mix(n: int) -> None:
    first = _valid(build("run", n).first)
    assert len(first) == n  # --requests counts the first wave's valid requests
    kinds = Counter(request.metadata["kind"] for request, _ in first)
    assert kinds["small_talk"] == n // 10
    assert kinds["injection"] == 1 and kinds["pii"] >= 1 and kinds["auto"] >= 2
    batch = sum(1 for request, _ in first if request.priority == "batch")
    assert batch == sum(1 for i in range(n) if i % 5 in (1, 2, 3))  # 60 %
    assert {request.tenant_id for request, _ in first} == {"acme", "globex"}


def test_each_request_meets_the_policies_as_its_expectation_says() -> None:
    for request, expect in _valid(build("run", 240).first):
        sent, safety = check_request(request, POLICY.safety)
        if expect.status == "rejected":
            assert (safety.action, safety.code) == ("block", expect.code)
            continue
        assert safety.action == (expect.safety or "allow"), request.messages
        pattern = match_pattern(sent, POLICY.patterns)
        assert (pattern is not None) == (expect.path == "pattern"), request.messages
    redacted = Counter(
        kind
        for request, expect in _valid(build("run", 240).first)
        if expect.safety == "redact"
        for kind in check_request(request, POLICY.safety)[1].findings
    )
    assert redacted["email"] >= 2 and redacted["phone"] >= 2


def test_auto_requests_reach_every_tier_on_both_providers() -> None:
    preferred = deployment_defaults(Settings())
    auto = [request for request, _ in _valid(build("run", 240).first) if request.model == "auto"]
    chosen = set()
    for request in auto:
        provider = request.provider or ""
        choice = route_auto(request, provider, POLICY.router, LearningStats(), preferred=preferred)
        chosen.add((provider, choice.tier))
    assert chosen == {(p, t) for p in ("anthropic", "openai") for t in ("small", "medium", "large")}


def _digest(request: RequestEvent) -> str:
    return cache_digest(check_request(request, POLICY.safety)[0], request.model)


@pytest.mark.parametrize("n", [20, 40, 240])
def test_repeats_ask_earlier_immediate_questions_word_for_word(n: int) -> None:
    load = build("run", n)
    first = {request.request_id: request for request, _ in _valid(load.first)}
    repeats = _valid(load.repeats)
    assert len(repeats) == max(1, n // 12)
    answered_by_a_model = {
        _digest(r): r for r in first.values() if r.metadata["kind"] in ("question", "pii")
    }
    assert len(answered_by_a_model) == len(
        [r for r in first.values() if r.metadata["kind"] in ("question", "pii")]
    )  # no two first-wave questions share a cache key
    for repeat, expect in repeats:
        original = first[repeat.metadata["repeat_of"]]
        assert repeat.request_id not in first
        assert original.priority == "immediate" and original.model != "auto"
        assert answered_by_a_model[_digest(repeat)] is original
        assert expect.path == "response_cache"
        assert expect.safety == ("redact" if original.metadata["kind"] == "pii" else None)


def test_malformed_records_name_their_dead_letter_reasons() -> None:
    reasons = Counter(r.reason for r in build("run", 40).first if not r.valid)
    assert sum(reasons.values()) == 7 and reasons["duplicate_request_id"] == 1


# ------------------------------------------------------------------ the report's rule


def _answer(request_id: str, status: str = "ok", path: str = "immediate", **extra: Any) -> dict:
    return {"request_id": request_id, "status": status, "path": path, "cost_usd": "0.001",
            "baseline_cost_usd": "0.002", **extra}  # fmt: skip


def _outcome(answers: list[dict[str, Any]], cost_rows: int) -> Outcome:
    outcome = Outcome(
        expectations={
            "a": Expect(),
            "b": Expect(path="pattern"),
            "c": Expect(status="rejected", code="prompt_injection"),
            "d": Expect(safety="redact"),
        },
        repeat_ids=frozenset(),
    )
    for answer in answers:
        outcome.answers[answer["request_id"]] = answer
    outcome.cost_rows = cost_rows
    return outcome


def _as_expected() -> list[dict[str, Any]]:
    return [
        _answer("a"),
        _answer("b", path="pattern", route_reason="pattern:thanks"),
        _answer("c", "rejected", "none", error={"code": "prompt_injection", "message": "no"}),
        _answer("d", safety={"action": "redact", "findings": ["email"]}),
    ]


def test_an_expected_rejection_is_complete_and_reported_as_expected() -> None:
    outcome = _outcome(_as_expected(), cost_rows=3)
    assert outcome.billed == 3 and outcome.complete
    assert "prompt_injection 1 (1 expected)" in "\n".join(policy_lines(outcome))


@pytest.mark.parametrize(
    "change",
    [
        {"request_id": "a", "status": "rejected", "path": "none",
         "error": {"code": "rate_limited", "message": "slow down"}},
        {"request_id": "b", "path": "immediate"},  # a model answered the small talk
        {"request_id": "d", "safety": None},  # the e-mail reached the provider
        {"request_id": "c", "status": "rejected", "path": "none",
         "error": {"code": "pii_blocked", "message": "refused"}},
    ],
)  # fmt: skip
def test_any_answer_off_its_expectation_is_incomplete(change: dict[str, Any]) -> None:
    answers = {a["request_id"]: a for a in _as_expected()}
    answers[change["request_id"]] = {**answers[change["request_id"]], **change}
    outcome = _outcome(list(answers.values()), cost_rows=0)
    outcome.cost_rows = outcome.billed  # the cost rows agree: only the answer is off
    assert not outcome.complete and len(outcome.mismatches()) == 1


def test_a_missing_cost_row_or_a_second_answer_is_incomplete() -> None:
    assert not _outcome(_as_expected(), cost_rows=2).complete
    doubled = _outcome(_as_expected(), cost_rows=3)
    doubled.duplicates = 1
    assert not doubled.complete


def test_cost_events_come_with_ok_answers_and_paid_fallbacks_only() -> None:
    assert produces_cost_event(_answer("x", path="response_cache"))
    assert produces_cost_event(_answer("x", status="fallback", path="immediate"))
    assert not produces_cost_event(_answer("x", status="fallback", path="fallback"))
    assert not produces_cost_event(_answer("x", status="rejected", path="none"))
    assert not produces_cost_event(_answer("x", status="error", path="batch"))


def test_records_are_json_keyed_by_their_tenant() -> None:
    for record in build("run", 40).records:
        if record.valid:
            assert json.loads(record.value)["tenant_id"].encode() == record.key
