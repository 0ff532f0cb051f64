"""Context trimming: the newest turns within the budget, starting with a user message."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from frugalflow.events import Message
from frugalflow.policy.tokens import estimate_message_tokens
from frugalflow.policy.trimming import trim_history


def user(text: str) -> Message:
    return Message(role="user", content=text)


def assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


def cost(messages: list[Message]) -> int:
    return sum(estimate_message_tokens(m.content) for m in messages)


# Each message below costs 4 + 10 = 14 tokens (30 ASCII characters).
TURNS = [
    user("u1" + "." * 28),
    assistant("a1" + "." * 28),
    user("u2" + "." * 28),
    assistant("a2" + "." * 28),
    user("u3" + "." * 28),
]


def test_no_budget_keeps_everything() -> None:
    assert trim_history("sys", TURNS, None) == (TURNS, 0)


def test_a_budget_that_fits_keeps_everything() -> None:
    assert trim_history("sys", TURNS, 5 * 14) == (TURNS, 0)


def test_the_latest_turns_are_kept_whole() -> None:
    # 4 messages fit, but a kept history must start with a user message: u2, a2, u3.
    assert trim_history("sys", TURNS, 4 * 14) == (TURNS[2:], 2)
    assert trim_history("sys", TURNS, 3 * 14) == (TURNS[2:], 2)
    assert trim_history("sys", TURNS, 3 * 14 - 1) == (TURNS[4:], 4)


def test_the_last_user_message_survives_any_budget() -> None:
    assert trim_history(None, TURNS, 1) == (TURNS[4:], 4)
    huge = [user("old"), assistant("reply"), user("x" * 100_000)]
    assert trim_history(None, huge, 8000) == (huge[2:], 2)


def test_the_system_prompt_is_never_counted_against_the_history() -> None:
    assert trim_history("s" * 100_000, TURNS, 5 * 14) == (TURNS, 0)


def test_consecutive_user_messages_may_start_the_history() -> None:
    messages = [user("a" * 30), assistant("b" * 30), user("c" * 30), user("d" * 30)]
    assert trim_history(None, messages, 2 * 14) == (messages[2:], 2)


def test_without_a_user_message_nothing_is_trimmed() -> None:
    only_assistant = [assistant("hello")]
    assert trim_history(None, only_assistant, 1) == (only_assistant, 0)
    assert trim_history(None, [], 10) == ([], 0)


conversations = st.lists(
    st.builds(
        Message,
        role=st.sampled_from(["user", "assistant"]),
        content=st.text(min_size=1, max_size=120),
    ),
    min_size=0,
    max_size=12,
).map(lambda ms: [*ms, user("the question")])


@given(conversations, st.integers(min_value=1, max_value=600))
def test_trimming_invariants(messages: list[Message], budget: int) -> None:
    kept, dropped = trim_history("system prompt", messages, budget)
    # a suffix of the conversation, and the count of what went
    assert kept == messages[dropped:]
    assert dropped + len(kept) == len(messages)
    # the question is always kept, and the history starts with a user message
    assert kept[-1] == messages[-1]
    assert kept[0].role == "user"
    # within the budget, unless the question alone is over it
    assert cost(kept) <= budget or kept == messages[-1:]
    # the longest such suffix: any longer one starting with a user message is over budget
    for start in range(dropped):
        if messages[start].role == "user":
            assert cost(messages[start:]) > budget


@given(conversations, st.integers(min_value=1, max_value=600), st.integers(0, 600))
def test_a_larger_budget_never_keeps_less(messages: list[Message], budget: int, extra: int) -> None:
    kept, _ = trim_history(None, messages, budget)
    more, _ = trim_history(None, messages, budget + extra)
    assert len(more) >= len(kept)
