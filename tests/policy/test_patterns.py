"""The pattern responder: whole-message matches on small talk, and the near-misses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frugalflow.events import Message, RequestEvent
from frugalflow.policy.models import PatternPolicy, PatternRule
from frugalflow.policy.patterns import default_rules, match_pattern, normalize

DEFAULTS = PatternPolicy()


def request(
    text: str, *, history: tuple[str, ...] = (), use_case: str | None = None
) -> RequestEvent:
    messages = [
        Message(role="user" if i % 2 == 0 else "assistant", content=turn)
        for i, turn in enumerate(history)
    ]
    return RequestEvent(
        event_type="NEW_RECORD",
        request_id="r1",
        tenant_id="acme",
        messages=[*messages, Message(role="user", content=text)],
        max_tokens=100,
        use_case=use_case,
    )


def rule_of(text: str, policy: PatternPolicy = DEFAULTS, **kwargs: object) -> str | None:
    found = match_pattern(request(text, **kwargs), policy)  # type: ignore[arg-type]
    return None if found is None else found.rule


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("hi", "greeting"),
        ("Hello!", "greeting"),
        ("  HEY   there :)  ", "greeting"),
        ("Good morning 👋", "greeting"),
        ("\uff48\uff45\uff4c\uff4c\uff4f", "greeting"),  # full-width letters, NFKC
        ("Thanks!!", "thanks"),
        ("thank-you", "thanks"),
        ("Thank you so much 🙏🏽", "thanks"),
        ("ok", "acknowledgement"),
        ("OK.", "acknowledgement"),
        ("okay?!", "acknowledgement"),
        ("Got it, thanks!", "acknowledgement"),
        ("sounds good", "acknowledgement"),
        ("Bye-bye!", "goodbye"),
        ("See you later", "goodbye"),
        ("¡Hola!", "greeting_es"),
        ("Muchas gracias", "thanks_es"),
        ("Merci beaucoup !", "thanks_fr"),
        ("Danke schön", "thanks_de"),
        ("DANKE SCHÖN", "thanks_de"),
        ("Olá", "greeting_pt"),
        ("Grazie mille", "thanks_it"),
    ],
)
def test_small_talk_matches_a_packaged_rule(text: str, rule: str) -> None:
    assert rule_of(text) == rule


@pytest.mark.parametrize(
    "text",
    [
        "hi, can you explain how OAuth works?",
        "thanks, but why is it slow?",
        "ok so what about the second option",
        "Hello world program in Rust",
        "hi hi",
        "thanksgiving",
        "👍",
        "🙂🙂",
        "bye the way, what is a monad",
    ],
)
def test_near_misses_do_not_match(text: str) -> None:
    assert rule_of(text) is None


def test_a_reply_to_a_question_goes_to_the_model() -> None:
    asked = ("Write the parser.", "Done. Shall I add tests as well?")
    assert rule_of("ok", history=asked) is None
    assert rule_of("thanks", history=asked) is None
    told = ("Write the parser.", "Done, here it is.")
    assert rule_of("thanks", history=told) == "thanks"


def test_disabled_policy_never_matches() -> None:
    assert rule_of("hi", PatternPolicy(enabled=False)) is None


def test_tenant_rules_replace_the_defaults_and_honour_use_cases() -> None:
    policy = PatternPolicy(
        rules=[
            PatternRule(
                name="menu",
                phrases=["Menu", "show the menu"],
                answer="Type a dish name. {name} stays as written.",
                use_cases=["ordering"],
            ),
            PatternRule(name="hey", phrases=["hey"], answer="Hey yourself."),
        ]
    )
    found = match_pattern(request("Show the menu!", use_case="ordering"), policy)
    assert found is not None
    assert (found.rule, found.answer) == ("menu", "Type a dish name. {name} stays as written.")
    assert match_pattern(request("menu", use_case="support"), policy) is None
    assert match_pattern(request("menu"), policy) is None  # no use case: only unscoped rules
    assert rule_of("hey", policy) == "hey"
    assert rule_of("hi", policy) is None  # the defaults are replaced, not extended
    assert rule_of("hi", PatternPolicy(rules=[])) is None


def test_packaged_rules_are_valid_and_unambiguous() -> None:
    rules = default_rules()
    assert {"greeting", "thanks", "acknowledgement", "goodbye"} <= {r.name for r in rules}
    seen: dict[str, str] = {}
    for rule in rules:
        for phrase in rule.phrases:
            key = normalize(phrase)
            assert key, (rule.name, phrase)
            assert seen.setdefault(key, rule.name) == rule.name, phrase


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  Hello,   WORLD!! ", "hello world"),
        ("Straße", "strasse"),
        ("👋🏽 hi\u200d", "hi"),
        ("don't", "don t"),
        ("ﬁne", "fine"),  # the fi ligature, NFKC
    ],
)
def test_normalize(raw: str, normalized: str) -> None:
    assert normalize(raw) == normalized


PHRASES = sorted({phrase for rule in default_rules() for phrase in rule.phrases})
NOISE = st.text(alphabet="!?.,;:()[]-\u2013\u2014 \t\n\U0001f44b\U0001f64f\ufe0f", max_size=6)


@given(st.one_of(st.sampled_from(PHRASES), st.text(min_size=1, max_size=60)), NOISE, NOISE)
def test_punctuation_emoji_and_spacing_around_a_message_never_change_the_match(
    text: str, before: str, after: str
) -> None:
    assert normalize(before + text + after) == normalize(text)
    assert rule_of(before + text + after) == rule_of(text)


@given(st.sampled_from(PHRASES), st.text(min_size=1, max_size=40))
def test_a_phrase_followed_by_a_question_is_not_small_talk(phrase: str, question: str) -> None:
    text = f"{phrase}, {question}"
    if any(normalize(text) == normalize(p) for p in PHRASES):
        return  # the "question" was itself more small talk
    assert rule_of(text) is None
