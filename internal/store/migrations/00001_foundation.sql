-- Foundation: tenants, people and keys that act for them, the catalogue, and
-- the idempotency record every POST goes through. One text for both engines:
-- TEXT ids (prefixed UUIDv7), BIGINT money in minor units, TIMESTAMP in UTC.

-- +goose Up
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL DEFAULT 'UTC',
    currency    TEXT NOT NULL DEFAULT 'USD',
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tenants_name ON tenants (name);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP,
    disabled_at   TIMESTAMP
);
-- A person signs in with an e-mail address alone, so it is unique across tenants.
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_tenant ON users (tenant_id, id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BYTEA NOT NULL,
    expiry TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

CREATE TABLE products (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    sku               TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    vendor            TEXT NOT NULL DEFAULT '',
    product_type      TEXT NOT NULL DEFAULT '',
    weight_g          BIGINT NOT NULL DEFAULT 0,
    length_mm         BIGINT NOT NULL DEFAULT 0,
    width_mm          BIGINT NOT NULL DEFAULT 0,
    height_mm         BIGINT NOT NULL DEFAULT 0,
    currency          TEXT NOT NULL,
    price_minor       BIGINT,
    cost_minor        BIGINT,
    hs_code           TEXT NOT NULL DEFAULT '',
    country_of_origin TEXT NOT NULL DEFAULT '',
    allow_backorder   BOOLEAN NOT NULL DEFAULT FALSE,
    lot_tracked       BOOLEAN NOT NULL DEFAULT FALSE,
    serial_tracked    BOOLEAN NOT NULL DEFAULT FALSE,
    is_kit            BOOLEAN NOT NULL DEFAULT FALSE,
    archived_at       TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    -- lower-cased sku, name and vendor, for substring search on both engines
    search_text       TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX products_sku ON products (tenant_id, sku);
CREATE INDEX products_tenant_id ON products (tenant_id, id);

CREATE TABLE product_barcodes (
    tenant_id  TEXT NOT NULL,
    code       TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    kind       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, code)
);
CREATE INDEX product_barcodes_product ON product_barcodes (product_id);

CREATE TABLE product_tags (
    tenant_id  TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    tag        TEXT NOT NULL,
    PRIMARY KEY (product_id, tag)
);
CREATE INDEX product_tags_tag ON product_tags (tenant_id, tag, product_id);

CREATE TABLE kit_components (
    tenant_id    TEXT NOT NULL,
    kit_id       TEXT NOT NULL REFERENCES products (id),
    component_id TEXT NOT NULL REFERENCES products (id),
    quantity     BIGINT NOT NULL,
    position     INTEGER NOT NULL,
    PRIMARY KEY (kit_id, component_id)
);
CREATE INDEX kit_components_component ON kit_components (component_id);

-- Stripe-style idempotency: one row per (tenant, key); the stored response is
-- replayed for a retry with the same body.
CREATE TABLE idempotency_keys (
    tenant_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    state         TEXT NOT NULL,
    -- set in the same transaction as the request's own writes: a key whose
    -- request committed but never stored its response is never run again
    committed     BOOLEAN NOT NULL DEFAULT FALSE,
    status_code   INTEGER NOT NULL DEFAULT 0,
    response_type TEXT NOT NULL DEFAULT '',
    response_body BYTEA,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE kit_components;
DROP TABLE product_tags;
DROP TABLE product_barcodes;
DROP TABLE products;
DROP TABLE sessions;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE tenants;
