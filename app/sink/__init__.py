"""The cost sink: ``llm.cost-events`` → Postgres (idempotent on ``event_id``) + Prometheus."""
