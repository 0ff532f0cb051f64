"""Variants applied to requests: model and prompt overrides, metadata, fallbacks, the cache."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from frugalflow.events import RequestEvent
from frugalflow.experiments import Experiment, Variant, assign
from frugalflow.experiments.live import EXPERIMENT_KEY, refresh, running_by_tenant, trial
from frugalflow.intake.route import choose_route
from frugalflow.pipeline import Pipeline
from frugalflow.providers.registry import ProviderRegistry
from frugalflow.settings import load_settings
from frugalflow.sink.store import CostStore

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def experiment(
    *variants: Variant, tenant: str = "acme", id: str = "exp-1", **extra: Any
) -> Experiment:
    return Experiment(
        id=id, name=f"n-{id}", tenant=tenant, status=extra.pop("status", "running"),
        created_at=extra.pop("created_at", T0), variants=list(variants),
    )  # fmt: skip


def request(**fields: Any) -> RequestEvent:
    body: dict[str, Any] = {
        "event_type": "NEW_RECORD", "request_id": "r1", "tenant_id": "acme",
        "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16,
        "system": "You are the caller's assistant.", "user_id": "u1",
        "metadata": {"experiment": "caller's own", "trace": 7},
    }  # fmt: skip
    return RequestEvent.model_validate({**body, **fields})


HAIKU = Variant(name="haiku", weight=1, model="claude-haiku-4-5")
SONNET = Variant(name="sonnet", weight=1, model="claude-sonnet-4-6", prompt="Be terse.")
AB = experiment(HAIKU, SONNET)


def _user_in(variant: str, exp: Experiment = AB) -> str:
    return next(
        f"u{i}" for i in range(1000) if assign(exp.id, f"u{i}", exp.variants).name == variant
    )


def test_model_and_prompt_are_overridden_and_metadata_added() -> None:
    caller = request(user_id=_user_in("sonnet"), model="gpt-4o-mini", provider="openai")
    t = trial(caller, {"acme": AB})
    assert t is not None and (t.experiment_id, t.variant) == ("exp-1", "sonnet")
    served = t.request
    assert served.model == "claude-sonnet-4-6" and served.provider is None  # provider follows
    assert served.system == "Be terse."
    assert served.metadata == {
        "experiment": "caller's own", "trace": 7,
        EXPERIMENT_KEY: {"id": "exp-1", "variant": "sonnet"},
    }  # fmt: skip
    assert caller.metadata == {"experiment": "caller's own", "trace": 7}  # not mutated
    assert served.messages == caller.messages and served.request_id == caller.request_id


def test_a_variant_without_prompt_keeps_the_callers_system_prompt() -> None:
    t = trial(request(user_id=_user_in("haiku")), {"acme": AB})
    assert t is not None and t.variant == "haiku"
    assert t.request.model == "claude-haiku-4-5"
    assert t.request.system == "You are the caller's assistant."


def test_a_prompt_only_variant_keeps_the_callers_model() -> None:
    exp = experiment(Variant(name="a", weight=1), Variant(name="b", weight=1, prompt="P"))
    t = trial(request(user_id=_user_in("b", exp), model="gpt-4o-mini"), {"acme": exp})
    assert t is not None and t.request.model == "gpt-4o-mini" and t.request.system == "P"


def test_assignment_is_deterministic() -> None:
    for i in range(50):
        t = trial(request(user_id=f"user-{i}"), {"acme": AB})
        assert t is not None and t.variant == assign("exp-1", f"user-{i}", AB.variants).name


def test_no_user_or_no_experiment_means_no_trial() -> None:
    assert trial(request(user_id=None), {"acme": AB}) is None
    assert trial(request(tenant_id="globex"), {"acme": AB}) is None


def test_unknown_variant_model_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    bad = experiment(Variant(name="ghost", weight=1, model="gpt-imaginary"))
    with caplog.at_level(logging.WARNING, logger="frugalflow"):
        assert trial(request(), {"acme": bad}) is None
    assert (
        "unknown model 'gpt-imaginary'" in caplog.text and "without the experiment" in caplog.text
    )


def test_impression_id_is_stable_per_request() -> None:
    t = trial(request(), {"acme": AB})
    assert t is not None
    first, again = t.impression(T0), t.impression(T0 + timedelta(seconds=5))
    assert first.event_id == again.event_id
    assert (first.kind, first.value, first.user_id, first.variant) == ("impression", 1.0, "u1",
                                                                        t.variant)  # fmt: skip
    other = trial(request(request_id="r2"), {"acme": AB})
    assert other is not None and other.impression(T0).event_id != first.event_id


def test_the_route_follows_the_variant_model() -> None:
    t = trial(request(user_id=_user_in("sonnet"), model="gpt-4o-mini"), {"acme": AB})
    assert t is not None
    settings = load_settings(emulator_url="http://127.0.0.1:1")
    route = choose_route(t.request, settings, ProviderRegistry(settings).batch_capable())
    assert (route.provider, route.model, route.requested_model) == (
        "anthropic", "claude-sonnet-4-6", "claude-sonnet-4-6")  # fmt: skip
    assert t.request.metadata[EXPERIMENT_KEY]["variant"] == "sonnet"


def test_running_by_tenant_keeps_the_oldest_running_experiment() -> None:
    older = experiment(HAIKU, id="old", created_at=T0)
    newer = experiment(HAIKU, id="new", created_at=T0 + timedelta(days=1))
    paused = experiment(HAIKU, id="paused", tenant="globex", status="paused")
    assert running_by_tenant([newer, older, paused]) == {"acme": older}


class _BrokenPool:
    async def fetch(self, *args: Any) -> Any:
        raise ConnectionRefusedError("down")


async def test_refresh_keeps_the_last_value_when_postgres_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = cast(Pipeline, SimpleNamespace(experiments={"acme": AB}))
    broken = cast(CostStore, SimpleNamespace(pool=_BrokenPool()))
    with caplog.at_level(logging.WARNING, logger="frugalflow"):
        await refresh(p, broken)
    assert p.experiments == {"acme": AB}
    assert "keeping the 1 running experiment(s)" in caplog.text
