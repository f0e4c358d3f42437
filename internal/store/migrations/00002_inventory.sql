-- Inventory: facilities (own warehouses, 3PLs, dropship suppliers, stores)
-- with bins, an immutable stock ledger, balances kept in step with it,
-- reservations, reorder settings, and the outbox of domain events that the
-- events work delivers.

-- +goose Up
CREATE TABLE facilities (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    addr_name    TEXT NOT NULL DEFAULT '',
    addr_company TEXT NOT NULL DEFAULT '',
    addr_line1   TEXT NOT NULL DEFAULT '',
    addr_line2   TEXT NOT NULL DEFAULT '',
    addr_city    TEXT NOT NULL DEFAULT '',
    addr_region  TEXT NOT NULL DEFAULT '',
    addr_postal  TEXT NOT NULL DEFAULT '',
    addr_country TEXT NOT NULL DEFAULT '',
    addr_phone   TEXT NOT NULL DEFAULT '',
    timezone     TEXT NOT NULL DEFAULT 'UTC',
    cutoff_time  TEXT NOT NULL DEFAULT '',
    priority     INTEGER NOT NULL DEFAULT 100,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX facilities_code ON facilities (tenant_id, code);

CREATE TABLE bins (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    code        TEXT NOT NULL,
    zone        TEXT NOT NULL DEFAULT '',
    aisle       TEXT NOT NULL DEFAULT '',
    bay         TEXT NOT NULL DEFAULT '',
    level       TEXT NOT NULL DEFAULT '',
    position    TEXT NOT NULL DEFAULT '',
    pickable    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX bins_code ON bins (facility_id, code);
CREATE INDEX bins_tenant ON bins (tenant_id, facility_id);

-- Balances per SKU x facility. available = on_hand - reserved is derived.
CREATE TABLE stock_levels (
    tenant_id   TEXT NOT NULL,
    product_id  TEXT NOT NULL REFERENCES products (id),
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    on_hand     BIGINT NOT NULL DEFAULT 0,
    reserved    BIGINT NOT NULL DEFAULT 0,
    incoming    BIGINT NOT NULL DEFAULT 0,
    -- whether the last change left it at or below its reorder point, so the
    -- low-stock alert is sent when it falls there, not on every change
    low_stock   BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (facility_id, product_id)
);
CREATE INDEX stock_levels_product ON stock_levels (tenant_id, product_id);

-- On hand per SKU x facility x bin x lot ('' = no bin / no lot). Sums to
-- stock_levels.on_hand.
CREATE TABLE stock_locations (
    tenant_id   TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    bin_id      TEXT NOT NULL DEFAULT '',
    lot         TEXT NOT NULL DEFAULT '',
    on_hand     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (facility_id, product_id, bin_id, lot)
);

-- The ledger. Rows are never updated or deleted.
CREATE TABLE stock_movements (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    product_id     TEXT NOT NULL,
    facility_id    TEXT NOT NULL,
    bin_id         TEXT NOT NULL DEFAULT '',
    lot            TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    on_hand_delta  BIGINT NOT NULL DEFAULT 0,
    reserved_delta BIGINT NOT NULL DEFAULT 0,
    incoming_delta BIGINT NOT NULL DEFAULT 0,
    reason         TEXT NOT NULL DEFAULT '',
    ref_type       TEXT NOT NULL DEFAULT '',
    ref_id         TEXT NOT NULL DEFAULT '',
    actor          TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX stock_movements_tenant ON stock_movements (tenant_id, id);
CREATE INDEX stock_movements_product ON stock_movements (tenant_id, product_id, facility_id, created_at);
CREATE INDEX stock_movements_ref ON stock_movements (tenant_id, ref_type, ref_id);

CREATE TABLE reservations (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    ref_type    TEXT NOT NULL DEFAULT '',
    ref_id      TEXT NOT NULL DEFAULT '',
    expires_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    closed_at   TIMESTAMP
);
CREATE INDEX reservations_tenant ON reservations (tenant_id, id);
CREATE INDEX reservations_expiry ON reservations (status, expires_at);

CREATE TABLE reservation_lines (
    reservation_id TEXT NOT NULL REFERENCES reservations (id),
    line_no        INTEGER NOT NULL,
    tenant_id      TEXT NOT NULL,
    product_id     TEXT NOT NULL,
    kit_id         TEXT NOT NULL DEFAULT '',
    facility_id    TEXT NOT NULL,
    quantity       BIGINT NOT NULL,
    PRIMARY KEY (reservation_id, line_no)
);

CREATE TABLE reorder_settings (
    tenant_id      TEXT NOT NULL,
    product_id     TEXT NOT NULL REFERENCES products (id),
    lead_time_days INTEGER NOT NULL DEFAULT 0,
    safety_days    INTEGER NOT NULL DEFAULT 0,
    safety_stock   BIGINT NOT NULL DEFAULT 0,
    reorder_point  BIGINT,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, product_id)
);

-- Transfers between facilities: stock leaves the source at once and is
-- incoming at the destination until received.
CREATE TABLE transfers (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    from_facility_id TEXT NOT NULL REFERENCES facilities (id),
    to_facility_id   TEXT NOT NULL REFERENCES facilities (id),
    status           TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    received_at      TIMESTAMP
);
CREATE INDEX transfers_tenant ON transfers (tenant_id, id);

CREATE TABLE transfer_lines (
    transfer_id TEXT NOT NULL REFERENCES transfers (id),
    line_no     INTEGER NOT NULL,
    product_id  TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    PRIMARY KEY (transfer_id, line_no)
);

-- Outbox: a domain change and its event commit together.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    type        TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_type ON events (tenant_id, type, id);

-- +goose Down
DROP TABLE events;
DROP TABLE transfer_lines;
DROP TABLE transfers;
DROP TABLE reorder_settings;
DROP TABLE reservation_lines;
DROP TABLE reservations;
DROP TABLE stock_movements;
DROP TABLE stock_locations;
DROP TABLE stock_levels;
DROP TABLE bins;
DROP TABLE facilities;
