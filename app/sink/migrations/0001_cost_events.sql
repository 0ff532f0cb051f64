-- Raw cost events, one row per answer; event_id makes redelivery harmless.
CREATE TABLE IF NOT EXISTS cost_events (
    event_id            text PRIMARY KEY,
    request_id          text NOT NULL,
    tenant_id           text NOT NULL,
    service             text,
    use_case            text,
    provider            text,
    model               text,
    path                text NOT NULL,
    input_tokens        integer NOT NULL,
    output_tokens       integer NOT NULL,
    cache_write_tokens  integer NOT NULL,
    cache_read_tokens   integer NOT NULL,
    cost_usd            numeric(20, 10) NOT NULL,
    baseline_cost_usd   numeric(20, 10) NOT NULL,
    savings_batch       numeric(20, 10) NOT NULL,
    savings_prompt_cache   numeric(20, 10) NOT NULL,
    savings_response_cache numeric(20, 10) NOT NULL,
    savings_pattern     numeric(20, 10) NOT NULL,
    savings_routing     numeric(20, 10) NOT NULL,
    success             boolean NOT NULL,
    occurred_at         timestamptz NOT NULL,
    stored_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cost_events_tenant_time ON cost_events (tenant_id, occurred_at);
