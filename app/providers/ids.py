"""Provider-safe batch custom ids.

Anthropic requires batch ``custom_id`` to match ``^[a-zA-Z0-9_-]{1,64}$``; our request ids
may be up to 128 arbitrary characters. Adapters therefore submit ``safe_custom_id(id)``
(deterministic, for both providers) and report batch results under that safe id; callers
map back with ``safe_id_map``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

SAFE_CUSTOM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_HEX_CHARS = 40  # 160 bits: collisions are not a practical concern


def safe_custom_id(request_id: str) -> str:
    """``"r" + first 40 hex chars of sha256(request_id)`` (41 chars, always provider-safe)."""
    return "r" + hashlib.sha256(request_id.encode("utf-8")).hexdigest()[:_HEX_CHARS]


def safe_id_map(request_ids: Iterable[str]) -> dict[str, str]:
    """safe id -> original request id, to map batch results back."""
    return {safe_custom_id(request_id): request_id for request_id in request_ids}


def is_safe_custom_id(custom_id: str) -> bool:
    return SAFE_CUSTOM_ID_RE.match(custom_id) is not None
