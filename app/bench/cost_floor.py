"""The document workload's reference prices, and why a run costs more than the floor.

All arithmetic is exact ``Decimal`` on catalog prices (USD per token):

* ``reference_costs``: per million documents of a shape, the standard real-time price with
  no caching ($13,500 for PipesHub's shape on a $3/$15 model) and the floor, where the
  batch discount applies and every document reads the shared prefix from the prompt
  cache ($4,725);
* ``floor_gap``: a run's measured cost minus the floor for its document count, split by
  the token differences that cause it, each priced on the batch path. The parts add up to
  exactly what the run's tokens cost in batch minus the floor; whatever the cost rows hold
  beyond that (an answer off the batch path, 1-hour cache writes) is the residual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from frugalflow.bench.workloads import PIPESHUB, DocumentShape
from frugalflow.costing.catalog import ModelPrice

ONE_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class ShapeCosts:
    """What documents of one token shape cost: list price, and batch + cached prefix."""

    standard: Decimal
    floor: Decimal


def shape_costs(
    price: ModelPrice, *, input_tokens: int, cached_tokens: int, output_tokens: int,
    documents: int = ONE_MILLION,
) -> ShapeCosts:  # fmt: skip
    """``input_tokens`` is the whole prompt, ``cached_tokens`` the part read from the cache."""
    standard = (input_tokens * price.input + output_tokens * price.output) * documents
    cached = (
        cached_tokens * price.cache_read
        + (input_tokens - cached_tokens) * price.input
        + output_tokens * price.output
    )
    return ShapeCosts(standard, cached * (1 - price.mode_discount("batch")) * documents)


def reference_costs(
    price: ModelPrice, shape: DocumentShape = PIPESHUB, documents: int = ONE_MILLION
) -> ShapeCosts:
    """For ``documents`` of ``shape``: $13,500 and $4,725 per million on a $3/$15 model."""
    return shape_costs(
        price, input_tokens=shape.input_tokens, cached_tokens=shape.prefix_tokens,
        output_tokens=shape.output_tokens, documents=documents,
    )  # fmt: skip


def per_million(total: Decimal, documents: int) -> Decimal:
    """``total`` for ``documents`` scaled to one million, exactly (``documents`` divides it)."""
    if ONE_MILLION % documents:
        raise ValueError(f"{documents} does not divide 1,000,000")
    return total * (ONE_MILLION // documents)


@dataclass(frozen=True, slots=True)
class GapPart:
    """One reason a run costs more (or less) than the floor for its documents."""

    reason: str
    tokens: int  # the run's tokens that differ from the reference shape
    usd: Decimal  # what they add on the batch path, for the run's documents


def floor_gap(
    price: ModelPrice, tokens: Mapping[str, int], documents: int,
    shape: DocumentShape = PIPESHUB,
) -> list[GapPart]:  # fmt: skip
    """The run's token sums (normalized usage columns) against ``documents`` x ``shape``.

    A cache write replaces a read of the same tokens, so it is priced as the premium
    (write - read); the prefix tokens then count once, written or read.
    """
    kept = 1 - price.mode_discount("batch")
    writes, reads = tokens["cache_write_tokens"], tokens["cache_read_tokens"]
    prefix = writes + reads - documents * shape.prefix_tokens
    uncached = tokens["input_tokens"] - documents * (shape.input_tokens - shape.prefix_tokens)
    output = tokens["output_tokens"] - documents * shape.output_tokens
    return [
        GapPart(
            "prompt-cache writes instead of reads (premium: write - read price)",
            writes, writes * (price.cache_write_5m - price.cache_read) * kept,
        ),
        GapPart(
            f"prefix tokens cached beyond {shape.prefix_tokens:,} a document",
            prefix, prefix * price.cache_read * kept,
        ),
        GapPart(
            f"uncached input beyond {shape.input_tokens - shape.prefix_tokens:,} a document",
            uncached, uncached * price.input * kept,
        ),
        GapPart(
            f"output beyond {shape.output_tokens:,} a document",
            output, output * price.output * kept,
        ),
    ]  # fmt: skip
