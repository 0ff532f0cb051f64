"""A local emulator of the Anthropic and OpenAI APIs FrugalFlow uses.

Serves Messages + Message Batches and Chat Completions + Files + Batch over real HTTP so
the official SDKs work unchanged via ``base_url``; deterministic answers and token counts
(see ``tokens``/``answers``), prompt-cache simulation (``prompt_cache``), and fault
injection (``config``/``faults``), configurable at runtime under ``/_emulator``.
"""

from frugalflow.emulator.config import EmulatorConfig
from frugalflow.emulator.server import EmulatorServer, create_app, run

__all__ = ["EmulatorConfig", "EmulatorServer", "create_app", "run"]
