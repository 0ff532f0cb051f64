"""Webhook signatures, as Stripe and GitHub sign theirs.

Header ``FrugalFlow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the MAC is
over ``"<t>.<raw body>"`` with the channel's secret. A receiver recomputes it over the
raw body, compares in constant time, and rejects timestamps older than a few minutes
(replays). ``verify`` is the receiver's side, for tests and for Python receivers.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "FrugalFlow-Signature"
TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, tolerance_s: int = TOLERANCE_S) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance_s:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
