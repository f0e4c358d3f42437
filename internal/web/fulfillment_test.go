package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

// fulfilmentOrders returns tn's fulfilment orders of an order by facility code.
func (of *orderFixture) fulfilmentOrders(tn auth.Tenant, orderID string) map[string]order.FulfillmentOrderView {
	of.t.Helper()
	vs, err := of.orders.FulfillmentOrders(of.t.Context(), tn.ID, orderID)
	if err != nil {
		of.t.Fatal(err)
	}
	out := map[string]order.FulfillmentOrderView{}
	for _, v := range vs {
		out[v.FacilityCode] = v
	}
	return out
}

// level returns on hand and reserved of a SKU at a facility.
func (of *orderFixture) level(tn auth.Tenant, sku, facility string) (onHand, reserved int64) {
	of.t.Helper()
	ctx := of.t.Context()
	fac, err := of.inv.FacilityByCode(ctx, tn.ID, facility)
	if err != nil {
		of.t.Fatal(err)
	}
	ls, _, err := of.inv.Levels(ctx, tn.ID, inventory.LevelFilter{SKU: sku, FacilityID: fac.ID, Limit: 10})
	if err != nil {
		of.t.Fatal(err)
	}
	if len(ls) != 1 {
		of.t.Fatalf("levels of %s at %s: %d rows", sku, facility, len(ls))
	}
	return ls[0].OnHand, ls[0].Reserved
}

func wantLevel(t *testing.T, of *orderFixture, tn auth.Tenant, sku, facility string, onHand, reserved int64) {
	t.Helper()
	if h, r := of.level(tn, sku, facility); h != onHand || r != reserved {
		t.Errorf("%s at %s: on hand %d reserved %d, want %d and %d", sku, facility, h, r, onHand, reserved)
	}
}

func TestOrderFulfilment(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		a, ctx := of.alpha, t.Context()
		// A tent is only stocked at the Denver warehouse, so an order of
		// mugs and a tent is fulfilled from two facilities.
		of.product(a, catalog.Draft{SKU: "TENT", Name: "Tent", Price: "150.00"})
		if _, err := of.inv.CreateFacility(ctx, a.ID, inventory.FacilityInput{Code: "DEN", Name: "Denver warehouse", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := of.inv.Adjust(ctx, a.ID, inventory.Adjustment{SKU: "TENT", Facility: "DEN", Quantity: 2, Kind: inventory.Receive, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		o := of.order(a, order.Input{Number: "#3001", Lines: []order.LineInput{{SKU: "MUG", Quantity: 3, UnitPrice: "12.50"}, {SKU: "TENT", Quantity: 1, UnitPrice: "150.00"}}})
		mug := o.Lines[0].ID
		page := "/orders/" + o.ID
		c := of.signIn("owner@alpha.example")

		res, body := c.get(page)
		wantStatus(t, res, body, http.StatusOK)
		fos := of.fulfilmentOrders(a, o.ID)
		main, den := fos["MAIN"], fos["DEN"]
		if len(fos) != 2 || main.ID == "" || den.ID == "" {
			t.Fatalf("fulfilment orders: %+v", fos)
		}
		wantContains(t, body, `id="fulfilment-h">Fulfilment`, `data-facility="MAIN"`, `data-facility="DEN"`, "Denver warehouse",
			`<span class="badge fo-OPEN">Open</span>`, `action="/orders/`+o.ID+`/fulfillment-orders/`+main.ID+`/fulfill"`,
			`action="/orders/`+o.ID+`/fulfillment-orders/`+den.ID+`/fulfill"`, `name="qty_`+mug+`" value="3"`, "Nothing shipped yet.")

		fulfil := func(fo string, form url.Values) (*http.Response, string) {
			return c.post("/orders/"+o.ID+"/fulfillment-orders/"+fo+"/fulfill", form)
		}
		// One mug first, with its tracking.
		res, body = fulfil(main.ID, url.Values{"qty_" + mug: {"1"}, "carrier": {"UPS"}, "service": {"ground"},
			"tracking_number": {"1Z999AA1"}, "tracking_url": {"https://www.ups.com/track?tracknum=1Z999AA1"}})
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Shipped 1 × MUG from MAIN with UPS ground, tracking 1Z999AA1.", `<span class="badge fo-IN_PROGRESS">In progress</span>`,
			`<a href="https://www.ups.com/track?tracknum=1Z999AA1" class="mono" rel="noopener noreferrer" target="_blank">1Z999AA1</a>`,
			"1 × MUG", `name="qty_`+mug+`" value="2"`)
		wantLevel(t, of, a, "MUG", "MAIN", 9, 2)
		if l := of.get(a, o.ID).Lines[0]; l.Fulfilled != 1 || l.Reserved != 2 {
			t.Errorf("mug line after one shipped: fulfilled %d reserved %d", l.Fulfilled, l.Reserved)
		}

		// More than is left is refused beside the field, and nothing changes.
		res, body = fulfil(main.ID, url.Values{"qty_" + mug: {"5"}, "carrier": {"DHL"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Only 2 of MUG are reserved here to fulfil.", "Units of MUG from MAIN: only 2 of MUG are reserved here to fulfil.",
			`name="qty_`+mug+`" value="5"`, `value="DHL"`, `aria-invalid="true"`)
		res, body = fulfil(main.ID, url.Values{"qty_" + mug: {"two"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Must be a whole number.")
		res, body = fulfil(main.ID, url.Values{"qty_" + mug: {"0"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "every quantity is 0")
		wantLevel(t, of, a, "MUG", "MAIN", 9, 2)

		// The rest of the mugs, then the tent: the order is fulfilled and closed.
		res, _ = fulfil(main.ID, url.Values{"qty_" + mug: {"2"}, "carrier": {"UPS"}})
		wantRedirect(t, res, page)
		wantLevel(t, of, a, "MUG", "MAIN", 7, 0)
		if got := of.get(a, o.ID); got.Status != order.Open || got.Fulfillment != order.PartiallyFulfilled {
			t.Errorf("after the mugs: %s %s", got.Status, got.Fulfillment)
		}
		res, _ = fulfil(den.ID, url.Values{"qty_" + den.Lines[0].LineID: {"1"}})
		wantRedirect(t, res, page)
		wantLevel(t, of, a, "TENT", "DEN", 1, 0)
		got := of.get(a, o.ID)
		if got.Status != order.Closed || got.Fulfillment != order.Fulfilled || got.Lines[0].Fulfilled != 3 || got.Lines[1].Fulfilled != 1 {
			t.Errorf("after everything shipped: %s %s %+v", got.Status, got.Fulfillment, got.Lines)
		}
		_, body = c.get(page)
		wantContains(t, body, "Shipped 1 × TENT from DEN.", "Order #3001 is fulfilled and closed.", `<span class="badge fo-CLOSED">Closed</span>`)
		wantNotContains(t, body, "Mark as fulfilled")
		// Fulfilling a closed one again is a notice that names it.
		res, body = fulfil(den.ID, url.Values{})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing was shipped from DEN")

		// A held order refuses, and nothing changes.
		held := of.order(a, order.Input{Number: "#3002", Lines: []order.LineInput{{SKU: "MUG", Quantity: 1, UnitPrice: "12.50"}}})
		if _, err := of.orders.AddHold(ctx, a.ID, held.ID, order.IncorrectAddress, "", "test"); err != nil {
			t.Fatal(err)
		}
		hfo := of.fulfilmentOrders(a, held.ID)["MAIN"]
		res, body = c.post("/orders/"+held.ID+"/fulfillment-orders/"+hfo.ID+"/fulfill", url.Values{"qty_" + held.Lines[0].ID: {"1"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing was shipped from MAIN: the order is on hold; release its holds first.")
		wantLevel(t, of, a, "MUG", "MAIN", 7, 1)
		if l := of.get(a, held.ID).Lines[0]; l.Fulfilled != 0 {
			t.Errorf("held order shipped %d", l.Fulfilled)
		}

		// A viewer sees the card but no form, and may not post it.
		viewer := of.signIn("viewer@alpha.example")
		open := of.order(a, order.Input{Number: "#3003"})
		ofo := of.fulfilmentOrders(a, open.ID)["MAIN"]
		res, body = viewer.get("/orders/" + open.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `data-facility="MAIN"`)
		wantNotContains(t, body, "Mark as fulfilled")
		res, body = viewer.post("/orders/"+open.ID+"/fulfillment-orders/"+ofo.ID+"/fulfill", url.Values{})
		wantStatus(t, res, body, http.StatusForbidden)

		// A cross-site form is refused.
		res, body = c.post("/orders/"+open.ID+"/fulfillment-orders/"+ofo.ID+"/fulfill", url.Values{}, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		if l := of.get(a, open.ID).Lines[0]; l.Fulfilled != 0 {
			t.Errorf("cross-site form shipped %d", l.Fulfilled)
		}

		// Another tenant's order, and its fulfilment order under ours, are not found.
		theirs := of.order(of.beta, order.Input{Number: "#9001"})
		tfo := of.fulfilmentOrders(of.beta, theirs.ID)["MAIN"]
		res, body = c.get("/orders/" + theirs.ID)
		wantStatus(t, res, body, http.StatusNotFound)
		res, body = c.post("/orders/"+theirs.ID+"/fulfillment-orders/"+tfo.ID+"/fulfill", url.Values{})
		wantStatus(t, res, body, http.StatusNotFound)
		res, body = c.post("/orders/"+open.ID+"/fulfillment-orders/"+tfo.ID+"/fulfill", url.Values{})
		wantStatus(t, res, body, http.StatusNotFound)
		// Nor is a fulfilment order of another of our orders.
		res, body = c.post("/orders/"+open.ID+"/fulfillment-orders/"+hfo.ID+"/fulfill", url.Values{})
		wantStatus(t, res, body, http.StatusNotFound)
		if l := of.get(of.beta, theirs.ID).Lines[0]; l.Fulfilled != 0 {
			t.Errorf("beta's order shipped %d", l.Fulfilled)
		}
	})
}
