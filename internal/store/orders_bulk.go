package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/waybill/waybill/internal/order"
)

// InsertBulk writes finished orders (history: no stock is reserved and no
// events are emitted) with multi-row statements in one transaction. It is
// for loading large order histories such as the benchmark's million orders;
// intake goes through the order service.
func (s *Orders) InsertBulk(ctx context.Context, os []order.Order) error {
	const op = "store.InsertBulkOrders"
	var orders, lines, tags, terms, holds [][]any
	for i := range os {
		o := &os[i]
		orders = append(orders, []any{o.ID, o.TenantID, o.Channel, o.ChannelID, o.Source(), o.ExternalID, o.Number, o.PlacedAt, o.CreatedAt, o.UpdatedAt,
			o.ChannelUpdatedAt, o.Currency, o.Customer.Name, o.Customer.Email, o.Customer.Phone, strings.ToLower(o.Customer.Email),
			encodeAddress(o.ShippingAddress), encodeAddress(o.BillingAddress), shipCountry(o), jsonText(nonNil(o.ShippingLines)), o.TaxesIncluded,
			o.Subtotal, o.ShippingTotal, o.TaxTotal, o.DiscountTotal, o.Total, o.PaymentStatus, o.RiskLevel, jsonText(nonNil(o.Tags)), o.Note, o.Status,
			o.Fulfillment, o.OnHold(), backordered(o), o.CancelledAt, o.CancelReason})
		for _, l := range o.Lines {
			lines = append(lines, []any{l.ID, o.TenantID, o.ID, l.LineNo, l.ProductID, l.SKU, l.Name, l.ExternalID, l.Quantity, l.Cancelled, l.Fulfilled,
				l.Reserved, l.Backordered, l.FacilityID, l.UnitPrice, l.Discount, jsonText(nonNil(l.TaxLines))})
		}
		for _, t := range lowerAll(o.Tags) {
			tags = append(tags, []any{o.TenantID, t, o.ID})
		}
		for _, t := range o.SearchTerms() {
			terms = append(terms, []any{o.TenantID, t, o.ID})
		}
		for _, h := range o.Holds {
			holds = append(holds, []any{h.ID, o.TenantID, o.ID, h.Reason, h.Note, h.CreatedBy, h.CreatedAt})
		}
	}
	// PostgreSQL is fastest with few, large statements; SQLite with many
	// small ones (see maxParams).
	limit := maxParams
	if s.db.Engine == Postgres {
		limit = 20000
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, t := range []struct {
			head string
			rows [][]any
		}{
			{`orders (id, tenant_id, channel, channel_id, source, external_id, number, placed_at, created_at, updated_at, channel_updated_at, currency,
				customer_name, customer_email, customer_phone, email_key, shipping_address, billing_address, ship_country, shipping_lines, taxes_included,
				subtotal, shipping_total, tax_total, discount_total, total, payment_status, risk_level, tags, note, status, fulfillment_status, on_hold,
				backordered, cancelled_at, cancel_reason)`, orders},
			{`order_lines (id, tenant_id, order_id, line_no, product_id, sku, name, external_id, quantity, cancelled, fulfilled, reserved, backordered,
				facility_id, unit_price, discount, tax_lines)`, lines},
			{`order_tags (tenant_id, tag, order_id)`, tags},
			{`order_search (tenant_id, term, order_id)`, terms},
			{`order_holds (id, tenant_id, order_id, reason, note, created_by, created_at)`, holds},
		} {
			if len(t.rows) == 0 {
				continue
			}
			args := make([]any, 0, len(t.rows)*len(t.rows[0]))
			for _, r := range t.rows {
				args = append(args, r...)
			}
			if err := insertRowsUpTo(ctx, tx, limit, "INSERT INTO "+t.head+" VALUES ", "", len(t.rows[0]), args); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}
