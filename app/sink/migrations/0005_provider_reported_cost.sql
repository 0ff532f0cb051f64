-- What the provider says it billed for an answer (OpenRouter's usage.cost), beside our own
-- cost, and whether the two differ beyond the tolerance (app/costing/reported.py). NULL
-- when the provider reports no cost (every provider but OpenRouter, and older rows).
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS provider_reported_cost_usd numeric(20, 10);
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS cost_mismatch boolean;
