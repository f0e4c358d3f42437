package amazonmcf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/provider"
)

// What Amazon answers (Fulfillment Outbound API v2020-07-01 and FBA
// Inventory API v1 models): every answer is {"payload": …}, amounts are
// decimal strings, quantities integers.

type apiOrderResult struct {
	FulfillmentOrder      apiOrder       `json:"fulfillmentOrder"`
	FulfillmentOrderItems []apiOrderItem `json:"fulfillmentOrderItems"`
	FulfillmentShipments  []apiShipment  `json:"fulfillmentShipments"`
}

type apiOrder struct {
	SellerFulfillmentOrderID string `json:"sellerFulfillmentOrderId"`
	ShippingSpeedCategory    string `json:"shippingSpeedCategory"`
	FulfillmentOrderStatus   string `json:"fulfillmentOrderStatus"`
	StatusUpdatedDate        string `json:"statusUpdatedDate"`
}

type apiOrderItem struct {
	SellerSKU             string `json:"sellerSku"`
	SellerItemID          string `json:"sellerFulfillmentOrderItemId"`
	Quantity              int64  `json:"quantity"`
	CancelledQuantity     int64  `json:"cancelledQuantity"`
	UnfulfillableQuantity int64  `json:"unfulfillableQuantity"`
}

type apiShipment struct {
	AmazonShipmentID          string               `json:"amazonShipmentId"`
	FulfillmentShipmentStatus string               `json:"fulfillmentShipmentStatus"`
	ShippingDate              string               `json:"shippingDate"`
	Items                     []apiShipmentItem    `json:"fulfillmentShipmentItem"`
	Packages                  []apiShipmentPackage `json:"fulfillmentShipmentPackage"`
}

type apiShipmentItem struct {
	SellerSKU     string `json:"sellerSku"`
	SellerItemID  string `json:"sellerFulfillmentOrderItemId"`
	Quantity      int64  `json:"quantity"`
	PackageNumber int64  `json:"packageNumber"`
}

type apiShipmentPackage struct {
	PackageNumber                   int64  `json:"packageNumber"`
	CarrierCode                     string `json:"carrierCode"`
	TrackingNumber                  string `json:"trackingNumber"`
	AmazonFulfillmentTrackingNumber string `json:"amazonFulfillmentTrackingNumber"`
}

// payload decodes the {"payload": …} of an answer into a T.
func payload[T any](body []byte) (T, error) {
	var doc struct {
		Payload *T `json:"payload"`
	}
	var zero T
	if err := json.Unmarshal(body, &doc); err != nil {
		return zero, fmt.Errorf("unreadable answer: %w", err)
	}
	if doc.Payload == nil {
		return zero, errors.New("answer without payload")
	}
	return *doc.Payload, nil
}

// parseOrder reads a getFulfillmentOrder answer.
func parseOrder(body []byte) (apiOrderResult, error) {
	return payload[apiOrderResult](body)
}

// toStatus maps an order onto our states; see the package documentation.
func toStatus(o apiOrderResult) (provider.Status, error) {
	raw := strings.TrimSpace(o.FulfillmentOrder.FulfillmentOrderStatus)
	st := provider.Status{Raw: raw, Shipments: parcels(o)}
	switch strings.ToLower(raw) {
	case "new":
		st.State = provider.Pending
	case "received":
		st.State = provider.Accepted
	case "planning", "processing":
		st.State = provider.InProgress
	case "complete":
		st.State = provider.Shipped
	case "completepartialled":
		st.State = provider.Shipped
		st.Reason = "Amazon shipped part of the order"
		if left := notShipped(o.FulfillmentOrderItems); left != "" {
			st.Reason += "; not shipped: " + left
		}
	case "unfulfillable":
		st.State = provider.Rejected
		st.Reason = "Amazon found no sellable stock for the order"
		if left := notShipped(o.FulfillmentOrderItems); left != "" {
			st.Reason += ": " + left
		}
	case "invalid":
		st.State = provider.Rejected
		st.Reason = "Amazon could not validate the order (an invalid destination address, or not enough sellable stock)"
	case "cancelled":
		st.State = provider.Cancelled
	case "":
		return provider.Status{}, errors.New("the order has no fulfillmentOrderStatus")
	default:
		return provider.Status{}, fmt.Errorf("unknown fulfillmentOrderStatus %q", raw)
	}
	return st, nil
}

// notShipped lists the cancelled and unfulfillable units of items, e.g.
// "SKU-1: 2 unfulfillable; SKU-2: 1 cancelled".
func notShipped(items []apiOrderItem) string {
	var parts []string
	for _, it := range items {
		var what []string
		if it.UnfulfillableQuantity > 0 {
			what = append(what, fmt.Sprintf("%d unfulfillable", it.UnfulfillableQuantity))
		}
		if it.CancelledQuantity > 0 {
			what = append(what, fmt.Sprintf("%d cancelled", it.CancelledQuantity))
		}
		if len(what) > 0 {
			parts = append(parts, it.SellerSKU+": "+strings.Join(what, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// parcels are the packages of o's SHIPPED shipments, each with the units
// packed in it. Units of a shipment whose package number names none of its
// packages make one more parcel, with the shipment's id and no tracking,
// so that no shipped unit goes unreported.
func parcels(o apiOrderResult) []provider.Shipment {
	var out []provider.Shipment
	service := strings.TrimSpace(o.FulfillmentOrder.ShippingSpeedCategory)
	for _, s := range o.FulfillmentShipments {
		if !strings.EqualFold(strings.TrimSpace(s.FulfillmentShipmentStatus), "SHIPPED") {
			continue
		}
		at, _ := time.Parse(time.RFC3339, strings.TrimSpace(s.ShippingDate))
		packed := map[int64]bool{}
		for _, p := range s.Packages {
			if packed[p.PackageNumber] {
				continue // listed twice
			}
			packed[p.PackageNumber] = true
			tracking := strings.TrimSpace(p.TrackingNumber)
			if tracking == "" {
				tracking = strings.TrimSpace(p.AmazonFulfillmentTrackingNumber)
			}
			out = append(out, provider.Shipment{
				ID:             s.AmazonShipmentID + "-" + strconv.FormatInt(p.PackageNumber, 10),
				Carrier:        strings.TrimSpace(p.CarrierCode),
				Service:        service,
				TrackingNumber: tracking,
				ShippedAt:      at,
				Lines:          lines(s.Items, func(it apiShipmentItem) bool { return it.PackageNumber == p.PackageNumber }),
			})
		}
		if loose := lines(s.Items, func(it apiShipmentItem) bool { return !packed[it.PackageNumber] }); len(loose) > 0 {
			out = append(out, provider.Shipment{ID: s.AmazonShipmentID, Service: service, ShippedAt: at, Lines: loose})
		}
	}
	return out
}

// lines sums the units of the items keep selects by SKU, in the order the
// SKUs first come; items without a SKU, or whose quantity is not a
// positive int32 (the model's type), are left out.
func lines(items []apiShipmentItem, keep func(apiShipmentItem) bool) []provider.Line {
	var out []provider.Line
	at := map[string]int{}
	for _, it := range items {
		sku := strings.TrimSpace(it.SellerSKU)
		if sku == "" || it.Quantity <= 0 || it.Quantity > math.MaxInt32 || !keep(it) {
			continue
		}
		if i, ok := at[sku]; ok {
			out[i].Quantity += it.Quantity
			continue
		}
		at[sku] = len(out)
		out = append(out, provider.Line{SKU: sku, Quantity: it.Quantity})
	}
	return out
}

// decimal is an amount as Amazon sent it (the model's Decimal, a string).
type decimal = money.Decimal

type apiMoney struct {
	CurrencyCode string  `json:"currencyCode"`
	Value        decimal `json:"value"`
}

// amount reads m exactly. Zeros beyond the currency's decimals ("3.50" for
// JPY is not, "3.500" for USD is) are dropped; any other digit there is an
// error, never rounded.
func (m apiMoney) amount() (money.Amount, error) {
	cur := strings.ToUpper(strings.TrimSpace(m.CurrencyCode))
	s := strings.TrimSpace(string(m.Value))
	digits, ok := money.Digits(cur)
	if !ok {
		return money.Amount{}, fmt.Errorf("unknown currency %q", m.CurrencyCode)
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		frac := s[i+1:]
		for len(frac) > digits && strings.HasSuffix(frac, "0") {
			frac = frac[:len(frac)-1]
		}
		s = s[:i]
		if frac != "" {
			s += "." + frac
		}
	}
	return money.Parse(s, cur)
}

type apiPreviewResult struct {
	FulfillmentPreviews []apiPreview `json:"fulfillmentPreviews"`
}

type apiPreview struct {
	ShippingSpeedCategory string `json:"shippingSpeedCategory"`
	IsFulfillable         bool   `json:"isFulfillable"`
	EstimatedFees         []struct {
		Name   string   `json:"name"`
		Amount apiMoney `json:"amount"`
	} `json:"estimatedFees"`
	Shipments []struct {
		EarliestShipDate    string `json:"earliestShipDate"`
		LatestShipDate      string `json:"latestShipDate"`
		EarliestArrivalDate string `json:"earliestArrivalDate"`
		LatestArrivalDate   string `json:"latestArrivalDate"`
	} `json:"fulfillmentPreviewShipments"`
	UnfulfillableItems []struct {
		SellerSKU string   `json:"sellerSku"`
		Quantity  int64    `json:"quantity"`
		Reasons   []string `json:"itemUnfulfillableReasons"`
	} `json:"unfulfillablePreviewItems"`
	OrderUnfulfillableReasons []string `json:"orderUnfulfillableReasons"`
}

// parsePreview reads a getFulfillmentPreview answer and returns the
// preview for the shipping speed category speed.
func parsePreview(body []byte, speed string) (Preview, error) {
	res, err := payload[apiPreviewResult](body)
	if err != nil {
		return Preview{}, err
	}
	for _, p := range res.FulfillmentPreviews {
		if strings.EqualFold(strings.TrimSpace(p.ShippingSpeedCategory), speed) {
			return toPreview(p)
		}
	}
	return Preview{}, fmt.Errorf("no %s preview in the answer", speed)
}

func toPreview(p apiPreview) (Preview, error) {
	out := Preview{Speed: strings.TrimSpace(p.ShippingSpeedCategory), Fulfillable: p.IsFulfillable}
	for _, r := range p.OrderUnfulfillableReasons {
		if r = strings.TrimSpace(r); r != "" {
			out.Reasons = append(out.Reasons, r)
		}
	}
	for _, it := range p.UnfulfillableItems {
		u := UnfulfillableItem{SKU: strings.TrimSpace(it.SellerSKU), Quantity: it.Quantity}
		for _, r := range it.Reasons {
			if r = strings.TrimSpace(r); r != "" {
				u.Reasons = append(u.Reasons, r)
				out.Reasons = append(out.Reasons, u.SKU+": "+r)
			}
		}
		out.Unfulfillable = append(out.Unfulfillable, u)
	}
	for _, f := range p.EstimatedFees {
		a, err := f.Amount.amount()
		if err != nil {
			return Preview{}, fmt.Errorf("fee %s: %w", f.Name, err)
		}
		out.Fees = append(out.Fees, Fee{Name: f.Name, Amount: a})
	}
	if len(out.Fees) > 0 {
		all := make([]money.Amount, len(out.Fees))
		for i, f := range out.Fees {
			all[i] = f.Amount
		}
		if total, err := money.Sum(all[0].Currency, all...); err == nil {
			out.Total = total
		}
	}
	date := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339, strings.TrimSpace(s))
		return t
	}
	first := func(cur, t time.Time) time.Time {
		if cur.IsZero() || (!t.IsZero() && t.Before(cur)) {
			return t
		}
		return cur
	}
	last := func(cur, t time.Time) time.Time {
		if t.After(cur) {
			return t
		}
		return cur
	}
	for _, s := range p.Shipments {
		out.EarliestShip = first(out.EarliestShip, date(s.EarliestShipDate))
		out.LatestShip = last(out.LatestShip, date(s.LatestShipDate))
		out.EarliestArrival = first(out.EarliestArrival, date(s.EarliestArrivalDate))
		out.LatestArrival = last(out.LatestArrival, date(s.LatestArrivalDate))
	}
	return out, nil
}

type apiSummaries struct {
	Payload *struct {
		InventorySummaries []struct {
			SellerSKU        string `json:"sellerSku"`
			InventoryDetails *struct {
				FulfillableQuantity int64 `json:"fulfillableQuantity"`
			} `json:"inventoryDetails"`
		} `json:"inventorySummaries"`
	} `json:"payload"`
	Pagination *struct {
		NextToken string `json:"nextToken"`
	} `json:"pagination"`
}

// parseSummaries reads a getInventorySummaries page: each SKU's
// fulfillableQuantity (0 when Amazon gives no details or a negative count)
// and the nextToken of the next page, "" after the last. The token is in
// the answer's pagination, beside the payload.
func parseSummaries(body []byte) ([]provider.Level, string, error) {
	var doc apiSummaries
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("unreadable answer: %w", err)
	}
	if doc.Payload == nil {
		return nil, "", errors.New("answer without payload")
	}
	var out []provider.Level
	for _, s := range doc.Payload.InventorySummaries {
		sku := strings.TrimSpace(s.SellerSKU)
		if sku == "" {
			continue
		}
		var n int64
		if s.InventoryDetails != nil {
			n = max(s.InventoryDetails.FulfillableQuantity, 0)
		}
		out = append(out, provider.Level{SKU: sku, Available: n})
	}
	next := ""
	if doc.Pagination != nil {
		next = strings.TrimSpace(doc.Pagination.NextToken)
	}
	return out, next, nil
}
