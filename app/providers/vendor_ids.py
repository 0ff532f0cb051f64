"""Gateway model ids ``<vendor>/<model>`` (OpenRouter's form) against the catalog's ids.

OpenRouter names a model by its vendor and the vendor's own id: ``openai/gpt-5.4``,
``google/gemini-3.1-pro-preview``, ``anthropic/claude-sonnet-4.6``. The catalog knows the
same models under their provider's ids, except that Anthropic's write the version with a
hyphen (``claude-sonnet-4-6``) where OpenRouter writes a dot. FrugalFlow accepts both
spellings and names router-chosen models with the catalog's id; on the wire the gateway
gets its own spelling (:func:`wire_id`).
"""

from __future__ import annotations

import re

# Gateway vendor slug -> the catalog provider whose models it serves.
VENDORS: dict[str, str] = {"anthropic": "anthropic", "openai": "openai", "google": "gemini"}
SLUGS: dict[str, str] = {provider: slug for slug, provider in VENDORS.items()}
_DOTTED_VERSION_VENDORS = frozenset({"anthropic"})
_LAST_VERSION = re.compile(r"(\d)-(\d)$")  # claude-sonnet-4-6, not ...-4-5-20250929


def split(vendor_model: str) -> tuple[str, str] | None:
    """``anthropic/claude-sonnet-4.6`` -> (``anthropic``, ``claude-sonnet-4.6``), or None."""
    vendor, slash, name = vendor_model.partition("/")
    if not slash or vendor not in VENDORS or not name:
        return None
    return vendor, name


def catalog_candidates(vendor: str, name: str) -> tuple[str, ...]:
    """The catalog ids ``name`` may stand for, the literal one first."""
    if vendor in _DOTTED_VERSION_VENDORS and "." in name:
        return name, name.replace(".", "-")
    return (name,)


def gateway_id(provider: str, catalog_model: str) -> str:
    """``gemini``, ``gemini-3.5-flash`` -> ``google/gemini-3.5-flash`` (FrugalFlow's id)."""
    return f"{SLUGS[provider]}/{catalog_model}"


def wire_id(vendor_model: str) -> str:
    """The gateway's own spelling: ``anthropic/claude-sonnet-4-6`` -> ``…/claude-sonnet-4.6``.

    Only a trailing one-digit version is rewritten; anything else is sent as written.
    """
    parts = split(vendor_model)
    if parts is None or parts[0] not in _DOTTED_VERSION_VENDORS:
        return vendor_model
    vendor, name = parts
    return vendor + "/" + _LAST_VERSION.sub(r"\1.\2", name)
