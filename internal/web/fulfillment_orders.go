package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
)

// The Fulfilment area: every fulfilment order in one queue, and one
// fulfilment order with its request history and what can be done to it
// (hold, release, cancel, send again, move, fulfil, and a 3PL's answers,
// for trying a 3PL out by hand). Looking needs fulfillment:read; acting
// fulfillment:write, as in the API.

// foPageSize is how many fulfilment orders one page of the queue shows.
const foPageSize = 50

var requestStatusLabels = map[order.RequestStatus]string{
	order.RequestUnsubmitted:          "Not sent yet",
	order.RequestSubmitted:            "Sent",
	order.RequestAccepted:             "Accepted",
	order.RequestRejected:             "Rejected",
	order.RequestCancellationRequest:  "Cancellation asked",
	order.RequestCancellationAccepted: "Cancellation accepted",
	order.RequestCancellationRejected: "Cancellation refused",
	order.RequestClosed:               "Closed",
}

// requestLabel names a request status; "" (the merchant's own facility,
// nobody to ask) stays "".
func requestLabel(s order.RequestStatus) string {
	if s == order.RequestNone {
		return ""
	}
	if l, ok := requestStatusLabels[s]; ok {
		return l
	}
	return string(s)
}

var pendingLabels = map[string]string{
	order.PendingRequest: "Sending the request",
	order.PendingCancel:  "Sending the cancellation request",
	order.PendingPoll:    "Asking the provider how it goes",
}

// foStatusChoices are the queue's status filter. The default is the work
// that is not finished; the rest are the statuses as shown.
var foStatusChoices = []choice{
	{"", "Not finished"},
	{"all", "Any"},
	{string(order.FulfillmentOpen), "Open"},
	{string(order.FulfillmentInProgress), "In progress"},
	{string(order.FulfillmentScheduled), "Scheduled"},
	{string(order.FulfillmentOnHold), "On hold"},
	{string(order.FulfillmentIncomplete), "Incomplete"},
	{string(order.FulfillmentClosed), "Closed"},
	{string(order.FulfillmentCancelled), "Cancelled"},
}

func requestChoices() []choice {
	out := []choice{}
	for _, s := range order.RequestStatuses {
		out = append(out, choice{string(s), requestLabel(s)})
	}
	return out
}

// foScan says how the queue finds the fulfilment orders of a shown status.
// The store filters by stored status only, while the status shown is
// derived too (an order's hold shows as ON_HOLD, its cancellation as
// CANCELLED), so the queue reads every stored status a shown one can come
// from and keeps those that match.
func foScan(status string) (stored []order.FulfillmentOrderStatus, keep func(order.FulfillmentOrderView) bool, ok bool) {
	working := []order.FulfillmentOrderStatus{order.FulfillmentOpen, order.FulfillmentInProgress}
	shown := func(s order.FulfillmentOrderStatus) func(order.FulfillmentOrderView) bool {
		return func(v order.FulfillmentOrderView) bool { return v.Status == s }
	}
	switch order.FulfillmentOrderStatus(status) {
	case "":
		return append(working, order.FulfillmentOnHold, order.FulfillmentScheduled, order.FulfillmentIncomplete), func(v order.FulfillmentOrderView) bool {
			return v.Status != order.FulfillmentClosed && v.Status != order.FulfillmentCancelled
		}, true
	case "all":
		return []order.FulfillmentOrderStatus{""}, nil, true
	case order.FulfillmentOpen, order.FulfillmentInProgress, order.FulfillmentScheduled, order.FulfillmentIncomplete:
		s := order.FulfillmentOrderStatus(status)
		return []order.FulfillmentOrderStatus{s}, shown(s), true
	case order.FulfillmentOnHold:
		return append(working, order.FulfillmentOnHold), shown(order.FulfillmentOnHold), true
	case order.FulfillmentClosed:
		return append(working, order.FulfillmentClosed), shown(order.FulfillmentClosed), true
	case order.FulfillmentCancelled:
		return append(working, order.FulfillmentOnHold, order.FulfillmentCancelled), shown(order.FulfillmentCancelled), true
	}
	return nil, nil, false
}

// needsAttention reports whether a person should look at a fulfilment
// order: its request was rejected, it is held or left incomplete, or
// sending it failed.
func needsAttention(v order.FulfillmentOrderView) bool {
	return v.RequestStatus == order.RequestRejected || v.Status == order.FulfillmentOnHold || v.Status == order.FulfillmentIncomplete || v.LastError != ""
}

// scanFulfilment reads up to want fulfilment orders after base.After, in id
// order, of the given stored statuses, keeping those keep accepts (all when
// nil). Each stored status is read as its own list and the lists are merged
// by id. It reads a bounded number of rounds; when it stops early the
// cursor still points at where it stopped, so the next page goes on.
func scanFulfilment(ctx context.Context, svc *order.Service, tenantID string, base order.FulfillmentFilter, stored []order.FulfillmentOrderStatus,
	keep func(order.FulfillmentOrderView) bool, want int) ([]order.FulfillmentOrderView, string, error) {
	const maxRounds = 8
	var out []order.FulfillmentOrderView
	after := base.After
	for round := 0; round < maxRounds; round++ {
		var batch []order.FulfillmentOrderView
		horizon, more := "", false
		for _, st := range stored {
			f := base
			f.Status, f.After, f.Limit = st, after, want
			vs, next, err := svc.ListFulfillmentOrders(ctx, tenantID, f)
			if err != nil {
				return nil, "", err
			}
			batch = append(batch, vs...)
			// Beyond the last id of a list that has more, another of its
			// rows may come first: only what is before it is in order.
			if next != "" {
				more = true
				if horizon == "" || next < horizon {
					horizon = next
				}
			}
		}
		slices.SortFunc(batch, func(a, b order.FulfillmentOrderView) int { return cmp.Compare(a.ID, b.ID) })
		for i, v := range batch {
			if more && v.ID > horizon {
				break
			}
			if keep != nil && !keep(v) {
				continue
			}
			out = append(out, v)
			if len(out) == want {
				if more || i < len(batch)-1 {
					return out, v.ID, nil
				}
				return out, "", nil
			}
		}
		if !more {
			return out, "", nil
		}
		after = horizon
	}
	return out, after, nil
}

// foFilter is the queue's filter as given in the URL.
type foFilter struct {
	Facility  string // code
	Status    string // a foStatusChoices value
	Request   string // a request status
	Attention bool
	After     string
}

// Filtered reports whether anything but the default is chosen.
func (f foFilter) Filtered() bool {
	return f.Facility != "" || f.Status != "" || f.Request != "" || f.Attention
}

// url is the queue with this filter, from the page after cursor.
func (f foFilter) url(after string) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("facility", f.Facility)
	set("status", f.Status)
	set("request", f.Request)
	if f.Attention {
		q.Set("attention", "1")
	}
	set("after", after)
	if len(q) == 0 {
		return "/fulfillment"
	}
	return "/fulfillment?" + q.Encode()
}

// foRow is a fulfilment order as the queue shows it.
type foRow struct {
	order.FulfillmentOrderView
	OrderNumber  string
	FacilityName string
	StatusLabel  string
	RequestLabel string
	Summary      string // "2 × MUG, 1 × TENT" still to ship
	Shipped      int64
	Age          string
	Attention    bool
}

type foQueuePage struct {
	Filter     foFilter
	Facilities []inventory.Facility
	Statuses   []choice
	Requests   []choice
	Rows       []foRow
	Errors     formErrors
	NextURL    string
	FirstURL   string
}

func (s *server) fulfilmentQueue(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "fulfillment:read"); err != nil {
		return err
	}
	svc, err := s.orderService()
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	q := r.URL.Query()
	f := foFilter{Facility: strings.TrimSpace(q.Get("facility")), Status: q.Get("status"), Request: q.Get("request"),
		Attention: q.Get("attention") != "", After: q.Get("after")}
	page := foQueuePage{Filter: f, Statuses: foStatusChoices, Requests: requestChoices(), Errors: formErrors{}}
	fs, err := s.d.Inventory.ListFacilities(ctx, p.Tenant.ID)
	if err != nil {
		return err
	}
	page.Facilities = fs
	names := map[string]string{}
	base := order.FulfillmentFilter{After: f.After}
	for _, fac := range fs {
		names[fac.ID] = fac.Name
		if fac.Code == f.Facility {
			base.FacilityID = fac.ID
		}
	}
	if f.Facility != "" && base.FacilityID == "" {
		page.Errors["facility"] = append(page.Errors["facility"], "No facility has the code “"+f.Facility+"”.")
	}
	stored, keep, ok := foScan(f.Status)
	if !ok {
		page.Errors["status"] = append(page.Errors["status"], "Choose a status from the list.")
	}
	if f.Request != "" {
		if !slices.Contains(order.RequestStatuses, order.RequestStatus(f.Request)) {
			page.Errors["request"] = append(page.Errors["request"], "Choose a request status from the list.")
		}
		base.RequestStatus = order.RequestStatus(f.Request)
	}
	if f.Attention {
		inner := keep
		keep = func(v order.FulfillmentOrderView) bool { return (inner == nil || inner(v)) && needsAttention(v) }
	}
	status := http.StatusOK
	if len(page.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		vs, next, err := scanFulfilment(ctx, svc, p.Tenant.ID, base, stored, keep, foPageSize)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, v := range vs {
			page.Rows = append(page.Rows, foRowOf(v, v.OrderNumber, names[v.FacilityID], now))
		}
		if next != "" {
			page.NextURL = f.url(next)
		}
	}
	if f.After != "" {
		page.FirstURL = f.url("")
	}
	return s.render(w, r, status, "fulfillment_orders", &view{Title: "Fulfilment", Area: "fulfilment", Data: page})
}

func foRowOf(v order.FulfillmentOrderView, number, facilityName string, now time.Time) foRow {
	row := foRow{FulfillmentOrderView: v, OrderNumber: number, FacilityName: facilityName, StatusLabel: fulfilmentStatusLabels[v.Status],
		RequestLabel: requestLabel(v.RequestStatus), Age: formatAge(now.Sub(v.CreatedAt)), Attention: needsAttention(v)}
	var what []string
	for _, l := range v.Lines {
		row.Shipped += l.Fulfilled
		if l.Quantity > 0 {
			what = append(what, fmt.Sprintf("%d × %s", l.Quantity, l.SKU))
		}
	}
	row.Summary = strings.Join(what, ", ")
	return row
}

// formatAge writes how long ago something began: "12 min", "5 h", "3 d".
func formatAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d"
}

// ---------- one fulfilment order ----------

// foActForm is what the action forms of the page held when one was refused.
type foActForm struct {
	HoldReason    string
	Reason        string // reject, refuse a cancellation
	Message       string
	MoveTo        string
	Fulfil        fulfilForm
	fulfilRefused bool
}

// foLine is one line with its quantity input.
type foLine struct {
	order.FulfillmentLine
	Input string
}

// historyRow is one step of the request history.
type historyRow struct {
	order.RequestMessage
	What, StatusLabel, Who string
}

var historyKinds = map[string]string{
	"submit":                    "Queued to send",
	"fulfillment_request":       "Request sent",
	"cancellation_request":      "Cancellation requested",
	"cancellation_request_sent": "Cancellation request sent",
	"accepted":                  "Accepted",
	"rejected":                  "Rejected",
	"cancellation_accepted":     "Cancellation accepted",
	"cancellation_rejected":     "Cancellation refused",
}

// historyRowOf is a step of the history in words; a message that only
// repeats what happened is left out.
func historyRowOf(m order.RequestMessage, who func(string) string) historyRow {
	row := historyRow{RequestMessage: m, What: historyKind(m.Kind), StatusLabel: requestLabel(m.RequestStatus), Who: who(m.Actor)}
	if row.Message == row.What {
		row.Message = ""
	}
	return row
}

func historyKind(k string) string {
	if l, ok := historyKinds[k]; ok {
		return l
	}
	return upperFirst(strings.ReplaceAll(k, "_", " "))
}

// rejectReasons are the reasons a 3PL gives for refusing a request
// (Shopify's), for answering by hand.
var rejectReasons = []choice{
	{"INVENTORY_OUT_OF_STOCK", "Out of stock"},
	{"INCORRECT_ADDRESS", "Incorrect address"},
	{"INELIGIBLE_PRODUCT", "Product it cannot ship"},
	{"UNDELIVERABLE_DESTINATION", "Cannot deliver there"},
	{"OTHER", "Other"},
}

type foPage struct {
	FO           order.FulfillmentOrderView
	Order        order.Order
	Facility     inventory.Facility
	KindLabel    string
	StatusLabel  string
	RequestLabel string
	PendingLabel string
	HoldLabel    string // the fulfilment order's own hold; "" when not held itself
	OrderHeld    bool   // shown on hold because its order is
	Asked        bool   // a 3PL or supplier: Waybill sends it a request
	Connected    bool
	Method       string
	Lines        []foLine
	History      []historyRow

	CanWrite        bool
	CanHold         bool
	CanRelease      bool
	CanSchedule     bool
	CanOpen         bool
	CanCancel       bool
	CancelAsks      bool // cancelling asks the 3PL first
	CanSubmit       bool
	CanMove         bool
	CanFulfil       bool
	CanAccept       bool
	CanReject       bool
	CanAnswerCancel bool
	CanClose        bool
	MoveTo          []inventory.Facility
	MergeInto       []order.FulfillmentOrderView // the order's other open fulfilment orders
	HoldChoices     []choice
	RejectReasons   []choice

	Form     foActForm
	Refused  string     // the form that was refused: "hold", "reject", "move", "fulfil", …
	Errors   formErrors // by "<form>.<field>"
	Problems []string
	Notice   string
}

// Manual reports whether any of a 3PL's answers can be given by hand.
func (p foPage) Manual() bool { return p.CanAccept || p.CanReject || p.CanAnswerCancel || p.CanClose }

func (s *server) renderFulfilment(w http.ResponseWriter, r *http.Request, status int, id string, page foPage) error {
	svc, err := s.orderService()
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	fo, err := svc.FulfillmentOrder(ctx, p.Tenant.ID, id)
	if err != nil {
		return err
	}
	o, err := svc.Get(ctx, p.Tenant.ID, fo.OrderID)
	if err != nil {
		return err
	}
	fac, err := s.d.Inventory.Facility(ctx, p.Tenant.ID, fo.FacilityID)
	if err != nil {
		return err
	}
	hist, err := svc.RequestHistory(ctx, p.Tenant.ID, fo.ID)
	if err != nil {
		return err
	}
	who, err := s.requestActors(ctx, p.Tenant.ID)
	if err != nil {
		return err
	}
	page.FO, page.Order, page.Facility = fo, o, fac
	page.KindLabel = facilityKindLabel(fac.Kind)
	page.StatusLabel, page.RequestLabel, page.PendingLabel = fulfilmentStatusLabels[fo.Status], requestLabel(fo.RequestStatus), pendingLabels[fo.Pending]
	if fo.HoldReason != "" {
		page.HoldLabel = holdLabel(order.HoldReason(fo.HoldReason))
	}
	page.OrderHeld = fo.Status == order.FulfillmentOnHold && fo.HoldReason == ""
	page.Asked = fac.Kind == inventory.ThreePL || fac.Kind == inventory.Dropship
	if page.Asked && s.d.Dispatch != nil {
		c, err := s.d.Dispatch.Connection(ctx, p.Tenant.ID, fac.ID)
		switch {
		case err == nil:
			page.Connected, page.Method = true, methodLabel(c.Method)
		case !errs.Is(errs.NotExist, err):
			return err
		}
	}
	for _, m := range hist {
		page.History = append(page.History, historyRowOf(m, who))
	}

	rs := fo.RequestStatus
	done := fo.Status == order.FulfillmentClosed || fo.Status == order.FulfillmentCancelled
	withThem := rs == order.RequestSubmitted || rs == order.RequestAccepted || rs == order.RequestCancellationRequest || rs == order.RequestCancellationRejected
	page.CanWrite = p.Principal.Can("fulfillment:write")
	page.CanHold = !done && fo.HoldReason == ""
	page.CanRelease = fo.HoldReason != ""
	page.CanSchedule = fo.Status == order.FulfillmentOpen && !withThem && fo.HoldReason == ""
	page.CanOpen = fo.Status == order.FulfillmentScheduled
	page.CanCancel = !done && rs != order.RequestCancellationRequest
	page.CancelAsks = rs == order.RequestSubmitted || rs == order.RequestAccepted || rs == order.RequestCancellationRejected
	page.CanSubmit = !done && page.Asked && (rs == order.RequestUnsubmitted || rs == order.RequestRejected)
	page.CanMove = !done && !withThem && o.Status == order.Open
	page.CanFulfil = (fo.Status == order.FulfillmentOpen || fo.Status == order.FulfillmentInProgress) && fo.Remaining() > 0
	page.CanAccept = !done && page.Asked && (rs == order.RequestSubmitted || rs == order.RequestUnsubmitted)
	page.CanReject = !done && page.Asked && (rs == order.RequestSubmitted || rs == order.RequestUnsubmitted || rs == order.RequestAccepted)
	page.CanAnswerCancel = !done && rs == order.RequestCancellationRequest
	page.CanClose = !done && fo.Status != order.FulfillmentIncomplete && fo.Remaining() > 0 && (rs == order.RequestAccepted || rs == order.RequestCancellationRejected)
	if page.CanMove {
		fs, err := s.d.Inventory.ListFacilities(ctx, p.Tenant.ID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.Active && f.ID != fac.ID {
				page.MoveTo = append(page.MoveTo, f)
			}
		}
		page.CanMove = len(page.MoveTo) > 0
		others, err := svc.FulfillmentOrders(ctx, p.Tenant.ID, fo.OrderID)
		if err != nil {
			return err
		}
		for _, x := range others {
			if x.ID != fo.ID && x.Status != order.FulfillmentClosed && x.Status != order.FulfillmentCancelled {
				page.MergeInto = append(page.MergeInto, x)
			}
		}
	}
	page.HoldChoices, page.RejectReasons = holdChoices(), rejectReasons
	if page.Form.HoldReason == "" {
		page.Form.HoldReason = string(order.OtherHold)
	}
	if page.Form.Reason == "" {
		page.Form.Reason = "OTHER"
	}
	for _, l := range fo.Lines {
		in := strconv.FormatInt(l.Quantity, 10) // everything remaining
		if page.Form.fulfilRefused {
			in = page.Form.Fulfil.Qty[l.LineID]
		}
		page.Lines = append(page.Lines, foLine{FulfillmentLine: l, Input: in})
	}
	title := "Fulfilment of " + o.Number + " at " + fo.FacilityCode
	return s.render(w, r, status, "fulfillment_order", &view{Title: title, Area: "fulfilment", Data: page})
}

// requestActors names who did a step of a request: people and keys by
// their e-mail and name, the dispatcher, the supplier through its link.
func (s *server) requestActors(ctx context.Context, tenantID string) (func(string) string, error) {
	name, err := s.actorNames(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return func(a string) string {
		switch {
		case a == "system":
			return "Waybill"
		case strings.HasPrefix(a, "dispatch:"):
			return "Waybill, for " + strings.TrimPrefix(a, "dispatch:")
		case strings.HasPrefix(a, "supplier:"):
			return strings.TrimPrefix(a, "supplier:") + " (supplier portal)"
		}
		return name(a)
	}, nil
}

func (s *server) fulfilmentShow(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "fulfillment:read"); err != nil {
		return err
	}
	return s.renderFulfilment(w, r, http.StatusOK, r.PathValue("id"), foPage{})
}

// fulfilmentForm is the start of every change on the page: the person may
// change fulfilment, the form is read and the fulfilment order is there.
func (s *server) fulfilmentForm(w http.ResponseWriter, r *http.Request) (*order.Service, order.FulfillmentOrderView, error) {
	if err := need(r, "fulfillment:write"); err != nil {
		return nil, order.FulfillmentOrderView{}, err
	}
	svc, err := s.orderService()
	if err != nil {
		return nil, order.FulfillmentOrderView{}, err
	}
	if err := parseForm(w, r); err != nil {
		return nil, order.FulfillmentOrderView{}, err
	}
	fo, err := svc.FulfillmentOrder(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	return svc, fo, err
}

// fulfilmentRefused shows the page again after a refused change: field
// errors beside the fields of the form that was sent (and listed above
// it), a clash with the fulfilment order's state as a notice. Other errors
// go to the error page.
func (s *server) fulfilmentRefused(w http.ResponseWriter, r *http.Request, form string, err error, typed foActForm, name func(errs.FieldError) (string, string)) error {
	kind := errs.KindOf(err)
	if kind != errs.Invalid && kind != errs.Conflict {
		return err
	}
	page := foPage{Form: typed, Refused: form, Errors: formErrors{}}
	fields := errs.Fields(err)
	for _, f := range fields {
		key, label := name(f)
		msg := upperFirst(f.Message) + "."
		page.Errors[form+"."+key] = append(page.Errors[form+"."+key], msg)
		if label != "" {
			msg = label + ": " + f.Message + "."
		}
		page.Problems = append(page.Problems, msg)
	}
	status := http.StatusUnprocessableEntity
	if kind == errs.Conflict {
		status = http.StatusConflict
		page.Problems = nil
		page.Notice = userMessage(err, "That clashes with the fulfilment order as it is now.") + "."
	} else if len(fields) == 0 {
		page.Notice = userMessage(err, "That was not a valid change.") + "."
	}
	return s.renderFulfilment(w, r, status, r.PathValue("id"), page)
}

// plainField names the fields of the action forms.
func plainField(f errs.FieldError) (string, string) {
	switch f.Field {
	case "reason":
		return "reason", "Reason"
	case "message":
		return "message", "Message"
	case "facility":
		return "facility", "Move to"
	case "fulfill_at":
		return "fulfill_at", "Ship from"
	case "into":
		return "into", "Merge into"
	}
	return "", ""
}

// fulfilmentActions are the actions of POST /fulfillment/{id}/{action}.
var fulfilmentActions = map[string]string{
	"hold":                order.ActionHold,
	"release":             order.ActionRelease,
	"cancel":              order.ActionCancel,
	"submit":              order.ActionSubmit,
	"accept":              order.ActionAccept,
	"reject":              order.ActionReject,
	"accept-cancellation": order.ActionAcceptCancellation,
	"reject-cancellation": order.ActionRejectCancellation,
	"schedule":            order.ActionSchedule,
	"open":                order.ActionOpen,
	"close":               order.ActionClose,
}

func (s *server) fulfilmentAct(w http.ResponseWriter, r *http.Request) error {
	kind, ok := fulfilmentActions[r.PathValue("action")]
	if !ok {
		return errs.E("web.fulfilmentAct", errs.NotExist, "no such action")
	}
	svc, fo, err := s.fulfilmentForm(w, r)
	if err != nil {
		return err
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	a := order.FulfillmentAction{Kind: kind, Message: v("message")}
	typed := foActForm{Message: a.Message}
	switch kind {
	case order.ActionHold:
		a.Reason, typed.HoldReason = v("reason"), v("reason")
	case order.ActionReject, order.ActionRejectCancellation, order.ActionClose:
		a.Reason, typed.Reason = v("reason"), v("reason")
	case order.ActionSchedule:
		// A date in the tenant's day is read as its start, UTC.
		at, err := time.Parse("2006-01-02", v("fulfill_at"))
		if err != nil {
			return s.fulfilmentRefused(w, r, "schedule", errs.InvalidFields("web.schedule", errs.FieldError{Field: "fulfill_at", Message: "pick a date", Value: v("fulfill_at")}), typed, plainField)
		}
		a.FulfillAt = at
	}
	after, err := svc.Act(r.Context(), personFrom(r).Tenant.ID, fo.ID, a, actor(r))
	if err != nil {
		return s.fulfilmentRefused(w, r, r.PathValue("action"), err, typed, plainField)
	}
	if s.d.Wake != nil {
		s.d.Wake()
	}
	s.flash(r, actedText(kind, fo, after))
	http.Redirect(w, r, "/fulfillment/"+fo.ID, http.StatusSeeOther)
	return nil
}

// actedText is the flash after an action: what happened, in the words of
// the page.
func actedText(kind string, before, after order.FulfillmentOrderView) string {
	at := before.FacilityCode
	switch kind {
	case order.ActionHold:
		return "Fulfilment at " + at + " is on hold: it is neither sent nor shipped until you release it."
	case order.ActionRelease:
		return "Released: fulfilment at " + at + " goes ahead."
	case order.ActionCancel:
		if after.RequestStatus == order.RequestCancellationRequest {
			return "Asked " + at + " to cancel. The fulfilment order stays open until it answers."
		}
		return "Fulfilment at " + at + " cancelled. What it held stays reserved there, in a new fulfilment order, until you move or release it."
	case order.ActionSubmit:
		return "The request to " + at + " is queued and is sent within seconds."
	case order.ActionAccept:
		return "Recorded: " + at + " accepted the request."
	case order.ActionReject:
		if after.Status == order.FulfillmentClosed {
			return "Recorded: " + at + " rejected the request. Its units were re-sourced at other facilities."
		}
		return "Recorded: " + at + " rejected the request. No other facility can take all of it, so the order is on hold: move it, send it again, or cancel it."
	case order.ActionAcceptCancellation:
		return "Recorded: " + at + " accepted the cancellation."
	case order.ActionRejectCancellation:
		return "Recorded: " + at + " refused the cancellation; it ships the order."
	case order.ActionClose:
		return "Recorded: " + at + " will ship no more of it. What is left stays reserved there and the order is on hold: move it or cancel it."
	case order.ActionSchedule:
		return "Scheduled: it is neither sent nor shipped before its date."
	case order.ActionOpen:
		return "Opened: fulfilment at " + at + " goes ahead."
	}
	return "Done."
}

func (s *server) fulfilmentMove(w http.ResponseWriter, r *http.Request) error {
	svc, fo, err := s.fulfilmentForm(w, r)
	if err != nil {
		return err
	}
	to := strings.TrimSpace(r.PostFormValue("facility"))
	if to == "" {
		return s.fulfilmentRefused(w, r, "move", errs.InvalidFields("web.fulfilmentMove", errs.FieldError{Field: "facility", Message: "choose where to move it"}),
			foActForm{}, plainField)
	}
	// Per-line quantities: all that is left by default; fewer is a split.
	lines, partial, err := unitsForm(r, fo)
	if err != nil {
		return s.fulfilmentRefused(w, r, "move", err, foActForm{MoveTo: to}, plainField)
	}
	if len(lines) == 0 {
		return s.fulfilmentRefused(w, r, "move", errs.InvalidFields("web.fulfilmentMove", errs.FieldError{Field: "facility", Message: "choose at least one unit to move"}),
			foActForm{MoveTo: to}, plainField)
	}
	if !partial {
		lines = nil
	}
	moved, err := svc.Move(r.Context(), personFrom(r).Tenant.ID, fo.ID, to, lines, actor(r))
	if err != nil {
		return s.fulfilmentRefused(w, r, "move", err, foActForm{MoveTo: to}, plainField)
	}
	if partial {
		s.flash(r, "Split: part moved from "+fo.FacilityCode+" to "+moved.FacilityCode+"; the rest stays here.")
		http.Redirect(w, r, "/fulfillment/"+fo.ID, http.StatusSeeOther)
		return nil
	}
	if s.d.Wake != nil {
		s.d.Wake()
	}
	s.flash(r, "Moved from "+fo.FacilityCode+" to "+moved.FacilityCode+": the stock is reserved there now. This is its fulfilment order there.")
	http.Redirect(w, r, "/fulfillment/"+moved.ID, http.StatusSeeOther)
	return nil
}

func (s *server) fulfilmentFulfil(w http.ResponseWriter, r *http.Request) error {
	svc, fo, err := s.fulfilmentForm(w, r)
	if err != nil {
		return err
	}
	form, in, fe := readFulfilForm(r, fo)
	typed := foActForm{Fulfil: form, fulfilRefused: true}
	name := func(f errs.FieldError) (string, string) { return fulfilField(f, in, fo.FacilityCode) }
	if len(fe) > 0 {
		return s.fulfilmentRefused(w, r, "fulfil", errs.InvalidFields("web.fulfilmentFulfil", fe...), typed, name)
	}
	after, sh, err := svc.Fulfill(r.Context(), personFrom(r).Tenant.ID, fo.ID, in, actor(r))
	if err != nil {
		if errs.Is(errs.Conflict, err) {
			err = errs.E("web.fulfilmentFulfil", errs.Conflict, fulfilRefusal(err, fo.FacilityCode))
		}
		return s.fulfilmentRefused(w, r, "fulfil", err, typed, name)
	}
	if s.d.Wake != nil {
		s.d.Wake()
	}
	s.flash(r, shippedText(after, sh))
	http.Redirect(w, r, "/fulfillment/"+fo.ID, http.StatusSeeOther)
	return nil
}

func (s *server) fulfilmentMerge(w http.ResponseWriter, r *http.Request) error {
	svc, fo, err := s.fulfilmentForm(w, r)
	if err != nil {
		return err
	}
	into := strings.TrimSpace(r.PostFormValue("into"))
	merged, err := svc.Merge(r.Context(), personFrom(r).Tenant.ID, fo.ID, into, actor(r))
	if err != nil {
		return s.fulfilmentRefused(w, r, "merge", err, foActForm{}, plainField)
	}
	if s.d.Wake != nil {
		s.d.Wake()
	}
	s.flash(r, "Merged into the fulfilment order at "+merged.FacilityCode+".")
	http.Redirect(w, r, "/fulfillment/"+merged.ID, http.StatusSeeOther)
	return nil
}

func (s *server) fulfilmentSplit(w http.ResponseWriter, r *http.Request) error {
	svc, fo, err := s.fulfilmentForm(w, r)
	if err != nil {
		return err
	}
	lines, _, err := unitsForm(r, fo)
	if err != nil {
		return s.fulfilmentRefused(w, r, "move", err, foActForm{}, plainField)
	}
	part, err := svc.Split(r.Context(), personFrom(r).Tenant.ID, fo.ID, lines, actor(r))
	if err != nil {
		return s.fulfilmentRefused(w, r, "move", err, foActForm{}, plainField)
	}
	s.flash(r, "Split: these units are a fulfilment order of their own at "+part.FacilityCode+"; the rest stays in the first.")
	http.Redirect(w, r, "/fulfillment/"+part.ID, http.StatusSeeOther)
	return nil
}

// unitsForm reads the per-line quantities of the move and split form: all
// that is left of a line when its field is empty. partial says fewer than
// all were asked for.
func unitsForm(r *http.Request, fo order.FulfillmentOrderView) (lines []order.FulfillLine, partial bool, err error) {
	for _, l := range fo.Lines {
		if l.Quantity == 0 {
			continue
		}
		n := l.Quantity
		if v := strings.TrimSpace(r.PostFormValue("qty_" + l.LineID)); v != "" {
			q, err := strconv.ParseInt(v, 10, 64)
			if err != nil || q < 0 || q > l.Quantity {
				return nil, false, errs.InvalidFields("web.units", errs.FieldError{Field: "facility",
					Message: fmt.Sprintf("%s: between 0 and %d", l.SKU, l.Quantity), Value: v})
			}
			n = q
		}
		if n < l.Quantity {
			partial = true
		}
		if n > 0 {
			lines = append(lines, order.FulfillLine{SKU: l.SKU, Quantity: n})
		}
	}
	return lines, partial, nil
}
