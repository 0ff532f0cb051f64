"""Real infrastructure the project starts itself: Kafka, Postgres, Redis, Tansu."""
