"""``model: "auto"`` and pinned models on named providers, through intake's route step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from frugalflow.costing.catalog import PRICING_FILE_ENV, reload_catalog
from frugalflow.costing.named_prices import OPENAI_COMPATIBLE_ENV
from frugalflow.events import RequestEvent
from frugalflow.intake.policies import _router
from frugalflow.intake.route import Route, RouteRejected, choose_route
from frugalflow.policy.models import TenantPolicy, effective_policy
from frugalflow.policy.snapshot import PolicySnapshot
from frugalflow.providers.registry import ProviderRegistry
from frugalflow.settings import load_settings

DAY = date(2026, 12, 4)
HARD = "Prove step by step that the algorithm terminates, and analyse its complexity."


@pytest.fixture(autouse=True)
def _packaged_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    monkeypatch.delenv(OPENAI_COMPATIBLE_ENV, raising=False)
    reload_catalog()
    yield
    monkeypatch.undo()
    reload_catalog()


def pipeline() -> Any:
    settings = load_settings(emulator_url="http://emu:1", ollama_base_url="http://o:11434/v1")
    return SimpleNamespace(
        settings=settings, providers=ProviderRegistry(settings), policy=PolicySnapshot.empty()
    )


def route(
    provider: str | None, model: str = "auto", text: str = "hi", policy: TenantPolicy | None = None
) -> Route:
    request = RequestEvent.model_validate({
        "event_type": "NEW_RECORD", "request_id": "r1", "tenant_id": "acme", "max_tokens": 100,
        "messages": [{"role": "user", "content": text}], "model": model, "provider": provider,
    })  # fmt: skip
    p, tenant = pipeline(), policy or TenantPolicy()
    return choose_route(
        request, p.settings, p.providers.batch_capable(), day=DAY, baseline=tenant.baseline,
        router=_router(p, request, tenant, degrade=False), flex_capable=p.providers.flex_capable(),
    )  # fmt: skip


def test_auto_on_cerebras_routes_by_tier() -> None:
    easy = route("cerebras")
    assert (easy.provider, easy.model, easy.tier) == ("cerebras", "cerebras/gemma-4-31b", "small")
    assert easy.reason.startswith("complexity:small") and easy.path == "immediate"
    hard = route("cerebras", text=HARD)
    assert (hard.model, hard.tier) == ("cerebras/gpt-oss-120b", "medium")  # no large: nearest
    assert hard.requested_model == "cerebras/gemma-4-31b"  # no large model: the default


def test_auto_on_openrouter_routes_to_a_vendor_model_with_a_large_baseline() -> None:
    chosen = route("openrouter")
    assert chosen.model.startswith("openrouter/") and chosen.tier == "small"
    assert chosen.requested_model.startswith("openrouter/")  # its large-tier model
    assert chosen.path == "immediate"  # no batch path through a gateway


def test_pinned_named_models_route_as_requested() -> None:
    pinned = route(None, model="openrouter/anthropic/claude-sonnet-4.6")
    assert (pinned.provider, pinned.reason) == ("openrouter", "requested")
    assert pinned.requested_model == "openrouter/anthropic/claude-sonnet-4.6"
    with pytest.raises(RouteRejected) as raised:
        route(None, model="openrouter/meta-llama/llama-3.3-70b-instruct")
    assert raised.value.code == "unknown_model"
    with pytest.raises(RouteRejected) as raised:
        route("cerebras", model="openrouter/openai/gpt-5.4")
    assert raised.value.code == "model_provider_mismatch"


def test_auto_on_a_provider_without_tiers_still_needs_a_model() -> None:
    with pytest.raises(RouteRejected) as raised:
        route("ollama")
    assert raised.value.code == "model_required"
    policy = effective_policy({"router": {"tier_models": {"ollama": {"small": "ollama/qwen"}}}})
    local = route("ollama", policy=policy)
    assert (local.model, local.tier) == ("ollama/qwen", "small")
    assert local.requested_model == "ollama/qwen"


def test_built_in_providers_are_unchanged() -> None:
    chosen = route("anthropic")
    assert chosen.provider == "anthropic" and chosen.model.startswith("claude-")
