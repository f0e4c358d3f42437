package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
)

// Inventory is the database side of package inventory.
type Inventory struct{ db *DB }

var _ inventory.Store = (*Inventory)(nil)

// NewInventory returns the inventory store.
func NewInventory(db *DB) *Inventory { return &Inventory{db: db} }

// InTx runs fn in one write transaction. On PostgreSQL a deadlock or
// serialization failure is retried a few times: the whole transaction
// reruns, so fn must not keep state from an earlier attempt.
func (s *Inventory) InTx(ctx context.Context, fn func(inventory.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.Tx(ctx, func(tx *sql.Tx) error { return fn(&invTx{tx: tx, engine: s.db.Engine}) })
		if !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return errs.E("store.InTx", errs.Transient, err)
}

type invTx struct {
	tx       *sql.Tx
	engine   Engine
	readOnly bool // a read transaction: nothing is locked
}

// locking is the clause that locks the rows a read will change: FOR UPDATE
// on PostgreSQL (SQLite's write transaction holds the database), nothing
// in a read transaction.
func (t *invTx) locking() string {
	if t.readOnly {
		return ""
	}
	return forUpdate(t.engine)
}

func (t *invTx) Apply(ctx context.Context, tenantID string, c inventory.Change) (inventory.Movement, error) {
	const op = "store.ApplyStockChange"
	now := Now()
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO stock_levels (tenant_id, product_id, facility_id, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (facility_id, product_id) DO NOTHING`, tenantID, c.ProductID, c.FacilityID, now); err != nil {
		return inventory.Movement{}, wrap(op, err)
	}
	// The guard: nothing below zero, and available may only go below zero
	// when the change does not lower it or the SKU may be backordered.
	okAvail := c.AllowNegativeAvailable || c.OnHand-c.Reserved >= 0
	res, err := t.tx.ExecContext(ctx, `UPDATE stock_levels
		SET on_hand = on_hand + $4, reserved = reserved + $5, incoming = incoming + $6, updated_at = $7
		WHERE facility_id = $1 AND product_id = $2 AND tenant_id = $3
		  AND on_hand + $4 >= 0 AND reserved + $5 >= 0 AND incoming + $6 >= 0
		  AND (on_hand + $4 - reserved - $5 >= 0 OR $8)`,
		c.FacilityID, c.ProductID, tenantID, c.OnHand, c.Reserved, c.Incoming, now, okAvail)
	if err != nil {
		return inventory.Movement{}, wrap(op, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return inventory.Movement{}, t.shortError(ctx, tenantID, c)
	}
	base := inventory.Movement{TenantID: tenantID, ProductID: c.ProductID, FacilityID: c.FacilityID, Lot: c.Lot, Kind: c.Kind,
		Reason: c.Reason, RefType: c.RefType, RefID: c.RefID, Actor: c.Actor, CreatedAt: now}
	if c.OnHand >= 0 || c.BinID != "" {
		m := base
		m.BinID, m.OnHandDelta, m.ReservedDelta, m.IncomingDelta = c.BinID, c.OnHand, c.Reserved, c.Incoming
		if c.OnHand != 0 {
			if err := t.moveLocation(ctx, tenantID, c.ProductID, c.FacilityID, c.BinID, c.Lot, c.OnHand, c.Field); err != nil {
				return inventory.Movement{}, err
			}
		}
		return m, t.insertMovement(ctx, &m)
	}
	// Taking stock out without naming a bin: draw from the unassigned
	// location first, then bins in code order, one ledger row per location,
	// so the ledger says exactly where stock left from.
	rows, err := t.tx.QueryContext(ctx, `SELECT l.bin_id, l.lot, l.on_hand FROM stock_locations l LEFT JOIN bins b ON b.id = l.bin_id
		WHERE l.facility_id = $1 AND l.product_id = $2 AND l.on_hand > 0 AND ($3 = '' OR l.lot = $3)
		ORDER BY CASE WHEN l.bin_id = '' THEN 0 ELSE 1 END, b.code, l.lot`, c.FacilityID, c.ProductID, c.Lot)
	if err != nil {
		return inventory.Movement{}, wrap(op, err)
	}
	type loc struct {
		bin, lot string
		qty      int64
	}
	var locs []loc
	for rows.Next() {
		var l loc
		if err := rows.Scan(&l.bin, &l.lot, &l.qty); err != nil {
			rows.Close()
			return inventory.Movement{}, wrap(op, err)
		}
		locs = append(locs, l)
	}
	rows.Close()
	need := -c.OnHand
	var first inventory.Movement
	for i, l := range locs {
		if need == 0 {
			break
		}
		take := min(need, l.qty)
		need -= take
		m := base
		m.BinID, m.Lot, m.OnHandDelta = l.bin, l.lot, -take
		if i == 0 {
			m.ReservedDelta, m.IncomingDelta = c.Reserved, c.Incoming
		}
		if err := t.moveLocation(ctx, tenantID, c.ProductID, c.FacilityID, l.bin, l.lot, -take, c.Field); err != nil {
			return inventory.Movement{}, err
		}
		if err := t.insertMovement(ctx, &m); err != nil {
			return inventory.Movement{}, err
		}
		if i == 0 {
			first = m
		}
	}
	if need != 0 {
		return inventory.Movement{}, errs.WithCode(errs.E(op, errs.Conflict, fmt.Sprintf("the stock's locations hold %d fewer than its balance; run waybill check", need)), inventory.ErrCodeInsufficient)
	}
	return first, nil
}

// moveLocation changes on hand at one bin and lot; a refusal names field.
func (t *invTx) moveLocation(ctx context.Context, tenantID, productID, facilityID, binID, lot string, delta int64, field string) error {
	const op = "store.moveLocation"
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO stock_locations (tenant_id, product_id, facility_id, bin_id, lot) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (facility_id, product_id, bin_id, lot) DO NOTHING`, tenantID, productID, facilityID, binID, lot); err != nil {
		return wrap(op, err)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE stock_locations SET on_hand = on_hand + $5
		WHERE facility_id = $1 AND product_id = $2 AND bin_id = $3 AND lot = $4 AND on_hand + $5 >= 0`, facilityID, productID, binID, lot, delta)
	if err != nil {
		return wrap(op, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		var have int64
		_ = t.tx.QueryRowContext(ctx, `SELECT on_hand FROM stock_locations WHERE facility_id = $1 AND product_id = $2 AND bin_id = $3 AND lot = $4`, facilityID, productID, binID, lot).Scan(&have)
		where := "that bin"
		if binID == "" {
			where = "the unassigned location"
		}
		if lot != "" {
			where += " (lot " + lot + ")"
		}
		return errs.WithCode(errs.E(op, errs.Conflict, fieldErrors(field, fmt.Sprintf("%s holds only %d", where, have), -delta),
			fmt.Sprintf("%s holds only %d", where, have)), inventory.ErrCodeInsufficient)
	}
	return nil
}

func (t *invTx) insertMovement(ctx context.Context, m *inventory.Movement) error {
	m.ID = id.New("mov")
	_, err := t.tx.ExecContext(ctx, `INSERT INTO stock_movements (id, tenant_id, product_id, facility_id, bin_id, lot, kind,
		on_hand_delta, reserved_delta, incoming_delta, reason, ref_type, ref_id, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		m.ID, m.TenantID, m.ProductID, m.FacilityID, m.BinID, m.Lot, string(m.Kind), m.OnHandDelta, m.ReservedDelta, m.IncomingDelta,
		m.Reason, m.RefType, m.RefID, m.Actor, m.CreatedAt)
	return wrap("store.insertMovement", err)
}

// shortError explains why a change was refused, from the current balance.
func (t *invTx) shortError(ctx context.Context, tenantID string, c inventory.Change) error {
	var l inventory.Level
	var sku string
	_ = t.tx.QueryRowContext(ctx, `SELECT l.on_hand, l.reserved, l.incoming, p.sku FROM stock_levels l JOIN products p ON p.id = l.product_id
		WHERE l.facility_id = $1 AND l.product_id = $2`, c.FacilityID, c.ProductID).Scan(&l.OnHand, &l.Reserved, &l.Incoming, &sku)
	var msg string
	switch {
	case c.OnHand < 0 && l.OnHand+c.OnHand < 0:
		msg = fmt.Sprintf("%s: only %d on hand, cannot remove %d", sku, l.OnHand, -c.OnHand)
	case c.OnHand < 0:
		msg = fmt.Sprintf("%s: %d on hand of which %d reserved; removing %d would leave less than is promised", sku, l.OnHand, l.Reserved, -c.OnHand)
	case c.Reserved > 0:
		msg = fmt.Sprintf("%s: only %d available", sku, max(l.Available(), 0))
	case c.Reserved < 0:
		msg = fmt.Sprintf("%s: only %d reserved, cannot release %d", sku, l.Reserved, -c.Reserved)
	case c.Incoming < 0:
		msg = fmt.Sprintf("%s: only %d incoming", sku, l.Incoming)
	default:
		msg = sku + ": refused by the stock rules"
	}
	return errs.WithCode(errs.E("store.ApplyStockChange", errs.Conflict, fieldErrors(c.Field, msg, nil), msg), inventory.ErrCodeInsufficient)
}

// fieldErrors names the request field a refusal is about, when the caller
// said which one (inventory.Change.Field).
func fieldErrors(field, msg string, value any) []errs.FieldError {
	if field == "" {
		return nil
	}
	return []errs.FieldError{{Field: field, Message: msg, Value: value}}
}

func (t *invTx) Levels(ctx context.Context, tenantID string, productIDs, facilityIDs []string) (map[[2]string]inventory.Level, error) {
	out := map[[2]string]inventory.Level{}
	if len(productIDs) == 0 || len(facilityIDs) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, p := range productIDs {
		args = append(args, p)
	}
	for _, f := range facilityIDs {
		args = append(args, f)
	}
	q := `SELECT product_id, facility_id, on_hand, reserved, incoming, low_stock, updated_at FROM stock_levels
		WHERE tenant_id = $1 AND product_id IN (` + placeholders(2, len(productIDs)) + `) AND facility_id IN (` + placeholders(2+len(productIDs), len(facilityIDs)) + `)
		ORDER BY facility_id, product_id` + t.locking()
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("store.Levels", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l inventory.Level
		if err := rows.Scan(&l.ProductID, &l.FacilityID, &l.OnHand, &l.Reserved, &l.Incoming, &l.LowStock, &l.UpdatedAt); err != nil {
			return nil, wrap("store.Levels", err)
		}
		l.TenantID = tenantID
		out[[2]string{l.ProductID, l.FacilityID}] = l
	}
	for _, p := range productIDs {
		for _, f := range facilityIDs {
			k := [2]string{p, f}
			if _, ok := out[k]; !ok {
				out[k] = inventory.Level{TenantID: tenantID, ProductID: p, FacilityID: f}
			}
		}
	}
	return out, wrap("store.Levels", rows.Err())
}

func (t *invTx) LocationOnHand(ctx context.Context, tenantID, productID, facilityID, binID, lot string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, `SELECT on_hand FROM stock_locations WHERE tenant_id = $1 AND product_id = $2 AND facility_id = $3 AND bin_id = $4 AND lot = $5`,
		tenantID, productID, facilityID, binID, lot).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return n, wrap("store.LocationOnHand", err)
}

func (t *invTx) CreateReservation(ctx context.Context, r *inventory.Reservation) error {
	const op = "store.CreateReservation"
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO reservations (id, tenant_id, status, ref_type, ref_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ID, r.TenantID, string(r.Status), r.RefType, r.RefID, r.ExpiresAt, r.CreatedAt); err != nil {
		return wrap(op, err)
	}
	for _, l := range r.Lines {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO reservation_lines (reservation_id, line_no, tenant_id, product_id, kit_id, facility_id, quantity) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			r.ID, l.LineNo, r.TenantID, l.ProductID, l.KitID, l.FacilityID, l.Quantity); err != nil {
			return wrap(op, err)
		}
	}
	return nil
}

const reservationCols = `id, tenant_id, status, ref_type, ref_id, expires_at, created_at, closed_at`

func scanReservation(row interface{ Scan(...any) error }) (inventory.Reservation, error) {
	var r inventory.Reservation
	var status string
	var exp, closed sql.NullTime
	err := row.Scan(&r.ID, &r.TenantID, &status, &r.RefType, &r.RefID, &exp, &r.CreatedAt, &closed)
	r.Status, r.ExpiresAt, r.ClosedAt, r.CreatedAt = inventory.ReservationStatus(status), timePtr(exp), timePtr(closed), r.CreatedAt.UTC()
	return r, err
}

func (t *invTx) Reservation(ctx context.Context, tenantID, id string) (inventory.Reservation, error) {
	r, err := scanReservation(t.tx.QueryRowContext(ctx, `SELECT `+reservationCols+` FROM reservations WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return r, notFound("store.Reservation", "reservation", err)
	}
	r.Lines, err = reservationLines(ctx, t.tx, tenantID, id)
	return r, err
}

func (t *invTx) CloseReservation(ctx context.Context, tenantID, id string, status inventory.ReservationStatus, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE reservations SET status = $3, closed_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'active'`,
		tenantID, id, string(status), at)
	if err != nil {
		return false, wrap("store.CloseReservation", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *invTx) CreateTransfer(ctx context.Context, tr *inventory.Transfer) error {
	const op = "store.CreateTransfer"
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO transfers (id, tenant_id, from_facility_id, to_facility_id, status, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		tr.ID, tr.TenantID, tr.FromFacilityID, tr.ToFacilityID, string(tr.Status), tr.Note, tr.CreatedAt); err != nil {
		return wrap(op, err)
	}
	for i, l := range tr.Lines {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO transfer_lines (transfer_id, line_no, product_id, quantity) VALUES ($1, $2, $3, $4)`, tr.ID, i, l.ProductID, l.Quantity); err != nil {
			return wrap(op, err)
		}
	}
	return nil
}

func (t *invTx) Transfer(ctx context.Context, tenantID, id string) (inventory.Transfer, error) {
	return loadTransfer(ctx, t.tx, tenantID, id)
}

func loadTransfer(ctx context.Context, q Querier, tenantID, id string) (inventory.Transfer, error) {
	var tr inventory.Transfer
	var status string
	var recv sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT id, tenant_id, from_facility_id, to_facility_id, status, note, created_at, received_at FROM transfers WHERE tenant_id = $1 AND id = $2`, tenantID, id).
		Scan(&tr.ID, &tr.TenantID, &tr.FromFacilityID, &tr.ToFacilityID, &status, &tr.Note, &tr.CreatedAt, &recv)
	if err != nil {
		return tr, notFound("store.Transfer", "transfer", err)
	}
	tr.Status, tr.ReceivedAt, tr.CreatedAt = inventory.TransferStatus(status), timePtr(recv), tr.CreatedAt.UTC()
	rows, err := q.QueryContext(ctx, `SELECT l.product_id, p.sku, l.quantity FROM transfer_lines l JOIN products p ON p.id = l.product_id WHERE l.transfer_id = $1 ORDER BY l.line_no`, id)
	if err != nil {
		return tr, wrap("store.Transfer", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l inventory.TransferLine
		if err := rows.Scan(&l.ProductID, &l.SKU, &l.Quantity); err != nil {
			return tr, wrap("store.Transfer", err)
		}
		tr.Lines = append(tr.Lines, l)
	}
	return tr, wrap("store.Transfer", rows.Err())
}

func (t *invTx) SetTransferStatus(ctx context.Context, tenantID, id string, from, to inventory.TransferStatus, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE transfers SET status = $4, received_at = $5 WHERE tenant_id = $1 AND id = $2 AND status = $3`, tenantID, id, string(from), string(to), at)
	if err != nil {
		return false, wrap("store.SetTransferStatus", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *invTx) DemandSince(ctx context.Context, tenantID string, productIDs, facilityIDs []string, since time.Time) (map[[2]string]int64, error) {
	return demand(ctx, t.tx, tenantID, productIDs, facilityIDs, since)
}

func (t *invTx) ReorderSettingsFor(ctx context.Context, tenantID string, productIDs []string) (map[string]inventory.ReorderSettings, error) {
	return reorderSettings(ctx, t.tx, tenantID, productIDs)
}

func (t *invTx) SetReorderSettings(ctx context.Context, tenantID string, rs inventory.ReorderSettings) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO reorder_settings (tenant_id, product_id, lead_time_days, safety_days, safety_stock, reorder_point, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, product_id) DO UPDATE SET lead_time_days = excluded.lead_time_days, safety_days = excluded.safety_days,
		safety_stock = excluded.safety_stock, reorder_point = excluded.reorder_point, updated_at = excluded.updated_at`,
		tenantID, rs.ProductID, rs.LeadTimeDays, rs.SafetyDays, rs.SafetyStock, rs.ReorderPoint, Now())
	return wrap("store.SetReorderSettings", err)
}

// demand sums reserved less released and expired quantities since a time
// per product and facility: what customers asked for.
func demand(ctx context.Context, q Querier, tenantID string, productIDs, facilityIDs []string, since time.Time) (map[[2]string]int64, error) {
	const op = "store.Demand"
	out := map[[2]string]int64{}
	if len(productIDs) == 0 || len(facilityIDs) == 0 {
		return out, nil
	}
	args := []any{tenantID, since}
	for _, p := range productIDs {
		args = append(args, p)
	}
	for _, f := range facilityIDs {
		args = append(args, f)
	}
	rows, err := q.QueryContext(ctx, `SELECT product_id, facility_id, SUM(reserved_delta) FROM stock_movements
		WHERE tenant_id = $1 AND created_at >= $2 AND kind IN ('reserve', 'release', 'expire')
		  AND product_id IN (`+placeholders(3, len(productIDs))+`) AND facility_id IN (`+placeholders(3+len(productIDs), len(facilityIDs))+`)
		GROUP BY product_id, facility_id`, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k [2]string
		var n int64
		if err := rows.Scan(&k[0], &k[1], &n); err != nil {
			return nil, wrap(op, err)
		}
		out[k] = n
	}
	return out, wrap(op, rows.Err())
}

// reorderSettings reads the settings of the products that have them.
func reorderSettings(ctx context.Context, q Querier, tenantID string, productIDs []string) (map[string]inventory.ReorderSettings, error) {
	const op = "store.ReorderSettings"
	out := map[string]inventory.ReorderSettings{}
	if len(productIDs) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, p := range productIDs {
		args = append(args, p)
	}
	rows, err := q.QueryContext(ctx, `SELECT product_id, lead_time_days, safety_days, safety_stock, reorder_point FROM reorder_settings
		WHERE tenant_id = $1 AND product_id IN (`+placeholders(2, len(productIDs))+`)`, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var rs inventory.ReorderSettings
		var rp sql.NullInt64
		if err := rows.Scan(&rs.ProductID, &rs.LeadTimeDays, &rs.SafetyDays, &rs.SafetyStock, &rp); err != nil {
			return nil, wrap(op, err)
		}
		if rp.Valid {
			rs.ReorderPoint = &rp.Int64
		}
		out[rs.ProductID] = rs
	}
	return out, wrap(op, rows.Err())
}

func (t *invTx) SetLowStock(ctx context.Context, tenantID, productID, facilityID string, low bool) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE stock_levels SET low_stock = $4 WHERE tenant_id = $1 AND product_id = $2 AND facility_id = $3`, tenantID, productID, facilityID, low)
	return wrap("store.SetLowStock", err)
}

func (t *invTx) Emit(ctx context.Context, tenantID, typ, objectType, objectID string, payload any) error {
	return emit(ctx, t.tx, tenantID, typ, objectType, objectID, payload)
}

// emit writes an event to the outbox inside the caller's transaction.
func emit(ctx context.Context, q Querier, tenantID, typ, objectType, objectID string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return errs.E("store.emit", errs.Internal, err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO events (id, tenant_id, type, object_type, object_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id.New("evt"), tenantID, typ, objectType, objectID, string(b), Now())
	return wrap("store.emit", err)
}

// Facilities and bins.

func (s *Inventory) CreateFacility(ctx context.Context, f *inventory.Facility) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO facilities (id, tenant_id, code, name, kind, addr_name, addr_company, addr_line1, addr_line2,
		addr_city, addr_region, addr_postal, addr_country, addr_phone, timezone, cutoff_time, priority, active, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		f.ID, f.TenantID, f.Code, f.Name, string(f.Kind), f.Address.Name, f.Address.Company, f.Address.Line1, f.Address.Line2,
		f.Address.City, f.Address.Region, f.Address.PostalCode, f.Address.Country, f.Address.Phone, f.Timezone, f.Cutoff, f.Priority, f.Active, f.CreatedAt, f.UpdatedAt)
	if ok, _ := isUniqueViolation(err); ok {
		return errs.WithCode(errs.E("store.CreateFacility", errs.Conflict, errs.FieldError{Field: "code", Message: "a facility with this code exists already", Value: f.Code},
			"a facility with code "+f.Code+" exists already"), "facility_code_taken")
	}
	return wrap("store.CreateFacility", err)
}

func (s *Inventory) UpdateFacility(ctx context.Context, f *inventory.Facility) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE facilities SET code = $3, name = $4, addr_name = $5, addr_company = $6, addr_line1 = $7, addr_line2 = $8,
		addr_city = $9, addr_region = $10, addr_postal = $11, addr_country = $12, addr_phone = $13, timezone = $14, cutoff_time = $15, priority = $16,
		active = $17, updated_at = $18 WHERE tenant_id = $1 AND id = $2`,
		f.TenantID, f.ID, f.Code, f.Name, f.Address.Name, f.Address.Company, f.Address.Line1, f.Address.Line2,
		f.Address.City, f.Address.Region, f.Address.PostalCode, f.Address.Country, f.Address.Phone, f.Timezone, f.Cutoff, f.Priority, f.Active, f.UpdatedAt)
	if ok, _ := isUniqueViolation(err); ok {
		return errs.WithCode(errs.E("store.UpdateFacility", errs.Conflict, errs.FieldError{Field: "code", Message: "a facility with this code exists already", Value: f.Code},
			"a facility with code "+f.Code+" exists already"), "facility_code_taken")
	}
	return affected("store.UpdateFacility", "facility", res, err)
}

const facilityCols = `id, tenant_id, code, name, kind, addr_name, addr_company, addr_line1, addr_line2, addr_city, addr_region, addr_postal,
	addr_country, addr_phone, timezone, cutoff_time, priority, active, created_at, updated_at`

func scanFacility(row interface{ Scan(...any) error }) (inventory.Facility, error) {
	var f inventory.Facility
	var kind string
	err := row.Scan(&f.ID, &f.TenantID, &f.Code, &f.Name, &kind, &f.Address.Name, &f.Address.Company, &f.Address.Line1, &f.Address.Line2,
		&f.Address.City, &f.Address.Region, &f.Address.PostalCode, &f.Address.Country, &f.Address.Phone, &f.Timezone, &f.Cutoff, &f.Priority, &f.Active, &f.CreatedAt, &f.UpdatedAt)
	f.Kind, f.CreatedAt, f.UpdatedAt = inventory.FacilityKind(kind), f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	return f, err
}

func (s *Inventory) Facility(ctx context.Context, tenantID, id string) (inventory.Facility, error) {
	f, err := scanFacility(s.db.R.QueryRowContext(ctx, `SELECT `+facilityCols+` FROM facilities WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return f, notFound("store.Facility", "facility", err)
}

func (s *Inventory) FacilityByCode(ctx context.Context, tenantID, code string) (inventory.Facility, error) {
	f, err := scanFacility(s.db.R.QueryRowContext(ctx, `SELECT `+facilityCols+` FROM facilities WHERE tenant_id = $1 AND code = $2`, tenantID, code))
	return f, notFound("store.FacilityByCode", "facility "+code, err)
}

func (s *Inventory) ListFacilities(ctx context.Context, tenantID string) ([]inventory.Facility, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+facilityCols+` FROM facilities WHERE tenant_id = $1 ORDER BY priority, code`, tenantID)
	if err != nil {
		return nil, wrap("store.ListFacilities", err)
	}
	defer rows.Close()
	var out []inventory.Facility
	for rows.Next() {
		f, err := scanFacility(rows)
		if err != nil {
			return nil, wrap("store.ListFacilities", err)
		}
		out = append(out, f)
	}
	return out, wrap("store.ListFacilities", rows.Err())
}

func (s *Inventory) CreateBin(ctx context.Context, b *inventory.Bin) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO bins (id, tenant_id, facility_id, code, zone, aisle, bay, level, position, pickable, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, b.ID, b.TenantID, b.FacilityID, b.Code, b.Zone, b.Aisle, b.Bay, b.Level, b.Position, b.Pickable, b.CreatedAt)
	if ok, _ := isUniqueViolation(err); ok {
		return errs.WithCode(errs.E("store.CreateBin", errs.Conflict, errs.FieldError{Field: "code", Message: "this facility has a bin with this code already", Value: b.Code},
			"bin "+b.Code+" exists already"), "bin_code_taken")
	}
	return wrap("store.CreateBin", err)
}

func (s *Inventory) UpdateBin(ctx context.Context, b *inventory.Bin) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE bins SET code = $3, zone = $4, aisle = $5, bay = $6, level = $7, position = $8, pickable = $9 WHERE tenant_id = $1 AND id = $2`,
		b.TenantID, b.ID, b.Code, b.Zone, b.Aisle, b.Bay, b.Level, b.Position, b.Pickable)
	if ok, _ := isUniqueViolation(err); ok {
		return errs.WithCode(errs.E("store.UpdateBin", errs.Conflict, errs.FieldError{Field: "code", Message: "this facility has a bin with this code already", Value: b.Code},
			"bin "+b.Code+" exists already"), "bin_code_taken")
	}
	return affected("store.UpdateBin", "bin", res, err)
}

const binCols = `id, tenant_id, facility_id, code, zone, aisle, bay, level, position, pickable, created_at`

func scanBin(row interface{ Scan(...any) error }) (inventory.Bin, error) {
	var b inventory.Bin
	err := row.Scan(&b.ID, &b.TenantID, &b.FacilityID, &b.Code, &b.Zone, &b.Aisle, &b.Bay, &b.Level, &b.Position, &b.Pickable, &b.CreatedAt)
	b.CreatedAt = b.CreatedAt.UTC()
	return b, err
}

func (s *Inventory) Bin(ctx context.Context, tenantID, id string) (inventory.Bin, error) {
	b, err := scanBin(s.db.R.QueryRowContext(ctx, `SELECT `+binCols+` FROM bins WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return b, notFound("store.Bin", "bin", err)
}

func (s *Inventory) BinByCode(ctx context.Context, tenantID, facilityID, code string) (inventory.Bin, error) {
	b, err := scanBin(s.db.R.QueryRowContext(ctx, `SELECT `+binCols+` FROM bins WHERE tenant_id = $1 AND facility_id = $2 AND code = $3`, tenantID, facilityID, code))
	return b, notFound("store.BinByCode", "bin "+code, err)
}

func (s *Inventory) ListBins(ctx context.Context, tenantID, facilityID, after string, limit int) ([]inventory.Bin, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+binCols+` FROM bins WHERE tenant_id = $1 AND facility_id = $2 AND code > $3 ORDER BY code LIMIT $4`, tenantID, facilityID, after, limit)
	if err != nil {
		return nil, wrap("store.ListBins", err)
	}
	defer rows.Close()
	var out []inventory.Bin
	for rows.Next() {
		b, err := scanBin(rows)
		if err != nil {
			return nil, wrap("store.ListBins", err)
		}
		out = append(out, b)
	}
	return out, wrap("store.ListBins", rows.Err())
}

// Items reads what inventory needs of products (and kits' components).
func (s *Inventory) Items(ctx context.Context, tenantID string, skus []string) (map[string]inventory.Item, error) {
	const op = "store.Items"
	out := map[string]inventory.Item{}
	if len(skus) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, s := range skus {
		args = append(args, s)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, sku, name, allow_backorder, archived_at IS NOT NULL, is_kit FROM products WHERE tenant_id = $1 AND sku IN (`+placeholders(2, len(skus))+`)`, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	kits := map[string]string{} // kit id -> sku
	for rows.Next() {
		var it inventory.Item
		var isKit bool
		if err := rows.Scan(&it.ID, &it.SKU, &it.Name, &it.AllowBackorder, &it.Archived, &isKit); err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		out[it.SKU] = it
		if isKit {
			kits[it.ID] = it.SKU
		}
	}
	rows.Close()
	if len(kits) == 0 {
		return out, nil
	}
	kargs := []any{tenantID}
	for k := range kits {
		kargs = append(kargs, k)
	}
	rows, err = s.db.R.QueryContext(ctx, `SELECT k.kit_id, k.component_id, p.sku, k.quantity, p.allow_backorder FROM kit_components k JOIN products p ON p.id = k.component_id
		WHERE k.tenant_id = $1 AND k.kit_id IN (`+placeholders(2, len(kits))+`) ORDER BY k.kit_id, k.position`, kargs...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kitID string
		var c inventory.ItemComponent
		if err := rows.Scan(&kitID, &c.ProductID, &c.SKU, &c.Quantity, &c.AllowBackorder); err != nil {
			return nil, wrap(op, err)
		}
		it := out[kits[kitID]]
		it.Components = append(it.Components, c)
		out[kits[kitID]] = it
	}
	return out, wrap(op, rows.Err())
}

func (s *Inventory) ListLevels(ctx context.Context, tenantID string, f inventory.LevelFilter) ([]inventory.Level, error) {
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return "$" + itoa(len(args)) }
	where := []string{"l.tenant_id = $1"}
	if f.ProductID != "" {
		where = append(where, "l.product_id = "+arg(f.ProductID))
	}
	if f.SKU != "" {
		where = append(where, "p.sku = "+arg(f.SKU))
	}
	if f.FacilityID != "" {
		where = append(where, "l.facility_id = "+arg(f.FacilityID))
	}
	if f.Query != "" {
		where = append(where, `p.search_text LIKE `+arg("%"+likeEscape(strings.ToLower(f.Query))+"%")+` ESCAPE '\'`)
	}
	if f.LowOnly {
		where = append(where, "l.low_stock = TRUE")
	}
	if f.After != "" {
		fac, prod, _ := strings.Cut(f.After, "/")
		where = append(where, "(l.facility_id > "+arg(fac)+" OR (l.facility_id = "+arg(fac)+" AND l.product_id > "+arg(prod)+"))")
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT l.product_id, p.sku, l.facility_id, f.code, l.on_hand, l.reserved, l.incoming, l.updated_at
		FROM stock_levels l JOIN products p ON p.id = l.product_id JOIN facilities f ON f.id = l.facility_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY l.facility_id, l.product_id LIMIT `+arg(f.Limit), args...)
	if err != nil {
		return nil, wrap("store.ListLevels", err)
	}
	defer rows.Close()
	var out []inventory.Level
	for rows.Next() {
		l := inventory.Level{TenantID: tenantID}
		if err := rows.Scan(&l.ProductID, &l.SKU, &l.FacilityID, &l.FacilityCode, &l.OnHand, &l.Reserved, &l.Incoming, &l.UpdatedAt); err != nil {
			return nil, wrap("store.ListLevels", err)
		}
		l.UpdatedAt = l.UpdatedAt.UTC()
		out = append(out, l)
	}
	return out, wrap("store.ListLevels", rows.Err())
}

func (s *Inventory) ListMovements(ctx context.Context, tenantID string, f inventory.MovementFilter) ([]inventory.Movement, error) {
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return "$" + itoa(len(args)) }
	where := []string{"m.tenant_id = $1"}
	if f.ProductID != "" {
		where = append(where, "m.product_id = "+arg(f.ProductID))
	}
	if f.FacilityID != "" {
		where = append(where, "m.facility_id = "+arg(f.FacilityID))
	}
	if f.Kind != "" {
		where = append(where, "m.kind = "+arg(string(f.Kind)))
	}
	if f.RefType != "" {
		where = append(where, "m.ref_type = "+arg(f.RefType))
	}
	if f.RefID != "" {
		where = append(where, "m.ref_id = "+arg(f.RefID))
	}
	if f.Since != nil {
		where = append(where, "m.created_at >= "+arg(f.Since.UTC()))
	}
	if f.Until != nil {
		where = append(where, "m.created_at < "+arg(f.Until.UTC()))
	}
	if f.After != "" {
		where = append(where, "m.id < "+arg(f.After))
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT m.id, m.product_id, p.sku, m.facility_id, f.code, m.bin_id, COALESCE(b.code, ''), m.lot, m.kind,
		m.on_hand_delta, m.reserved_delta, m.incoming_delta, m.reason, m.ref_type, m.ref_id, m.actor, m.created_at
		FROM stock_movements m JOIN products p ON p.id = m.product_id JOIN facilities f ON f.id = m.facility_id LEFT JOIN bins b ON b.id = m.bin_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.id DESC LIMIT `+arg(f.Limit), args...)
	if err != nil {
		return nil, wrap("store.ListMovements", err)
	}
	defer rows.Close()
	var out []inventory.Movement
	for rows.Next() {
		m := inventory.Movement{TenantID: tenantID}
		var kind string
		if err := rows.Scan(&m.ID, &m.ProductID, &m.SKU, &m.FacilityID, &m.FacilityCode, &m.BinID, &m.BinCode, &m.Lot, &kind,
			&m.OnHandDelta, &m.ReservedDelta, &m.IncomingDelta, &m.Reason, &m.RefType, &m.RefID, &m.Actor, &m.CreatedAt); err != nil {
			return nil, wrap("store.ListMovements", err)
		}
		m.Kind, m.CreatedAt = inventory.Kind(kind), m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, wrap("store.ListMovements", rows.Err())
}

func (s *Inventory) ListReservations(ctx context.Context, tenantID string, status inventory.ReservationStatus, after string, limit int) ([]inventory.Reservation, error) {
	args := []any{tenantID, limit}
	q := `SELECT ` + reservationCols + ` FROM reservations WHERE tenant_id = $1`
	if status != "" {
		args = append(args, string(status))
		q += ` AND status = $3`
	}
	if after != "" {
		args = append(args, after)
		q += ` AND id < $` + itoa(len(args))
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, wrap("store.ListReservations", err)
	}
	var out []inventory.Reservation
	for rows.Next() {
		r, err := scanReservation(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("store.ListReservations", err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("store.ListReservations", err)
	}
	for i := range out {
		full, err := reservationLines(ctx, s.db.R, tenantID, out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].Lines = full
	}
	return out, nil
}

func reservationLines(ctx context.Context, q Querier, tenantID, id string) ([]inventory.ReservationLine, error) {
	rows, err := q.QueryContext(ctx, `SELECT l.line_no, l.product_id, p.sku, l.kit_id, l.facility_id, l.quantity FROM reservation_lines l
		JOIN products p ON p.id = l.product_id WHERE l.reservation_id = $1 AND l.tenant_id = $2 ORDER BY l.line_no`, id, tenantID)
	if err != nil {
		return nil, wrap("store.ReservationLines", err)
	}
	defer rows.Close()
	var out []inventory.ReservationLine
	for rows.Next() {
		var l inventory.ReservationLine
		if err := rows.Scan(&l.LineNo, &l.ProductID, &l.SKU, &l.KitID, &l.FacilityID, &l.Quantity); err != nil {
			return nil, wrap("store.ReservationLines", err)
		}
		out = append(out, l)
	}
	return out, wrap("store.ReservationLines", rows.Err())
}

func (s *Inventory) ExpiredReservations(ctx context.Context, now time.Time, limit int) ([][2]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT tenant_id, id FROM reservations WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, wrap("store.ExpiredReservations", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, wrap("store.ExpiredReservations", err)
		}
		out = append(out, p)
	}
	return out, wrap("store.ExpiredReservations", rows.Err())
}

func (s *Inventory) ListTransfers(ctx context.Context, tenantID, after string, limit int) ([]inventory.Transfer, error) {
	q := `SELECT id FROM transfers WHERE tenant_id = $1`
	args := []any{tenantID, limit}
	if after != "" {
		q += ` AND id < $3`
		args = append(args, after)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, wrap("store.ListTransfers", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap("store.ListTransfers", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []inventory.Transfer
	for _, id := range ids {
		t, err := loadTransfer(ctx, s.db.R, tenantID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Inventory) DemandSince(ctx context.Context, tenantID string, productIDs, facilityIDs []string, since time.Time) (map[[2]string]int64, error) {
	return demand(ctx, s.db.R, tenantID, productIDs, facilityIDs, since)
}

func (s *Inventory) ReorderSettingsFor(ctx context.Context, tenantID string, productIDs []string) (map[string]inventory.ReorderSettings, error) {
	return reorderSettings(ctx, s.db.R, tenantID, productIDs)
}

// LowStockCandidates walks stock_levels in primary-key order (a facility
// belongs to one tenant, so a page's balances come grouped by tenant).
func (s *Inventory) LowStockCandidates(ctx context.Context, after inventory.Level, limit int) ([]inventory.Level, error) {
	const op = "store.LowStockCandidates"
	rows, err := s.db.R.QueryContext(ctx, `SELECT l.tenant_id, l.product_id, l.facility_id, l.on_hand, l.reserved, l.incoming, l.low_stock, l.updated_at
		FROM stock_levels l
		WHERE (l.facility_id > $1 OR (l.facility_id = $1 AND l.product_id > $2))
		  AND (l.low_stock = TRUE OR EXISTS (SELECT 1 FROM reorder_settings r WHERE r.tenant_id = l.tenant_id AND r.product_id = l.product_id))
		ORDER BY l.facility_id, l.product_id LIMIT $3`, after.FacilityID, after.ProductID, limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []inventory.Level
	for rows.Next() {
		var l inventory.Level
		if err := rows.Scan(&l.TenantID, &l.ProductID, &l.FacilityID, &l.OnHand, &l.Reserved, &l.Incoming, &l.LowStock, &l.UpdatedAt); err != nil {
			return nil, wrap(op, err)
		}
		l.UpdatedAt = l.UpdatedAt.UTC()
		out = append(out, l)
	}
	return out, wrap(op, rows.Err())
}

func (s *Inventory) EachLocation(ctx context.Context, tenantID, facilityID string, fn func(inventory.Location) error) error {
	const op = "store.EachLocation"
	args := []any{tenantID}
	where := ""
	if facilityID != "" {
		args = append(args, facilityID)
		where = " AND l.facility_id = $2"
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT l.product_id, p.sku, l.facility_id, f.code, l.bin_id, COALESCE(b.code, ''), l.lot, l.on_hand
		FROM stock_locations l JOIN products p ON p.id = l.product_id JOIN facilities f ON f.id = l.facility_id LEFT JOIN bins b ON b.id = l.bin_id
		WHERE l.tenant_id = $1 AND l.on_hand > 0`+where+`
		ORDER BY f.code, p.sku, COALESCE(b.code, ''), l.lot`, args...)
	if err != nil {
		return wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l inventory.Location
		if err := rows.Scan(&l.ProductID, &l.SKU, &l.FacilityID, &l.FacilityCode, &l.BinID, &l.BinCode, &l.Lot, &l.OnHand); err != nil {
			return wrap(op, err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	return wrap(op, rows.Err())
}

// Check recomputes balances from the ledger, locations from the ledger,
// and reserved from the active reservations, and lists every disagreement.
func (s *Inventory) Check(ctx context.Context) ([]inventory.Discrepancy, error) {
	const op = "store.CheckInventory"
	var out []inventory.Discrepancy
	q := func(query, field string) error {
		rows, err := s.db.R.QueryContext(ctx, query)
		if err != nil {
			return wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			d := inventory.Discrepancy{Field: field}
			if err := rows.Scan(&d.TenantID, &d.ProductID, &d.SKU, &d.FacilityID, &d.Balance, &d.Ledger); err != nil {
				return wrap(op, err)
			}
			out = append(out, d)
		}
		return wrap(op, rows.Err())
	}
	ledger := `SELECT facility_id, product_id, SUM(on_hand_delta) AS oh, SUM(reserved_delta) AS r, SUM(incoming_delta) AS i FROM stock_movements GROUP BY facility_id, product_id`
	for _, c := range []struct{ col, field string }{{"on_hand", "oh"}, {"reserved", "r"}, {"incoming", "i"}} {
		if err := q(`SELECT l.tenant_id, l.product_id, COALESCE(p.sku, ''), l.facility_id, l.`+c.col+`, COALESCE(m.`+c.field+`, 0)
			FROM stock_levels l LEFT JOIN (`+ledger+`) m ON m.facility_id = l.facility_id AND m.product_id = l.product_id
			LEFT JOIN products p ON p.id = l.product_id
			WHERE l.`+c.col+` <> COALESCE(m.`+c.field+`, 0)`, c.col); err != nil {
			return nil, err
		}
	}
	// Ledger rows with no balance row at all.
	if err := q(`SELECT m.tenant_id, m.product_id, COALESCE(p.sku, ''), m.facility_id, 0, SUM(m.on_hand_delta)
		FROM stock_movements m LEFT JOIN stock_levels l ON l.facility_id = m.facility_id AND l.product_id = m.product_id
		LEFT JOIN products p ON p.id = m.product_id
		WHERE l.product_id IS NULL GROUP BY m.tenant_id, m.product_id, p.sku, m.facility_id`, "missing_balance"); err != nil {
		return nil, err
	}
	// Locations against the ledger by bin and lot.
	if err := q(`SELECT l.tenant_id, l.product_id, COALESCE(p.sku, ''), l.facility_id, l.on_hand, COALESCE(m.oh, 0)
		FROM stock_locations l
		LEFT JOIN (SELECT facility_id, product_id, bin_id, lot, SUM(on_hand_delta) AS oh FROM stock_movements GROUP BY facility_id, product_id, bin_id, lot) m
		  ON m.facility_id = l.facility_id AND m.product_id = l.product_id AND m.bin_id = l.bin_id AND m.lot = l.lot
		LEFT JOIN products p ON p.id = l.product_id
		WHERE l.on_hand <> COALESCE(m.oh, 0)`, "location"); err != nil {
		return nil, err
	}
	// Reserved against the active reservations.
	if err := q(`SELECT l.tenant_id, l.product_id, COALESCE(p.sku, ''), l.facility_id, l.reserved, COALESCE(r.q, 0)
		FROM stock_levels l
		LEFT JOIN (SELECT rl.facility_id, rl.product_id, SUM(rl.quantity) AS q FROM reservation_lines rl JOIN reservations rs ON rs.id = rl.reservation_id
		           WHERE rs.status = 'active' GROUP BY rl.facility_id, rl.product_id) r
		  ON r.facility_id = l.facility_id AND r.product_id = l.product_id
		LEFT JOIN products p ON p.id = l.product_id
		WHERE l.reserved <> COALESCE(r.q, 0)`, "active_reservations"); err != nil {
		return nil, err
	}
	return out, nil
}
