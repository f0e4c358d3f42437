package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/portal"
	"github.com/waybill/waybill/internal/testenv"
)

var portalLinkRe = regexp.MustCompile(`https?://\S+/portal/fulfillment-orders/\S+`)

// portalPath sends the requests of fulfilment order foID and returns the
// path of the portal link in the purchase order e-mail.
func (ff *fulfilFixture) portalPath(foID string) string {
	ff.t.Helper()
	if _, err := ff.dispatch.Run(ff.t.Context()); err != nil {
		ff.t.Fatal(err)
	}
	ff.mailMu.Lock()
	defer ff.mailMu.Unlock()
	for i := len(ff.mails) - 1; i >= 0; i-- {
		if strings.Contains(ff.mails[i].ID, foID) {
			u, err := url.Parse(portalLinkRe.FindString(ff.mails[i].Text))
			if err != nil || u.Path == "" {
				ff.t.Fatalf("no portal link in %q", ff.mails[i].Text)
			}
			return u.RequestURI()
		}
	}
	ff.t.Fatalf("no e-mail for %s among %d", foID, len(ff.mails))
	return ""
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func wantPortalHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if ck := res.Header.Values("Set-Cookie"); len(ck) > 0 {
		t.Errorf("the portal set cookies: %q", ck)
	}
}

func TestSupplierPortal(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ff := newFulfilFixture(t, e)
		a, ctx := ff.alpha, t.Context()
		ff.product(a, catalog.Draft{SKU: "LAMP", Name: "Storm lamp", Price: "30.00"})
		sup := ff.facility(a, "SUP", inventory.Dropship, map[string]int64{"LAMP": 10})
		if _, _, err := ff.dispatch.Connect(ctx, a.ID, sup.ID, dispatch.ConnectionInput{Method: dispatch.Email, Email: "po@supplier.example"}); err != nil {
			t.Fatal(err)
		}
		if err := ff.costs.SetSupplierCosts(ctx, a.ID, sup.ID, []costs.SupplierCost{{SKU: "LAMP", Currency: "EUR", UnitCost: 1250}}); err != nil {
			t.Fatal(err)
		}
		o := ff.order(a, order.Input{Number: "#4201", Customer: order.Customer{Name: "Ana Silva"},
			Lines: []order.LineInput{{SKU: "LAMP", Name: "Storm lamp", Quantity: 2, UnitPrice: "30.00"}}})
		fo := ff.fo(a, o.ID, "SUP")
		link := ff.portalPath(fo.ID)
		token := tokenOf(t, link)
		if got := ff.foByID(a, fo.ID); got.RequestStatus != order.RequestSubmitted {
			t.Fatalf("after the e-mail the request is %s", got.RequestStatus)
		}
		// The supplier has no account: a fresh client, no cookies.
		s := ff.client()

		res, body := s.get(link)
		wantStatus(t, res, body, http.StatusOK)
		wantPortalHeaders(t, res)
		wantContains(t, body, `Purchase order <span class="mono po-number">PO-4201-SUP</span>`, "Order #4201", "Alpha Goods",
			`<div class="strong">Ana Silva</div>`, "1 Main St", `<tr data-sku="LAMP">`, "Storm lamp", `<td class="num nowrap">12.50</td>`,
			`<td class="num nowrap strong po-total">25.00</td>`, "Total EUR", "Please confirm you can ship this order",
			`action="/portal/fulfillment-orders/`+fo.ID+`/accept"`, `action="/portal/fulfillment-orders/`+fo.ID+`/reject"`,
			`name="token" value="`, "Download PDF", "Request sent")
		wantNotContains(t, body, "nav-item", "Sign out", "owner@alpha.example", "Confirm cancellation")

		// Bad, missing, expired and other orders' tokens: 403, nothing shown.
		conn, err := ff.dispatch.Connection(ctx, a.ID, sup.ID)
		if err != nil {
			t.Fatal(err)
		}
		expired := portal.Sign([]byte(conn.Secret), a.ID+"/"+fo.ID, time.Now().Add(-time.Hour))
		other := ff.order(a, order.Input{Number: "#4202", Lines: []order.LineInput{{SKU: "LAMP", Quantity: 1, UnitPrice: "30.00"}}})
		ofo := ff.fo(a, other.ID, "SUP")
		for name, path := range map[string]string{
			"wrong token":   "/portal/fulfillment-orders/" + fo.ID + "?token=" + url.QueryEscape(token[:len(token)-2]+"xx"),
			"no token":      "/portal/fulfillment-orders/" + fo.ID,
			"expired":       "/portal/fulfillment-orders/" + fo.ID + "?token=" + url.QueryEscape(expired),
			"another order": "/portal/fulfillment-orders/" + ofo.ID + "?token=" + url.QueryEscape(token),
			"unknown order": "/portal/fulfillment-orders/ffo_nope?token=" + url.QueryEscape(token),
			"pdf":           "/portal/fulfillment-orders/" + fo.ID + "/po.pdf?token=bad",
		} {
			res, body := s.get(path)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s: status %d", name, res.StatusCode)
			}
			wantPortalHeaders(t, res)
			want := "This link is invalid or has expired. Ask the merchant who sent it for a new one."
			if name == "expired" {
				want = "This link has expired. Ask the merchant who sent it for a new one."
			}
			wantContains(t, body, want)
			wantNotContains(t, body, "PO-4201", "Ana Silva", "nav-item")
		}

		// The PDF.
		res, body = s.get("/portal/fulfillment-orders/" + fo.ID + "/po.pdf?token=" + url.QueryEscape(token))
		wantStatus(t, res, "(pdf)", http.StatusOK)
		if res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") ||
			res.Header.Get("Content-Disposition") != `attachment; filename=PO-4201-SUP.pdf` {
			t.Errorf("pdf: %q %q %q", res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), body[:min(len(body), 8)])
		}
		wantPortalHeaders(t, res)

		post := func(action string, form url.Values) (*http.Response, string) {
			if form == nil {
				form = url.Values{}
			}
			if !form.Has("token") {
				form.Set("token", token)
			}
			return s.post("/portal/fulfillment-orders/"+fo.ID+"/"+action, form)
		}
		// A POST with a bad token changes nothing.
		res, body = post("accept", url.Values{"token": {"nope"}})
		wantStatus(t, res, body, http.StatusForbidden)
		if got := ff.foByID(a, fo.ID); got.RequestStatus != order.RequestSubmitted {
			t.Errorf("a bad token accepted it: %s", got.RequestStatus)
		}
		res, body = post("accept", nil)
		wantRedirect(t, res, "/portal/fulfillment-orders/"+fo.ID+"?token="+url.QueryEscape(token)+"&done=accept")
		wantPortalHeaders(t, res)
		res, body = s.get(res.Header.Get("Location"))
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Thank you: you confirmed this order.", "You confirmed this order.", "Accepted", "You</div>",
			`action="/portal/fulfillment-orders/`+fo.ID+`/ship"`)
		wantNotContains(t, body, `/accept"`)
		if got := ff.foByID(a, fo.ID); got.RequestStatus != order.RequestAccepted {
			t.Errorf("after confirming: %s", got.RequestStatus)
		}

		// The shipment: too many is refused beside the field; then all of it.
		line := fo.Lines[0].LineID
		res, body = post("ship", url.Values{"qty_" + line: {"5"}, "carrier": {"DHL"}, "tracking_number": {"JD0001"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Only 2 of LAMP are reserved here to fulfil.", `name="qty_`+line+`" value="5"`, `value="JD0001"`, `aria-invalid="true"`)
		wantPortalHeaders(t, res)
		res, _ = post("ship", url.Values{"qty_" + line: {"2"}, "carrier": {"DHL"}, "tracking_number": {"JD0001"},
			"tracking_url": {"https://dhl.example/JD0001"}})
		wantRedirect(t, res, "/portal/fulfillment-orders/"+fo.ID+"?token="+url.QueryEscape(token)+"&done=ship")
		_, body = s.get(res.Header.Get("Location"))
		wantContains(t, body, "the shipment is recorded", "Everything on this order has shipped.", "Nothing is left to ship on this order: 2 units shipped.")
		wantNotContains(t, body, "/ship\"")
		if got := ff.get(a, o.ID); got.Fulfillment != order.Fulfilled || got.Lines[0].Fulfilled != 2 {
			t.Errorf("order after the supplier shipped: %s %+v", got.Fulfillment, got.Lines)
		}
		wantLevel(t, ff.orderFixture, a, "LAMP", "SUP", 8, 1)
		// Nothing left: no PDF to print.
		res, body = s.get("/portal/fulfillment-orders/" + fo.ID + "/po.pdf?token=" + url.QueryEscape(token))
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing is left to ship on this purchase order")

		// A cancellation: the merchant asks, the supplier says it shipped.
		olink := ff.portalPath(ofo.ID)
		otoken := tokenOf(t, olink)
		c := ff.signIn("owner@alpha.example")
		res, _ = c.post("/fulfillment/"+ofo.ID+"/cancel", nil)
		wantRedirect(t, res, "/fulfillment/"+ofo.ID)
		ff.portalPath(ofo.ID) // the cancellation e-mail
		res, body = s.get(olink)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Alpha Goods asks you to cancel this order.", "Confirm cancellation", "Already shipped")
		wantNotContains(t, body, "/ship\"")
		res, _ = s.post("/portal/fulfillment-orders/"+ofo.ID+"/reject-cancellation", url.Values{"token": {otoken}, "message": {"left this morning"}})
		wantRedirect(t, res, "/portal/fulfillment-orders/"+ofo.ID+"?token="+url.QueryEscape(otoken)+"&done=reject-cancellation")
		_, body = s.get(res.Header.Get("Location"))
		wantContains(t, body, "we know the order has shipped", "Cancellation refused", "left this morning", `/ship"`)
		if got := ff.foByID(a, ofo.ID); got.RequestStatus != order.RequestCancellationRejected {
			t.Errorf("after refusing the cancellation: %s", got.RequestStatus)
		}
		// Answering again clashes: a notice on the portal page.
		res, body = s.post("/portal/fulfillment-orders/"+ofo.ID+"/accept-cancellation", url.Values{"token": {otoken}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing was changed.", "No cancellation was requested")

		// Refusing an order; a cross-site form is refused first.
		third := ff.order(a, order.Input{Number: "#4203", Lines: []order.LineInput{{SKU: "LAMP", Quantity: 1, UnitPrice: "30.00"}}})
		tfo := ff.fo(a, third.ID, "SUP")
		tlink := ff.portalPath(tfo.ID)
		ttoken := tokenOf(t, tlink)
		res, body = s.post("/portal/fulfillment-orders/"+tfo.ID+"/reject", url.Values{"token": {ttoken}, "reason": {"INVENTORY_OUT_OF_STOCK"}},
			"Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		res, body = s.post("/portal/fulfillment-orders/"+tfo.ID+"/reject", url.Values{"token": {ttoken}, "reason": {"INVENTORY_OUT_OF_STOCK"},
			"message": {strings.Repeat("m", 2001)}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Must be at most 2000 characters.", "<details class=\"advanced reject-box\" open>")
		res, _ = s.post("/portal/fulfillment-orders/"+tfo.ID+"/reject", url.Values{"token": {ttoken}, "reason": {"INVENTORY_OUT_OF_STOCK"}, "message": {"sold out"}})
		wantRedirect(t, res, "/portal/fulfillment-orders/"+tfo.ID+"?token="+url.QueryEscape(ttoken)+"&done=reject")
		_, body = s.get(tlink)
		wantContains(t, body, "You told us you cannot fulfil this order.", "INVENTORY_OUT_OF_STOCK", "sold out")
		if got := ff.foByID(a, tfo.ID); got.RequestStatus != order.RequestRejected {
			t.Errorf("after refusing: %s", got.RequestStatus)
		}
		// The merchant sees who answered, through the portal.
		_, body = c.get("/fulfillment/" + tfo.ID)
		wantContains(t, body, "SUP (supplier portal)", "sold out")

		// Unknown actions are not found; rotating the secret ends every link.
		res, body = s.post("/portal/fulfillment-orders/"+tfo.ID+"/explode", url.Values{"token": {ttoken}})
		wantStatus(t, res, body, http.StatusNotFound)
		if _, err := ff.dispatch.RotateSecret(ctx, a.ID, sup.ID); err != nil {
			t.Fatal(err)
		}
		res, body = s.get(tlink)
		wantStatus(t, res, body, http.StatusForbidden)
		if bytes.Contains([]byte(body), []byte("PO-4203")) {
			t.Error("an old link still shows the purchase order")
		}
	})
}
