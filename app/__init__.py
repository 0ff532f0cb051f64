"""FrugalFlow: a Kafka stream processor that makes each LLM call as cheap as its deadline allows."""

__version__ = "0.1.0"
