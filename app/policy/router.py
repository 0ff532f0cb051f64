"""The router for ``model: "auto"``: a tier from the request, then a model of the provider.

Strategies (``RouterPolicy.strategy``):

* ``complexity`` — :func:`complexity_tier` scores the request: length (the conservative
  token estimate; a very large ``max_tokens``), reasoning keywords in the last user
  message, code and stack traces, math. Score 0 → small, 1-2 → medium, 3+ → large.
* ``learning`` — recorded outcomes per tenant, use case and tier (:class:`LearningStats`):
  the cheapest tier with at least ``learning_min_samples`` outcomes and a success rate of
  at least ``learning_target``; medium when no tier has shown that yet.
* ``hybrid`` (default) — the complexity tier, then the outcomes may move it one step:
  down when the cheaper tier meets the target on enough samples, else up when the
  chosen tier itself has enough samples and misses the target.

``degrade=True`` (the tenant's spend forecast is over its monthly budget) moves the
result one tier cheaper. The tier becomes a model through app/policy/tiers.py; a provider
without a model of that tier gets the nearest one (dearer first).

The reason names the deciding strategy first — ``complexity:small (12 tokens, no code or
math)``, ``learning:small 0.95 of 40``, ``degraded:medium→small (forecast over monthly
budget)`` — and goes on the answer and the cost event (``route_reason``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from frugalflow.events import RequestEvent
from frugalflow.policy.models import TIERS, RouteChoice, RouterPolicy, Tier
from frugalflow.policy.tiers import cheaper, dearer, nearest_model
from frugalflow.policy.tokens import estimate_input_tokens

# Length: a long prompt is usually a document to work through; a very long one, a lot of
# material to reconcile. max_tokens alone is weak (clients default it to 1-4k), so only
# a really long answer counts.
LONG_INPUT_TOKENS = 2_000
VERY_LONG_INPUT_TOKENS = 16_000
LONG_OUTPUT_TOKENS = 8_192


class NoRoutableModelError(LookupError):
    """The provider has no model of any tier (e.g. ``ollama`` without ``tier_models``)."""

    code = "no_model_for_tier"

    def __init__(self, provider: str) -> None:
        super().__init__(f"provider {provider!r} has no tiered model: name one or set tier_models")
        self.provider = provider


@dataclass(frozen=True)
class LearningStats:
    """Recorded outcomes: (tenant, use case or "", tier) → (samples, successes)."""

    counts: Mapping[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[tuple[str, str | None, str, bool]]) -> LearningStats:
        """Aggregate (tenant, use case, tier, success) records."""
        counts: dict[tuple[str, str, str], tuple[int, int]] = {}
        for tenant, use_case, tier, success in outcomes:
            key = (tenant, use_case or "", tier)
            samples, successes = counts.get(key, (0, 0))
            counts[key] = (samples + 1, successes + int(success))
        return cls(counts)

    def outcomes(self, tenant: str, use_case: str | None, tier: Tier) -> tuple[int, int]:
        return self.counts.get((tenant, use_case or "", tier), (0, 0))


# ------------------------------------------------------------------ complexity

# (label, pattern, weight): proofs, derivations and step-by-step reasoning weigh double.
_KEYWORDS: tuple[tuple[str, re.Pattern[str], int], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE), weight)
    for label, pattern, weight in (
        ("analyse", r"\banaly[sz](e|es|ed|ing|is)\b", 1),
        ("compare", r"\bcompar(e|es|ed|ing|ison)\b", 1),
        ("design", r"\bdesign(ing)?\b", 1),
        ("architecture", r"\barchitect(ure|ing)?\b", 1),
        ("prove", r"\b(prove|proving|proof)\b", 2),
        ("derive", r"\bderiv(e|ing|ation)\b", 2),
        ("step by step", r"\bstep[- ]by[- ]step\b", 2),
        ("trade-offs", r"\btrade-?offs?\b|\bpros and cons\b", 1),
        ("evaluate", r"\bevaluat(e|ing|ion)\b|\bcritique\b", 1),
        ("optimise", r"\boptimi[sz](e|ing|ation)\b", 1),
        ("refactor", r"\brefactor", 1),
        ("debug", r"\bdebug|\broot cause\b", 1),
        ("strategy", r"\bstrateg(y|ies|ic)\b", 1),
        ("reason through", r"\b(reason|think) (it )?(through|carefully)\b", 1),
    )
)
# Words alone reach medium at most: large takes them together with code, math or length.
_MAX_KEYWORD_SCORE = 2

_CODE = re.compile(
    r"```"
    r"|^\s*(def \w|async def \w|class \w|function\b|import \w|from [\w.]+ import\b|#include\b"
    r"|public (static |class )|fn \w|func \w|(const|let|var) \w+\s*=)"
    r"|\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|CREATE\s+TABLE|DELETE\s+FROM)\b"
    r"|[;{]\s*$",
    re.MULTILINE,
)
_SQL_LOWER = re.compile(r"\bselect\s+\*\s+from\b", re.IGNORECASE)
_STACK_TRACE = re.compile(
    r"Traceback \(most recent call last\)"
    r'|File "[^"]+", line \d+'
    r"|^\s+at [\w$.<>]+\(.*\)\s*$"
    r"|\b\w+(Error|Exception): "
    r"|panicked at|goroutine \d+ \[|Segmentation fault",
    re.MULTILINE,
)
_MATH = re.compile(
    r"\\(frac|int|sum|sqrt|lim|prod|partial|infty|alpha|beta|gamma|theta|lambda|sigma"
    r"|mathbb|begin\{(equation|align))"
    r"|\$\$|[∫∑∏√∂∞≤≥≠±∇∈∀∃]"
    r"|\b\d*[a-z]\s*(\^|\*\*)\s*\d"
    r"|[\w)]\s*[-+*/^]\s*[\w(]+\s*=\s*[-\w(]",
)
_MATH_WORDS = re.compile(
    r"\b(integral|integrate|derivative|differentiate|equation|theorem|lemma|eigen\w*"
    r"|polynomial|logarithm|matrix|matrices|probability|calculus|prove|proof)\b",
    re.IGNORECASE,
)


def _last_user_text(request: RequestEvent) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            return message.content
    return ""


def complexity_tier(request: RequestEvent) -> tuple[Tier, str]:
    """The tier the request looks like it needs, and why (``"12 tokens, no code or math"``).

    Length counts the whole prompt; the content signals come from the last user message
    (what is asked now: a history that once held code does not make "thanks" hard).
    """
    tokens = estimate_input_tokens(request.system, request.messages)
    text = _last_user_text(request)
    score = 0
    why = [f"{tokens} tokens"]
    if tokens >= VERY_LONG_INPUT_TOKENS:
        score += 2
        why.append("very long input")
    elif tokens >= LONG_INPUT_TOKENS:
        score += 1
        why.append("long input")
    if request.max_tokens >= LONG_OUTPUT_TOKENS:
        score += 1
        why.append(f"long output ({request.max_tokens} max_tokens)")

    keywords = [(label, weight) for label, pattern, weight in _KEYWORDS if pattern.search(text)]
    if keywords:
        score += min(sum(weight for _, weight in keywords), _MAX_KEYWORD_SCORE)
        why.append("keywords: " + ", ".join(label for label, _ in keywords))
    code = bool(_CODE.search(text) or _SQL_LOWER.search(text))
    trace = bool(_STACK_TRACE.search(text))
    math = bool(_MATH.search(text) or _MATH_WORDS.search(text))
    for present, label in ((code, "code"), (trace, "stack trace"), (math, "math")):
        if present:
            score += 1
            why.append(label)
    if not (code or trace or math):
        why.append("no code or math")

    tier: Tier = "small" if score == 0 else "medium" if score <= 2 else "large"
    return tier, ", ".join(why)


# ------------------------------------------------------------------ learning


def _meets(samples: int, successes: int, policy: RouterPolicy) -> bool:
    # Exact comparison: 36 of 40 meets a 0.9 target, whatever 0.9 is as a float.
    return Fraction(successes, samples) >= Fraction(str(policy.learning_target))


def _rate(samples: int, successes: int) -> str:
    return f"{successes / samples:.2f} of {samples}"


def _learning_tier(
    request: RequestEvent, policy: RouterPolicy, stats: LearningStats
) -> tuple[Tier, str]:
    for tier in TIERS:
        samples, successes = stats.outcomes(request.tenant_id, request.use_case, tier)
        if samples >= policy.learning_min_samples and _meets(samples, successes, policy):
            return tier, f"learning:{tier} {_rate(samples, successes)}"
    return "medium", (
        f"learning:medium (no tier has {policy.learning_min_samples} outcomes "
        f"at {policy.learning_target:g} success yet)"
    )


def _hybrid_tier(
    request: RequestEvent, policy: RouterPolicy, stats: LearningStats
) -> tuple[Tier, str]:
    tier, why = complexity_tier(request)
    said = f"complexity said {tier}: {why}"
    enough = policy.learning_min_samples
    if tier != "small":
        down = cheaper(tier)
        samples, successes = stats.outcomes(request.tenant_id, request.use_case, down)
        if samples >= enough and _meets(samples, successes, policy):
            return down, f"learning:{down} {_rate(samples, successes)} ({said})"
    samples, successes = stats.outcomes(request.tenant_id, request.use_case, tier)
    if tier != "large" and samples >= enough and not _meets(samples, successes, policy):
        up = dearer(tier)
        return up, (
            f"learning:{up} ({tier} {_rate(samples, successes)} "
            f"< {policy.learning_target:g}; {said})"
        )
    return tier, f"complexity:{tier} ({why})"


# ------------------------------------------------------------------ routing


def route_auto(
    request: RequestEvent,
    provider: str,
    policy: RouterPolicy,
    stats: LearningStats,
    *,
    degrade: bool = False,
    preferred: Iterable[str] = (),
) -> RouteChoice:
    """Choose the model for a ``model: "auto"`` request on ``provider``.

    ``preferred``: the deployment's default models (``tiers.deployment_defaults``), which
    serve their tier ahead of the catalog's cheapest. Raises ``NoRoutableModelError`` when
    the provider has no model of any tier.
    """
    if policy.strategy == "complexity":
        tier, why = complexity_tier(request)
        reason = f"complexity:{tier} ({why})"
    elif policy.strategy == "learning":
        tier, reason = _learning_tier(request, policy, stats)
    else:
        tier, reason = _hybrid_tier(request, policy, stats)

    if degrade:
        down = cheaper(tier)
        if down != tier:
            reason = f"degraded:{tier}→{down} (forecast over monthly budget), from {reason}"
        else:
            reason = f"degraded:{tier} (already the cheapest tier), from {reason}"
        tier = down

    found = nearest_model(provider, tier, policy.tier_models, preferred=preferred)
    if found is None:
        raise NoRoutableModelError(provider)
    served, model = found
    if served != tier:
        reason = f"{reason}; no {tier} model on {provider}, {served} instead"
    return RouteChoice(provider=provider, model=model, tier=served, reason=reason)
