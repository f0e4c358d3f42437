-- Background jobs (claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, through
-- the single writer on SQLite), the outbox relay's bookmark on events, and
-- outgoing webhooks: endpoints, one delivery per event and endpoint, and a
-- log of every attempt.

-- +goose Up
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    tenant_id    TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '{}',
    unique_key   TEXT,
    status       TEXT NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TIMESTAMP NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMP,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
CREATE INDEX jobs_ready ON jobs (status, run_at);
CREATE INDEX jobs_kind ON jobs (kind, status);

ALTER TABLE events ADD COLUMN dispatched_at TIMESTAMP;
CREATE INDEX events_undispatched ON events (id) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_endpoints (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id),
    url                 TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    events              TEXT NOT NULL,
    secret              TEXT NOT NULL,
    previous_secret     TEXT NOT NULL DEFAULT '',
    previous_expires_at TIMESTAMP,
    status              TEXT NOT NULL,
    disabled_reason     TEXT NOT NULL DEFAULT '',
    failing_since       TIMESTAMP,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, id);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_id         TEXT NOT NULL REFERENCES events (id),
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    next_attempt_at  TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, endpoint_id, id);

CREATE TABLE webhook_attempts (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt_no    INTEGER NOT NULL,
    url           TEXT NOT NULL,
    status_code   INTEGER NOT NULL DEFAULT 0,
    response_body TEXT NOT NULL DEFAULT '',
    latency_ms    BIGINT NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt_no);

-- Which e-mail notifications a tenant wants; a missing row means on.
CREATE TABLE notification_settings (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    kind      TEXT NOT NULL,
    enabled   BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

-- +goose Down
DROP TABLE notification_settings;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP INDEX events_undispatched;
ALTER TABLE events DROP COLUMN dispatched_at;
DROP TABLE jobs;
