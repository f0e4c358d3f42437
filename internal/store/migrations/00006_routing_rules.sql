-- Routing rules: per tenant, applied in position order when an order's
-- lines are given to facilities. Conditions and action are kept as the
-- JSON the API shows.

-- +goose Up
CREATE TABLE routing_rules (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    conditions TEXT NOT NULL DEFAULT '{}',
    action     TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX routing_rules_tenant ON routing_rules (tenant_id, position, id);

-- +goose Down
DROP TABLE routing_rules;
