-- Fulfilment orders (Shopify's model): one per order × facility, holding the
-- order's lines whose stock is reserved there. What they hold is derived
-- from the order's active reservations; this table keeps only what the API
-- must remember: a stable id and a status. active is TRUE while the
-- fulfilment order can still be worked and NULL once it is closed or
-- cancelled, so (order, facility, active) is unique among open ones while a
-- new one can open after one closes (NULLs never collide, on either engine).
-- Shipments record what left a facility for an order, with their lines.

-- +goose Up
CREATE TABLE fulfillment_orders (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    order_id    TEXT NOT NULL REFERENCES orders (id),
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    status      TEXT NOT NULL,
    active      BOOLEAN,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (order_id, facility_id, active)
);
CREATE INDEX fulfillment_orders_tenant ON fulfillment_orders (tenant_id, id);

CREATE TABLE shipments (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    order_id             TEXT NOT NULL REFERENCES orders (id),
    fulfillment_order_id TEXT NOT NULL REFERENCES fulfillment_orders (id),
    facility_id          TEXT NOT NULL REFERENCES facilities (id),
    carrier              TEXT NOT NULL DEFAULT '',
    service              TEXT NOT NULL DEFAULT '',
    tracking_number      TEXT NOT NULL DEFAULT '',
    tracking_url         TEXT NOT NULL DEFAULT '',
    created_at           TIMESTAMP NOT NULL
);
CREATE INDEX shipments_order ON shipments (tenant_id, order_id, id);
CREATE INDEX shipments_fulfillment_order ON shipments (fulfillment_order_id, id);

CREATE TABLE shipment_lines (
    shipment_id   TEXT NOT NULL REFERENCES shipments (id),
    order_line_id TEXT NOT NULL,
    sku           TEXT NOT NULL,
    quantity      BIGINT NOT NULL,
    PRIMARY KEY (shipment_id, order_line_id)
);

-- +goose Down
DROP TABLE shipment_lines;
DROP TABLE shipments;
DROP TABLE fulfillment_orders;
