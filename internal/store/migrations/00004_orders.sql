-- Orders from every channel: the order with its lines, holds and timeline,
-- its tags and search words (for list filters that stay fast at millions of
-- orders), and a per-tenant counter for order numbers. Indexes follow the
-- dashboard's and the API's list queries (newest first within a tenant).

-- +goose Up
CREATE TABLE counters (
    tenant_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    value     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    channel            TEXT NOT NULL,
    channel_id         TEXT NOT NULL DEFAULT '',
    source             TEXT NOT NULL,
    external_id        TEXT NOT NULL,
    number             TEXT NOT NULL,
    placed_at          TIMESTAMP NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    channel_updated_at TIMESTAMP,
    currency           TEXT NOT NULL,
    customer_name      TEXT NOT NULL DEFAULT '',
    customer_email     TEXT NOT NULL DEFAULT '',
    customer_phone     TEXT NOT NULL DEFAULT '',
    email_key          TEXT NOT NULL DEFAULT '',
    shipping_address   TEXT NOT NULL DEFAULT '',
    billing_address    TEXT NOT NULL DEFAULT '',
    ship_country       TEXT NOT NULL DEFAULT '',
    shipping_lines     TEXT NOT NULL DEFAULT '[]',
    taxes_included     BOOLEAN NOT NULL DEFAULT FALSE,
    subtotal           BIGINT NOT NULL,
    shipping_total     BIGINT NOT NULL,
    tax_total          BIGINT NOT NULL,
    discount_total     BIGINT NOT NULL,
    total              BIGINT NOT NULL,
    payment_status     TEXT NOT NULL DEFAULT '',
    risk_level         TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '[]',
    note               TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,
    fulfillment_status TEXT NOT NULL,
    on_hold            BOOLEAN NOT NULL DEFAULT FALSE,
    backordered        BIGINT NOT NULL DEFAULT 0,
    cancelled_at       TIMESTAMP,
    cancel_reason      TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX orders_source ON orders (tenant_id, source, external_id);
CREATE INDEX orders_placed ON orders (tenant_id, placed_at, id);
CREATE INDEX orders_updated ON orders (tenant_id, updated_at, id);
CREATE INDEX orders_total ON orders (tenant_id, total, id);
CREATE INDEX orders_status ON orders (tenant_id, status, placed_at, id);
CREATE INDEX orders_fulfillment ON orders (tenant_id, fulfillment_status, placed_at, id);
CREATE INDEX orders_channel ON orders (tenant_id, channel, placed_at, id);
CREATE INDEX orders_country ON orders (tenant_id, ship_country, placed_at, id);
CREATE INDEX orders_email ON orders (tenant_id, email_key, placed_at);
CREATE INDEX orders_number ON orders (tenant_id, number);
CREATE INDEX orders_on_hold ON orders (tenant_id, placed_at, id) WHERE on_hold;
CREATE INDEX orders_backordered ON orders (placed_at, id) WHERE backordered > 0 AND status = 'open';

CREATE TABLE order_lines (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    line_no     INTEGER NOT NULL,
    product_id  TEXT NOT NULL DEFAULT '',
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    external_id TEXT NOT NULL DEFAULT '',
    quantity    BIGINT NOT NULL,
    cancelled   BIGINT NOT NULL DEFAULT 0,
    fulfilled   BIGINT NOT NULL DEFAULT 0,
    reserved    BIGINT NOT NULL DEFAULT 0,
    backordered BIGINT NOT NULL DEFAULT 0,
    facility_id TEXT NOT NULL DEFAULT '',
    unit_price  BIGINT NOT NULL,
    discount    BIGINT NOT NULL DEFAULT 0,
    tax_lines   TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX order_lines_order ON order_lines (order_id, line_no);
CREATE INDEX order_lines_sku ON order_lines (tenant_id, sku, order_id);

CREATE TABLE order_holds (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    reason      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    released_at TIMESTAMP,
    released_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_holds_order ON order_holds (order_id, created_at);
CREATE INDEX order_holds_active ON order_holds (tenant_id, reason, order_id) WHERE released_at IS NULL;

CREATE TABLE order_tags (
    tenant_id TEXT NOT NULL,
    tag       TEXT NOT NULL,
    order_id  TEXT NOT NULL REFERENCES orders (id),
    PRIMARY KEY (tenant_id, tag, order_id)
);
CREATE INDEX order_tags_order ON order_tags (order_id);

-- Lower-case words of the customer, e-mail, number, SKUs, city and postal
-- code, searched by prefix with a range on the primary key.
CREATE TABLE order_search (
    tenant_id TEXT NOT NULL,
    term      TEXT NOT NULL,
    order_id  TEXT NOT NULL REFERENCES orders (id),
    PRIMARY KEY (tenant_id, term, order_id)
);
CREATE INDEX order_search_order ON order_search (order_id, term);

CREATE TABLE order_timeline (
    id        TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    order_id  TEXT NOT NULL REFERENCES orders (id),
    at        TIMESTAMP NOT NULL,
    actor     TEXT NOT NULL DEFAULT '',
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL,
    data      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, id);

-- Reservations of order lines are found by their line.
CREATE INDEX reservations_ref ON reservations (tenant_id, ref_type, ref_id) WHERE status = 'active';

-- Saved views of the orders list, per user.
CREATE TABLE saved_views (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    area       TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX saved_views_name ON saved_views (tenant_id, user_id, area, name);

-- +goose Down
DROP TABLE saved_views;
DROP INDEX reservations_ref;
DROP TABLE order_timeline;
DROP TABLE order_search;
DROP TABLE order_tags;
DROP TABLE order_holds;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE counters;
