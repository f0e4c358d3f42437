package web

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/document"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/portal"
)

// The supplier portal: a dropship supplier opens one fulfilment order from
// the signed link in its purchase order e-mail, without an account. It
// confirms or refuses the order, answers a cancellation, and enters the
// shipment. No sign-in cookie is read or set; the token travels in the URL of
// GETs and in a hidden field of POSTs, so the pages are kept out of caches
// and never send a Referer (which would carry the token elsewhere).

// portal wraps a portal handler: its own headers and its own error page.
func (s *server) portal(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("X-Robots-Tag", "noindex, nofollow")
		tw := &trackingWriter{ResponseWriter: w}
		err := h(tw, r)
		if err == nil {
			return
		}
		if tw.started {
			s.d.Log.ErrorContext(r.Context(), "portal: error after response started", "request_id", requestID(w), "path", r.URL.Path, "err", err)
			return
		}
		s.portalError(w, r, err)
	})
}

// portalError is the portal's error page. A wrong or expired link says so
// and nothing else: it does not tell whether the order exists.
func (s *server) portalError(w http.ResponseWriter, r *http.Request, err error) {
	rid := requestID(w)
	var ep errorPage
	switch errs.KindOf(err) {
	case errs.Permission:
		msg := "This link is invalid or has expired. Ask the merchant who sent it for a new one."
		if errs.CodeOf(err) == portal.CodeExpired {
			msg = "This link has expired. Ask the merchant who sent it for a new one."
		}
		ep = errorPage{http.StatusForbidden, "This link does not open", msg}
	case errs.NotExist:
		ep = errorPage{http.StatusNotFound, "Not found", "There is nothing here. Check the link in your e-mail."}
	case errs.Invalid:
		ep = errorPage{http.StatusBadRequest, "That did not work", userMessage(err, "The request was not valid.")}
	case errs.Conflict:
		ep = errorPage{http.StatusConflict, "That did not work", userMessage(err, "The order changed meanwhile. Open the link again.")}
	case errs.Transient:
		s.d.Log.WarnContext(r.Context(), "portal request failed", "request_id", rid, "path", r.URL.Path, "err", err)
		ep = errorPage{http.StatusServiceUnavailable, "Try again", "The service is busy. Please try again in a moment."}
	default:
		s.d.Log.ErrorContext(r.Context(), "portal request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err)
		ep = errorPage{http.StatusInternalServerError, "Something went wrong", "An unexpected error stopped this page. It has been logged."}
	}
	v := &view{Title: ep.Heading, RequestID: rid, Data: ep}
	if rerr := s.renderTemplate(w, r, ep.Status, "portal_error", "portal_layout", v); rerr != nil {
		s.d.Log.ErrorContext(r.Context(), "portal: rendering the error page failed", "request_id", rid, "err", rerr)
		http.Error(w, ep.Heading+" (request "+rid+")", ep.Status)
	}
}

// poLine is a purchase order line with its total.
type poLine struct {
	document.Line
	UnitCost, Total string
}

// portalPage is what the supplier sees.
type portalPage struct {
	ID, Token     string
	PO            document.PurchaseOrder
	Lines         []poLine
	Total         string
	Currency      string
	FO            order.FulfillmentOrderView
	Facility      string
	Status        string // where it stands, in a sentence
	Shipped       int64
	History       []historyRow
	CanAccept     bool
	CanReject     bool
	CanShip       bool
	CanAnswer     bool // a cancellation was asked for
	ShipLines     []foLine
	RejectReasons []choice
	Form          fulfilForm
	Reason        string
	Message       string
	Refused       string
	Errors        formErrors
	Problems      []string
	Notice        string
	Done          string
	loc           *time.Location
}

// Time shows a time in the supplier facility's time zone.
func (p portalPage) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(p.loc).Format("2 Jan 2006 15:04 MST")
}

// PDFURL is the purchase order's PDF, with the token.
func (p portalPage) PDFURL() string {
	return "/portal/fulfillment-orders/" + url.PathEscape(p.ID) + "/po.pdf?token=" + url.QueryEscape(p.Token)
}

// doneTexts thank the supplier after each action.
var doneTexts = map[string]string{
	"accept":              "Thank you: you confirmed this order. Enter the shipment below once it has left.",
	"reject":              "Thank you: we know you cannot fulfil this order and will send it elsewhere.",
	"accept-cancellation": "Thank you: the order is cancelled. Please do not ship it.",
	"reject-cancellation": "Thank you: we know the order has shipped. Enter its tracking below if you have not yet.",
	"ship":                "Thank you: the shipment is recorded and the customer is told.",
}

func (s *server) portalPageOf(p dispatch.Portal, token string) portalPage {
	fo := p.FulfillmentOrder
	page := portalPage{ID: fo.ID, Token: token, PO: p.PurchaseOrder, FO: fo, Facility: p.Facility.Code, RejectReasons: rejectReasons, Reason: "INVENTORY_OUT_OF_STOCK",
		loc: s.zones.get(p.Facility.Timezone)}
	if lines, total, err := p.PurchaseOrder.Totals(); err == nil {
		for i, l := range p.PurchaseOrder.Lines {
			page.Lines = append(page.Lines, poLine{Line: l, UnitCost: l.UnitCost.String(), Total: lines[i].String()})
		}
		page.Total, page.Currency = total.String(), total.Currency
	}
	merchant := p.PurchaseOrder.Merchant.Name
	if merchant == "" {
		merchant = "The merchant"
	}
	// The supplier sees who did what in its own terms: itself, the
	// merchant, or Waybill; never the merchant's staff or keys.
	who := func(a string) string {
		switch {
		case strings.HasPrefix(a, "supplier:"):
			return "You"
		case strings.HasPrefix(a, "user:"), strings.HasPrefix(a, "key:"):
			return merchant
		}
		return "Waybill"
	}
	for _, m := range p.History {
		page.History = append(page.History, historyRowOf(m, who))
	}
	for _, l := range fo.Lines {
		page.Shipped += l.Fulfilled
		if l.Quantity > 0 {
			page.ShipLines = append(page.ShipLines, foLine{FulfillmentLine: l, Input: strconv.FormatInt(l.Quantity, 10)})
		}
	}
	rs := fo.RequestStatus
	done := fo.Status == order.FulfillmentClosed || fo.Status == order.FulfillmentCancelled
	page.CanAccept = !done && (rs == order.RequestSubmitted || rs == order.RequestUnsubmitted)
	page.CanReject = !done && (rs == order.RequestSubmitted || rs == order.RequestUnsubmitted || rs == order.RequestAccepted)
	page.CanAnswer = !done && rs == order.RequestCancellationRequest
	page.CanShip = (fo.Status == order.FulfillmentOpen || fo.Status == order.FulfillmentInProgress) && fo.Remaining() > 0 &&
		rs != order.RequestRejected && rs != order.RequestCancellationRequest && rs != order.RequestCancellationAccepted && rs != order.RequestClosed
	switch {
	case fo.Status == order.FulfillmentCancelled || rs == order.RequestCancellationAccepted:
		page.Status = "This order is cancelled. Please do not ship it."
	case fo.Status == order.FulfillmentClosed && rs == order.RequestRejected:
		page.Status = "You told us you cannot fulfil this order. There is nothing more to do."
	case fo.Status == order.FulfillmentClosed:
		page.Status = "Everything on this order has shipped. Thank you."
	case page.CanAnswer:
		page.Status = merchant + " asks you to cancel this order. Confirm the cancellation, or tell us it has already shipped."
	case rs == order.RequestRejected:
		page.Status = "You told us you cannot fulfil this order. There is nothing more to do."
	case fo.Status == order.FulfillmentOnHold:
		page.Status = merchant + " has put this order on hold. Please do not ship it until you hear again."
	case page.CanAccept:
		page.Status = "Please confirm you can ship this order, or tell us you cannot."
	case fo.Status == order.FulfillmentInProgress:
		page.Status = "Part of this order has shipped. Enter the rest once it has left."
	default:
		page.Status = "You confirmed this order. Enter the shipment once it has left."
	}
	return page
}

func (s *server) renderPortal(w http.ResponseWriter, r *http.Request, status int, page portalPage) error {
	title := "Purchase order " + page.PO.Number
	return s.renderTemplate(w, r, status, "portal", "portal_layout", &view{Title: title, Data: page})
}

func (s *server) portalShow(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.dispatchService()
	if err != nil {
		return err
	}
	token := r.URL.Query().Get("token")
	p, err := ds.OpenPortal(r.Context(), r.PathValue("id"), token)
	if err != nil {
		return err
	}
	page := s.portalPageOf(p, token)
	page.Done = doneTexts[r.URL.Query().Get("done")]
	return s.renderPortal(w, r, http.StatusOK, page)
}

func (s *server) portalPDF(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.dispatchService()
	if err != nil {
		return err
	}
	p, err := ds.OpenPortal(r.Context(), r.PathValue("id"), r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	pdf, err := document.PurchaseOrderPDF(p.PurchaseOrder)
	if err != nil {
		if errs.Is(errs.Invalid, err) && len(p.PurchaseOrder.Lines) == 0 {
			return errs.E("web.portalPDF", errs.Conflict, "nothing is left to ship on this purchase order, so there is nothing to print")
		}
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.PurchaseOrder.Number + ".pdf"}))
	_, err = w.Write(pdf)
	return err
}

// portalActions are the supplier's answers of POST …/{action}.
var portalActions = map[string]string{
	"accept":              order.ActionAccept,
	"reject":              order.ActionReject,
	"accept-cancellation": order.ActionAcceptCancellation,
	"reject-cancellation": order.ActionRejectCancellation,
}

func (s *server) portalAct(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.dispatchService()
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	kind, ok := portalActions[action]
	if !ok && action != "ship" {
		return errs.E("web.portalAct", errs.NotExist, "no such action")
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx, id, token := r.Context(), r.PathValue("id"), r.PostFormValue("token")
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	// The link is checked first, whatever the form holds.
	p, err := ds.OpenPortal(ctx, id, token)
	if err != nil {
		return err
	}
	page := s.portalPageOf(p, token)
	page.Refused, page.Errors = action, formErrors{}
	var name func(errs.FieldError) (string, string)
	if action == "ship" {
		form, in, fe := readFulfilForm(r, p.FulfillmentOrder)
		page.Form = form
		for i, l := range page.ShipLines {
			page.ShipLines[i].Input = form.Qty[l.LineID]
		}
		name = func(f errs.FieldError) (string, string) { return fulfilField(f, in, "your warehouse") }
		err = errs.InvalidFields("web.portalAct", fe...)
		if len(fe) == 0 {
			_, err = ds.PortalFulfil(ctx, id, token, in)
		}
	} else {
		a := order.FulfillmentAction{Kind: kind, Reason: v("reason"), Message: v("message")}
		if kind == order.ActionRejectCancellation && a.Reason == "" {
			a.Reason = "ALREADY_SHIPPED"
		}
		page.Reason, page.Message = a.Reason, a.Message
		name = plainField
		_, err = ds.PortalAct(ctx, id, token, a)
	}
	if err != nil {
		kind := errs.KindOf(err)
		if kind != errs.Invalid && kind != errs.Conflict {
			return err
		}
		fields := errs.Fields(err)
		for _, f := range fields {
			key, label := name(f)
			msg := upperFirst(f.Message) + "."
			page.Errors[key] = append(page.Errors[key], msg)
			if label != "" {
				msg = label + ": " + f.Message + "."
			}
			page.Problems = append(page.Problems, msg)
		}
		status := http.StatusUnprocessableEntity
		if kind == errs.Conflict {
			status, page.Problems = http.StatusConflict, nil
			page.Notice = userMessage(err, "The order changed meanwhile.") + "."
		} else if len(fields) == 0 {
			page.Notice = userMessage(err, "That was not valid.") + "."
		}
		// What the page offers follows the order as it is now.
		if now, oerr := ds.OpenPortal(ctx, id, token); oerr == nil {
			fresh := s.portalPageOf(now, token)
			page.FO, page.Status, page.History = fresh.FO, fresh.Status, fresh.History
			page.CanAccept, page.CanReject, page.CanShip, page.CanAnswer = fresh.CanAccept, fresh.CanReject, fresh.CanShip, fresh.CanAnswer
		}
		return s.renderPortal(w, r, status, page)
	}
	if s.d.Wake != nil {
		s.d.Wake()
	}
	http.Redirect(w, r, "/portal/fulfillment-orders/"+url.PathEscape(id)+"?token="+url.QueryEscape(token)+"&done="+action, http.StatusSeeOther)
	return nil
}
