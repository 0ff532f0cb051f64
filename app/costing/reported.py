"""Our cost against the cost a provider reports for the same answer (OpenRouter's usage.cost).

The two should agree: both price the same tokens at the vendor's list price. They differ
by rounding (the provider reports a float, in credits) and, beyond that, when one side's
price is not the other's: a price change the catalog has not caught up with, a
negotiated discount, tokens billed that the usage did not show. A difference above
:func:`tolerance` is flagged on the answer and the cost event (``cost_mismatch``),
logged, and counted (``frugalflow_provider_cost_mismatch_total``).
"""

from __future__ import annotations

from decimal import Decimal

ABSOLUTE_TOLERANCE = Decimal("0.000001")  # a millionth of a dollar: float and credit rounding
RELATIVE_TOLERANCE = Decimal("0.01")  # 1 % of our cost


def tolerance(ours: Decimal) -> Decimal:
    return max(ABSOLUTE_TOLERANCE, abs(ours) * RELATIVE_TOLERANCE)


def cost_mismatch(ours: Decimal, reported: Decimal) -> bool:
    """Whether the provider's figure differs from ours by more than :func:`tolerance`."""
    return abs(reported - ours) > tolerance(ours)
