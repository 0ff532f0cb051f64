-- Tenant policies (issue 5): the partial document an operator sent through the admin API
-- (only what differs from the defaults). Tenant '*' is the default for every tenant; a
-- tenant's own document is merged over it section by section.
CREATE TABLE IF NOT EXISTS tenant_policies (
    tenant_id   text PRIMARY KEY,
    policy      jsonb NOT NULL CHECK (jsonb_typeof(policy) = 'object'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Whether the model that served a request did the job, reported on llm.feedback
-- (kind "route_outcome"); event_id makes redelivery harmless. The learning router reads
-- the daily counts below, never these rows, so a refresh every few seconds stays cheap.
CREATE TABLE IF NOT EXISTS route_outcomes (
    event_id     text PRIMARY KEY,
    tenant_id    text NOT NULL,
    request_id   text NOT NULL,
    use_case     text NOT NULL DEFAULT '',
    model        text NOT NULL,
    tier         text,  -- NULL: the model has no tier, nothing to learn
    success      boolean NOT NULL,
    occurred_at  timestamptz NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS route_outcomes_tenant_time ON route_outcomes (tenant_id, occurred_at);

-- Daily counts of route outcomes with a tier, maintained in the statement that inserts
-- the raw rows (only rows newly inserted are added). `day` is the UTC day of occurred_at.
CREATE TABLE IF NOT EXISTS route_outcome_days (
    tenant_id   text NOT NULL,
    use_case    text NOT NULL DEFAULT '',
    tier        text NOT NULL,
    day         date NOT NULL,
    samples     bigint NOT NULL DEFAULT 0,
    successes   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, use_case, tier, day)
);
-- The refresh query: every tenant's counts of the last 30 days.
CREATE INDEX IF NOT EXISTS route_outcome_days_day ON route_outcome_days (day)
    INCLUDE (tenant_id, use_case, tier, samples, successes);

-- Why the router picked the model of a billed answer ("requested", "complexity:small …").
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS route_reason text;
