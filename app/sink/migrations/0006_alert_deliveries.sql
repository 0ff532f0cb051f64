-- Alert delivery (issue 18): one row per alert and channel, written before the first
-- attempt. The primary key makes delivery idempotent across restarts and redelivered
-- llm.alerts records; state, attempts and the next attempt's time make retries durable.
CREATE TABLE IF NOT EXISTS alert_deliveries (
    alert_id         text NOT NULL,
    channel          text NOT NULL,
    tenant_id        text NOT NULL,
    kind             text NOT NULL,
    alert            jsonb NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    PRIMARY KEY (alert_id, channel)
);
CREATE INDEX IF NOT EXISTS alert_deliveries_due
    ON alert_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS alert_deliveries_by_tenant
    ON alert_deliveries (tenant_id, created_at DESC);
