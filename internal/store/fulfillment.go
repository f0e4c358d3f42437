package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/waybill/waybill/internal/order"
)

// Fulfilment orders and shipments, and the reservation parts consuming
// part of a reservation needs.

func (t *invTx) ShrinkReservationLine(ctx context.Context, tenantID, reservationID string, lineNo int, by int64) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE reservation_lines SET quantity = quantity - $4
		WHERE tenant_id = $1 AND reservation_id = $2 AND line_no = $3 AND quantity >= $4
		  AND EXISTS (SELECT 1 FROM reservations r WHERE r.id = $2 AND r.tenant_id = $1 AND r.status = 'active')`,
		tenantID, reservationID, lineNo, by)
	if err != nil {
		return false, wrap("store.ShrinkReservationLine", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *invTx) KitComponents(ctx context.Context, tenantID, kitID string) (map[string]int64, error) {
	const op = "store.KitComponents"
	rows, err := t.tx.QueryContext(ctx, `SELECT component_id, quantity FROM kit_components WHERE tenant_id = $1 AND kit_id = $2`, tenantID, kitID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var pid string
		var q int64
		if err := rows.Scan(&pid, &q); err != nil {
			return nil, wrap(op, err)
		}
		out[pid] += q
	}
	return out, wrap(op, rows.Err())
}

// OrderReservations reads each active reservation of an order's lines with
// the facility of its first line (ReserveIn holds a line's units at one
// facility per reservation).
func (t *orderTx) OrderReservations(ctx context.Context, tenantID, orderID string) ([]order.LineReservation, error) {
	const op = "store.OrderReservations"
	rows, err := t.tx.QueryContext(ctx, `SELECT r.id, ol.id, rl.facility_id FROM order_lines ol
		JOIN reservations r ON r.tenant_id = ol.tenant_id AND r.ref_type = 'order_line' AND r.ref_id = ol.id AND r.status = 'active'
		JOIN reservation_lines rl ON rl.reservation_id = r.id AND rl.line_no = 0
		WHERE ol.tenant_id = $1 AND ol.order_id = $2 ORDER BY ol.line_no, r.id`, tenantID, orderID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []order.LineReservation
	for rows.Next() {
		var lr order.LineReservation
		if err := rows.Scan(&lr.ReservationID, &lr.LineID, &lr.FacilityID); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, lr)
	}
	return out, wrap(op, rows.Err())
}

func (t *orderTx) MissingFulfillmentOrders(ctx context.Context, tenantID, orderID string) ([][2]string, error) {
	const op = "store.MissingFulfillmentOrders"
	const missing = ` AND NOT EXISTS (SELECT 1 FROM fulfillment_orders f WHERE f.tenant_id = $1 AND f.order_id = ol.order_id AND f.facility_id = rl.facility_id AND f.active = TRUE)`
	// For one order, start from its lines (CROSS JOIN keeps SQLite's
	// planner to that order): the tenant's active reservations may be many.
	q := `SELECT DISTINCT ol.order_id, rl.facility_id FROM order_lines ol
		CROSS JOIN reservations r CROSS JOIN reservation_lines rl
		WHERE ol.order_id = $2 AND ol.tenant_id = $1
		  AND r.tenant_id = $1 AND r.ref_type = 'order_line' AND r.ref_id = ol.id AND r.status = 'active'
		  AND rl.reservation_id = r.id` + missing
	args := []any{tenantID, orderID}
	if orderID == "" {
		q = `SELECT DISTINCT ol.order_id, rl.facility_id FROM reservations r
		JOIN order_lines ol ON ol.id = r.ref_id AND ol.tenant_id = r.tenant_id
		JOIN reservation_lines rl ON rl.reservation_id = r.id
		WHERE r.tenant_id = $1 AND r.ref_type = 'order_line' AND r.status = 'active'` + missing
		args = args[:1]
	}
	rows, err := t.tx.QueryContext(ctx, q+` ORDER BY 1, 2`, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, p)
	}
	return out, wrap(op, rows.Err())
}

// activeMark is what the active column holds for a status: TRUE while the
// fulfilment order can be worked, NULL after (see 00007_fulfillment.sql).
func activeMark(f *order.FulfillmentOrder) any {
	if f.Claimed || f.Status == order.FulfillmentClosed || f.Status == order.FulfillmentCancelled {
		return nil
	}
	return true
}

func (t *orderTx) InsertFulfillmentOrder(ctx context.Context, f *order.FulfillmentOrder) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO fulfillment_orders (id, tenant_id, order_id, facility_id, status, active, hold_reason, request_status,
		provider_ref, pending, attempts, next_attempt_at, last_error, fulfill_at, sent_fingerprint, resend, claimed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT DO NOTHING`,
		f.ID, f.TenantID, f.OrderID, f.FacilityID, string(f.Status), activeMark(f), f.HoldReason, string(f.RequestStatus),
		f.ProviderRef, f.Pending, f.Attempts, f.NextAttemptAt, f.LastError, f.FulfillAt, f.SentFingerprint, f.Resend, f.Claimed, f.CreatedAt, f.UpdatedAt)
	return wrap("store.InsertFulfillmentOrder", err)
}

func (t *orderTx) SaveFulfillmentOrder(ctx context.Context, f *order.FulfillmentOrder) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE fulfillment_orders SET status = $3, active = $4, hold_reason = $5, request_status = $6,
		provider_ref = $7, pending = $8, attempts = $9, next_attempt_at = $10, last_error = $11, fulfill_at = $12, sent_fingerprint = $13, resend = $14,
		updated_at = $15 WHERE tenant_id = $1 AND id = $2`,
		f.TenantID, f.ID, string(f.Status), activeMark(f), f.HoldReason, string(f.RequestStatus),
		f.ProviderRef, f.Pending, f.Attempts, f.NextAttemptAt, f.LastError, f.FulfillAt, f.SentFingerprint, f.Resend, f.UpdatedAt)
	return affected("store.SaveFulfillmentOrder", "fulfillment order", res, err)
}

const fulfillmentCols = `id, tenant_id, order_id, facility_id, status, hold_reason, request_status, provider_ref, pending, attempts,
	next_attempt_at, last_error, fulfill_at, sent_fingerprint, resend, claimed, created_at, updated_at`

func scanFulfillmentOrder(row interface{ Scan(...any) error }) (order.FulfillmentOrder, error) {
	var f order.FulfillmentOrder
	var next, at sql.NullTime
	err := row.Scan(&f.ID, &f.TenantID, &f.OrderID, &f.FacilityID, &f.Status, &f.HoldReason, &f.RequestStatus, &f.ProviderRef, &f.Pending, &f.Attempts,
		&next, &f.LastError, &at, &f.SentFingerprint, &f.Resend, &f.Claimed, &f.CreatedAt, &f.UpdatedAt)
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	f.NextAttemptAt, f.FulfillAt = timePtr(next), timePtr(at)
	return f, err
}

func (t *orderTx) FulfillmentOrders(ctx context.Context, tenantID string, f order.FulfillmentFilter) ([]order.FulfillmentOrder, error) {
	const op = "store.FulfillmentOrders"
	where := `tenant_id = $1`
	args := []any{tenantID}
	add := func(cond string, v any) {
		args = append(args, v)
		where += ` AND ` + cond + ` $` + itoa(len(args))
	}
	if f.OrderID != "" {
		add("order_id =", f.OrderID)
	}
	if f.FacilityID != "" {
		add("facility_id =", f.FacilityID)
	}
	if f.Status != "" {
		add("status =", string(f.Status))
	}
	if f.RequestStatus != "" {
		add("request_status =", string(f.RequestStatus))
	}
	if f.After != "" {
		add("id >", f.After)
	}
	args = append(args, max(f.Limit, 1))
	rows, err := t.tx.QueryContext(ctx, `SELECT `+fulfillmentCols+` FROM fulfillment_orders WHERE `+where+` ORDER BY id LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []order.FulfillmentOrder
	for rows.Next() {
		fo, err := scanFulfillmentOrder(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, fo)
	}
	return out, wrap(op, rows.Err())
}

func (t *orderTx) LockFulfillmentOrder(ctx context.Context, tenantID, id string) (order.FulfillmentOrder, error) {
	fo, err := scanFulfillmentOrder(t.tx.QueryRowContext(ctx, `SELECT `+fulfillmentCols+` FROM fulfillment_orders WHERE tenant_id = $1 AND id = $2`+t.locking(), tenantID, id))
	if err != nil {
		return fo, notFound("store.FulfillmentOrder", "fulfillment order", err)
	}
	return fo, nil
}

func (t *orderTx) InsertShipment(ctx context.Context, sh *order.Shipment) error {
	const op = "store.InsertShipment"
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO shipments (id, tenant_id, order_id, fulfillment_order_id, facility_id, carrier, service, tracking_number, tracking_url,
		external_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		sh.ID, sh.TenantID, sh.OrderID, sh.FulfillmentOrderID, sh.FacilityID, sh.Carrier, sh.Service, sh.TrackingNumber, sh.TrackingURL, sh.ExternalID, sh.CreatedAt); err != nil {
		return wrap(op, err)
	}
	for _, l := range sh.Lines {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO shipment_lines (shipment_id, order_line_id, sku, quantity) VALUES ($1, $2, $3, $4)`,
			sh.ID, l.LineID, l.SKU, l.Quantity); err != nil {
			return wrap(op, err)
		}
	}
	return nil
}

func (t *orderTx) Shipped(ctx context.Context, tenantID, orderID string) (map[[2]string]int64, error) {
	const op = "store.Shipped"
	rows, err := t.tx.QueryContext(ctx, `SELECT s.fulfillment_order_id, l.order_line_id, CAST(SUM(l.quantity) AS BIGINT) FROM shipments s
		JOIN shipment_lines l ON l.shipment_id = s.id
		WHERE s.tenant_id = $1 AND s.order_id = $2 GROUP BY s.fulfillment_order_id, l.order_line_id`, tenantID, orderID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	out := map[[2]string]int64{}
	for rows.Next() {
		var k [2]string
		var n sql.NullInt64
		if err := rows.Scan(&k[0], &k[1], &n); err != nil {
			return nil, wrap(op, err)
		}
		out[k] = n.Int64
	}
	return out, wrap(op, rows.Err())
}

func (t *orderTx) ShipmentByExternalID(ctx context.Context, tenantID, foID, externalID string) (string, bool, error) {
	var id string
	err := t.tx.QueryRowContext(ctx, `SELECT id FROM shipments WHERE tenant_id = $1 AND fulfillment_order_id = $2 AND external_id = $3`,
		tenantID, foID, externalID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	return id, err == nil, wrap("store.ShipmentByExternalID", err)
}

func (t *orderTx) AddRequestMessage(ctx context.Context, tenantID string, m order.RequestMessage) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO fulfillment_order_messages (id, tenant_id, fulfillment_order_id, kind, request_status, reason, message, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.ID, tenantID, m.FulfillmentOrderID, m.Kind, string(m.RequestStatus), m.Reason, m.Message, m.Actor, m.CreatedAt)
	return wrap("store.AddRequestMessage", err)
}

// RequestMessages lists a fulfilment order's request history, oldest first.
func (s *Orders) RequestMessages(ctx context.Context, tenantID, foID string) ([]order.RequestMessage, error) {
	const op = "store.RequestMessages"
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, fulfillment_order_id, kind, request_status, reason, message, actor, created_at
		FROM fulfillment_order_messages WHERE tenant_id = $1 AND fulfillment_order_id = $2 ORDER BY created_at, id`, tenantID, foID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	out := []order.RequestMessage{}
	for rows.Next() {
		var m order.RequestMessage
		if err := rows.Scan(&m.ID, &m.FulfillmentOrderID, &m.Kind, &m.RequestStatus, &m.Reason, &m.Message, &m.Actor, &m.CreatedAt); err != nil {
			return nil, wrap(op, err)
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, wrap(op, rows.Err())
}

// DueRequests lists fulfilment orders with dispatcher work due at now,
// oldest first; a request waits while its fulfilment order or its order is
// on hold (cancellations and polls do not).
func (s *Orders) DueRequests(ctx context.Context, now time.Time, limit int) ([][2]string, error) {
	const op = "store.DueRequests"
	rows, err := s.db.R.QueryContext(ctx, `SELECT f.tenant_id, f.id FROM fulfillment_orders f
		WHERE f.pending <> '' AND (f.next_attempt_at IS NULL OR f.next_attempt_at <= $1)
		  AND (f.pending <> 'request' OR f.status NOT IN ('ON_HOLD', 'SCHEDULED')
		       AND NOT EXISTS (SELECT 1 FROM order_holds h WHERE h.order_id = f.order_id AND h.released_at IS NULL))
		ORDER BY f.id LIMIT $2`, now, limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var r [2]string
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, r)
	}
	return out, wrap(op, rows.Err())
}

// ScheduledDue lists scheduled fulfilment orders (tenant, id) whose time
// has come.
func (s *Orders) ScheduledDue(ctx context.Context, now time.Time, limit int) ([][2]string, error) {
	const op = "store.ScheduledDue"
	rows, err := s.db.R.QueryContext(ctx, `SELECT tenant_id, id FROM fulfillment_orders WHERE status = 'SCHEDULED' AND fulfill_at <= $1 ORDER BY fulfill_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var r [2]string
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, r)
	}
	return out, wrap(op, rows.Err())
}

// RetryFacility makes a facility's waiting dispatcher work due now.
func (s *Orders) RetryFacility(ctx context.Context, tenantID, facilityID string) (int, error) {
	res, err := s.db.W.ExecContext(ctx, `UPDATE fulfillment_orders SET next_attempt_at = NULL
		WHERE tenant_id = $1 AND facility_id = $2 AND pending <> '' AND next_attempt_at IS NOT NULL`, tenantID, facilityID)
	if err != nil {
		return 0, wrap("store.RetryFacility", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (t *orderTx) Claims(ctx context.Context, tenantID, orderID string) (map[string]map[string]int64, error) {
	const op = "store.Claims"
	rows, err := t.tx.QueryContext(ctx, `SELECT fulfillment_order_id, order_line_id, quantity FROM fulfillment_order_lines
		WHERE tenant_id = $1 AND order_id = $2`, tenantID, orderID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		var fo, line string
		var q int64
		if err := rows.Scan(&fo, &line, &q); err != nil {
			return nil, wrap(op, err)
		}
		if out[fo] == nil {
			out[fo] = map[string]int64{}
		}
		out[fo][line] = q
	}
	return out, wrap(op, rows.Err())
}

func (t *orderTx) SetClaims(ctx context.Context, tenantID, orderID, foID string, claims map[string]int64) error {
	const op = "store.SetClaims"
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM fulfillment_order_lines WHERE tenant_id = $1 AND fulfillment_order_id = $2`, tenantID, foID); err != nil {
		return wrap(op, err)
	}
	for line, q := range claims {
		if q <= 0 {
			continue
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO fulfillment_order_lines (fulfillment_order_id, tenant_id, order_id, order_line_id, quantity)
			VALUES ($1, $2, $3, $4, $5)`, foID, tenantID, orderID, line, q); err != nil {
			return wrap(op, err)
		}
	}
	return nil
}
