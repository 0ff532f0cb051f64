-- Daily rollups of cost events, maintained by CostStore.insert in the same statement
-- that inserts the raw rows (only rows newly inserted are added, so redelivery is
-- harmless). NULL attributions are stored as '' so they are part of the unique key.
-- `day` is the UTC calendar day of `occurred_at`.
CREATE TABLE IF NOT EXISTS cost_rollups (
    tenant_id              text NOT NULL,
    day                    date NOT NULL,
    provider               text NOT NULL DEFAULT '',
    model                  text NOT NULL DEFAULT '',
    path                   text NOT NULL,
    service                text NOT NULL DEFAULT '',
    use_case               text NOT NULL DEFAULT '',
    requests               bigint NOT NULL DEFAULT 0,
    successes              bigint NOT NULL DEFAULT 0,
    input_tokens           bigint NOT NULL DEFAULT 0,
    output_tokens          bigint NOT NULL DEFAULT 0,
    cache_write_tokens     bigint NOT NULL DEFAULT 0,
    cache_read_tokens      bigint NOT NULL DEFAULT 0,
    cost_usd               numeric(30, 10) NOT NULL DEFAULT 0,
    baseline_cost_usd      numeric(30, 10) NOT NULL DEFAULT 0,
    savings_batch          numeric(30, 10) NOT NULL DEFAULT 0,
    savings_prompt_cache   numeric(30, 10) NOT NULL DEFAULT 0,
    savings_response_cache numeric(30, 10) NOT NULL DEFAULT 0,
    savings_pattern        numeric(30, 10) NOT NULL DEFAULT 0,
    savings_routing        numeric(30, 10) NOT NULL DEFAULT 0,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, day, provider, model, path, service, use_case)
);
CREATE INDEX IF NOT EXISTS cost_rollups_day ON cost_rollups (day);

-- Rows stored before this migration: roll them up once (later rows are rolled up on insert).
INSERT INTO cost_rollups (
    tenant_id, day, provider, model, path, service, use_case, requests, successes,
    input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd,
    baseline_cost_usd, savings_batch, savings_prompt_cache, savings_response_cache,
    savings_pattern, savings_routing)
SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, COALESCE(provider, ''),
       COALESCE(model, ''), path, COALESCE(service, ''), COALESCE(use_case, ''), count(*),
       count(*) FILTER (WHERE success), sum(input_tokens), sum(output_tokens),
       sum(cache_write_tokens), sum(cache_read_tokens), sum(cost_usd), sum(baseline_cost_usd),
       sum(savings_batch), sum(savings_prompt_cache), sum(savings_response_cache),
       sum(savings_pattern), sum(savings_routing)
FROM cost_events
GROUP BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT DO NOTHING;

-- Budgets per tenant, optionally narrowed to a service and/or a use case ('' = any).
CREATE TABLE IF NOT EXISTS budgets (
    tenant_id          text NOT NULL,
    service            text NOT NULL DEFAULT '',
    use_case           text NOT NULL DEFAULT '',
    daily_limit_usd    numeric(20, 10) CHECK (daily_limit_usd IS NULL OR daily_limit_usd >= 0),
    monthly_limit_usd  numeric(20, 10)
        CHECK (monthly_limit_usd IS NULL OR monthly_limit_usd >= 0),
    alert_thresholds   numeric[] NOT NULL DEFAULT '{0.8,1.0}',
    hard_stop_ratio    numeric NOT NULL DEFAULT 1.5 CHECK (hard_stop_ratio > 0),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, service, use_case)
);

-- A/B experiments and their outcomes; outcome event_id makes redelivery harmless.
CREATE TABLE IF NOT EXISTS experiments (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    tenant_id   text NOT NULL,
    variants    jsonb NOT NULL DEFAULT '[]'::jsonb,
    status      text NOT NULL DEFAULT 'draft',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS outcomes (
    event_id       text PRIMARY KEY,
    experiment_id  text NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    variant        text NOT NULL,
    user_id        text,
    kind           text NOT NULL
        CHECK (kind IN ('impression', 'adoption', 'conversion', 'satisfaction')),
    value          numeric NOT NULL DEFAULT 1,
    occurred_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outcomes_by_variant
    ON outcomes (experiment_id, variant, kind);
