-- Who fulfils a fulfilment order and how they are told: a facility's
-- connection (the generic 3PL protocol's callback URL and signing secret, a
-- provider adapter such as ShipBob or Amazon MCF with its credentials, or a
-- dropship supplier's e-mail), the request status of each fulfilment order
-- (Shopify's names) with the history of requests and answers, fulfilment
-- orders held on their own, API keys restricted to one facility (a 3PL's),
-- and what fulfilment costs: a cost profile per facility and a supplier's
-- cost per SKU.

-- +goose Up
CREATE TABLE facility_connections (
    facility_id   TEXT PRIMARY KEY REFERENCES facilities (id),
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    method        TEXT NOT NULL,
    callback_url  TEXT NOT NULL DEFAULT '',
    secret        TEXT NOT NULL DEFAULT '',
    settings      TEXT NOT NULL DEFAULT '{}',
    secrets       TEXT NOT NULL DEFAULT '{}',
    email         TEXT NOT NULL DEFAULT '',
    fetch_stock   BOOLEAN NOT NULL DEFAULT FALSE,
    last_stock_at TIMESTAMP,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX facility_connections_tenant ON facility_connections (tenant_id);

ALTER TABLE fulfillment_orders ADD COLUMN request_status TEXT NOT NULL DEFAULT '';
ALTER TABLE fulfillment_orders ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE fulfillment_orders ADD COLUMN provider_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE fulfillment_orders ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fulfillment_orders ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE fulfillment_orders ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
-- A SCHEDULED fulfilment order opens at fulfill_at (pre-orders, subscriptions).
ALTER TABLE fulfillment_orders ADD COLUMN fulfill_at TIMESTAMP;
-- What the 3PL was sent (a fingerprint of lines and address), so a change
-- to the order afterwards is noticed; resend: once the 3PL confirms the
-- cancellation such a change asks for, the new version goes out by itself.
ALTER TABLE fulfillment_orders ADD COLUMN sent_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE fulfillment_orders ADD COLUMN resend BOOLEAN NOT NULL DEFAULT FALSE;
-- A fulfilment order split off another at the same facility holds the
-- units it claims (fulfillment_order_lines); the facility's main one holds
-- the rest. A claimed one is never "active" in the unique index, so it
-- sits beside the main one.
ALTER TABLE fulfillment_orders ADD COLUMN claimed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE fulfillment_order_lines (
    fulfillment_order_id TEXT NOT NULL REFERENCES fulfillment_orders (id),
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    order_id             TEXT NOT NULL REFERENCES orders (id),
    order_line_id        TEXT NOT NULL,
    quantity             BIGINT NOT NULL,
    PRIMARY KEY (fulfillment_order_id, order_line_id)
);
CREATE INDEX fulfillment_order_lines_order ON fulfillment_order_lines (tenant_id, order_id);
-- What the dispatcher has to do next: send a request, send a cancellation,
-- or poll a provider. Empty when nothing.
ALTER TABLE fulfillment_orders ADD COLUMN pending TEXT NOT NULL DEFAULT '';
CREATE INDEX fulfillment_orders_pending ON fulfillment_orders (pending, next_attempt_at);
CREATE INDEX fulfillment_orders_facility ON fulfillment_orders (tenant_id, facility_id, status, id);
CREATE INDEX fulfillment_orders_scheduled ON fulfillment_orders (status, fulfill_at);

CREATE TABLE fulfillment_order_messages (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    fulfillment_order_id TEXT NOT NULL REFERENCES fulfillment_orders (id),
    kind                 TEXT NOT NULL,
    request_status       TEXT NOT NULL,
    reason               TEXT NOT NULL DEFAULT '',
    message              TEXT NOT NULL DEFAULT '',
    actor                TEXT NOT NULL DEFAULT '',
    created_at           TIMESTAMP NOT NULL
);
CREATE INDEX fulfillment_order_messages_fo ON fulfillment_order_messages (fulfillment_order_id, created_at, id);

ALTER TABLE shipments ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE INDEX shipments_external ON shipments (fulfillment_order_id, external_id);

ALTER TABLE api_keys ADD COLUMN facility_id TEXT NOT NULL DEFAULT '';

CREATE TABLE facility_costs (
    facility_id         TEXT PRIMARY KEY REFERENCES facilities (id),
    tenant_id           TEXT NOT NULL REFERENCES tenants (id),
    currency            TEXT NOT NULL,
    per_order           BIGINT NOT NULL DEFAULT 0,
    per_unit            BIGINT NOT NULL DEFAULT 0,
    storage_unit_month  BIGINT NOT NULL DEFAULT 0,
    receiving_unit      BIGINT NOT NULL DEFAULT 0,
    monthly_fixed       BIGINT NOT NULL DEFAULT 0,
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE supplier_costs (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    sku         TEXT NOT NULL,
    currency    TEXT NOT NULL,
    unit_cost   BIGINT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, facility_id, sku)
);

-- +goose Down
DROP TABLE supplier_costs;
DROP TABLE facility_costs;
ALTER TABLE api_keys DROP COLUMN facility_id;
DROP INDEX shipments_external;
ALTER TABLE shipments DROP COLUMN external_id;
DROP TABLE fulfillment_order_messages;
DROP INDEX fulfillment_orders_scheduled;
DROP INDEX fulfillment_orders_facility;
DROP INDEX fulfillment_orders_pending;
ALTER TABLE fulfillment_orders DROP COLUMN pending;
DROP TABLE fulfillment_order_lines;
ALTER TABLE fulfillment_orders DROP COLUMN claimed;
ALTER TABLE fulfillment_orders DROP COLUMN resend;
ALTER TABLE fulfillment_orders DROP COLUMN sent_fingerprint;
ALTER TABLE fulfillment_orders DROP COLUMN fulfill_at;
ALTER TABLE fulfillment_orders DROP COLUMN last_error;
ALTER TABLE fulfillment_orders DROP COLUMN next_attempt_at;
ALTER TABLE fulfillment_orders DROP COLUMN attempts;
ALTER TABLE fulfillment_orders DROP COLUMN provider_ref;
ALTER TABLE fulfillment_orders DROP COLUMN hold_reason;
ALTER TABLE fulfillment_orders DROP COLUMN request_status;
DROP TABLE facility_connections;
