package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
)

// SavedViews keeps each person's named filter sets of a list (store.Views).
type SavedViews interface {
	ListViews(ctx context.Context, tenantID, userID, area string) ([]store.SavedView, error)
	SaveView(ctx context.Context, v store.SavedView) (store.SavedView, error)
	DeleteView(ctx context.Context, tenantID, userID, id string) error
}

const (
	orderPageSize = 50
	// maxBulk bounds one bulk action: a few pages of ticked orders, each
	// changed in its own transaction.
	maxBulk = 250
	// maxViews bounds one person's saved views: they are tabs, not a library.
	maxViews = 20
	// keyOrdersSeen is the session's marker for the new-orders count: an
	// event id floor taken when the person last opened the orders list.
	keyOrdersSeen = "orders_seen"
	// keyOrdersBulk carries a bulk action's outcome to the list it returns to.
	keyOrdersBulk = "orders_bulk"
	// newOrdersWindow is how far back a session with no marker counts.
	newOrdersWindow = 24 * time.Hour
	newOrdersMax    = 99
	viewsArea       = "orders"
)

func (s *server) orderService() (*order.Service, error) {
	if s.d.Orders == nil {
		return nil, errs.E("web.orders", errs.NotExist, "orders are not set up in this process")
	}
	return s.d.Orders, nil
}

// canChangeOrders reports whether a person may hold, edit or cancel orders
// in the dashboard: owners and admins. auth lets the warehouse role write
// every area but settings, because it works stock and fulfilment; holds,
// edits and cancellations are the seller's decisions, so warehouse staff
// (like viewers) see orders but do not change them here.
func canChangeOrders(p *person) bool {
	return p != nil && p.Principal.Can("orders:write") && p.User.Role != auth.Warehouse
}

func needOrderWrite(r *http.Request) error {
	if !canChangeOrders(personFrom(r)) {
		return errs.E("web.orders", errs.Permission, "your role can look at orders but not change them; ask an owner or admin of your account")
	}
	return nil
}

// orderForm is the start of every order change: the person may change
// orders, the service is there, and the form is read.
func (s *server) orderForm(w http.ResponseWriter, r *http.Request) (*order.Service, error) {
	if err := needOrderWrite(r); err != nil {
		return nil, err
	}
	svc, err := s.orderService()
	if err != nil {
		return nil, err
	}
	return svc, parseForm(w, r)
}

// ---------- words ----------

var holdLabels = map[order.HoldReason]string{
	order.AwaitingPayment:      "Awaiting payment",
	order.HighRiskOfFraud:      "High risk of fraud",
	order.IncorrectAddress:     "Incorrect address",
	order.InventoryOutOfStock:  "Out of stock",
	order.UnknownDeliveryDate:  "Unknown delivery date",
	order.AwaitingReturnItems:  "Awaiting return items",
	order.OnlineStoreCrossSell: "Post-purchase offer",
	order.OtherHold:            "Other",
}

// holdWords writes the hold reasons in the order service's timeline
// messages ("On hold: INCORRECT_ADDRESS") as the page names them.
var holdWords = func() *strings.Replacer {
	var pairs []string
	for _, r := range order.HoldReasons {
		pairs = append(pairs, string(r), holdLabel(r))
	}
	return strings.NewReplacer(pairs...)
}()

func holdLabel(r order.HoldReason) string {
	if l, ok := holdLabels[r]; ok {
		return l
	}
	return string(r)
}

var cancelLabels = map[string]string{"customer": "Customer changed or cancelled the order", "fraud": "Fraudulent order",
	"inventory": "Items unavailable", "declined": "Payment declined", "staff": "Staff error", "other": "Other"}

func statusLabel(s order.Status) string {
	switch s {
	case order.Open:
		return "Open"
	case order.Cancelled:
		return "Cancelled"
	case order.Closed:
		return "Closed"
	}
	return string(s)
}

func fulfillmentLabel(f order.FulfillmentStatus) string {
	switch f {
	case order.Unfulfilled:
		return "Unfulfilled"
	case order.PartiallyFulfilled:
		return "Partially fulfilled"
	case order.Fulfilled:
		return "Fulfilled"
	}
	return string(f)
}

func paymentLabel(p string) string {
	if p == "" {
		return "—"
	}
	return upperFirst(strings.ReplaceAll(p, "_", " "))
}

// choice is one option of a select.
type choice struct{ Value, Label string }

func holdChoices() []choice {
	var out []choice
	for _, r := range order.HoldReasons {
		out = append(out, choice{string(r), holdLabel(r)})
	}
	return out
}

func cancelChoices() []choice {
	var out []choice
	for _, r := range order.CancelReasons {
		out = append(out, choice{r, cancelLabels[r]})
	}
	return out
}

var sortChoices = []choice{{"-placed_at", "Newest first"}, {"placed_at", "Oldest first"}, {"-updated_at", "Recently updated"},
	{"updated_at", "Least recently updated"}, {"-total_price", "Highest total"}, {"total_price", "Lowest total"}}

// ---------- the list ----------

// orderFilter is the list's query string. The names are what people see in
// (and share as) URLs; saved views store the same text.
type orderFilter struct {
	Q, Status, Fulfillment, Hold, Channel, From, To, SKU, Email, Tag, Country, Sort, After string
}

func orderFilterOf(q url.Values) orderFilter {
	g := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := orderFilter{Q: g("q"), Status: g("status"), Fulfillment: g("fulfillment"), Hold: g("hold"), Channel: g("channel"),
		From: g("from"), To: g("to"), SKU: g("sku"), Email: g("email"), Tag: g("tag"), Country: strings.ToUpper(g("country")),
		Sort: g("sort"), After: q.Get("after")}
	if f.Sort == "-placed_at" {
		f.Sort = ""
	}
	return f
}

// query is the filter without the page: what a saved view keeps. Encode
// sorts the keys, so equal filters give equal text.
func (f orderFilter) query() url.Values {
	q := url.Values{}
	for _, kv := range [][2]string{{"q", f.Q}, {"status", f.Status}, {"fulfillment", f.Fulfillment}, {"hold", f.Hold}, {"channel", f.Channel},
		{"from", f.From}, {"to", f.To}, {"sku", f.SKU}, {"email", f.Email}, {"tag", f.Tag}, {"country", f.Country}, {"sort", f.Sort}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	return q
}

// url returns /orders with the filter and a page cursor.
func (f orderFilter) url(after string) string {
	q := f.query()
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return "/orders"
	}
	return "/orders?" + q.Encode()
}

// Filtered reports whether any filter narrows the list (sorting does not).
func (f orderFilter) Filtered() bool {
	g := f
	g.Sort, g.After = "", ""
	return g != orderFilter{}
}

// Advanced reports whether a filter beyond the first row is set, so the
// page opens with the rest of the filters shown.
func (f orderFilter) Advanced() bool {
	return f.Channel != "" || f.From != "" || f.To != "" || f.SKU != "" || f.Email != "" || f.Tag != "" || f.Country != ""
}

const dateLayout = "2006-01-02"

// order turns the filter into the order service's, reading dates as days
// in the tenant's time zone ("to" includes its whole day). Problems come
// back as field errors named by the filter's inputs.
func (f orderFilter) order(loc *time.Location) (order.Filter, errs.FieldList) {
	var fe errs.FieldList
	of := order.Filter{Query: f.Q, Status: order.Status(f.Status), Fulfillment: order.FulfillmentStatus(f.Fulfillment), Channel: f.Channel,
		SKU: f.SKU, Email: f.Email, Tag: f.Tag, Country: f.Country, Sort: f.Sort, Limit: orderPageSize}
	switch f.Hold {
	case "":
	case "yes", "no":
		on := f.Hold == "yes"
		of.OnHold = &on
	default:
		of.HoldReason = order.HoldReason(f.Hold)
	}
	day := func(field, v string) *time.Time {
		if v == "" {
			return nil
		}
		t, err := time.ParseInLocation(dateLayout, v, loc)
		if err != nil {
			fe.Add(field, "must be a date such as 2025-03-31", v)
			return nil
		}
		return &t
	}
	of.Since = day("from", f.From)
	if to := day("to", f.To); to != nil {
		end := to.AddDate(0, 0, 1)
		of.Until = &end
		if of.Since != nil && end.Before(*of.Since) {
			fe.Add("to", "is before the start date", f.To)
		}
	}
	return of, fe
}

// orderListInputs names the order service's list fields as the filter's
// inputs, for errors beside them.
var orderListInputs = map[string]string{"status": "status", "fulfillment_status": "fulfillment", "hold_reason": "hold", "country": "country",
	"sort": "sort", "channel": "channel", "email": "email", "sku": "sku", "tag": "tag", "from": "from", "to": "to"}

// orderRow is one order as the list shows it.
type orderRow struct {
	ID, Number, Customer, Email, Channel, Country string
	PlacedAt                                      time.Time
	Day, Clock                                    string // PlacedAt in the tenant's time zone
	Units                                         int64
	Lines                                         int
	Total, Payment, PaymentStatus                 string
	Status                                        order.Status
	StatusLabel, Fulfillment, FulfillmentLabel    string
	Holds                                         []choice
	Backordered                                   bool
}

func orderRowOf(o order.Order, loc *time.Location) orderRow {
	if loc == nil {
		loc = time.UTC
	}
	placed := o.PlacedAt.In(loc)
	r := orderRow{Day: placed.Format("2 Jan 2006"), Clock: placed.Format("15:04"), ID: o.ID, Number: o.Number, Customer: o.Customer.Name, Email: o.Customer.Email, Channel: o.Channel, PlacedAt: o.PlacedAt,
		Lines: len(o.Lines), Total: formatMoney(&o.Total, o.Currency), Payment: paymentLabel(o.PaymentStatus), PaymentStatus: o.PaymentStatus,
		Status: o.Status, StatusLabel: statusLabel(o.Status), Fulfillment: string(o.Fulfillment), FulfillmentLabel: fulfillmentLabel(o.Fulfillment)}
	if r.Customer == "" && o.ShippingAddress != nil {
		r.Customer = o.ShippingAddress.Name
	}
	if o.ShippingAddress != nil {
		r.Country = o.ShippingAddress.Country
	}
	for _, l := range o.Lines {
		r.Units += l.Quantity
		r.Backordered = r.Backordered || l.Backordered > 0
	}
	for _, h := range o.Holds {
		r.Holds = append(r.Holds, choice{string(h.Reason), holdLabel(h.Reason)})
	}
	return r
}

// viewTab is a saved view as a tab.
type viewTab struct {
	store.SavedView
	URL    string
	Active bool
}

// bulkItem is one order a bulk action did not change, and why.
type bulkItem struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Why    string `json:"why"`
}

// bulkResult is what a bulk action did, shown on the list it returns to.
type bulkResult struct {
	Did       string     `json:"did"` // "put on hold (Incorrect address)"
	Done      int        `json:"done"`
	Unchanged []bulkItem `json:"unchanged,omitempty"`
	Failed    []bulkItem `json:"failed,omitempty"`
}

type orderListPage struct {
	Filter      orderFilter
	Errors      formErrors
	Orders      []orderRow
	NextURL     string
	FirstURL    string
	SelfURL     string
	Query       string // the filter as a saved view keeps it
	Views       []viewTab
	ActiveView  *viewTab
	ViewName    string
	ViewErrors  formErrors
	CanEdit     bool
	Partial     bool // an htmx request: the view tabs come out of band
	Bulk        *bulkResult
	Statuses    []choice
	Fulfills    []choice
	Holds       []choice
	Cancels     []choice
	Sorts       []choice
	Channels    []string
	NoOrdersYet bool
}

func (s *server) orderList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "orders:read"); err != nil {
		return err
	}
	svc, err := s.orderService()
	if err != nil {
		return err
	}
	f := orderFilterOf(r.URL.Query())
	page := orderListPage{Filter: f}
	partial := r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
	page.Partial = partial
	if err := s.fillOrderList(r, svc, &page); err != nil {
		return err
	}
	// Opening the list marks every order so far as seen.
	s.sm.Put(r.Context(), keyOrdersSeen, eventIDFloor(time.Now()))
	if raw := s.sm.PopString(r.Context(), keyOrdersBulk); raw != "" {
		var b bulkResult
		if json.Unmarshal([]byte(raw), &b) == nil {
			page.Bulk = &b
		}
	}
	status := http.StatusOK
	if len(page.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	v := &view{Title: "Orders", Area: "orders", Data: page}
	w.Header().Add("Vary", "HX-Request")
	if partial {
		// htmx swaps only what a 2xx carries; a filter with a mistake is
		// still a page worth showing while someone types.
		return s.renderPart(w, r, "orders", "results", v)
	}
	return s.render(w, r, status, "orders", v)
}

// fillOrderList reads the page of orders and the person's views.
func (s *server) fillOrderList(r *http.Request, svc *order.Service, page *orderListPage) error {
	ctx, p := r.Context(), personFrom(r)
	f := page.Filter
	page.CanEdit = canChangeOrders(p)
	page.Statuses = []choice{{"open", "Open"}, {"closed", "Closed"}, {"cancelled", "Cancelled"}}
	page.Fulfills = []choice{{"unfulfilled", "Unfulfilled"}, {"partially_fulfilled", "Partially fulfilled"}, {"fulfilled", "Fulfilled"}}
	page.Holds, page.Cancels, page.Sorts = holdChoices(), cancelChoices(), sortChoices
	page.Query = f.query().Encode()
	page.SelfURL = f.url(f.After)
	page.Channels = []string{"api", "csv"}
	if s.d.Channels != nil {
		for _, k := range s.d.Channels.Kinds() {
			page.Channels = append(page.Channels, k.Name)
		}
	}
	if f.Channel != "" && !slices.Contains(page.Channels, strings.ToLower(f.Channel)) {
		page.Channels = append(page.Channels, strings.ToLower(f.Channel))
	}
	if err := s.fillViews(r, page); err != nil {
		return err
	}
	of, fe := f.order(p.Loc)
	if len(fe) == 0 {
		list, next, err := svc.List(ctx, p.Tenant.ID, of, f.After)
		if err != nil {
			if fe = errs.Fields(err); len(fe) == 0 {
				return err
			}
		}
		for _, o := range list {
			page.Orders = append(page.Orders, orderRowOf(o, p.Loc))
		}
		if next != "" {
			page.NextURL = f.url(next)
		}
	}
	if len(fe) > 0 {
		page.Errors = formErrors{}
		for _, e := range fe {
			key, ok := orderListInputs[e.Field]
			msg := upperFirst(e.Message) + "."
			if !ok {
				key, msg = "", "The link to this page is out of date. Start again from the first page."
			}
			page.Errors[key] = append(page.Errors[key], msg)
		}
	}
	if f.After != "" {
		page.FirstURL = f.url("")
	}
	page.NoOrdersYet = len(page.Orders) == 0 && !f.Filtered() && f.After == "" && len(page.Errors) == 0
	return nil
}

func (s *server) fillViews(r *http.Request, page *orderListPage) error {
	if s.d.Views == nil {
		return nil
	}
	p := personFrom(r)
	vs, err := s.d.Views.ListViews(r.Context(), p.Tenant.ID, p.User.ID, viewsArea)
	if err != nil {
		return err
	}
	for _, v := range vs {
		t := viewTab{SavedView: v, URL: "/orders", Active: v.Query == page.Query}
		if v.Query != "" {
			t.URL = "/orders?" + v.Query
		}
		page.Views = append(page.Views, t)
	}
	for i := range page.Views {
		if page.Views[i].Active {
			page.ActiveView = &page.Views[i]
			break
		}
	}
	return nil
}

// orderNewCount answers the navigation's count of orders created since the
// person last opened the list. Like the bell it is loaded after the page,
// and it is one indexed count of order.created events.
func (s *server) orderNewCount(w http.ResponseWriter, r *http.Request) error {
	n := 0
	if s.d.NotifyLog != nil && s.d.Orders != nil && personFrom(r).Principal.Can("orders:read") {
		seen := s.sm.GetString(r.Context(), keyOrdersSeen)
		if floor := eventIDFloor(time.Now().Add(-newOrdersWindow)); seen < floor {
			seen = floor
		}
		var err error
		if n, err = s.d.NotifyLog.CountEventsAfter(r.Context(), personFrom(r).Tenant.ID, []string{order.EventCreated}, seen, newOrdersMax+1); err != nil {
			return err
		}
	}
	return s.renderPart(w, r, "orders", "new_count", &view{Data: newCount{n}})
}

type newCount struct{ Count int }

// Label is the count as the badge shows it.
func (c newCount) Label() string {
	if c.Count > newOrdersMax {
		return strconv.Itoa(newOrdersMax) + "+"
	}
	return strconv.Itoa(c.Count)
}

// ---------- saved views ----------

func (s *server) orderViewSave(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "orders:read"); err != nil {
		return err
	}
	svc, err := s.orderService()
	if err != nil {
		return err
	}
	if s.d.Views == nil {
		return errs.E("web.orderViewSave", errs.NotExist, "saved views are not set up in this process")
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	p := personFrom(r)
	name := strings.TrimSpace(r.PostFormValue("name"))
	q, _ := url.ParseQuery(r.PostFormValue("query"))
	f := orderFilterOf(q)
	f.After = ""
	query := f.query().Encode()
	var problem string
	switch {
	case name == "":
		problem = "Give the view a name, such as “Ready to ship”."
	case utf8.RuneCountInString(name) > 40:
		problem = "The name must be at most 40 characters."
	case !f.Filtered() && f.Sort == "":
		problem = "Choose some filters first: without any, the view would be the same as All orders."
	}
	if problem == "" {
		vs, err := s.d.Views.ListViews(r.Context(), p.Tenant.ID, p.User.ID, viewsArea)
		if err != nil {
			return err
		}
		if len(vs) >= maxViews && !slices.ContainsFunc(vs, func(v store.SavedView) bool { return v.Name == name }) {
			problem = fmt.Sprintf("You have %d saved views, the most there can be. Delete one first.", maxViews)
		}
	}
	if problem != "" {
		page := orderListPage{Filter: f, ViewName: name, ViewErrors: formErrors{"name": {problem}}}
		if err := s.fillOrderList(r, svc, &page); err != nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "orders", &view{Title: "Orders", Area: "orders", Data: page})
	}
	if _, err := s.d.Views.SaveView(r.Context(), store.SavedView{TenantID: p.Tenant.ID, UserID: p.User.ID, Area: viewsArea, Name: name, Query: query}); err != nil {
		return err
	}
	s.flash(r, "View “"+name+"” saved. It is a tab above your orders now.")
	http.Redirect(w, r, f.url(""), http.StatusSeeOther)
	return nil
}

func (s *server) orderViewDelete(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "orders:read"); err != nil {
		return err
	}
	if s.d.Views == nil {
		return errs.E("web.orderViewDelete", errs.NotExist, "saved views are not set up in this process")
	}
	p := personFrom(r)
	if err := s.d.Views.DeleteView(r.Context(), p.Tenant.ID, p.User.ID, r.PathValue("id")); err != nil {
		return err
	}
	s.flash(r, "View deleted.")
	http.Redirect(w, r, "/orders", http.StatusSeeOther)
	return nil
}

// ---------- bulk actions ----------

// listURL returns a return address on the orders list, or the list itself.
func listURL(back string) string {
	if back == "/orders" || strings.HasPrefix(back, "/orders?") {
		return localPath(back)
	}
	return "/orders"
}

type bulkCancelPage struct {
	Orders  []orderRow
	Reason  string
	Reasons []choice
	Back    string
	Errors  formErrors
}

// orderBulk applies one action to every ticked order, each in its own
// transaction through the order service, and reports what happened to each.
func (s *server) orderBulk(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.orderForm(w, r)
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	back := listURL(r.PostFormValue("back"))
	ids := slices.Compact(slices.Sorted(slices.Values(r.PostForm["id"])))
	action := r.PostFormValue("action")
	refuse := func(msg string) error {
		s.flash(r, msg)
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	switch {
	case len(ids) == 0:
		return refuse("Tick the orders to change first.")
	case len(ids) > maxBulk:
		return refuse(fmt.Sprintf("At most %d orders can be changed at once; %d were ticked.", maxBulk, len(ids)))
	}
	var do func(o order.Order) (changed bool, why string, err error)
	res := bulkResult{}
	switch action {
	case "hold":
		reason := order.HoldReason(r.PostFormValue("hold_reason"))
		note := strings.TrimSpace(r.PostFormValue("hold_note"))
		if !slices.Contains(order.HoldReasons, reason) {
			return refuse("Choose why the orders are to be held.")
		}
		res.Did = "put on hold (" + holdLabel(reason) + ")"
		do = func(o order.Order) (bool, string, error) {
			if o.HasHold(reason) {
				return false, "already on hold for that reason", nil
			}
			_, err := svc.AddHold(ctx, p.Tenant.ID, o.ID, reason, note, actor(r))
			return err == nil, "", err
		}
	case "release":
		reason := order.HoldReason(r.PostFormValue("release_reason"))
		if !slices.Contains(order.HoldReasons, reason) {
			return refuse("Choose which hold to release.")
		}
		res.Did = "released from their " + strings.ToLower(holdLabel(reason)) + " hold"
		do = func(o order.Order) (bool, string, error) {
			if !o.HasHold(reason) {
				return false, "not on that hold", nil
			}
			_, err := svc.ReleaseHold(ctx, p.Tenant.ID, o.ID, string(reason), actor(r))
			return err == nil, "", err
		}
	case "tag":
		tag := strings.TrimSpace(r.PostFormValue("tag"))
		if tag == "" {
			return refuse("Type the tag to add.")
		}
		res.Did = "tagged “" + tag + "”"
		do = func(o order.Order) (bool, string, error) {
			if slices.ContainsFunc(o.Tags, func(t string) bool { return strings.EqualFold(t, tag) }) {
				return false, "has the tag already", nil
			}
			tags := append(slices.Clone(o.Tags), tag)
			_, err := svc.Edit(ctx, p.Tenant.ID, o.ID, order.EditInput{Tags: &tags}, actor(r))
			return err == nil, "", err
		}
	case "cancel":
		reason := r.PostFormValue("cancel_reason")
		if !slices.Contains(order.CancelReasons, reason) {
			return refuse("Choose why the orders are cancelled.")
		}
		// Cancelling gives back stock and cannot be undone: the first
		// press shows what would be cancelled and asks again.
		if r.PostFormValue("confirm") != "yes" {
			page := bulkCancelPage{Reason: reason, Reasons: cancelChoices(), Back: back}
			for _, id := range ids {
				if o, err := svc.Get(ctx, p.Tenant.ID, id); err == nil {
					page.Orders = append(page.Orders, orderRowOf(o, p.Loc))
				} else if !errs.Is(errs.NotExist, err) {
					return err
				}
			}
			if len(page.Orders) == 0 {
				return refuse("None of the ticked orders exist any more.")
			}
			return s.render(w, r, http.StatusOK, "order_bulk_cancel", &view{Title: "Cancel orders", Area: "orders", Data: page})
		}
		res.Did = "cancelled (" + strings.ToLower(cancelLabels[reason]) + ")"
		do = func(o order.Order) (bool, string, error) {
			if o.Status == order.Cancelled {
				return false, "was cancelled already", nil
			}
			_, err := svc.Cancel(ctx, p.Tenant.ID, o.ID, order.CancelInput{Reason: reason}, actor(r))
			return err == nil, "", err
		}
	default:
		return refuse("Choose what to do with the ticked orders.")
	}
	for _, id := range ids {
		o, err := svc.Get(ctx, p.Tenant.ID, id)
		if err != nil {
			if !errs.Is(errs.NotExist, err) {
				return err
			}
			res.Failed = append(res.Failed, bulkItem{ID: id, Number: id, Why: "No such order."})
			continue
		}
		changed, why, err := do(o)
		switch {
		case err != nil:
			switch errs.KindOf(err) {
			case errs.Invalid, errs.Conflict, errs.NotExist:
				res.Failed = append(res.Failed, bulkItem{ID: o.ID, Number: o.Number, Why: failureText(err)})
			default:
				// A database failure stops the run; what was done stays done
				// and the error page says so with the request id.
				return errs.E("web.orderBulk", err)
			}
		case changed:
			res.Done++
		default:
			res.Unchanged = append(res.Unchanged, bulkItem{ID: o.ID, Number: o.Number, Why: why})
		}
	}
	b, _ := json.Marshal(res)
	s.sm.Put(ctx, keyOrdersBulk, string(b))
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// failureText is a refusal in words: the service's message, or each field
// problem.
func failureText(err error) string {
	if fs := errs.Fields(err); len(fs) > 0 {
		var parts []string
		for _, f := range fs {
			parts = append(parts, upperFirst(f.Message))
		}
		return strings.Join(parts, "; ") + "."
	}
	return userMessage(err, "Refused.") + "."
}

// ---------- one order ----------

// lineRow is one line as the order page shows it.
type lineRow struct {
	order.Line
	Facility, UnitPrice, LineTotal string
	QtyInput                       string // the edit form's value
	Remove                         bool
}

type holdRow struct {
	order.Hold
	Label, By string
}

type timelineRow struct {
	order.Event
	Who string
}

// orderForm is the edit form as typed; its inputs are named after what
// they change so errors find them.
type orderForm struct {
	Qty                                                               map[string]string // by line id
	Remove                                                            []string
	AddSKU, AddQty, AddPrice                                          string
	Name, Company, Line1, Line2, City, Region, Postal, Country, Phone string
	Note, Tags                                                        string
}

// Removed reports whether a line's remove box is ticked.
func (f orderForm) Removed(id string) bool { return slices.Contains(f.Remove, id) }

func orderFormOf(o order.Order) orderForm {
	f := orderForm{Qty: map[string]string{}, Note: o.Note, Tags: strings.Join(o.Tags, ", ")}
	for _, l := range o.Lines {
		f.Qty[l.ID] = strconv.FormatInt(l.Quantity, 10)
	}
	if a := o.ShippingAddress; a != nil {
		f.Name, f.Company, f.Line1, f.Line2, f.City, f.Region, f.Postal, f.Country, f.Phone = a.Name, a.Company, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, a.Phone
	}
	return f
}

func orderFormFrom(r *http.Request, o order.Order) orderForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := orderForm{Qty: map[string]string{}, Remove: r.PostForm["remove"], AddSKU: v("add_sku"), AddQty: v("add_quantity"), AddPrice: v("add_price"),
		Name: v("ship_name"), Company: v("ship_company"), Line1: v("ship_line1"), Line2: v("ship_line2"), City: v("ship_city"), Region: v("ship_region"),
		Postal: v("ship_postal_code"), Country: v("ship_country"), Phone: v("ship_phone"), Note: strings.ReplaceAll(r.PostFormValue("note"), "\r\n", "\n"), Tags: v("tags")}
	for _, l := range o.Lines {
		f.Qty[l.ID] = v("qty_" + l.ID)
	}
	return f
}

// holdForm and cancelForm are the small forms of the order page as typed.
type holdForm struct{ Reason, Note string }

type cancelForm struct{ Reason, LineID, Quantity, LineReason string }

type orderPage struct {
	Order       order.Order
	Doc         order.Doc
	StatusLabel string
	Fulfillment string
	Payment     string
	Lines       []lineRow
	Holds       []holdRow
	Timeline    []timelineRow
	Form        orderForm
	Hold        holdForm
	Cancel      cancelForm
	Fulfil      fulfilForm // the "Mark as fulfilled" form that was refused
	Fulfilment  fulfilmentCard
	Errors      formErrors
	Problems    []string
	Notice      string
	CanEdit     bool
	Editable    bool // open, and the person may change it
	CanCancel   bool // open with nothing fulfilled: may be cancelled whole
	OpenLines   []lineRow
	HoldChoices []choice
	Cancels     []choice
	Version     string
	Units       int64
	Totals      []total
}

// total is one figure under an order's lines.
type total struct{ Label, Amount string }

func (s *server) orderShow(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "orders:read"); err != nil {
		return err
	}
	svc, err := s.orderService()
	if err != nil {
		return err
	}
	o, err := svc.Get(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderOrder(w, r, http.StatusOK, o, orderPage{Form: orderFormOf(o)})
}

func (s *server) renderOrder(w http.ResponseWriter, r *http.Request, status int, o order.Order, page orderPage) error {
	ctx, p := r.Context(), personFrom(r)
	svc, err := s.orderService()
	if err != nil {
		return err
	}
	page.Order, page.Doc = o, o.Doc()
	page.StatusLabel, page.Fulfillment, page.Payment = statusLabel(o.Status), fulfillmentLabel(o.Fulfillment), paymentLabel(o.PaymentStatus)
	page.CanEdit = canChangeOrders(p)
	page.Editable = page.CanEdit && o.Status == order.Open
	page.CanCancel = page.Editable
	page.HoldChoices, page.Cancels = holdChoices(), cancelChoices()
	page.Version = o.UpdatedAt.Format(time.RFC3339Nano)
	if page.Form.Qty == nil {
		page.Form = orderFormOf(o)
	}
	if page.Hold.Reason == "" {
		page.Hold.Reason = string(order.OtherHold)
	}
	if page.Cancel.Reason == "" {
		page.Cancel.Reason = "customer"
	}
	if page.Cancel.LineReason == "" {
		page.Cancel.LineReason = "customer"
	}
	facs := map[string]string{}
	if s.d.Inventory != nil {
		fs, err := s.d.Inventory.ListFacilities(ctx, p.Tenant.ID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			facs[f.ID] = f.Code
		}
	}
	for _, l := range o.Lines {
		total := l.Quantity*l.UnitPrice - l.Discount
		row := lineRow{Line: l, Facility: facs[l.FacilityID], UnitPrice: formatMoney(&l.UnitPrice, o.Currency), LineTotal: formatMoney(&total, o.Currency),
			QtyInput: page.Form.Qty[l.ID], Remove: page.Form.Removed(l.ID)}
		if l.FacilityID != "" && row.Facility == "" {
			row.Facility = "another facility"
		}
		page.Lines = append(page.Lines, row)
		page.Units += l.Quantity
		if l.Open() > 0 {
			page.OpenLines = append(page.OpenLines, row)
		}
		if l.Fulfilled > 0 {
			page.CanCancel = false
		}
	}
	amt := func(v int64) string { return formatMoney(&v, o.Currency) }
	page.Totals = []total{{"Subtotal", amt(o.Subtotal)}}
	if o.DiscountTotal != 0 {
		page.Totals = append(page.Totals, total{"Discounts (in the subtotal)", "−" + amt(o.DiscountTotal)})
	}
	page.Totals = append(page.Totals, total{"Shipping", amt(o.ShippingTotal)})
	tax := "Tax"
	if o.TaxesIncluded {
		tax = "Tax (included)"
	}
	page.Totals = append(page.Totals, total{tax, amt(o.TaxTotal)}, total{"Total", amt(o.Total)})
	name, err := s.actorNames(ctx, p.Tenant.ID)
	if err != nil {
		return err
	}
	who := func(a string) string {
		switch {
		case a == "system":
			return "Waybill"
		case strings.HasPrefix(a, "channel:"):
			return "Channel “" + strings.TrimPrefix(a, "channel:") + "”"
		}
		return name(a)
	}
	for _, h := range o.Holds {
		page.Holds = append(page.Holds, holdRow{Hold: h, Label: holdLabel(h.Reason), By: who(h.CreatedBy)})
	}
	evs, err := svc.Timeline(ctx, p.Tenant.ID, o.ID)
	if err != nil {
		return err
	}
	for _, e := range slices.Backward(evs) {
		e.Message = holdWords.Replace(e.Message)
		page.Timeline = append(page.Timeline, timelineRow{Event: e, Who: who(e.Actor)})
	}
	if err := s.fillFulfilment(r, svc, o, evs, who, &page); err != nil {
		return err
	}
	return s.render(w, r, status, "order", &view{Title: "Order " + o.Number, Area: "orders", Data: page})
}

// refused re-renders the order page after a refused change: field errors
// beside their inputs (and named in the summary), a clash with the order's
// state as a notice. Other errors go to the error page.
func (s *server) refused(w http.ResponseWriter, r *http.Request, svc *order.Service, err error, page orderPage, name func(errs.FieldError) (string, string)) error {
	o, gerr := svc.Get(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	if fs := errs.Fields(err); len(fs) > 0 {
		page.Errors = formErrors{}
		for _, f := range fs {
			key, label := name(f)
			msg := upperFirst(f.Message) + "."
			page.Errors[key] = append(page.Errors[key], msg)
			if label != "" {
				msg = label + ": " + f.Message + "."
			}
			page.Problems = append(page.Problems, msg)
		}
		return s.renderOrder(w, r, http.StatusUnprocessableEntity, o, page)
	}
	if errs.Is(errs.Conflict, err) {
		page.Notice = userMessage(err, "That change clashes with the order as it is now.") + "."
		return s.renderOrder(w, r, http.StatusConflict, o, page)
	}
	return err
}

var addressLabels = map[string]string{"name": "Name", "company": "Company", "line1": "Address", "line2": "Address line 2", "city": "City",
	"region": "Region", "postal_code": "Postal code", "country": "Country", "phone": "Phone"}

func (s *server) orderEdit(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.orderForm(w, r)
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	cur, err := svc.Get(ctx, p.Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	// The form replaces what it shows: if the order changed since it was
	// opened, saving it would undo someone else's change.
	if v := r.PostFormValue("version"); v != "" && v != cur.UpdatedAt.Format(time.RFC3339Nano) {
		return s.renderOrder(w, r, http.StatusConflict, cur, orderPage{Notice: "This order changed while you had it open (someone else, a channel or Waybill itself changed it). Here it is as it is now; make your change again."})
	}
	form := orderFormFrom(r, cur)
	page := orderPage{Form: form}
	in := order.EditInput{}
	var qtyLines []string // line id of each SetQuantities entry
	var fe errs.FieldList
	for _, l := range cur.Lines {
		if form.Removed(l.ID) {
			if l.Quantity > l.Fulfilled {
				in.RemoveLines = append(in.RemoveLines, l.ID)
			}
			continue
		}
		t := form.Qty[l.ID]
		if t == "" {
			continue
		}
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			fe.Add("qty_"+l.ID, "must be a whole number", t)
			continue
		}
		if n != l.Quantity {
			in.SetQuantities = append(in.SetQuantities, order.QuantityChange{LineID: l.ID, Quantity: n})
			qtyLines = append(qtyLines, l.ID)
		}
	}
	if form.AddSKU != "" || form.AddQty != "" || form.AddPrice != "" {
		add := order.LineInput{SKU: form.AddSKU, Quantity: 1, UnitPrice: form.AddPrice}
		if form.AddSKU == "" {
			fe.Add("add_sku", "is required to add a line", "")
		}
		if form.AddQty != "" {
			n, err := strconv.ParseInt(form.AddQty, 10, 64)
			if err != nil {
				fe.Add("add_quantity", "must be a whole number", form.AddQty)
			}
			add.Quantity = n
		}
		if add.UnitPrice == "" && form.AddSKU != "" && s.d.Catalog != nil {
			// The price defaults to the product's, when it is in the
			// order's currency.
			ps, _, err := s.d.Catalog.List(ctx, p.Tenant.ID, catalog.Filter{SKU: form.AddSKU, Limit: 1})
			if err != nil {
				return err
			}
			switch {
			case len(ps) == 0:
				fe.Add("add_sku", "no product has this SKU", form.AddSKU)
			case ps[0].Price != nil && ps[0].Currency == cur.Currency:
				add.UnitPrice = money.Amount{Minor: *ps[0].Price, Currency: cur.Currency}.String()
			}
		}
		in.AddLines = []order.LineInput{add}
	}
	ship := order.Address{Name: form.Name, Company: form.Company, Line1: form.Line1, Line2: form.Line2, City: form.City, Region: form.Region,
		PostalCode: form.Postal, Country: strings.ToUpper(form.Country), Phone: form.Phone}
	if old := cur.ShippingAddress; (old == nil && ship != order.Address{}) || (old != nil && ship != *old) {
		in.ShippingAddress = &ship
	}
	if note := strings.TrimSpace(form.Note); note != cur.Note {
		in.Note = &note
	}
	if tags := splitList(form.Tags); !slices.Equal(tags, cur.Tags) {
		in.Tags = &tags
	}
	lineSKU := map[string]string{}
	for _, l := range cur.Lines {
		lineSKU[l.ID] = l.SKU
	}
	name := func(f errs.FieldError) (string, string) {
		field := f.Field
		if m := indexed.FindStringSubmatch(field); m != nil {
			i, _ := strconv.Atoi(m[2])
			switch m[1] {
			case "set_quantities":
				if i < len(qtyLines) && m[3] == "quantity" {
					return "qty_" + qtyLines[i], "Quantity of " + lineSKU[qtyLines[i]]
				}
			case "add_lines":
				switch m[3] {
				case "quantity":
					return "add_quantity", "Quantity to add"
				case "unit_price":
					return "add_price", "Price of the added line"
				}
				return "add_sku", "SKU to add"
			case "tags":
				return "tags", "Tags"
			}
			return "", ""
		}
		if strings.HasPrefix(field, "qty_") {
			return field, "Quantity of " + lineSKU[strings.TrimPrefix(field, "qty_")]
		}
		if a, ok := strings.CutPrefix(field, "shipping_address."); ok {
			return "ship_" + a, "Shipping address, " + strings.ToLower(addressLabels[a])
		}
		switch field {
		case "add_sku":
			return field, "SKU to add"
		case "add_quantity":
			return field, "Quantity to add"
		case "note":
			return "note", "Note"
		case "tags":
			return "tags", "Tags"
		}
		return "", ""
	}
	if len(fe) > 0 {
		return s.refused(w, r, svc, errs.InvalidFields("web.orderEdit", fe...), page, name)
	}
	if len(in.SetQuantities) == 0 && len(in.RemoveLines) == 0 && len(in.AddLines) == 0 && in.ShippingAddress == nil && in.Note == nil && in.Tags == nil {
		s.flash(r, "Nothing was changed.")
		http.Redirect(w, r, "/orders/"+cur.ID, http.StatusSeeOther)
		return nil
	}
	o, err := svc.Edit(ctx, p.Tenant.ID, cur.ID, in, actor(r))
	if err != nil {
		// Field messages about a missing price name the product.
		if fs := errs.Fields(err); len(fs) > 0 {
			for i := range fs {
				if fs[i].Field == "add_lines[0].unit_price" && form.AddPrice == "" {
					fs[i].Message = "is required: " + form.AddSKU + " has no price in " + cur.Currency
				}
			}
			err = errs.InvalidFields("web.orderEdit", fs...)
		}
		return s.refused(w, r, svc, err, page, name)
	}
	msg := "Order " + o.Number + " saved."
	if short := backorderText(o); short != "" {
		msg += " " + short
	}
	s.flash(r, msg)
	http.Redirect(w, r, "/orders/"+o.ID, http.StatusSeeOther)
	return nil
}

// backorderText says which units no stock could be reserved for.
func backorderText(o order.Order) string {
	var parts []string
	for _, l := range o.Lines {
		if l.Backordered > 0 {
			parts = append(parts, fmt.Sprintf("%d × %s", l.Backordered, l.SKU))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Backordered (no stock to reserve yet): " + strings.Join(parts, ", ") + "."
}

func (s *server) orderHold(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.orderForm(w, r)
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	hf := holdForm{Reason: r.PostFormValue("reason"), Note: strings.TrimSpace(r.PostFormValue("note"))}
	before, err := svc.Get(ctx, p.Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	o, err := svc.AddHold(ctx, p.Tenant.ID, before.ID, order.HoldReason(hf.Reason), hf.Note, actor(r))
	if err != nil {
		return s.refused(w, r, svc, err, orderPage{Hold: hf}, func(f errs.FieldError) (string, string) {
			if f.Field == "note" {
				return "hold_note", "Hold note"
			}
			return "hold_reason", "Hold reason"
		})
	}
	if before.HasHold(order.HoldReason(hf.Reason)) {
		s.flash(r, "Order "+o.Number+" was on hold for “"+holdLabel(order.HoldReason(hf.Reason))+"” already.")
	} else {
		s.flash(r, "Order "+o.Number+" is on hold: "+holdLabel(order.HoldReason(hf.Reason))+". It is not fulfilled until the hold is released.")
	}
	http.Redirect(w, r, "/orders/"+o.ID, http.StatusSeeOther)
	return nil
}

func (s *server) orderRelease(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.orderForm(w, r)
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	hold := r.PostFormValue("hold")
	before, err := svc.Get(ctx, p.Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	var label string
	for _, h := range before.Holds {
		if h.ID == hold || string(h.Reason) == hold {
			label = holdLabel(h.Reason)
		}
	}
	o, err := svc.ReleaseHold(ctx, p.Tenant.ID, before.ID, hold, actor(r))
	if err != nil {
		return s.refused(w, r, svc, err, orderPage{}, func(errs.FieldError) (string, string) { return "", "Hold" })
	}
	switch {
	case label == "":
		s.flash(r, "That hold was released already.")
	case o.OnHold():
		s.flash(r, "Hold released: "+label+". The order is still on hold for another reason.")
	default:
		s.flash(r, "Hold released: "+label+". The order can be fulfilled.")
	}
	http.Redirect(w, r, "/orders/"+o.ID, http.StatusSeeOther)
	return nil
}

func (s *server) orderCancel(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.orderForm(w, r)
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	cf := cancelForm{Reason: r.PostFormValue("reason"), LineID: r.PostFormValue("line_id"), Quantity: strings.TrimSpace(r.PostFormValue("quantity")),
		LineReason: r.PostFormValue("line_reason")}
	in := order.CancelInput{Reason: cf.Reason}
	whole := cf.LineID == ""
	if !whole {
		in.Reason = cf.LineReason
		n, err := strconv.ParseInt(cf.Quantity, 10, 64)
		if err != nil {
			return s.refused(w, r, svc, errs.InvalidFields("web.orderCancel", errs.FieldError{Field: "lines[0].quantity", Message: "must be a whole number", Value: cf.Quantity}),
				orderPage{Cancel: cf}, cancelField)
		}
		in.Lines = []order.QuantityChange{{LineID: cf.LineID, Quantity: n}}
	}
	if in.Reason == "" {
		in.Reason = "other"
	}
	o, err := svc.Cancel(ctx, p.Tenant.ID, r.PathValue("id"), in, actor(r))
	if err != nil {
		name := cancelField
		if whole {
			name = func(errs.FieldError) (string, string) { return "cancel_reason", "Reason for cancelling" }
		}
		return s.refused(w, r, svc, err, orderPage{Cancel: cf}, name)
	}
	switch {
	case o.Status == order.Cancelled:
		s.flash(r, "Order "+o.Number+" is cancelled. Its reserved stock is available again.")
	default:
		n, _ := strconv.Atoi(cf.Quantity)
		s.flash(r, "Cancelled "+count(n, "unit")+" of order "+o.Number+". Their reserved stock is available again.")
	}
	http.Redirect(w, r, "/orders/"+o.ID, http.StatusSeeOther)
	return nil
}

func cancelField(f errs.FieldError) (string, string) {
	switch {
	case f.Field == "reason":
		return "cancel_line_reason", "Reason for cancelling"
	case strings.HasSuffix(f.Field, "line_id"):
		return "cancel_line", "Line"
	}
	return "cancel_quantity", "Units to cancel"
}
