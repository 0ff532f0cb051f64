"""The FrugalFlow client for upstream services (issue 18): publish requests, get answers.

``FrugalFlowClient`` (asyncio, on aiokafka) and ``SyncClient`` (scripts) publish
``NEW_RECORD`` requests checked with intake's own validation, correlate answers on
``request_id`` over one shared reply consumer, and book direct provider calls with
``track_cost``. Errors are in ``frugalflow.client.errors``.
"""

from frugalflow.client.answer import Answer
from frugalflow.client.client import FrugalFlowClient
from frugalflow.client.config import ClientConfig
from frugalflow.client.errors import (
    AnswerTimeout,
    ClientError,
    ClientNotStarted,
    InvalidRequest,
    PublishError,
    TrackingError,
)
from frugalflow.client.sync import SyncClient
from frugalflow.client.track import CostTracker

__all__ = [
    "Answer",
    "AnswerTimeout",
    "ClientConfig",
    "ClientError",
    "ClientNotStarted",
    "CostTracker",
    "FrugalFlowClient",
    "InvalidRequest",
    "PublishError",
    "SyncClient",
    "TrackingError",
]
