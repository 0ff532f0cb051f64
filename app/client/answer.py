"""The typed answer the client returns: an ``llm.responses`` record plus conveniences."""

from __future__ import annotations

from decimal import Decimal

from frugalflow.events import ResponseEvent, Status


class Answer(ResponseEvent):
    """One answer: ``status``, ``content``, ``cost_usd``, ``baseline_cost_usd``, ``path``…"""

    @property
    def ok(self) -> bool:
        """A provider answer (``ok``) or a flagged stale/static one (``fallback``)."""
        return self.status in (Status.OK, Status.FALLBACK)

    @property
    def savings_usd(self) -> Decimal:
        """What FrugalFlow saved on this answer: baseline - cost (the levers' sum)."""
        return self.baseline_cost_usd - self.cost_usd
