"""A long text is scanned once per detector settings; the cached result is the scan's."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frugalflow.events import Message, RequestEvent
from frugalflow.policy import safety
from frugalflow.policy.models import SafetyPolicy
from frugalflow.policy.scan_cache import Scan, ScanCache

PROMPT = "You are a support agent for Acme. " * 10 + "Escalate to ops@acme.example if stuck."


def request(system: str, user: str = "hello") -> RequestEvent:
    return RequestEvent(
        event_type="NEW_RECORD",
        request_id="r1",
        tenant_id="acme",
        messages=[Message(role="user", content=user)],
        max_tokens=10,
        system=system,
    )


def test_a_long_prompt_is_scanned_once_per_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "_SCANS", ScanCache())
    scans: list[str] = []
    real = safety.find_pii
    monkeypatch.setattr(safety, "find_pii", lambda text: scans.append(text) or real(text))
    redacting = SafetyPolicy(pii="redact")
    first, outcome = safety.check_request(request(PROMPT), redacting)
    again, outcome_again = safety.check_request(request(PROMPT, user="other"), redacting)
    assert first.system == again.system and "[EMAIL]" in (first.system or "")
    assert outcome == outcome_again and outcome.findings == ["email"]
    assert scans.count(PROMPT) == 1
    # Other detector settings are another scan: under "allow" nothing is redacted.
    allowed, _ = safety.check_request(request(PROMPT), SafetyPolicy(pii="allow"))
    assert allowed.system == PROMPT and scans.count(PROMPT) == 2


def with_pii(before: str, after: str) -> str:
    return before + " mail x.y@corp.example or call +1 415 555 0100 " + after


@settings(max_examples=60, deadline=None)
@given(
    st.text(min_size=256, max_size=600)
    | st.builds(with_pii, st.text(min_size=256, max_size=300), st.text(max_size=100)),
    st.sampled_from(["redact", "block", "allow"]),
    st.lists(st.sampled_from(["acme", "secret plan", "x"]), max_size=2),
)
def test_cached_scans_equal_fresh_ones(text: str, pii: str, keywords: list[str]) -> None:
    policy = SafetyPolicy(pii=pii, sensitive_keywords=keywords, keyword_action="redact")  # type: ignore[arg-type]
    fresh_cache = ScanCache(max_chars=0)  # holds nothing: every scan is fresh
    safety._SCANS, saved = fresh_cache, safety._SCANS
    try:
        fresh = safety.check_request(request(text), policy)
    finally:
        safety._SCANS = saved
    safety.check_request(request(text), policy)  # fills the shared cache
    assert safety.check_request(request(text), policy) == fresh


def test_the_cache_holds_a_bounded_number_of_characters() -> None:
    cache = ScanCache(min_chars=1, max_chars=1000)
    for n in range(20):
        text = f"{n:03d}" + "a" * 197
        cache.put(text, (), Scan(text, frozenset()))
    assert len(cache) == 5  # 5 x 200 characters
    assert cache.get("019" + "a" * 197, ()) is not None
    assert cache.get("000" + "a" * 197, ()) is None  # the oldest went first
    assert not ScanCache().worth_caching("short") and ScanCache().worth_caching("a" * 256)
