// Package shipbobfake is an in-process stand-in for the parts of ShipBob's
// REST API, version 2025-07, that the shipbob provider calls, written to
// ShipBob's documentation rather than to the client:
//
//	POST /2025-07/order                   create an order (201, the order)
//	GET  /2025-07/order                   list orders; ReferenceIds and IDs filter (comma separated)
//	GET  /2025-07/order/{orderId}         one order with its shipments
//	POST /2025-07/order/{orderId}:cancel  cancel an order's shipments
//	GET  /2025-07/inventory-level         inventory levels, PageSize per page, "next" links
//
// Every request needs "Authorization: Bearer " + Token, or is answered 401.
// Creating and cancelling need the shipbob_channel_id header (400 without
// it); a channel other than ChannelID is answered 403 wherever it is sent.
// An order needs reference_id, shipping_method, type DTC, a recipient with
// name, address1, city and country, and products by reference_id with a
// quantity (400 otherwise). A reference_id already used is refused with 422,
// as is a product the fake does not know (SetStock makes it known) sent
// without a name; given a name, the product is created.
//
// A new order has one shipment in Processing holding every product. Tests
// move it on: Ship sends some or all of it, Exception holds it, SetStatus
// forces the order status. As at ShipBob, the order status follows from
// the shipments': all cancelled is Cancelled, all the others Completed is
// Fulfilled, some Completed is PartiallyFulfilled, one in Exception is
// Exception, otherwise Processing. Cancelling cancels the shipments that
// have not left and answers Success, PartialSuccess or Failure with a
// result per shipment.
//
// The fake keeps stock per SKU as SetStock sets it: that is the fulfillable
// quantity, and the sellable quantity is that less the units of shipments
// in Exception. It does not commit or move stock as orders ship.
//
// Throttle and Fail make the next requests fail with 429 (x-retry-after:
// RetryAfter) or 500. A Fake is safe for concurrent use.
package shipbobfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/provider"
)

// Token is the personal access token the fake accepts, and ChannelID its
// one channel.
const (
	Token     = "shipbob-fake-token"
	ChannelID = "100102"
)

// RetryAfter is the wait a throttled answer asks for, in x-retry-after.
const RetryAfter = 3 * time.Second

const version = "/2025-07"

// Fake is a ShipBob account served over HTTP.
type Fake struct {
	srv *httptest.Server

	mu       sync.Mutex
	orders   []*order // in creation order
	products map[string]*product
	nextID   int64
	throttle int
	fail     int
}

// Order is what the fake holds of one order.
type Order struct {
	ID          string          // ShipBob's order id: what Submit returns
	ReferenceID string          // the client's reference_id
	Status      string          // the order status the fake reports
	Channel     string          // the shipbob_channel_id it was created with
	Created     json.RawMessage // the body of the POST that created it
}

type order struct {
	id        int64
	ref       string
	number    string
	method    string
	channel   string
	created   time.Time
	purchase  string
	recipient json.RawMessage
	body      json.RawMessage
	lines     []unit
	shipments []*shipment
	forced    string // SetStatus
}

type shipment struct {
	id        int64
	status    string // Processing, Exception, Completed or Cancelled
	detail    string // the status detail of an Exception
	carrier   string
	tracking  string
	shippedAt time.Time
	lines     []unit
}

type unit struct {
	sku string
	qty int64
}

type product struct {
	id, inventoryID int64
	sku, name       string
	stock           int64
}

// New starts a fake; Close stops it.
func New() *Fake {
	f := &Fake{products: map[string]*product{}, nextID: 1_000_000}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+version+"/order", f.createOrder)
	mux.HandleFunc("GET "+version+"/order", f.listOrders)
	mux.HandleFunc("GET "+version+"/order/{id}", f.getOrder)
	mux.HandleFunc("POST "+version+"/order/{id}", f.cancelOrder)
	mux.HandleFunc("GET "+version+"/inventory-level", f.inventoryLevels)
	f.srv = httptest.NewServer(f.gate(mux))
	return f
}

// URL is the fake's base URL, for the client's Endpoint.
func (f *Fake) URL() string { return f.srv.URL }

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// SetStock sets the fulfillable units of sku, making the product known.
func (f *Fake) SetStock(sku string, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.product(sku, sku).stock = n
}

// Throttle answers the next n requests with 429 and x-retry-after.
func (f *Fake) Throttle(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle = n
}

// Fail answers the next n requests with 500.
func (f *Fake) Fail(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = n
}

// Ship sends units of order ref in a new shipment with the carrier and
// tracking number: the lines given, or without lines everything not yet
// sent. ref is ShipBob's order id or the order's reference_id.
func (f *Fake) Ship(ref, carrier, tracking string, lines ...provider.Line) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, open, err := f.open(ref)
	if err != nil {
		return err
	}
	sent := &shipment{id: f.id(), status: "Completed", carrier: carrier, tracking: tracking, shippedAt: time.Now().UTC()}
	left := slices.Clone(open.lines)
	if len(lines) == 0 {
		sent.lines, left = left, nil
	}
	for _, l := range lines {
		i := slices.IndexFunc(left, func(u unit) bool { return u.sku == l.SKU })
		if l.Quantity < 1 || i < 0 || left[i].qty < l.Quantity {
			return fmt.Errorf("shipbobfake: order %d has not %d of %q left to ship", o.id, l.Quantity, l.SKU)
		}
		left[i].qty -= l.Quantity
		sent.lines = append(sent.lines, unit{l.SKU, l.Quantity})
	}
	open.lines = slices.DeleteFunc(left, func(u unit) bool { return u.qty == 0 })
	if len(open.lines) == 0 {
		o.shipments = slices.DeleteFunc(o.shipments, func(s *shipment) bool { return s == open })
	}
	o.shipments = append(o.shipments, sent)
	o.forced = ""
	return nil
}

// Exception puts what order ref has left to ship in ShipBob's Exception
// status with the status detail named (for example OutOfStock, UnknownSku,
// InactiveSku). ref is ShipBob's order id or the order's reference_id.
func (f *Fake) Exception(ref, detail string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, open, err := f.open(ref)
	if err != nil {
		return err
	}
	open.status, open.detail = "Exception", detail
	o.forced = ""
	return nil
}

// SetStatus makes order ref report status until it next changes, for
// statuses no other method reaches (ImportReview, or one ShipBob may add).
func (f *Fake) SetStatus(ref, status string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.find(ref)
	if o == nil {
		return fmt.Errorf("shipbobfake: no order %q", ref)
	}
	o.forced = status
	return nil
}

// Orders lists the orders created, oldest first.
func (f *Fake) Orders() []Order {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Order, 0, len(f.orders))
	for _, o := range f.orders {
		out = append(out, Order{
			ID:          strconv.FormatInt(o.id, 10),
			ReferenceID: o.ref,
			Status:      o.status(),
			Channel:     o.channel,
			Created:     slices.Clone(o.body),
		})
	}
	return out
}

func (f *Fake) id() int64 {
	f.nextID++
	return f.nextID
}

// product returns sku's product, creating it.
func (f *Fake) product(sku, name string) *product {
	p := f.products[sku]
	if p == nil {
		p = &product{id: f.id(), inventoryID: f.id(), sku: sku, name: name}
		f.products[sku] = p
	}
	return p
}

func (f *Fake) find(ref string) *order {
	for _, o := range f.orders {
		if strconv.FormatInt(o.id, 10) == ref {
			return o
		}
	}
	for _, o := range f.orders {
		if o.ref == ref {
			return o
		}
	}
	return nil
}

// open finds order ref and its shipment that has not left.
func (f *Fake) open(ref string) (*order, *shipment, error) {
	o := f.find(ref)
	if o == nil {
		return nil, nil, fmt.Errorf("shipbobfake: no order %q", ref)
	}
	for _, s := range o.shipments {
		if s.status == "Processing" || s.status == "Exception" {
			return o, s, nil
		}
	}
	return nil, nil, fmt.Errorf("shipbobfake: order %q has nothing left to ship", ref)
}

// status is the order status imputed from the shipments'.
func (o *order) status() string {
	if o.forced != "" {
		return o.forced
	}
	var completed, open, exception int
	for _, s := range o.shipments {
		switch s.status {
		case "Cancelled":
		case "Completed":
			completed++
		case "Exception":
			exception++
			open++
		default:
			open++
		}
	}
	switch {
	case completed == 0 && open == 0:
		return "Cancelled"
	case open == 0:
		return "Fulfilled"
	case completed > 0:
		return "PartiallyFulfilled"
	case exception > 0:
		return "Exception"
	}
	return "Processing"
}

// gate answers what comes before routing: throttling, failures, the token
// and the channel.
func (f *Fake) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		throttled, failed := f.throttle > 0, false
		if throttled {
			f.throttle--
		} else if f.fail > 0 {
			f.fail--
			failed = true
		}
		f.mu.Unlock()
		secs := int(RetryAfter / time.Second)
		switch scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " "); {
		case throttled:
			w.Header().Set("x-retry-after", strconv.Itoa(secs))
			w.Header().Set("x-remaining-calls", "0")
			reply(w, http.StatusTooManyRequests, map[string]any{
				"statusCode": 429, "message": fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", secs)})
		case failed:
			reply(w, http.StatusInternalServerError, map[string]any{"title": "An error occurred while processing your request.", "status": 500})
		case !strings.EqualFold(scheme, "Bearer") || token != Token:
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
		case r.Header.Get("shipbob_channel_id") != "" && r.Header.Get("shipbob_channel_id") != ChannelID:
			reply(w, http.StatusForbidden, map[string]any{"message": "The channel is not accessible with this token"})
		case r.Method == http.MethodPost && r.Header.Get("shipbob_channel_id") == "":
			reply(w, http.StatusBadRequest, map[string][]string{"shipbob_channel_id": {"The shipbob_channel_id header is required."}})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// createBody is the part of Orders.CreateOrderModel the fake reads.
type createBody struct {
	ReferenceID    string          `json:"reference_id"`
	OrderNumber    string          `json:"order_number"`
	Type           string          `json:"type"`
	ShippingMethod string          `json:"shipping_method"`
	PurchaseDate   string          `json:"purchase_date"`
	Recipient      json.RawMessage `json:"recipient"`
	Products       []struct {
		ReferenceID string `json:"reference_id"`
		Name        string `json:"name"`
		Quantity    int64  `json:"quantity"`
	} `json:"products"`
}

func (f *Fake) createOrder(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	var b createBody
	if err == nil {
		err = json.Unmarshal(raw, &b)
	}
	if err != nil {
		reply(w, http.StatusBadRequest, map[string][]string{"body": {"The request body is not a JSON order."}})
		return
	}
	var rc struct {
		Name    string `json:"name"`
		Address struct {
			Address1 string `json:"address1"`
			City     string `json:"city"`
			Country  string `json:"country"`
		} `json:"address"`
	}
	json.Unmarshal(b.Recipient, &rc)
	problems := map[string][]string{}
	need := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			problems[field] = append(problems[field], "The "+field+" field is required.")
		}
	}
	need("reference_id", b.ReferenceID)
	need("shipping_method", b.ShippingMethod)
	need("recipient.name", rc.Name)
	need("recipient.address.address1", rc.Address.Address1)
	need("recipient.address.city", rc.Address.City)
	need("recipient.address.country", rc.Address.Country)
	if len(b.ReferenceID) > 300 {
		problems["reference_id"] = append(problems["reference_id"], "The reference_id must be at most 300 characters.")
	}
	if b.Type != "DTC" {
		problems["type"] = append(problems["type"], "The fake takes DTC orders only.")
	}
	if len(b.Products) == 0 {
		problems["products"] = append(problems["products"], "The products field is required.")
	}
	for i, p := range b.Products {
		if p.ReferenceID == "" || p.Quantity < 1 {
			k := fmt.Sprintf("products[%d]", i)
			problems[k] = append(problems[k], "A product needs a reference_id and a quantity of at least 1.")
		}
	}
	if len(problems) > 0 {
		reply(w, http.StatusBadRequest, problems)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.orders {
		if o.ref == b.ReferenceID {
			reply(w, http.StatusUnprocessableEntity, map[string][]string{
				"reference_id": {fmt.Sprintf("An order with reference id %q already exists.", b.ReferenceID)}})
			return
		}
	}
	for _, p := range b.Products {
		if f.products[p.ReferenceID] == nil && p.Name == "" {
			reply(w, http.StatusUnprocessableEntity, map[string][]string{
				"products": {fmt.Sprintf("Product with reference id %q does not exist; include its name to create it.", p.ReferenceID)}})
			return
		}
	}
	o := &order{
		id: f.id(), ref: b.ReferenceID, number: b.OrderNumber, method: b.ShippingMethod,
		channel: r.Header.Get("shipbob_channel_id"), created: time.Now().UTC(),
		purchase: b.PurchaseDate, recipient: b.Recipient, body: raw,
	}
	open := &shipment{id: f.id(), status: "Processing"}
	for _, p := range b.Products {
		f.product(p.ReferenceID, p.Name)
		o.lines = append(o.lines, unit{p.ReferenceID, p.Quantity})
		open.lines = append(open.lines, unit{p.ReferenceID, p.Quantity})
	}
	o.shipments = []*shipment{open}
	f.orders = append(f.orders, o)
	reply(w, http.StatusCreated, f.view(o))
}

func (f *Fake) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	split := func(k string) []string {
		if q.Get(k) == "" {
			return nil
		}
		return strings.Split(q.Get(k), ",")
	}
	refs, ids := split("ReferenceIds"), split("IDs")
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []orderView{}
	for _, o := range f.orders {
		if (refs == nil || slices.Contains(refs, o.ref)) && (ids == nil || slices.Contains(ids, strconv.FormatInt(o.id, 10))) {
			out = append(out, f.view(o))
		}
	}
	reply(w, http.StatusOK, out)
}

func (f *Fake) getOrder(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.byID(r.PathValue("id"))
	if o == nil {
		reply(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404})
		return
	}
	reply(w, http.StatusOK, f.view(o))
}

func (f *Fake) byID(id string) *order {
	for _, o := range f.orders {
		if strconv.FormatInt(o.id, 10) == id {
			return o
		}
	}
	return nil
}

func (f *Fake) cancelOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("id"), ":cancel")
	if !ok {
		reply(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.byID(id)
	if o == nil {
		reply(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404})
		return
	}
	type result struct {
		Action     string `json:"action"`
		IsSuccess  bool   `json:"is_success"`
		Reason     any    `json:"reason"`
		ShipmentID int64  `json:"shipment_id"`
	}
	results := []result{}
	var cancelled, failed int
	for _, s := range o.shipments {
		res := result{Action: "Cancel", ShipmentID: s.id}
		switch s.status {
		case "Completed":
			res.Reason = "Shipment has already been shipped."
			failed++
		case "Cancelled":
			res.Reason = "Shipment is already cancelled."
			failed++
		default:
			s.status, s.detail = "Cancelled", ""
			res.IsSuccess = true
			cancelled++
		}
		results = append(results, res)
	}
	status := "Success"
	switch {
	case cancelled == 0:
		status = "Failure"
	case failed > 0:
		status = "PartialSuccess"
	}
	if cancelled > 0 {
		o.forced = ""
	}
	reply(w, http.StatusOK, map[string]any{
		"order_id": o.id, "order": f.view(o), "status": status, "canceled_shipment_results": results})
}

func (f *Fake) inventoryLevels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, from := 50, 0
	if s := q.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 250 {
			reply(w, http.StatusBadRequest, map[string][]string{"PageSize": {"PageSize must be between 1 and 250."}})
			return
		}
		size = n
	}
	if s := q.Get("Cursor"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			reply(w, http.StatusBadRequest, map[string][]string{"Cursor": {"The cursor is not valid."}})
			return
		}
		from = n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	held := map[string]int64{}
	for _, o := range f.orders {
		for _, s := range o.shipments {
			if s.status == "Exception" {
				for _, u := range s.lines {
					held[u.sku] += u.qty
				}
			}
		}
	}
	skus := make([]string, 0, len(f.products))
	for sku := range f.products {
		skus = append(skus, sku)
	}
	slices.Sort(skus)
	type item struct {
		InventoryID    int64  `json:"inventory_id"`
		Name           string `json:"name"`
		SKU            string `json:"sku"`
		OnHand         int64  `json:"total_on_hand_quantity"`
		Committed      int64  `json:"total_committed_quantity"`
		Fulfillable    int64  `json:"total_fulfillable_quantity"`
		Sellable       int64  `json:"total_sellable_quantity"`
		Exception      int64  `json:"total_exception_quantity"`
		Awaiting       int64  `json:"total_awaiting_quantity"`
		Backordered    int64  `json:"total_backordered_quantity"`
		InternalTransf int64  `json:"total_internal_transfer_quantity"`
	}
	items := []item{}
	for _, sku := range skus[min(from, len(skus)):min(from+size, len(skus))] {
		p := f.products[sku]
		items = append(items, item{
			InventoryID: p.inventoryID, Name: p.name, SKU: sku,
			OnHand: p.stock, Fulfillable: p.stock, Sellable: max(p.stock-held[sku], 0), Exception: held[sku],
		})
	}
	link := func(at int) any {
		return version + "/inventory-level?" + url.Values{"Cursor": {strconv.Itoa(at)}, "PageSize": {strconv.Itoa(size)}}.Encode()
	}
	page := map[string]any{"items": items, "first": nil, "prev": nil, "next": nil, "last": nil}
	if from > 0 {
		page["first"], page["prev"] = link(0), link(max(from-size, 0))
	}
	if from+size < len(skus) {
		page["next"], page["last"] = link(from+size), link((len(skus)-1)/size*size)
	}
	reply(w, http.StatusOK, page)
}

// orderView is Orders.OrderViewModel as the fake fills it.
type orderView struct {
	ID             int64            `json:"id"`
	CreatedDate    string           `json:"created_date"`
	PurchaseDate   any              `json:"purchase_date"`
	ReferenceID    string           `json:"reference_id"`
	OrderNumber    string           `json:"order_number"`
	Status         string           `json:"status"`
	Type           string           `json:"type"`
	Channel        map[string]any   `json:"channel"`
	ShippingMethod string           `json:"shipping_method"`
	Recipient      json.RawMessage  `json:"recipient"`
	Products       []map[string]any `json:"products"`
	Shipments      []map[string]any `json:"shipments"`
}

func (f *Fake) view(o *order) orderView {
	v := orderView{
		ID: o.id, CreatedDate: o.created.Format(time.RFC3339), ReferenceID: o.ref,
		OrderNumber: o.number, Status: o.status(), Type: "DTC", ShippingMethod: o.method,
		Recipient: o.recipient, Products: []map[string]any{}, Shipments: []map[string]any{},
	}
	if v.OrderNumber == "" {
		v.OrderNumber = o.ref
	}
	if o.purchase != "" {
		v.PurchaseDate = o.purchase
	}
	ch, _ := strconv.ParseInt(o.channel, 10, 64)
	v.Channel = map[string]any{"id": ch, "name": "Waybill"}
	for _, l := range o.lines {
		p := f.products[l.sku]
		v.Products = append(v.Products, map[string]any{"id": p.id, "reference_id": l.sku, "sku": l.sku, "quantity": l.qty})
	}
	for _, s := range o.shipments {
		sv := map[string]any{
			"id": s.id, "order_id": o.id, "reference_id": o.ref, "status": s.status,
			"created_date": o.created.Format(time.RFC3339), "ship_option": o.method,
			"status_details": []map[string]any{}, "tracking": nil, "products": []map[string]any{},
		}
		if s.status == "Exception" {
			sv["status_details"] = []map[string]any{{"id": detailIDs[s.detail], "name": s.detail, "description": details[s.detail]}}
		}
		if s.status == "Completed" {
			sv["actual_fulfillment_date"] = s.shippedAt.Format(time.RFC3339)
			sv["tracking"] = map[string]any{
				"carrier": s.carrier, "carrier_service": nil, "tracking_number": s.tracking,
				"tracking_url":  f.srv.URL + "/track/" + url.PathEscape(s.tracking),
				"shipping_date": s.shippedAt.Format(time.RFC3339),
			}
		}
		for _, l := range s.lines {
			p := f.products[l.sku]
			sv["products"] = append(sv["products"].([]map[string]any), map[string]any{
				"id": p.id, "reference_id": l.sku, "sku": l.sku, "name": p.name,
				"inventory_items": []map[string]any{{"id": p.inventoryID, "name": p.name, "quantity": l.qty, "quantity_committed": l.qty}},
			})
		}
		v.Shipments = append(v.Shipments, sv)
	}
	return v
}

// details and detailIDs are ShipBob's Exception status details, from its
// status reference.
var (
	details = map[string]string{
		"Bundle":                         "Shipment Contains Bundle Item",
		"MergedItem":                     "Shipment Contains Merge Child",
		"InactiveSku":                    "Shipment Contains an inactive sku",
		"OutOfStock":                     "No Stock On Hand For Sku",
		"UnknownSku":                     "No Sku History",
		"InternalTransferInProgress":     "Stock Being Transferred Between FCs",
		"BinTransferInProgress":          "Stock Being Transferred Between Bins",
		"InventoryInNonPickableLocation": "Stock In Non-pickable Location",
		"InventoryPartiallyCommitted":    "Shipment is partially allocated",
	}
	detailIDs = map[string]int{
		"Bundle": 300, "MergedItem": 301, "InactiveSku": 302, "OutOfStock": 303, "UnknownSku": 304,
		"InternalTransferInProgress": 305, "BinTransferInProgress": 306,
		"InventoryInNonPickableLocation": 307, "InventoryPartiallyCommitted": 308,
	}
)
