"""One emulator per test module, reset before every test (see ``tests/emulator/support.py``)."""

from tests.emulator.support import _fresh_state, emulator, http

__all__ = ["_fresh_state", "emulator", "http"]
