"""PII and secret detectors: what each finds, the near-misses it must leave alone, redaction."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from frugalflow.policy.folding import fold, fold_str
from frugalflow.policy.pii import Span, find_pii, iban_valid, luhn_valid, redact


def found(text: str) -> list[tuple[str, str]]:
    return [(span.kind, text[span.start : span.end]) for span in find_pii(text)]


def assert_detects(kind: str, text: str, value: str) -> None:
    assert found(text) == [(kind, value)], text


def assert_clean(text: str) -> None:
    assert found(text) == [], text


# --- e-mail ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["john.doe@example.com", "a+tag@sub.example.co.uk", "x_y@ex-ample.io", "ÉLODIE@exemple.fr"],
)
def test_email_found(value: str) -> None:
    assert_detects("email", f"write to {value}, thanks", value)


@pytest.mark.parametrize(
    "text",
    [
        "follow @handle on the site",
        "ssh john@localhost",  # no top-level domain
        "reach me at john at example dot com",
        "the decorator @app.route('/x') is fine",
        "an address like name@ without a domain",
    ],
)
def test_email_near_misses(text: str) -> None:
    assert_clean(text)


# --- payment cards ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111111",  # Visa
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4222222222222",  # Visa, 13 digits
        "5555 5555 5555 4444",  # Mastercard
        "2223003122003222",  # Mastercard 2-series
        "3782 822463 10005",  # American Express, 4-6-5
        "371449635398431",
        "6011 1111 1111 1117",  # Discover
        "3056 930902 5904",  # Diners, 4-6-4
        "3530111333300000",  # JCB
        "6200000000000005",  # UnionPay
        "6759649826438453",  # Maestro
        "2200000000000004",  # Mir
    ],
)
def test_card_found(value: str) -> None:
    assert_detects("payment_card", f"my card is {value} thanks", value)


def test_two_cards_in_one_run_are_both_found() -> None:
    text = "cards 4111111111111111 4012888888881881 end"
    assert found(text) == [
        ("payment_card", "4111111111111111"),
        ("payment_card", "4012888888881881"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "card 4111111111111112",
        "id 8000000000000003",  # Luhn passes, no issuer uses 8
        "id 1000000000000008",
        "card 4111 1111-1111 1111",  # mixed separators: not a printed card
        "card 41 1111 1111 1111 11",  # not a card layout
        "ref ORD-4111111111111111",  # glued to an order code
        "amount 4111111111111111.50",
        "order 4111111111111111111",  # 19 digits: Luhn fails
    ],
)
def test_card_near_misses(text: str) -> None:
    assert_clean(text)


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


# --- IBAN ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "ES91 2100 0418 4502 0005 1332",
        "IT60X0542811101000000123456",
        "BE68539007547034",
        "CH9300762011623852957",
        "AT611904300234573201",
        "NO9386011117947",
        "MT84MALT011000012345MTLCAST001S",
        "PL61109010140000071219812874",
        "de89 3704 0044 0532 0130 00",
    ],
)
def test_iban_found(value: str) -> None:
    assert_detects("iban", f"pay to {value} today", value)


@pytest.mark.parametrize(
    "text",
    [
        "pay to DE89 3704 0044 0532 0130 01",  # checksum fails
        "pay to DE89370400440532013001",
        "pay to DE8937040044053201300",  # one character short for DE
        "pay to DE893704004405320130000",  # one too many
        "pay to XX89370400440532013000",  # no such country
        "pay to DE89  3704 0044 0532 0130 00",  # a double space splits it
    ],
)
def test_iban_near_misses(text: str) -> None:
    assert not [kind for kind, _ in found(text) if kind == "iban"], text


def test_iban_valid() -> None:
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("GB82WEST1234569876543")


# --- national ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "123-45-6789",  # US SSN
        "078-05-1120",
        "123 45 6789",
        "AB123456C",  # UK NINO
        "AB 12 34 56 C",
        "ab123456c",
        "12345678Z",  # Spanish DNI
        "X1234567L",  # Spanish NIE
        "Y-7654321-G",
        "1 84 12 76 451 089 46",  # French NIR
        "184127645108946",
    ],
)
def test_national_id_found(value: str) -> None:
    assert_detects("national_id", f"my id is {value}.", value)


@pytest.mark.parametrize(
    "text",
    [
        "ssn 000-12-3456",  # area 000 is never issued
        "ssn 666-12-3456",
        "ssn 900-12-3456",
        "ssn 999-12-3456",
        "ssn 123-00-4567",  # group 00
        "ssn 123-45-0000",  # serial 0000
        "ssn 123-45 6789",  # mixed separators
        "nino QQ123456C",  # Q is never a prefix letter
        "nino BG123456A",  # an unallocated pair
        "nino DA123456A",
        "nino AB123456E",  # suffix beyond D
        "dni 12345678A",  # wrong check letter
        "nie X1234567A",
        "nir 1 84 12 76 451 089 47",  # wrong key
        "nir 184137645108946",  # month 13
    ],
)
def test_national_id_near_misses(text: str) -> None:
    assert_clean(text)


# --- phone numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "+1 415 555 2671",
        "+14155552671",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+33 6 12 34 56 78",
        "+49-30-1234567",
        "0049 30 1234567",
        "(555) 123-4567",
        "(555)123-4567",
        "555-123-4567",
        "555.123.4567",
        "1-800-555-1234",
        "020 7946 0958",
        "07700 900123",
        "030 12345678",
        "06 12 34 56 78",
        "0612345678",
    ],
)
def test_phone_found(value: str) -> None:
    assert_detects("phone", f"call {value} today", value)


def test_bare_ten_digits_need_a_phone_word() -> None:
    assert found("call me at 5551234567") == [("phone", "5551234567")]
    assert found("Phone number: 5551234567") == [("phone", "5551234567")]
    assert_clean("order 5551234567 shipped")


@pytest.mark.parametrize(
    "text",
    [
        "the launch is on 2026-11-23",
        "the launch is on 23.11.2026",
        "the launch is on 2026-11-23 14:30",
        "the launch is at 14:30:15",
        "it costs $1,299.99",
        "it costs 1.299,99 €",
        "revenue was EUR 1 234 567 890",
        "revenue was 1.234.567.890",
        "upgrade to version 10.0.19041.1234",
        "upgrade to v1.22.333",
        "the host 192.168.100.200 is down",
        "the host 172.16.254.100 is down",
        "in 2026 we grew",
        "budgets for 2024 2025 2026",
        "ZIP 12345-6789",
        "invoice INV-2026-555-1234",
        "order ORD5551234567",
        "ref A1B-555-123-4567",
        "isbn 978-3-16-148410-0",
        "card 4111 1111 1111 1112",  # a card-shaped run with a bad checksum is not a phone
        "dates 23 11 2026 1430",
        "page 12 of 345",
        "ssn-shaped 000-12-3456",
    ],
)
def test_phone_near_misses(text: str) -> None:
    assert_clean(text)


# --- secrets ---------------------------------------------------------------------------

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.mark.parametrize(
    "value",
    [
        "sk-abcdefghij1234567890ABCDEFGHIJ",
        "sk-proj-abc123DEF456ghi789JKL012mno",
        "sk-ant-api03-abcDEF123456ghiJKL789mnoPQR",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
        "xoxb-1234567890-abcdefghij",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        JWT,
    ],
)
def test_vendor_key_found(value: str) -> None:
    assert_detects("api_key", f"use {value} for the call", value)


def test_private_key_block_found_whole() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"
    assert found(f"here:\n{block}\nthanks") == [("api_key", block)]


def test_truncated_private_key_redacted_to_the_end() -> None:
    text = "here: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA"
    assert redact(text, find_pii(text)) == "here: [API_KEY]"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("api_key=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        ('{"api_key": "Zx81Kq0aPl7Wm2Rt5Yb9Nc4"}', "Zx81Kq0aPl7Wm2Rt5Yb9Nc4"),
        ("OPENAI_API_KEY = Zx81Kq0aPl7Wm2Rt5Yb9Nc4", "Zx81Kq0aPl7Wm2Rt5Yb9Nc4"),
        ("token: 8a7b6c5d4e3f2a1b0c9d8e7f", "8a7b6c5d4e3f2a1b0c9d8e7f"),
        ("refresh_token=Q29tcGxleFRva2VuMTIzNDU2", "Q29tcGxleFRva2VuMTIzNDU2"),
        ("password=hunter2", "hunter2"),
        ("DB_PASSWORD: Summer2024!", "Summer2024!"),
        ("Authorization: Bearer a1B2c3D4e5F6g7H8i9J0k", "a1B2c3D4e5F6g7H8i9J0k"),
    ],
)
def test_secret_after_a_name_found(text: str, value: str) -> None:
    assert found(text) == [("api_key", value)]


@pytest.mark.parametrize(
    "text",
    [
        "we use sk-learn for this",
        "sk-this-is-not-a-real-key-at-all",  # a slug, no digits
        "AKIA12345",  # too short
        "ghp_short",
        "token: the-quick-brown-fox-jumps",  # no digits
        "api_key=aaaaaaaaaaaaaaaaaaaa1",  # one repeated letter: not random
        "token: 12345",  # short
        "password: Please reset it",  # prose
        "the password: required",
        "monkey: 9f8e7d6c5b4a39281706f5e4d3c2b1a0",  # "key" inside a word
        "the header eyJhbGciOiJIUzI1NiJ9 alone",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----",
        "bearer of bad news",
    ],
)
def test_secret_near_misses(text: str) -> None:
    assert_clean(text)


# --- folding and redaction -------------------------------------------------------------


def test_invisible_characters_do_not_hide_an_address() -> None:
    text = "mail jo\u200bhn@exam\u200dple.com now"
    assert found(text) == [("email", "jo\u200bhn@exam\u200dple.com")]
    assert redact(text, find_pii(text)) == "mail [EMAIL] now"


def test_full_width_digits_do_not_hide_a_card() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "4111 1111 1111 1111")
    text = f"card {full_width} ok"
    assert redact(text, find_pii(text)) == "card [CARD] ok"


def test_fold_maps_back_to_the_original() -> None:
    folded = fold("a\u200b\uff22c")
    assert folded.text == "aBc"
    assert folded.original_span(1, 3) == (2, 4)
    assert fold("plain text").origin is None


def test_fold_lower_keeps_offsets_and_maps_look_alikes() -> None:
    text = "ign\u043ere \u216b"  # a Cyrillic o; Roman numeral twelve (NFKC: "XII")
    folded = fold(text, lower=True)
    assert folded.text == "ignore xii"
    assert folded.original_span(7, 10) == (7, 8)
    assert fold_str("Straße\u200b", casefold=True) == "strasse"


def test_every_format_character_is_invisible() -> None:
    # The fast path trusts a fixed list of invisible characters; it must cover category
    # Cf of whatever Unicode version this Python ships.
    format_chars = [
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    ]
    assert format_chars
    missing = [c for c in format_chars if fold_str(f"a{c}b") != "ab"]
    assert missing == []


def test_redact_uses_typed_placeholders() -> None:
    text = (
        "Mail john@example.com, call +44 20 7946 0958, card 4111 1111 1111 1111, "
        "IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, key AKIAIOSFODNN7EXAMPLE."
    )
    assert redact(text, find_pii(text)) == (
        "Mail [EMAIL], call [PHONE], card [CARD], IBAN [IBAN], SSN [NATIONAL_ID], key [API_KEY]."
    )


def test_redact_merges_overlaps_under_the_higher_priority_kind() -> None:
    spans = [Span("phone", 0, 10), Span("email", 5, 15), Span("sensitive_keyword", 20, 24)]
    assert redact("x" * 30, spans) == "[EMAIL]" + "x" * 5 + "[REDACTED]" + "x" * 6


def test_overlapping_detections_keep_the_stronger_kind() -> None:
    # The digits of the card inside the address are part of the address.
    text = "write to 4111111111111111@example.com"
    assert found(text) == [("email", "4111111111111111@example.com")]


@pytest.mark.parametrize(
    "text",
    [
        "Mail john@example.com and call 555-123-4567 about card 4111-1111-1111-1111.",
        "token: 8a7b6c5d4e3f2a1b0c9d8e7f and password=hunter2 and DE89370400440532013000",
        "ids AB123456C 12345678Z 123-45-6789 +33 6 12 34 56 78",
    ],
)
def test_redacted_text_has_nothing_left_to_find(text: str) -> None:
    redacted = redact(text, find_pii(text))
    assert redacted != text
    assert find_pii(redacted) == []
