-- What the console shows beside the costs (issue 17), kept by the activity sink
-- (app/sink/activity.py) from the topics that carry it. Redelivery is harmless: alerts
-- and rejections have stable keys, a batch row is replaced by a newer record.

-- Budget and health alerts (llm.alerts). `alert_id` hashes the record's fields.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id     text PRIMARY KEY,
    tenant_id    text NOT NULL,
    kind         text NOT NULL,
    period       text NOT NULL,
    spent_usd    numeric(20, 10) NOT NULL,
    limit_usd    numeric(20, 10) NOT NULL,
    threshold    numeric(20, 10),
    service      text,
    use_case     text,
    detail       text,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_tenant_time ON alerts (tenant_id, occurred_at);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (occurred_at);

-- Answers with status `rejected` (llm.responses): budget hard stops, rate limits, safety.
CREATE TABLE IF NOT EXISTS rejections (
    request_id   text NOT NULL,
    tenant_id    text NOT NULL,
    code         text NOT NULL,
    message      text NOT NULL,
    model        text,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, request_id)
);
CREATE INDEX IF NOT EXISTS rejections_time ON rejections (occurred_at);

-- Provider batch slices (llm.batches), one row per record key, the latest state wins.
CREATE TABLE IF NOT EXISTS batches (
    record_key         text PRIMARY KEY,
    batch_key          text NOT NULL,
    partition          integer NOT NULL,
    provider           text NOT NULL,
    provider_batch_id  text,
    state              text NOT NULL,
    requests           integer NOT NULL,
    tenants            text[] NOT NULL,
    submitted_at       timestamptz,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_updated ON batches (updated_at);
