-- Sales-channel connections (Shopify, WooCommerce, Ecwid, Amazon, eBay):
-- settings, secrets (needed in clear to check webhook signatures and call
-- the vendor; never shown back), the reconciliation poll's high-water mark,
-- and the webhook deliveries already applied (duplicates are dropped).

-- +goose Up
CREATE TABLE channels (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    settings     TEXT NOT NULL DEFAULT '{}',
    secrets      TEXT NOT NULL DEFAULT '{}',
    poll_since   TIMESTAMP,
    poll_cursor  TEXT NOT NULL DEFAULT '',
    last_poll_at TIMESTAMP,
    last_error   TEXT NOT NULL DEFAULT '',
    last_hook_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX channels_name ON channels (tenant_id, name);

CREATE TABLE channel_deliveries (
    channel_id  TEXT NOT NULL REFERENCES channels (id),
    delivery_id TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, delivery_id)
);
CREATE INDEX channel_deliveries_received ON channel_deliveries (received_at);

-- +goose Down
DROP TABLE channel_deliveries;
DROP TABLE channels;
