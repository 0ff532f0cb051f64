"""The end-to-end ``deployment`` fixture, shared with tests/integration."""

from tests.integration.conftest import deployment

__all__ = ["deployment"]
