"""A conservative input-token estimate and the worst-case cost a budget reserves.

The estimate must never be below what a provider bills, because intake reserves budget,
counts tokens-per-minute and trims history on it before any provider has counted:

* a text costs ``ceil(units / 3)`` tokens, where an ASCII character is 1 unit, any other
  character of the Basic Multilingual Plane 3 units (so 1 token: CJK, Cyrillic, accented
  letters — real tokenizers spend up to about one token per such character) and a
  character above it (emoji, rare CJK) 6 units (2 tokens);
* every message costs 4 tokens on top of its text, the system prompt counts as one such
  message when present (even empty), and the request 3 tokens once.

English and code run at 3.5-4.5 characters per token on the Anthropic, OpenAI and Gemini
tokenizers, so ``ceil(len / 3)`` sits 15-50 % above them; the overheads are the
emulator's (app/emulator/tokens.py: ``ceil(len / 4)`` per text, the same overheads), so
the estimate is never below the emulator's exact count.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal

from frugalflow.costing.calculator import QUANTUM
from frugalflow.costing.catalog import price_of
from frugalflow.costing.rates import Mode
from frugalflow.events import Message

REQUEST_OVERHEAD_TOKENS = 3
MESSAGE_OVERHEAD_TOKENS = 4
UNITS_PER_TOKEN = 3
_ASCII_UNITS = 1
_BMP_UNITS = 3  # one token per non-ASCII character
_ASTRAL_UNITS = 6  # two tokens per emoji / supplementary-plane character


def estimate_text_tokens(text: str) -> int:
    """The conservative token count of one text (see the module doc)."""
    ascii_chars = bmp_chars = astral_chars = 0
    for char in text:
        point = ord(char)
        if point < 0x80:
            ascii_chars += 1
        elif point <= 0xFFFF:
            bmp_chars += 1
        else:
            astral_chars += 1
    units = ascii_chars * _ASCII_UNITS + bmp_chars * _BMP_UNITS + astral_chars * _ASTRAL_UNITS
    return -(-units // UNITS_PER_TOKEN)


TYPICAL_CHARS_PER_TOKEN = 4


def typical_text_tokens(text: str) -> int:
    """``ceil(len / 4)``: what an answer of ``text`` typically bills as output (English
    runs at about 4 characters per token). For figures of what a call *would* have cost,
    such as a pattern answer's saved baseline; never for a budget, which needs
    :func:`estimate_text_tokens`'s bound. The emulator counts tokens the same way."""
    return -(-len(text) // TYPICAL_CHARS_PER_TOKEN)


def estimate_message_tokens(content: str) -> int:
    """One message: its text plus the per-message overhead."""
    return MESSAGE_OVERHEAD_TOKENS + estimate_text_tokens(content)


def estimate_input_tokens(system: str | None, messages: Sequence[Message]) -> int:
    """The whole prompt: request overhead, the system prompt as a message, every message."""
    total = REQUEST_OVERHEAD_TOKENS + sum(estimate_message_tokens(m.content) for m in messages)
    if system is not None:
        total += estimate_message_tokens(system)
    return total


def worst_case_cost(
    model: str, input_tokens: int, max_tokens: int, *, mode: Mode, cache_write_1h: bool = False
) -> Decimal:
    """The most a request can cost: what a budget reserves at admission.

    Every input token is priced at the dearest input-side class it could be billed as —
    plain input or a cache write (1-hour writes when ``cache_write_1h``; pass it whenever
    dispatch may mark a 1-hour breakpoint, e.g. Anthropic's batch path with
    ``anthropic_batch_cache_ttl_1h``) — and ``max_tokens`` at the output price, at
    ``mode``'s rates in the context band of ``input_tokens`` (an over-estimate of the real
    prompt, so never a cheaper band than the provider bills). Cache reads are cheaper
    than input, so a cache hit only lowers the real cost. Rounded up to the calculator's
    quantum, which is exact for catalog prices, so the result is never below the
    calculator's cost of any usage within these bounds. Raises ``UnknownModelError`` like
    ``price_of``, ``ModeUnavailableError`` when the model is not sold in ``mode``.
    """
    if input_tokens < 0 or max_tokens < 0:
        raise ValueError("token counts must be >= 0")
    rates = price_of(model).rates(mode, input_tokens)
    write = rates.cache_write_5m
    if cache_write_1h:
        write = max(write, rates.cache_write_1h)
    input_price = max(rates.input, write)
    cost = input_tokens * input_price + max_tokens * rates.output
    return cost.quantize(QUANTUM, rounding=ROUND_CEILING)
