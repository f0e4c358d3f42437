package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// Orders stores orders with their lines, holds, tags, search words and
// timeline.
type Orders struct{ db *DB }

// NewOrders returns the order store.
func NewOrders(db *DB) *Orders { return &Orders{db: db} }

// errSameSource marks a lost race between two inserts of one channel order;
// the transaction is run again and then finds the order the other stored.
var errSameSource = errors.New("an order with this source and external id was stored meanwhile")

// InTx runs fn in one write transaction, which is also an inventory
// transaction. Deadlocks, serialization failures and a lost race on the
// (source, external id) key rerun it.
func (s *Orders) InTx(ctx context.Context, fn func(order.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.Tx(ctx, func(tx *sql.Tx) error { return fn(&orderTx{invTx: invTx{tx: tx, engine: s.db.Engine}, db: s.db}) })
		if !retryable(err) && !errors.Is(err, errSameSource) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return errs.E("store.Orders.InTx", errs.Transient, err)
}

// ReadTx runs fn in a read-only transaction on the read pool: a
// consistent view that takes no locks and never waits for the writer.
func (s *Orders) ReadTx(ctx context.Context, fn func(order.Tx) error) error {
	tx, err := s.db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return errs.E("store.Orders.ReadTx", errs.Transient, err)
	}
	defer tx.Rollback()
	return fn(&orderTx{invTx: invTx{tx: tx, engine: s.db.Engine, readOnly: true}, db: s.db})
}

type orderTx struct {
	invTx
	db *DB
}

const orderCols = `o.id, o.tenant_id, o.channel, o.channel_id, o.external_id, o.number, o.placed_at, o.created_at, o.updated_at, o.channel_updated_at,
	o.currency, o.customer_name, o.customer_email, o.customer_phone, o.shipping_address, o.billing_address, o.shipping_lines, o.taxes_included,
	o.subtotal, o.shipping_total, o.tax_total, o.discount_total, o.total, o.payment_status, o.risk_level, o.tags, o.note, o.status,
	o.fulfillment_status, o.cancelled_at, o.cancel_reason`

func scanOrder(row interface{ Scan(...any) error }) (order.Order, error) {
	var o order.Order
	var ship, bill, shipLines, tags string
	err := row.Scan(&o.ID, &o.TenantID, &o.Channel, &o.ChannelID, &o.ExternalID, &o.Number, &o.PlacedAt, &o.CreatedAt, &o.UpdatedAt, &o.ChannelUpdatedAt,
		&o.Currency, &o.Customer.Name, &o.Customer.Email, &o.Customer.Phone, &ship, &bill, &shipLines, &o.TaxesIncluded,
		&o.Subtotal, &o.ShippingTotal, &o.TaxTotal, &o.DiscountTotal, &o.Total, &o.PaymentStatus, &o.RiskLevel, &tags, &o.Note, &o.Status,
		&o.Fulfillment, &o.CancelledAt, &o.CancelReason)
	if err != nil {
		return o, err
	}
	o.ShippingAddress = decodeAddress(ship)
	o.BillingAddress = decodeAddress(bill)
	_ = json.Unmarshal([]byte(shipLines), &o.ShippingLines)
	_ = json.Unmarshal([]byte(tags), &o.Tags)
	o.PlacedAt, o.CreatedAt, o.UpdatedAt = o.PlacedAt.UTC(), o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, nil
}

func decodeAddress(s string) *order.Address {
	if s == "" {
		return nil
	}
	var a order.Address
	if json.Unmarshal([]byte(s), &a) != nil {
		return nil
	}
	return &a
}

func encodeAddress(a *order.Address) string {
	if a == nil {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// loadOrders reads the orders a query selects (its columns orderCols), then
// their lines and active holds in two more queries.
func loadOrders(ctx context.Context, q Querier, query string, args ...any) ([]order.Order, error) {
	const op = "store.loadOrders"
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	var out []order.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, wrap(op, err)
	}
	idx := map[string]int{}
	ids := make([]any, len(out))
	for i, o := range out {
		idx[o.ID] = i
		ids[i] = o.ID
	}
	in := placeholders(1, len(ids))
	rows, err = q.QueryContext(ctx, `SELECT order_id, id, line_no, product_id, sku, name, external_id, quantity, cancelled, fulfilled, reserved, backordered,
		facility_id, unit_price, discount, tax_lines FROM order_lines WHERE order_id IN (`+in+`) ORDER BY order_id, line_no`, ids...)
	if err != nil {
		return nil, wrap(op, err)
	}
	for rows.Next() {
		var oid, taxes string
		var l order.Line
		if err := rows.Scan(&oid, &l.ID, &l.LineNo, &l.ProductID, &l.SKU, &l.Name, &l.ExternalID, &l.Quantity, &l.Cancelled, &l.Fulfilled, &l.Reserved,
			&l.Backordered, &l.FacilityID, &l.UnitPrice, &l.Discount, &taxes); err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		_ = json.Unmarshal([]byte(taxes), &l.TaxLines)
		o := &out[idx[oid]]
		o.Lines = append(o.Lines, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	rows, err = q.QueryContext(ctx, `SELECT order_id, id, reason, note, created_by, created_at FROM order_holds
		WHERE order_id IN (`+in+`) AND released_at IS NULL ORDER BY order_id, created_at, id`, ids...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var oid string
		var h order.Hold
		if err := rows.Scan(&oid, &h.ID, &h.Reason, &h.Note, &h.CreatedBy, &h.CreatedAt); err != nil {
			return nil, wrap(op, err)
		}
		h.CreatedAt = h.CreatedAt.UTC()
		o := &out[idx[oid]]
		o.Holds = append(o.Holds, h)
	}
	return out, wrap(op, rows.Err())
}

func loadOrder(ctx context.Context, q Querier, lock string, tenantID, id string) (order.Order, error) {
	os, err := loadOrders(ctx, q, `SELECT `+orderCols+` FROM orders o WHERE o.tenant_id = $1 AND o.id = $2`+lock, tenantID, id)
	if err != nil {
		return order.Order{}, err
	}
	if len(os) == 0 {
		return order.Order{}, errs.E("store.Order", errs.NotExist, "order not found")
	}
	return os[0], nil
}

func (t *orderTx) Lock(ctx context.Context, tenantID, id string) (order.Order, error) {
	return loadOrder(ctx, t.tx, t.locking(), tenantID, id)
}

func (t *orderTx) BySource(ctx context.Context, tenantID, source, externalID string) (order.Order, bool, error) {
	var id string
	err := t.tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE tenant_id = $1 AND source = $2 AND external_id = $3`, tenantID, source, externalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return order.Order{}, false, nil
	}
	if err != nil {
		return order.Order{}, false, wrap("store.OrderBySource", err)
	}
	o, err := loadOrder(ctx, t.tx, "", tenantID, id)
	return o, err == nil, err
}

// NextNumber takes the next value of the tenant's order counter; numbers
// start at 1001, as people expect from Shopify. On PostgreSQL the counter
// is taken in its own short transaction: inside the order's, its row lock
// would queue every concurrent order of the tenant behind the one holding
// it until commit. An order that then fails leaves a gap, which order
// numbers (unlike invoice numbers) may have. SQLite has one writer anyway.
func (t *orderTx) NextNumber(ctx context.Context, tenantID string) (int64, error) {
	var q Querier = t.tx
	if t.engine == Postgres {
		q = t.db.W
	}
	var n int64
	err := q.QueryRowContext(ctx, `INSERT INTO counters (tenant_id, name, value) VALUES ($1, 'order_number', 1001)
		ON CONFLICT (tenant_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value`, tenantID).Scan(&n)
	return n, wrap("store.NextNumber", err)
}

func backordered(o *order.Order) int64 {
	var n int64
	for _, l := range o.Lines {
		n += l.Backordered
	}
	return n
}

func shipCountry(o *order.Order) string {
	if o.ShippingAddress == nil {
		return ""
	}
	return o.ShippingAddress.Country
}

func (t *orderTx) Insert(ctx context.Context, o *order.Order) error {
	const op = "store.InsertOrder"
	_, err := t.tx.ExecContext(ctx, `INSERT INTO orders (id, tenant_id, channel, channel_id, source, external_id, number, placed_at, created_at, updated_at,
		channel_updated_at, currency, customer_name, customer_email, customer_phone, email_key, shipping_address, billing_address, ship_country,
		shipping_lines, taxes_included, subtotal, shipping_total, tax_total, discount_total, total, payment_status, risk_level, tags, note, status,
		fulfillment_status, on_hold, backordered, cancelled_at, cancel_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29,
		$30, $31, $32, $33, $34, $35, $36)`,
		o.ID, o.TenantID, o.Channel, o.ChannelID, o.Source(), o.ExternalID, o.Number, o.PlacedAt, o.CreatedAt, o.UpdatedAt,
		o.ChannelUpdatedAt, o.Currency, o.Customer.Name, o.Customer.Email, o.Customer.Phone, strings.ToLower(o.Customer.Email),
		encodeAddress(o.ShippingAddress), encodeAddress(o.BillingAddress), shipCountry(o), jsonText(nonNil(o.ShippingLines)), o.TaxesIncluded,
		o.Subtotal, o.ShippingTotal, o.TaxTotal, o.DiscountTotal, o.Total, o.PaymentStatus, o.RiskLevel, jsonText(nonNil(o.Tags)), o.Note, o.Status,
		o.Fulfillment, o.OnHold(), backordered(o), o.CancelledAt, o.CancelReason)
	if err != nil {
		if dup, detail := isUniqueViolation(err); dup && violates(detail, "orders_source", "orders.source") {
			return errSameSource
		}
		return wrap(op, err)
	}
	for i := range o.Lines {
		if err := t.insertLine(ctx, o, &o.Lines[i]); err != nil {
			return err
		}
	}
	return t.index(ctx, o, false)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (t *orderTx) insertLine(ctx context.Context, o *order.Order, l *order.Line) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO order_lines (id, tenant_id, order_id, line_no, product_id, sku, name, external_id, quantity, cancelled,
		fulfilled, reserved, backordered, facility_id, unit_price, discount, tax_lines) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		l.ID, o.TenantID, o.ID, l.LineNo, l.ProductID, l.SKU, l.Name, l.ExternalID, l.Quantity, l.Cancelled, l.Fulfilled, l.Reserved, l.Backordered,
		l.FacilityID, l.UnitPrice, l.Discount, jsonText(nonNil(l.TaxLines)))
	return wrap("store.InsertOrderLine", err)
}

// index writes the order's tags and search words (replacing old ones).
func (t *orderTx) index(ctx context.Context, o *order.Order, replace bool) error {
	const op = "store.IndexOrder"
	if replace {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM order_tags WHERE order_id = $1`, o.ID); err != nil {
			return wrap(op, err)
		}
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM order_search WHERE order_id = $1`, o.ID); err != nil {
			return wrap(op, err)
		}
	}
	if err := t.insertPairs(ctx, `INSERT INTO order_tags (tenant_id, tag, order_id) VALUES `, o, lowerAll(o.Tags)); err != nil {
		return wrap(op, err)
	}
	return wrap(op, t.insertPairs(ctx, `INSERT INTO order_search (tenant_id, term, order_id) VALUES `, o, o.SearchTerms()))
}

func lowerAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	seen := map[string]bool{}
	for _, s := range ss {
		s = strings.ToLower(s)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// insertPairs inserts (tenant, value, order) rows in one statement.
func (t *orderTx) insertPairs(ctx context.Context, prefix string, o *order.Order, values []string) error {
	if len(values) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(prefix)
	args := []any{o.TenantID, o.ID}
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, v)
		b.WriteString("($1, $" + itoa(len(args)) + ", $2)")
	}
	_, err := t.tx.ExecContext(ctx, b.String(), args...)
	return err
}

func (t *orderTx) Update(ctx context.Context, o *order.Order) error {
	const op = "store.UpdateOrder"
	_, err := t.tx.ExecContext(ctx, `UPDATE orders SET number = $3, updated_at = $4, channel_updated_at = $5, customer_name = $6, customer_email = $7,
		customer_phone = $8, email_key = $9, shipping_address = $10, billing_address = $11, ship_country = $12, shipping_lines = $13, taxes_included = $14,
		subtotal = $15, shipping_total = $16, tax_total = $17, discount_total = $18, total = $19, payment_status = $20, risk_level = $21, tags = $22,
		note = $23, status = $24, fulfillment_status = $25, on_hold = $26, backordered = $27, cancelled_at = $28, cancel_reason = $29
		WHERE tenant_id = $1 AND id = $2`,
		o.TenantID, o.ID, o.Number, o.UpdatedAt, o.ChannelUpdatedAt, o.Customer.Name, o.Customer.Email, o.Customer.Phone, strings.ToLower(o.Customer.Email),
		encodeAddress(o.ShippingAddress), encodeAddress(o.BillingAddress), shipCountry(o), jsonText(nonNil(o.ShippingLines)), o.TaxesIncluded,
		o.Subtotal, o.ShippingTotal, o.TaxTotal, o.DiscountTotal, o.Total, o.PaymentStatus, o.RiskLevel, jsonText(nonNil(o.Tags)), o.Note, o.Status,
		o.Fulfillment, o.OnHold(), backordered(o), o.CancelledAt, o.CancelReason)
	if err != nil {
		return wrap(op, err)
	}
	existing := map[string]bool{}
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM order_lines WHERE order_id = $1`, o.ID)
	if err != nil {
		return wrap(op, err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return wrap(op, err)
		}
		existing[id] = true
	}
	rows.Close()
	for i := range o.Lines {
		l := &o.Lines[i]
		if !existing[l.ID] {
			if err := t.insertLine(ctx, o, l); err != nil {
				return err
			}
			continue
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE order_lines SET product_id = $2, name = $3, quantity = $4, cancelled = $5, fulfilled = $6, reserved = $7,
			backordered = $8, facility_id = $9, unit_price = $10, discount = $11, tax_lines = $12 WHERE id = $1`,
			l.ID, l.ProductID, l.Name, l.Quantity, l.Cancelled, l.Fulfilled, l.Reserved, l.Backordered, l.FacilityID, l.UnitPrice, l.Discount,
			jsonText(nonNil(l.TaxLines))); err != nil {
			return wrap(op, err)
		}
	}
	return t.index(ctx, o, true)
}

func (t *orderTx) AddHold(ctx context.Context, tenantID, orderID string, h order.Hold) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO order_holds (id, tenant_id, order_id, reason, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		h.ID, tenantID, orderID, h.Reason, h.Note, h.CreatedBy, h.CreatedAt)
	if err == nil {
		_, err = t.tx.ExecContext(ctx, `UPDATE orders SET on_hold = TRUE WHERE tenant_id = $1 AND id = $2`, tenantID, orderID)
	}
	return wrap("store.AddHold", err)
}

func (t *orderTx) ReleaseHold(ctx context.Context, tenantID, holdID, by string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE order_holds SET released_at = $3, released_by = $4 WHERE tenant_id = $1 AND id = $2 AND released_at IS NULL`,
		tenantID, holdID, at, by)
	if err == nil {
		_, err = t.tx.ExecContext(ctx, `UPDATE orders SET on_hold = EXISTS (SELECT 1 FROM order_holds h WHERE h.order_id = orders.id AND h.released_at IS NULL)
			WHERE tenant_id = $1 AND id = (SELECT order_id FROM order_holds WHERE id = $2)`, tenantID, holdID)
	}
	return wrap("store.ReleaseHold", err)
}

func (t *orderTx) AddEvent(ctx context.Context, tenantID string, e order.Event) error {
	data := "{}"
	if e.Data != nil {
		data = jsonText(e.Data)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO order_timeline (id, tenant_id, order_id, at, actor, kind, message, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.ID, tenantID, e.OrderID, e.At, e.Actor, e.Kind, e.Message, data)
	return wrap("store.AddOrderEvent", err)
}

func (t *orderTx) LineReservations(ctx context.Context, tenantID, lineID string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM reservations WHERE tenant_id = $1 AND ref_type = 'order_line' AND ref_id = $2 AND status = 'active' ORDER BY id`,
		tenantID, lineID)
	if err != nil {
		return nil, wrap("store.LineReservations", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("store.LineReservations", err)
		}
		out = append(out, id)
	}
	return out, wrap("store.LineReservations", rows.Err())
}

// Get reads one order.
func (s *Orders) Get(ctx context.Context, tenantID, id string) (order.Order, error) {
	return loadOrder(ctx, s.db.R, "", tenantID, id)
}

// Timeline reads an order's history, oldest first.
func (s *Orders) Timeline(ctx context.Context, tenantID, orderID string) ([]order.Event, error) {
	const op = "store.OrderTimeline"
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, order_id, at, actor, kind, message, data FROM order_timeline WHERE tenant_id = $1 AND order_id = $2 ORDER BY id`,
		tenantID, orderID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []order.Event
	for rows.Next() {
		var e order.Event
		var data string
		if err := rows.Scan(&e.ID, &e.OrderID, &e.At, &e.Actor, &e.Kind, &e.Message, &data); err != nil {
			return nil, wrap(op, err)
		}
		e.At = e.At.UTC()
		_ = json.Unmarshal([]byte(data), &e.Data)
		out = append(out, e)
	}
	return out, wrap(op, rows.Err())
}

// Backorders lists (tenant, order) of open orders, oldest first, with a
// backordered line whose SKU (or a kit's component) has stock available.
func (s *Orders) Backorders(ctx context.Context, limit int) ([][2]string, error) {
	const op = "store.Backorders"
	rows, err := s.db.R.QueryContext(ctx, `SELECT o.tenant_id, o.id FROM orders o
		WHERE o.backordered > 0 AND o.status = 'open' AND EXISTS (
			SELECT 1 FROM order_lines l JOIN products p ON p.tenant_id = l.tenant_id AND p.sku = l.sku
			WHERE l.order_id = o.id AND l.backordered > 0 AND (
				p.allow_backorder OR
				EXISTS (SELECT 1 FROM stock_levels sl JOIN facilities f ON f.id = sl.facility_id AND f.active
					WHERE sl.tenant_id = p.tenant_id AND sl.product_id = p.id AND sl.on_hand > sl.reserved) OR
				EXISTS (SELECT 1 FROM kit_components k JOIN stock_levels sl ON sl.tenant_id = k.tenant_id AND sl.product_id = k.component_id
					JOIN facilities f ON f.id = sl.facility_id AND f.active
					WHERE k.kit_id = p.id AND sl.on_hand - sl.reserved >= k.quantity)))
		ORDER BY o.placed_at, o.id LIMIT $1`, limit)
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

// List reads a page of orders matching f (its Limit already one more than
// the page, to tell whether another follows).
func (s *Orders) List(ctx context.Context, tenantID string, f order.Filter) ([]order.Order, error) {
	if terms := f.Terms(); len(terms) > 0 {
		// Words are matched first, on their own: when they narrow the
		// orders to a few thousand, the list picks from those ids (an index
		// lookup each) instead of leaving the planner to guess how rare the
		// words are — a guess PostgreSQL gets wrong for names outside its
		// statistics and SQLite for any pair of words. Common words keep
		// the subquery form, where walking the list in order finds matches
		// soon.
		ids, err := s.termMatches(ctx, tenantID, terms, termIDLimit+1)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, nil
		}
		if len(ids) <= termIDLimit {
			f.Query, f.IDs = "", ids
		}
	}
	q, args := listSQL(tenantID, f)
	return loadOrders(ctx, s.db.R, q, args...)
}

// termIDLimit is how many matching orders a search may name by id.
const termIDLimit = 2000

// termMatches returns up to limit ids of orders that have every word (as a
// prefix of one of their search terms).
func (s *Orders) termMatches(ctx context.Context, tenantID string, terms []string, limit int) ([]string, error) {
	args := []any{tenantID}
	var parts []string
	for _, t := range terms {
		args = append(args, t, prefixEnd(t))
		parts = append(parts, "SELECT order_id FROM order_search WHERE tenant_id = $1 AND term >= $"+itoa(len(args)-1)+" AND term < $"+itoa(len(args)))
	}
	args = append(args, limit)
	rows, err := s.db.R.QueryContext(ctx, `SELECT order_id FROM (`+strings.Join(parts, " INTERSECT ")+`) m LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, wrap("store.OrderTerms", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("store.OrderTerms", err)
		}
		out = append(out, id)
	}
	return out, wrap("store.OrderTerms", rows.Err())
}

// prefixEnd is the smallest string above every string that starts with
// p: its last character plus one ("vries" → "vriet"). An ordinary bound
// lets PostgreSQL's planner estimate how many words a prefix matches.
func prefixEnd(p string) string {
	r, size := utf8.DecodeLastRuneInString(p)
	if r == utf8.RuneError || r >= unicode.MaxRune-1 || (r >= 0xD7FF && r < 0xE000) {
		return p + string(unicode.MaxRune)
	}
	return p[:len(p)-size] + string(r+1)
}

// ExplainList returns the database's plan for the list query of f (the
// benchmark prints it to show which index each filter uses).
func (s *Orders) ExplainList(ctx context.Context, tenantID string, f order.Filter) (string, error) {
	q, args := listSQL(tenantID, f)
	explain := "EXPLAIN QUERY PLAN "
	if s.db.Engine == Postgres {
		explain = "EXPLAIN "
	}
	rows, err := s.db.R.QueryContext(ctx, explain+q, args...)
	if err != nil {
		return "", wrap("store.ExplainList", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", wrap("store.ExplainList", err)
		}
		b.WriteString(fmt.Sprintln(vals[len(vals)-1]))
	}
	return b.String(), wrap("store.ExplainList", rows.Err())
}

func listSQL(tenantID string, f order.Filter) (string, []any) {
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return "$" + itoa(len(args)) }
	where := []string{"o.tenant_id = $1"}
	if f.Status != "" {
		where = append(where, "o.status = "+arg(string(f.Status)))
	}
	if f.Fulfillment != "" {
		where = append(where, "o.fulfillment_status = "+arg(string(f.Fulfillment)))
	}
	if f.OnHold != nil {
		if *f.OnHold {
			where = append(where, "o.on_hold")
		} else {
			where = append(where, "NOT o.on_hold")
		}
	}
	if f.HoldReason != "" {
		where = append(where, "o.id IN (SELECT h.order_id FROM order_holds h WHERE h.tenant_id = $1 AND h.reason = "+arg(string(f.HoldReason))+" AND h.released_at IS NULL)")
	}
	if f.Channel != "" {
		where = append(where, "o.channel = "+arg(f.Channel))
	}
	if f.Since != nil {
		where = append(where, "o.placed_at >= "+arg(f.Since.UTC()))
	}
	if f.Until != nil {
		where = append(where, "o.placed_at < "+arg(f.Until.UTC()))
	}
	if f.SKU != "" {
		where = append(where, "o.id IN (SELECT l.order_id FROM order_lines l WHERE l.tenant_id = $1 AND l.sku = "+arg(f.SKU)+")")
	}
	if f.Email != "" {
		where = append(where, "o.email_key = "+arg(f.Email))
	}
	if f.Number != "" {
		n := strings.TrimPrefix(f.Number, "#")
		where = append(where, "o.number IN ("+arg(n)+", "+arg("#"+n)+")")
	}
	if f.Tag != "" {
		// Tags are broad labels (gift, vip, wholesale): walking the orders in
		// list order and probing each is cheaper than sorting every tagged one.
		where = append(where, "EXISTS (SELECT 1 FROM order_tags t WHERE t.tenant_id = $1 AND t.tag = "+arg(strings.ToLower(f.Tag))+" AND t.order_id = o.id)")
	}
	if f.Country != "" {
		where = append(where, "o.ship_country = "+arg(f.Country))
	}
	if len(f.IDs) > 0 {
		ph := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ph[i] = arg(id)
		}
		where = append(where, "o.id IN ("+strings.Join(ph, ", ")+")")
	}
	for _, term := range f.Terms() {
		where = append(where, "o.id IN (SELECT q.order_id FROM order_search q WHERE q.tenant_id = $1 AND q.term >= "+arg(term)+" AND q.term < "+arg(prefixEnd(term))+")")
	}
	col, desc := strings.TrimPrefix(f.Sort, "-"), strings.HasPrefix(f.Sort, "-")
	col = map[string]string{"placed_at": "o.placed_at", "updated_at": "o.updated_at", "total_price": "o.total"}[col]
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	if f.AfterID != "" {
		var v any = f.AfterInt
		if f.AfterTime != nil {
			v = f.AfterTime.UTC()
		}
		a := arg(v)
		where = append(where, "("+col+" "+cmp+" "+a+" OR ("+col+" = "+a+" AND o.id "+cmp+" "+arg(f.AfterID)+"))")
	}
	q := `SELECT ` + orderCols + ` FROM orders o WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + col + ` ` + dir + `, o.id ` + dir + ` LIMIT ` + arg(f.Limit)
	return q, args
}
