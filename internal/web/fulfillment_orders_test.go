package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/mail"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/web"
)

// fulfilFixture is the orders fixture with the dispatcher (facility
// connections, the supplier portal) and costs wired. Purchase orders the
// dispatcher e-mails are kept in mails.
type fulfilFixture struct {
	*orderFixture
	dispatch *dispatch.Service
	costs    *costs.Service
	mailMu   sync.Mutex
	mails    []mail.Message
}

func newFulfilFixture(t *testing.T, e testenv.Engine) *fulfilFixture {
	t.Helper()
	ff := &fulfilFixture{}
	ff.orderFixture = newOrderFixture(t, e, func(of *orderFixture, d *web.Deps) {
		ff.dispatch = dispatch.NewService(store.NewDispatch(of.db), d.Orders, d.Inventory, http.DefaultClient)
		ff.costs = costs.NewService(store.NewCosts(of.db))
		ff.dispatch.Costs = ff.costs
		ff.dispatch.Mail = func(ctx context.Context, m mail.Message) error {
			ff.mailMu.Lock()
			defer ff.mailMu.Unlock()
			ff.mails = append(ff.mails, m)
			return nil
		}
		ff.dispatch.Merchant = func(ctx context.Context, tenantID string) (string, string, error) {
			tn, err := of.auth.Tenant(ctx, tenantID)
			return tn.Name, tn.Currency, err
		}
		d.Dispatch, d.Costs = ff.dispatch, ff.costs
	})
	ff.dispatch.BaseURL = ff.srv.URL
	return ff
}

// facility makes a facility of tn with stock of each SKU given.
func (ff *fulfilFixture) facility(tn auth.Tenant, code string, kind inventory.FacilityKind, stock map[string]int64) inventory.Facility {
	ff.t.Helper()
	ctx := ff.t.Context()
	// After the own warehouse MAIN, so an order's stock is reserved there first.
	prio := 200
	f, err := ff.inv.CreateFacility(ctx, tn.ID, inventory.FacilityInput{Code: code, Name: code + " facility", Kind: kind, Priority: &prio})
	if err != nil {
		ff.t.Fatal(err)
	}
	for sku, n := range stock {
		ff.receive(tn, sku, code, n)
	}
	return f
}

func (ff *fulfilFixture) receive(tn auth.Tenant, sku, facility string, n int64) {
	ff.t.Helper()
	if _, _, err := ff.inv.Adjust(ff.t.Context(), tn.ID, inventory.Adjustment{SKU: sku, Facility: facility, Quantity: n, Kind: inventory.Receive, Actor: "test"}); err != nil {
		ff.t.Fatal(err)
	}
}

// fo returns an order's fulfilment order at a facility.
func (ff *fulfilFixture) fo(tn auth.Tenant, orderID, facility string) order.FulfillmentOrderView {
	ff.t.Helper()
	v, ok := ff.fulfilmentOrders(tn, orderID)[facility]
	if !ok {
		ff.t.Fatalf("order %s has no fulfilment order at %s", orderID, facility)
	}
	return v
}

func (ff *fulfilFixture) foByID(tn auth.Tenant, id string) order.FulfillmentOrderView {
	ff.t.Helper()
	v, err := ff.orders.FulfillmentOrder(ff.t.Context(), tn.ID, id)
	if err != nil {
		ff.t.Fatal(err)
	}
	return v
}

func (ff *fulfilFixture) act(tn auth.Tenant, foID string, a order.FulfillmentAction) {
	ff.t.Helper()
	if _, err := ff.orders.Act(ff.t.Context(), tn.ID, foID, a, "test"); err != nil {
		ff.t.Fatal(err)
	}
}

var foRowRe = regexp.MustCompile(`<tr data-fo="[^"]+" data-order="([^"]+)"`)

// queueRows returns the order numbers of the queue's rows, in order.
func queueRows(body string) []string {
	var out []string
	for _, m := range foRowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func wantQueue(t *testing.T, what string, body string, want ...string) {
	t.Helper()
	got := queueRows(body)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: rows %q, want %q", what, got, want)
	}
}

func TestFulfilmentQueue(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ff := newFulfilFixture(t, e)
		a, ctx := ff.alpha, t.Context()
		ff.product(a, catalog.Draft{SKU: "TENT", Name: "Tent", Price: "150.00"})
		ff.product(a, catalog.Draft{SKU: "LAMP", Name: "Lamp", Price: "30.00"})
		ff.facility(a, "EU3", inventory.ThreePL, map[string]int64{"TENT": 5})
		ff.facility(a, "SUP", inventory.Dropship, map[string]int64{"LAMP": 5})

		mug := ff.order(a, order.Input{Number: "#4001"})
		tent := ff.order(a, order.Input{Number: "#4002", Lines: []order.LineInput{{SKU: "TENT", Quantity: 1, UnitPrice: "150.00"}}})
		lamp := ff.order(a, order.Input{Number: "#4003", Lines: []order.LineInput{{SKU: "LAMP", Quantity: 2, UnitPrice: "30.00"}}})
		held := ff.order(a, order.Input{Number: "#4004"})
		shipped := ff.order(a, order.Input{Number: "#4005"})
		if _, err := ff.orders.AddHold(ctx, a.ID, held.ID, order.IncorrectAddress, "", "test"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ff.orders.Fulfill(ctx, a.ID, ff.fo(a, shipped.ID, "MAIN").ID, order.FulfillInput{}, "test"); err != nil {
			t.Fatal(err)
		}
		// Sending to EU3 failed once; SUP rejected its request and nobody
		// else has lamps, so that order is held.
		tentFO := ff.fo(a, tent.ID, "EU3")
		if err := ff.orders.Failed(ctx, a.ID, tentFO.ID, errors.New("connection refused by 3pl.example"), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		lampFO := ff.fo(a, lamp.ID, "SUP")
		ff.act(a, lampFO.ID, order.FulfillmentAction{Kind: order.ActionReject, Reason: "INVENTORY_OUT_OF_STOCK"})
		// Beta's work never shows.
		ff.order(ff.beta, order.Input{Number: "#9001"})

		c := ff.signIn("owner@alpha.example")
		res, body := c.get("/fulfillment")
		wantStatus(t, res, body, http.StatusOK)
		wantQueue(t, "not finished", body, "#4001", "#4002", "#4003", "#4004")
		wantContains(t, body, `<a class="nav-item is-active" href="/fulfillment" aria-current="page">Fulfilment</a>`,
			`<a href="/orders/`+mug.ID+`">#4001</a>`, `<a class="mono" href="/fulfillment/`+tentFO.ID+`">`,
			`<span class="badge rq rq-UNSUBMITTED" title="Request to EU3">Not sent yet</span>`,
			`<span class="badge rq rq-REJECTED" title="Request to SUP">Rejected</span>`,
			"connection refused by 3pl.example", "Next try", "2 × LAMP", "EU3 facility")
		wantNotContains(t, body, "#9001", "#4005")

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"status=all", []string{"#4001", "#4002", "#4003", "#4004", "#4005"}},
			{"status=CLOSED", []string{"#4005"}},
			{"status=ON_HOLD", []string{"#4003", "#4004"}},
			{"status=OPEN", []string{"#4001", "#4002"}},
			{"facility=EU3", []string{"#4002"}},
			{"request=REJECTED", []string{"#4003"}},
			{"attention=1", []string{"#4002", "#4003", "#4004"}},
			{"attention=1&facility=MAIN", []string{"#4004"}},
			{"facility=MAIN&status=all", []string{"#4001", "#4004", "#4005"}},
		} {
			res, body := c.get("/fulfillment?" + tc.query)
			wantStatus(t, res, body, http.StatusOK)
			wantQueue(t, tc.query, body, tc.want...)
		}
		_, body = c.get("/fulfillment?attention=1")
		wantContains(t, body, `class="needs-attention"`, `name="attention" value="1" checked`, `<a class="button ghost" href="/fulfillment">Clear</a>`)

		res, body = c.get("/fulfillment?facility=NOPE&status=WEIRD")
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "No facility has the code “NOPE”.", "Choose a status from the list.")
		_, body = c.get("/fulfillment?facility=SUP&request=ACCEPTED")
		wantContains(t, body, "None match.")

		// Pages of 50, oldest first, with the filter kept.
		ff.receive(a, "MUG", "MAIN", 100)
		for range 50 {
			ff.order(a, order.Input{Number: "#5xxx"})
		}
		res, body = c.get("/fulfillment?facility=MAIN")
		wantStatus(t, res, body, http.StatusOK)
		rows := queueRows(body)
		if len(rows) != 50 || rows[0] != "#4001" || rows[1] != "#4004" {
			t.Fatalf("first page: %d rows starting %q", len(rows), rows[:min(len(rows), 3)])
		}
		m := regexp.MustCompile(`href="(/fulfillment\?after=[^"]+)" rel="next"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no next page link")
		}
		next := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(next, "facility=MAIN") {
			t.Errorf("next page %q lost the filter", next)
		}
		res, body = c.get(next)
		wantStatus(t, res, body, http.StatusOK)
		if rows := queueRows(body); len(rows) != 2 || rows[0] != "#5xxx" {
			t.Errorf("second page: %q", rows)
		}
		wantContains(t, body, "← First page")
		wantNotContains(t, body, `rel="next"`)

		// A viewer reads the queue; a warehouse worker too.
		for _, who := range []string{"viewer@alpha.example", "warehouse@alpha.example"} {
			res, body := ff.signIn(who).get("/fulfillment")
			wantStatus(t, res, body, http.StatusOK)
		}
	})
}

func TestFulfilmentOrderPage(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ff := newFulfilFixture(t, e)
		a := ff.alpha
		ff.product(a, catalog.Draft{SKU: "TENT", Name: "Tent", Price: "150.00"})
		ff.facility(a, "EU3", inventory.ThreePL, map[string]int64{"TENT": 5})
		o := ff.order(a, order.Input{Number: "#4101", Lines: []order.LineInput{{SKU: "MUG", Quantity: 3, UnitPrice: "12.50"}}})
		main := ff.fo(a, o.ID, "MAIN")
		page := "/fulfillment/" + main.ID
		c := ff.signIn("owner@alpha.example")

		res, body := c.get(page)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `<a class="order-number" href="/orders/`+o.ID+`">#4101</a>`, `<span class="badge fo-OPEN">Open</span>`,
			`<tr data-sku="MUG"><td class="sku"><span class="mono strong">MUG</span></td>`, `<td class="num fo-open">3</td>`,
			"MAIN is your own facility", `action="`+page+`/hold"`, `action="`+page+`/move"`, `action="`+page+`/cancel"`,
			`name="qty_`+main.Lines[0].LineID+`" value="3"`, `<option value="EU3">EU3 · EU3 facility</option>`, "Nothing sent or received yet.")
		wantNotContains(t, body, "Answer as MAIN", `action="`+page+`/submit"`, `action="`+page+`/release"`)

		// The order page links here.
		_, body = c.get("/orders/" + o.ID)
		wantContains(t, body, `<a class="small fo-link" href="/fulfillment/`+main.ID+`">Details</a>`)

		// Hold it: no fulfil form while held; a reason that is too long is refused beside the field.
		res, body = c.post(page+"/hold", url.Values{"reason": {strings.Repeat("x", 201)}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, `<label class="field has-error"><span>Hold for</span>`, "Must be at most 200 characters.", "Reason: must be at most 200 characters.")
		res, _ = c.post(page+"/hold", url.Values{"reason": {"INCORRECT_ADDRESS"}})
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Fulfilment at MAIN is on hold", "On hold: <strong>Incorrect address</strong>", `action="`+page+`/release"`,
			`<span class="badge fo-ON_HOLD">On hold</span>`)
		wantNotContains(t, body, "Mark as fulfilled", `action="`+page+`/hold"`)
		if got := ff.foByID(a, main.ID); got.Status != order.FulfillmentOnHold || got.HoldReason != "INCORRECT_ADDRESS" {
			t.Errorf("after hold: %s %q", got.Status, got.HoldReason)
		}
		// Fulfilling a held one clashes: a notice, nothing shipped.
		res, body = c.post(page+"/fulfill", url.Values{"qty_" + main.Lines[0].LineID: {"1"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing was changed.", "Nothing was shipped from MAIN")
		res, _ = c.post(page+"/release", nil)
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Released: fulfilment at MAIN goes ahead.", "Mark as fulfilled")

		// Fulfil: too many is refused beside the field, the typed values kept.
		res, body = c.post(page+"/fulfill", url.Values{"qty_" + main.Lines[0].LineID: {"5"}, "carrier": {"DHL"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Only 3 of MUG are reserved here to fulfil.", "Units of MUG from MAIN: only 3 of MUG are reserved here to fulfil.",
			`name="qty_`+main.Lines[0].LineID+`" value="5"`, `value="DHL"`, `aria-invalid="true"`)
		res, _ = c.post(page+"/fulfill", url.Values{"qty_" + main.Lines[0].LineID: {"1"}, "carrier": {"UPS"}, "tracking_number": {"1Z1"}})
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Shipped 1 × MUG from MAIN with UPS, tracking 1Z1.", `<span class="badge fo-IN_PROGRESS">In progress</span>`,
			`<td class="num fo-open">2</td><td class="num fo-done">1</td>`)
		wantLevel(t, ff.orderFixture, a, "MUG", "MAIN", 9, 2)

		// Move: a facility without the stock is a clash; an unknown one a field error.
		res, body = c.post(page+"/move", url.Values{"facility": {"EU3"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "EU3 has not got 2 of MUG available")
		res, body = c.post(page+"/move", url.Values{"facility": {"NOPE"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "No facility has this code.", `<option value="EU3">EU3 · EU3 facility</option>`)
		ff.receive(a, "MUG", "EU3", 4)
		// Split here: one mug becomes a fulfilment order of its own at MAIN; merge it back.
		res, _ = c.post("/fulfillment/"+main.ID+"/split", url.Values{"qty_" + main.Lines[0].LineID: {"1"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("split here: %d", res.StatusCode)
		}
		part := strings.TrimPrefix(res.Header.Get("Location"), "/fulfillment/")
		wantLevel(t, ff.orderFixture, a, "MUG", "MAIN", 9, 2)
		res, _ = c.post("/fulfillment/"+part+"/merge", url.Values{"into": {main.ID}})
		wantRedirect(t, res, page)
		// Split: one mug goes to EU3, the other stays here.
		res, _ = c.post(page+"/move", url.Values{"facility": {"EU3"}, "qty_" + main.Lines[0].LineID: {"1"}})
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Split: part moved from MAIN to EU3", "Merge into")
		wantLevel(t, ff.orderFixture, a, "MUG", "MAIN", 9, 1)
		wantLevel(t, ff.orderFixture, a, "MUG", "EU3", 4, 1)
		// Merge it back.
		split := ff.fo(a, o.ID, "EU3")
		res, _ = c.post("/fulfillment/"+split.ID+"/merge", url.Values{"into": {main.ID}})
		wantRedirect(t, res, page)
		wantLevel(t, ff.orderFixture, a, "MUG", "MAIN", 9, 2)
		wantLevel(t, ff.orderFixture, a, "MUG", "EU3", 4, 0)
		res, _ = c.post(page+"/move", url.Values{"facility": {"EU3"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("move: %d", res.StatusCode)
		}
		eu := ff.fo(a, o.ID, "EU3")
		wantRedirect(t, res, "/fulfillment/"+eu.ID)
		if got := ff.foByID(a, main.ID); got.Status != order.FulfillmentClosed {
			t.Errorf("the moved-from fulfilment order is %s", got.Status)
		}
		wantLevel(t, ff.orderFixture, a, "MUG", "MAIN", 9, 0)
		wantLevel(t, ff.orderFixture, a, "MUG", "EU3", 4, 2)

		// At the 3PL: the request is waiting for a connection; answer as the 3PL.
		page = "/fulfillment/" + eu.ID
		_, body = c.get(page)
		wantContains(t, body, "Moved from MAIN to EU3", `<span class="badge rq rq-UNSUBMITTED">Not sent yet</span>`, "Sending the request",
			"EU3 is not connected</strong>", "Answer as EU3", `action="`+page+`/accept"`, `action="`+page+`/reject"`,
			`action="`+page+`/submit"`)
		res, _ = c.post(page+"/accept", nil)
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Recorded: EU3 accepted the request.", `<span class="badge rq rq-ACCEPTED">Accepted</span>`, "Ask EU3 to cancel",
			`action="`+page+`/close"`)
		wantNotContains(t, body, `action="`+page+`/accept"`, `action="`+page+`/move"`)
		// Accepting again clashes with where it stands.
		res, _ = c.post(page+"/cancel", url.Values{"message": {"customer changed their mind"}})
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Asked EU3 to cancel.", "Cancellation asked", "Sending the cancellation request",
			`action="`+page+`/accept-cancellation"`, `action="`+page+`/reject-cancellation"`)
		res, body = c.post(page+"/accept", nil)
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing was changed.", "only a submitted request can be accepted")
		res, _ = c.post(page+"/reject-cancellation", url.Values{"message": {"already on the truck"}})
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "EU3 refused the cancellation", `<span class="badge rq rq-CANCELLATION_REJECTED">Cancellation refused</span>`)
		history := body[strings.Index(body, `class="table fo-history"`):]
		for _, row := range []string{`data-kind="accepted"`, `data-kind="cancellation_request"`, `data-kind="cancellation_rejected"`,
			"customer changed their mind", "already on the truck", "owner@alpha.example"} {
			if !strings.Contains(history, row) {
				t.Errorf("history lacks %q", row)
			}
		}

		// A rejection nobody else can take: the order is held; send it again.
		tent := ff.order(a, order.Input{Number: "#4102", Lines: []order.LineInput{{SKU: "TENT", Quantity: 1, UnitPrice: "150.00"}}})
		tfo := ff.fo(a, tent.ID, "EU3")
		tpage := "/fulfillment/" + tfo.ID
		res, _ = c.post(tpage+"/reject", url.Values{"reason": {"INVENTORY_OUT_OF_STOCK"}, "message": {"shelf empty"}})
		wantRedirect(t, res, tpage)
		_, body = c.get(tpage)
		wantContains(t, body, "No other facility can take all of it", "Send the request again", "EU3 rejected the request",
			`<span class="badge fo-ON_HOLD">On hold</span>`, "On hold because order #4102 is")
		if got := ff.get(a, tent.ID); !got.OnHold() {
			t.Error("the order is not held after a rejection nobody else can take")
		}
		res, _ = c.post(tpage+"/submit", nil)
		wantRedirect(t, res, tpage)
		if got := ff.foByID(a, tfo.ID); got.RequestStatus != order.RequestUnsubmitted || got.Pending != order.PendingRequest {
			t.Errorf("after submit: %s pending %q", got.RequestStatus, got.Pending)
		}

		// Cancelling at an own facility: what it held waits in a new one.
		o2 := ff.order(a, order.Input{Number: "#4103"})
		f2 := ff.fo(a, o2.ID, "MAIN")
		res, _ = c.post("/fulfillment/"+f2.ID+"/cancel", nil)
		wantRedirect(t, res, "/fulfillment/"+f2.ID)
		_, body = c.get("/fulfillment/" + f2.ID)
		wantContains(t, body, "Fulfilment at MAIN cancelled.", `<span class="badge fo-CANCELLED">Cancelled</span>`, "Nothing left to change")

		// Unknown actions and other tenants' fulfilment orders are not found.
		res, body = c.post(page+"/explode", nil)
		wantStatus(t, res, body, http.StatusNotFound)
		theirs := ff.order(ff.beta, order.Input{Number: "#9001"})
		tf := ff.fo(ff.beta, theirs.ID, "MAIN")
		res, body = c.get("/fulfillment/" + tf.ID)
		wantStatus(t, res, body, http.StatusNotFound)
		res, body = c.post("/fulfillment/"+tf.ID+"/hold", url.Values{"reason": {"OTHER"}})
		wantStatus(t, res, body, http.StatusNotFound)
		if got := ff.foByID(ff.beta, tf.ID); got.Status != order.FulfillmentOpen {
			t.Errorf("beta's fulfilment order is %s", got.Status)
		}

		// A viewer looks but does not change; a cross-site form is refused.
		o3 := ff.order(a, order.Input{Number: "#4104"})
		f3 := ff.fo(a, o3.ID, "MAIN")
		viewer := ff.signIn("viewer@alpha.example")
		res, body = viewer.get("/fulfillment/" + f3.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "You can look, but your role cannot change fulfilment.")
		wantNotContains(t, body, "Mark as fulfilled", `/hold"`)
		res, body = viewer.post("/fulfillment/"+f3.ID+"/hold", url.Values{"reason": {"OTHER"}})
		wantStatus(t, res, body, http.StatusForbidden)
		res, body = c.post("/fulfillment/"+f3.ID+"/hold", url.Values{"reason": {"OTHER"}}, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		if got := ff.foByID(a, f3.ID); got.Status != order.FulfillmentOpen {
			t.Errorf("refused holds held it: %s", got.Status)
		}
		// The warehouse works fulfilment.
		res, _ = ff.signIn("warehouse@alpha.example").post("/fulfillment/"+f3.ID+"/hold", url.Values{"reason": {"OTHER"}})
		wantRedirect(t, res, "/fulfillment/"+f3.ID)
	})
}
