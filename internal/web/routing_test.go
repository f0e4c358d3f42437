package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/web"
)

// routingFixture is the orders fixture with routing rules wired, and an
// EU 3PL (code EU3PL) beside MAIN for both tenants.
type routingFixture struct {
	*orderFixture
	routing *routing.Service
}

func newRoutingFixture(t *testing.T, e testenv.Engine) *routingFixture {
	t.Helper()
	of := newOrderFixture(t, e)
	rf := &routingFixture{orderFixture: of, routing: routing.NewService(store.NewRouting(of.db), of.inv, nil)}
	h := web.New(web.Deps{Config: config.Defaults(), Log: slog.New(slog.NewTextHandler(of.logs, nil)),
		Auth: of.auth, Catalog: of.catalog, Inventory: of.inv, Sessions: store.NewSessions(of.db), NotifyLog: store.NewNotify(of.db),
		Orders: of.orders, Channels: of.channels, Views: store.NewViews(of.db), Routing: rf.routing})
	of.srv = httptest.NewServer(withRequestID(h))
	t.Cleanup(of.srv.Close)
	for _, tn := range []auth.Tenant{of.alpha, of.beta} {
		if _, err := of.inv.CreateFacility(t.Context(), tn.ID, inventory.FacilityInput{Code: "EU3PL", Name: "Rotterdam 3PL", Kind: inventory.ThreePL}); err != nil {
			t.Fatal(err)
		}
	}
	return rf
}

func (rf *routingFixture) rules(tn auth.Tenant) []routing.Rule {
	rf.t.Helper()
	rs, err := rf.routing.Rules(rf.t.Context(), tn.ID)
	if err != nil {
		rf.t.Fatal(err)
	}
	return rs
}

func (rf *routingFixture) rule(tn auth.Tenant, name string) routing.Rule {
	rf.t.Helper()
	for _, r := range rf.rules(tn) {
		if r.Name == name {
			return r
		}
	}
	rf.t.Fatalf("no rule %q", name)
	return routing.Rule{}
}

func ruleNames(rs []routing.Rule) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Name)
	}
	return strings.Join(s, " | ")
}

// fieldOf returns the form label that holds the input named name, so a
// test can see an error is beside its field.
func fieldOf(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `name="`+name+`"`)
	if i < 0 {
		t.Fatalf("no input %q on the page", name)
	}
	start := strings.LastIndex(body[:i], `<label class="field`)
	end := strings.Index(body[i:], `</label>`)
	if start < 0 || end < 0 {
		t.Fatalf("input %q is not in a field label", name)
	}
	return body[start : i+end]
}

var ruleRowRe = regexp.MustCompile(`data-rule="([^"]+)"`)

func listedRules(body string) string {
	var s []string
	for _, m := range ruleRowRe.FindAllStringSubmatch(body, -1) {
		s = append(s, m[1])
	}
	return strings.Join(s, " | ")
}

func outsideUS() url.Values {
	return url.Values{"name": {"Outside the US"}, "active": {"1"}, "not_countries": {"US"}, "kind": {"only"}, "facility": {"EU3PL"},
		"hold_reason": {"OTHER"}}
}

func TestRoutingRules(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		rf := newRoutingFixture(t, e)
		owner := rf.signIn("owner@alpha.example")

		res, body := owner.get("/settings/routing")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "No routing rules yet", `action="/settings/routing" class="rule-form"`, `value="EU3PL"`, `value="MAIN"`,
			`href="/settings/routing" aria-current="page"`)

		// A wrong country and a missing facility: each error beside its
		// field and in the summary; nothing is stored and the typing stays.
		bad := outsideUS()
		bad.Set("countries", "DE, XX")
		bad.Del("facility")
		res, body = owner.post("/settings/routing", bad)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		countries := fieldOf(t, body, "countries")
		wantContains(t, countries, "has-error", `value="DE, XX"`, `aria-invalid="true"`, "“XX” must be an ISO 3166-1 alpha-2 country code")
		if strings.Contains(fieldOf(t, body, "not_countries"), "field-error") {
			t.Error("the error is beside not_countries too")
		}
		wantContains(t, body, "2 things need fixing first.</strong>", "<li>Destination countries: “XX” must be an ISO 3166-1 alpha-2 country code such as US.</li>",
			"<li>Facilities: name at least one facility or facility kind.</li>", `<fieldset class="field has-error"><legend>Facilities</legend>`)
		if n := len(rf.rules(rf.alpha)); n != 0 {
			t.Fatalf("%d rules stored after a refused form", n)
		}

		// Create two rules; they list in the order they apply.
		res, _ = owner.post("/settings/routing", outsideUS())
		wantRedirect(t, res, "/settings/routing")
		res, _ = owner.post("/settings/routing", url.Values{"name": {"Big orders"}, "active": {"1"}, "min_total": {"1000"},
			"kind": {"hold"}, "hold_reason": {"HIGH_RISK_OF_FRAUD"}, "hold_note": {"check it"}, "facility": {"MAIN"}})
		wantRedirect(t, res, "/settings/routing")
		res, body = owner.get("/settings/routing")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Rule “Big orders” added.", "country not US", "only EU3PL", "total ≥ 1000", "hold: High risk of fraud (check it)")
		if got := listedRules(body); got != "Outside the US | Big orders" {
			t.Errorf("listed %q", got)
		}
		big := rf.rule(rf.alpha, "Big orders")
		if len(big.Then.Facilities) != 0 || big.Then.HoldReason != order.HighRiskOfFraud || !big.Active {
			t.Errorf("hold rule stored as %+v", big)
		}

		// Edit: the form comes filled in; saving keeps the place.
		us := rf.rule(rf.alpha, "Outside the US")
		res, body = owner.get("/settings/routing/" + us.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `action="/settings/routing/`+us.ID+`"`, `name="name" value="Outside the US"`, `name="not_countries" value="US"`,
			`value="EU3PL" checked`, `value="only" checked`)
		edit := outsideUS()
		edit.Set("name", "Rest of the world")
		edit.Set("not_countries", "US, CA")
		edit.Set("min_total", "ten")
		res, body = owner.post("/settings/routing/"+us.ID, edit)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, fieldOf(t, body, "min_total"), "Must be a non-negative decimal")
		edit.Del("min_total")
		res, _ = owner.post("/settings/routing/"+us.ID, edit)
		wantRedirect(t, res, "/settings/routing")
		if got := rf.rule(rf.alpha, "Rest of the world"); got.Position != us.Position || strings.Join(got.When.NotCountries, ",") != "US,CA" {
			t.Errorf("edited rule = %+v", got)
		}

		// Reorder.
		res, _ = owner.post("/settings/routing/"+big.ID+"/move", url.Values{"direction": {"up"}})
		wantRedirect(t, res, "/settings/routing")
		if got := ruleNames(rf.rules(rf.alpha)); got != "Big orders | Rest of the world" {
			t.Errorf("after moving up: %q", got)
		}
		res, _ = owner.post("/settings/routing/"+big.ID+"/move", url.Values{"direction": {"down"}})
		wantRedirect(t, res, "/settings/routing")
		res, body = owner.get("/settings/routing")
		if got := listedRules(body); got != "Rest of the world | Big orders" {
			t.Errorf("after moving down: %q", got)
		}

		// Deactivate and activate.
		res, _ = owner.post("/settings/routing/"+big.ID+"/deactivate", nil)
		wantRedirect(t, res, "/settings/routing")
		if rf.rule(rf.alpha, "Big orders").Active {
			t.Error("still active")
		}
		_, body = owner.get("/settings/routing")
		wantContains(t, body, "is inactive", `action="/settings/routing/`+big.ID+`/activate"`)
		res, _ = owner.post("/settings/routing/"+big.ID+"/activate", nil)
		wantRedirect(t, res, "/settings/routing")
		if !rf.rule(rf.alpha, "Big orders").Active {
			t.Error("not active again")
		}

		// Delete asks first (data-confirm) and removes the rule.
		_, body = owner.get("/settings/routing")
		wantContains(t, body, `action="/settings/routing/`+big.ID+`/delete" data-confirm="Delete the rule “Big orders”?`)
		res, _ = owner.post("/settings/routing/"+big.ID+"/delete", nil)
		wantRedirect(t, res, "/settings/routing")
		if got := ruleNames(rf.rules(rf.alpha)); got != "Rest of the world" {
			t.Errorf("after delete: %q", got)
		}
		res, body = owner.post("/settings/routing/"+big.ID+"/delete", nil)
		wantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestRoutingAccess(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		rf := newRoutingFixture(t, e)
		r, err := rf.routing.Save(t.Context(), rf.alpha.ID, routing.Rule{Name: "Outside the US", Active: true,
			When: routing.Conditions{NotCountries: []string{"US"}}, Then: routing.Action{Kind: routing.Only, Facilities: []string{"EU3PL"}}})
		if err != nil {
			t.Fatal(err)
		}
		posts := map[string]url.Values{
			"/settings/routing":                       outsideUS(),
			"/settings/routing/" + r.ID:               outsideUS(),
			"/settings/routing/" + r.ID + "/move":     {"direction": {"down"}},
			"/settings/routing/" + r.ID + "/activate": nil, "/settings/routing/" + r.ID + "/deactivate": nil,
			"/settings/routing/" + r.ID + "/delete": nil,
		}

		// Viewers and warehouse staff read the rules but get no forms and
		// are refused every change.
		for _, who := range []string{"viewer@alpha.example", "warehouse@alpha.example"} {
			c := rf.signIn(who)
			res, body := c.get("/settings/routing")
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, `data-rule="Outside the US"`, "your role cannot change routing rules")
			if strings.Contains(body, `method="post" action="/settings/routing`) {
				t.Errorf("%s: the page has change forms", who)
			}
			for p, form := range posts {
				res, body := c.post(p, form)
				wantStatus(t, res, body, http.StatusForbidden)
			}
		}

		// Another tenant's rule does not exist for Beta.
		beta := rf.signIn("owner@beta.example")
		res, body := beta.get("/settings/routing/" + r.ID)
		wantStatus(t, res, body, http.StatusNotFound)
		for p, form := range posts {
			if p == "/settings/routing" {
				continue
			}
			res, body := beta.post(p, form)
			wantStatus(t, res, body, http.StatusNotFound)
		}
		_, body = beta.get("/settings/routing")
		if strings.Contains(body, `data-rule=`) {
			t.Error("Beta sees Alpha's rule")
		}

		// A form sent from another site is refused before it is read.
		owner := rf.signIn("owner@alpha.example")
		for p, form := range posts {
			res, body := owner.post(p, form, "Sec-Fetch-Site", "cross-site")
			wantStatus(t, res, body, http.StatusForbidden)
		}
		if got := rf.rules(rf.alpha); len(got) != 1 || got[0].Name != "Outside the US" || !got[0].Active {
			t.Errorf("rules after refused changes: %+v", got)
		}
	})
}

func TestRoutingExplain(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		rf := newRoutingFixture(t, e)
		de := rf.order(rf.alpha, order.Input{Channel: "shopify", Number: "#1001", Customer: order.Customer{Name: "Jonas Weber"},
			ShippingAddress: &order.Address{Name: "Jonas Weber", Line1: "Torstraße 1", City: "Berlin", PostalCode: "10119", Country: "DE"}})
		us := rf.order(rf.alpha, order.Input{Channel: "shopify", Number: "#1002", Customer: order.Customer{Name: "Noah Smith"},
			ShippingAddress: &order.Address{Name: "Noah Smith", Line1: "1 Main St", City: "Portland", Region: "OR", Country: "US"},
			Lines:           []order.LineInput{{SKU: "TEE", Quantity: 2, UnitPrice: "20.00"}}})
		ctx := t.Context()
		for _, r := range []routing.Rule{
			{Name: "Outside the US", Active: true, When: routing.Conditions{NotCountries: []string{"US"}},
				Then: routing.Action{Kind: routing.Only, Facilities: []string{"EU3PL"}}},
			{Name: "Tees never from the 3PL", Active: true, When: routing.Conditions{SKUs: []string{"TEE"}},
				Then: routing.Action{Kind: routing.Exclude, Facilities: []string{"EU3PL"}}},
			{Name: "Wholesale", Active: true, When: routing.Conditions{Tags: []string{"wholesale"}},
				Then: routing.Action{Kind: routing.Hold, HoldReason: order.OtherHold, HoldNote: "check terms"}},
		} {
			if _, err := rf.routing.Save(ctx, rf.alpha.ID, r); err != nil {
				t.Fatal(err)
			}
		}
		owner := rf.signIn("owner@alpha.example")

		// The order page links to its explanation.
		res, body := owner.get("/orders/" + de.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `href="/settings/routing?order=`+de.ID+`#test"`)

		// By id: the German order may only go to the 3PL.
		res, body = owner.get("/settings/routing?order=" + url.QueryEscape(de.ID))
		wantStatus(t, res, body, http.StatusOK)
		body = body[strings.Index(body, `id="test"`):]
		wantContains(t, body, `<strong class="step-name">Outside the US</strong>`, "line 1 (MUG): not MAIN",
			`<tr data-sku="MUG"><td class="mono">MUG</td><td class="num">1</td>`, `<span class="mono">EU3PL</span></td>`, `name="order" value="`+de.ID+`"`)
		if strings.Contains(body, "Tees never") || strings.Contains(body, "Held:") || strings.Contains(body, "Left without a facility") {
			t.Error("the German order's explanation shows rules that do not apply")
		}

		// By number: the US order's tees are kept off the 3PL.
		_, body = owner.get("/settings/routing?order=" + url.QueryEscape("#1002"))
		body = body[strings.Index(body, `id="test"`):]
		wantContains(t, body, ">#1002</a>", `<strong class="step-name">Tees never from the 3PL</strong>`, "line 1 (TEE): not EU3PL")
		if strings.Contains(body, `<strong class="step-name">Outside the US`) {
			t.Error("the US order matched the rule for outside the US")
		}

		// A German order of tees: one rule allows only the 3PL, the next
		// forbids it, so the line is left without a facility.
		both := rf.order(rf.alpha, order.Input{Channel: "api", Number: "#1003", ShippingAddress: &order.Address{Name: "A", Line1: "B", City: "Köln", Country: "DE"},
			Lines: []order.LineInput{{SKU: "TEE", Quantity: 1, UnitPrice: "20.00"}}})
		_, body = owner.get("/settings/routing?order=" + both.ID)
		wantContains(t, body, "Left without a facility:</strong> <span class=\"mono\">TEE</span>", `<span class="badge low">No facility</span>`)

		// A hold rule.
		held := rf.order(rf.alpha, order.Input{Channel: "api", Number: "#1004", Tags: []string{"wholesale"}})
		_, body = owner.get("/settings/routing?order=" + held.ID)
		wantContains(t, body, "<strong>Held:</strong> Other: check terms.", `<strong class="step-name">Wholesale</strong>`)

		// Read-only roles see explanations too.
		_, body = rf.signIn("viewer@alpha.example").get("/settings/routing?order=" + url.QueryEscape("#1001"))
		wantContains(t, body, `<strong class="step-name">Outside the US</strong>`)

		// An unknown order, or another tenant's, is not found in the box.
		for _, q := range []string{"#9999", "ord_nothing"} {
			res, body = owner.get("/settings/routing?order=" + url.QueryEscape(q))
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, "No order “"+q+"” in this account")
		}
		_, body = rf.signIn("owner@beta.example").get("/settings/routing?order=" + us.ID)
		wantContains(t, body, "No order “"+us.ID+"” in this account")
		if strings.Contains(body, "Noah Smith") || strings.Contains(body, "#1002") {
			t.Error("Beta sees Alpha's order")
		}
	})
}
