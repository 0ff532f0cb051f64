-- The `flex` lever (real-time service tier: flex saves, priority costs) and the service
-- mode that billed each answer. Old rows saved nothing on it.
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS savings_flex numeric(20, 10) NOT NULL DEFAULT 0;
ALTER TABLE cost_rollups ADD COLUMN IF NOT EXISTS savings_flex numeric(30, 10) NOT NULL DEFAULT 0;
