package routing_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
)

// The tenant's facilities, by priority: MAIN, GARAGE, US3PL, SHOP, EU1, DS-X.
var facilities = []routing.Facility{
	{ID: "fac_dsx", Code: "DS-X", Kind: inventory.Dropship, Priority: 9},
	{ID: "fac_eu1", Code: "EU1", Kind: inventory.ThreePL, Priority: 5},
	{ID: "fac_garage", Code: "GARAGE", Kind: inventory.Own, Priority: 2},
	{ID: "fac_main", Code: "MAIN", Kind: inventory.Own, Priority: 1},
	{ID: "fac_shop", Code: "SHOP", Kind: inventory.Retail, Priority: 4},
	{ID: "fac_us3pl", Code: "US3PL", Kind: inventory.ThreePL, Priority: 3},
}

var codes = []string{"DS-X", "EU1", "GARAGE", "MAIN", "SHOP", "US3PL"}

// everywhere is every facility in the order no rule changes.
var everywhere = []string{"fac_main", "fac_garage", "fac_us3pl", "fac_shop", "fac_eu1", "fac_dsx"}

func productInfo(sku string) (string, string) {
	switch sku {
	case "MUG-1":
		return "Mug", "Acme"
	case "X-CHAIR":
		return "Furniture", "Supplier X"
	case "CUSTOM-7":
		return "Custom", ""
	}
	return "", ""
}

// input is an order of three lines to a US address in California.
func input() routing.Input {
	return routing.Input{
		Lines: []routing.Line{
			{ID: "l0", SKU: "MUG-1", Quantity: 2},
			{ID: "l1", SKU: "X-CHAIR", Quantity: 1},
			{ID: "l2", SKU: "CUSTOM-7", Quantity: 1},
		},
		Tags:          []string{"vip", "Gift"},
		Country:       "US",
		Region:        "CA",
		Channel:       "shopify",
		Total:         10000,
		Currency:      "USD",
		ShippingCodes: []string{"ups_ground"},
		ProductInfo:   productInfo,
		Facilities:    facilities,
	}
}

// applies runs c alone and returns the lines it applied to, or false when
// it did not match.
func applies(c routing.Conditions, in routing.Input) ([]int, bool) {
	r := routing.Rule{ID: "r", Name: "probe", Active: true, When: c, Then: routing.Action{Kind: routing.Prefer, FacilityKinds: []inventory.FacilityKind{inventory.Own}}}
	res := routing.Evaluate([]routing.Rule{r}, in)
	if len(res.Trace) == 0 {
		return nil, false
	}
	return res.Trace[0].Lines, true
}

func TestConditions(t *testing.T) {
	all := []int{0, 1, 2}
	tests := []struct {
		name  string
		when  routing.Conditions
		edit  func(*routing.Input)
		lines []int // nil: no match
	}{
		{name: "none: every line", lines: all},

		{name: "sku exact", when: routing.Conditions{SKUs: []string{"MUG-1"}}, lines: []int{0}},
		{name: "sku glob prefix", when: routing.Conditions{SKUs: []string{"CUSTOM-*"}}, lines: []int{2}},
		{name: "sku glob case-insensitive", when: routing.Conditions{SKUs: []string{"custom-*"}}, lines: []int{2}},
		{name: "sku glob suffix", when: routing.Conditions{SKUs: []string{"*chair"}}, lines: []int{1}},
		{name: "sku glob inner", when: routing.Conditions{SKUs: []string{"C*-*7"}}, lines: []int{2}},
		{name: "sku glob star matches all", when: routing.Conditions{SKUs: []string{"*"}}, lines: all},
		{name: "sku any of", when: routing.Conditions{SKUs: []string{"MUG-1", "X-*"}}, lines: []int{0, 1}},
		{name: "sku no line", when: routing.Conditions{SKUs: []string{"NOPE-*"}}},
		{name: "sku glob needs whole sku", when: routing.Conditions{SKUs: []string{"MUG"}}},
		{name: "sku glob no overlap", when: routing.Conditions{SKUs: []string{"MUG-1*1"}}},
		{name: "sku on line with nothing left", when: routing.Conditions{SKUs: []string{"MUG-1"}},
			edit: func(in *routing.Input) { in.Lines[0].Quantity = 0 }},
		{name: "no line conditions skip empty lines", edit: func(in *routing.Input) { in.Lines[0].Quantity = 0 }, lines: []int{1, 2}},

		{name: "tag case-insensitive", when: routing.Conditions{Tags: []string{"VIP"}}, lines: all},
		{name: "tag any of", when: routing.Conditions{Tags: []string{"wholesale", "gift"}}, lines: all},
		{name: "tag missing", when: routing.Conditions{Tags: []string{"wholesale"}}},

		{name: "product type", when: routing.Conditions{ProductTypes: []string{"mug"}}, lines: []int{0}},
		{name: "product type without lookup", when: routing.Conditions{ProductTypes: []string{"Mug"}},
			edit: func(in *routing.Input) { in.ProductInfo = nil }},
		{name: "vendor", when: routing.Conditions{Vendors: []string{"supplier x"}}, lines: []int{1}},
		{name: "vendor unknown to catalog", when: routing.Conditions{Vendors: []string{"Nobody"}}},
		{name: "line conditions all hold", when: routing.Conditions{SKUs: []string{"*"}, Vendors: []string{"Acme"}}, lines: []int{0}},
		{name: "line conditions on different lines", when: routing.Conditions{SKUs: []string{"CUSTOM-*"}, Vendors: []string{"Acme"}}},
		{name: "line and order conditions", when: routing.Conditions{Tags: []string{"vip"}, ProductTypes: []string{"Furniture"}}, lines: []int{1}},
		{name: "line condition, order condition fails", when: routing.Conditions{Tags: []string{"wholesale"}, ProductTypes: []string{"Furniture"}}},

		{name: "country", when: routing.Conditions{Countries: []string{"CA", "us"}}, lines: all},
		{name: "country other", when: routing.Conditions{Countries: []string{"DE"}}},
		{name: "country UK is GB", when: routing.Conditions{Countries: []string{"UK"}},
			edit: func(in *routing.Input) { in.Country = "gb" }, lines: all},
		{name: "country unknown destination", when: routing.Conditions{Countries: []string{"US"}},
			edit: func(in *routing.Input) { in.Country = "" }},
		{name: "not country, destination in it", when: routing.Conditions{NotCountries: []string{"US"}}},
		{name: "not country, destination elsewhere", when: routing.Conditions{NotCountries: []string{"US"}},
			edit: func(in *routing.Input) { in.Country = "DE" }, lines: all},
		{name: "not country, destination unknown", when: routing.Conditions{NotCountries: []string{"US"}},
			edit: func(in *routing.Input) { in.Country = "" }},

		{name: "region with country", when: routing.Conditions{Regions: []string{"US-CA"}}, lines: all},
		{name: "region with country, order spells it in full", when: routing.Conditions{Regions: []string{"us-ca"}},
			edit: func(in *routing.Input) { in.Region = "US-CA" }, lines: all},
		{name: "region plain", when: routing.Conditions{Regions: []string{"NY", "CA"}}, lines: all},
		{name: "region other", when: routing.Conditions{Regions: []string{"US-NY"}}},
		{name: "region in another country", when: routing.Conditions{Regions: []string{"CA-ON"}},
			edit: func(in *routing.Input) { in.Region = "ON" }},
		{name: "region unknown", when: routing.Conditions{Regions: []string{"CA"}},
			edit: func(in *routing.Input) { in.Region = "" }},

		{name: "channel", when: routing.Conditions{Channels: []string{"Shopify"}}, lines: all},
		{name: "channel other", when: routing.Conditions{Channels: []string{"csv"}}},

		{name: "min total equal", when: routing.Conditions{MinTotal: "100"}, lines: all},
		{name: "min total above", when: routing.Conditions{MinTotal: "100.01"}},
		{name: "max total equal", when: routing.Conditions{MaxTotal: "100.00"}, lines: all},
		{name: "max total below", when: routing.Conditions{MaxTotal: "99.99"}},
		{name: "between", when: routing.Conditions{MinTotal: "50", MaxTotal: "150"}, lines: all},
		{name: "min total in yen, finer than a yen (10 < 10.5)", when: routing.Conditions{MinTotal: "10.5"},
			edit: func(in *routing.Input) { in.Total, in.Currency = 10, "JPY" }},
		{name: "min total in yen, finer than a yen (11 ≥ 10.5)", when: routing.Conditions{MinTotal: "10.5"},
			edit: func(in *routing.Input) { in.Total, in.Currency = 11, "JPY" }, lines: all},
		{name: "max total in yen, finer than a yen (10 ≤ 10.5)", when: routing.Conditions{MaxTotal: "10.5"},
			edit: func(in *routing.Input) { in.Total, in.Currency = 10, "JPY" }, lines: all},
		{name: "max total in yen, finer than a yen (11 > 10.5)", when: routing.Conditions{MaxTotal: "10.5"},
			edit: func(in *routing.Input) { in.Total, in.Currency = 11, "JPY" }},
		{name: "min total in dinar", when: routing.Conditions{MinTotal: "1.5"},
			edit: func(in *routing.Input) { in.Total, in.Currency = 1500, "KWD" }, lines: all},
		{name: "total in unknown currency", when: routing.Conditions{MinTotal: "0"},
			edit: func(in *routing.Input) { in.Currency = "" }},
		{name: "bad amount never matches", when: routing.Conditions{MinTotal: "lots"}},

		{name: "shipping code", when: routing.Conditions{ShippingCodes: []string{"ups_next_day_air", "UPS_GROUND"}}, lines: all},
		{name: "shipping code other", when: routing.Conditions{ShippingCodes: []string{"ups_next_day_air"}}},
		{name: "shipping code, none chosen", when: routing.Conditions{ShippingCodes: []string{"ups_ground"}},
			edit: func(in *routing.Input) { in.ShippingCodes = nil }},

		{name: "all conditions hold", when: routing.Conditions{Tags: []string{"gift"}, Countries: []string{"US"}, Regions: []string{"US-CA"},
			Channels: []string{"shopify"}, MinTotal: "10", ShippingCodes: []string{"ups_ground"}, SKUs: []string{"MUG-*"}}, lines: []int{0}},
		{name: "one condition fails", when: routing.Conditions{Tags: []string{"gift"}, Countries: []string{"US"}, Channels: []string{"api"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input()
			if tt.edit != nil {
				tt.edit(&in)
			}
			lines, ok := applies(tt.when, in)
			if ok != (tt.lines != nil) || !slices.Equal(lines, tt.lines) {
				t.Errorf("applies to %v (matched %v), want %v", lines, ok, tt.lines)
			}
		})
	}
}

func TestActions(t *testing.T) {
	tests := []struct {
		name string
		then routing.Action
		want []string // every line's facilities
	}{
		{name: "only by code", then: routing.Action{Kind: routing.Only, Facilities: []string{"EU1", "GARAGE"}},
			want: []string{"fac_garage", "fac_eu1"}},
		{name: "only by kind", then: routing.Action{Kind: routing.Only, FacilityKinds: []inventory.FacilityKind{inventory.ThreePL}},
			want: []string{"fac_us3pl", "fac_eu1"}},
		{name: "only by code or kind", then: routing.Action{Kind: routing.Only, Facilities: []string{"DS-X"}, FacilityKinds: []inventory.FacilityKind{inventory.Own}},
			want: []string{"fac_main", "fac_garage", "fac_dsx"}},
		{name: "exclude by code", then: routing.Action{Kind: routing.Exclude, Facilities: []string{"MAIN", "SHOP"}},
			want: []string{"fac_garage", "fac_us3pl", "fac_eu1", "fac_dsx"}},
		{name: "exclude by kind", then: routing.Action{Kind: routing.Exclude, FacilityKinds: []inventory.FacilityKind{inventory.Own, inventory.Retail}},
			want: []string{"fac_us3pl", "fac_eu1", "fac_dsx"}},
		{name: "prefer by code keeps the rest", then: routing.Action{Kind: routing.Prefer, Facilities: []string{"DS-X"}},
			want: []string{"fac_dsx", "fac_main", "fac_garage", "fac_us3pl", "fac_shop", "fac_eu1"}},
		{name: "prefer several: priority among them", then: routing.Action{Kind: routing.Prefer, Facilities: []string{"EU1", "US3PL"}},
			want: []string{"fac_us3pl", "fac_eu1", "fac_main", "fac_garage", "fac_shop", "fac_dsx"}},
		{name: "prefer by kind", then: routing.Action{Kind: routing.Prefer, FacilityKinds: []inventory.FacilityKind{inventory.Retail}},
			want: []string{"fac_shop", "fac_main", "fac_garage", "fac_us3pl", "fac_eu1", "fac_dsx"}},
		{name: "only a facility the tenant does not have", then: routing.Action{Kind: routing.Only, Facilities: []string{"GONE"}},
			want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := routing.Evaluate([]routing.Rule{{ID: "r", Name: tt.name, Active: true, Then: tt.then}}, input())
			for i, l := range res.Lines {
				if !slices.Equal(l.Facilities, tt.want) {
					t.Errorf("line %d: %v, want %v", i, l.Facilities, tt.want)
				}
				if l.Unroutable != (len(tt.want) == 0) {
					t.Errorf("line %d: unroutable %v", i, l.Unroutable)
				}
			}
		})
	}
}

func TestNoRules(t *testing.T) {
	in := input()
	in.Lines[1].Quantity = 0
	res := routing.Evaluate(nil, in)
	want := routing.Result{Trace: []routing.Step{}, Lines: []routing.LineResult{
		{LineID: "l0", SKU: "MUG-1", Facilities: everywhere},
		{LineID: "l1", SKU: "X-CHAIR", Facilities: []string{}}, // nothing to fulfil: not unroutable
		{LineID: "l2", SKU: "CUSTOM-7", Facilities: everywhere},
	}}
	if d := cmp.Diff(want, res); d != "" {
		t.Error(d)
	}
	if u := res.Unroutable(); u != nil {
		t.Errorf("unroutable %v", u)
	}
}

func TestFacilityTies(t *testing.T) {
	in := input()
	in.Facilities = []routing.Facility{
		{ID: "b2", Code: "B", Kind: inventory.Own, Priority: 1},
		{ID: "c", Code: "C", Kind: inventory.Own, Priority: 0},
		{ID: "a", Code: "A", Kind: inventory.Own, Priority: 1},
		{ID: "b1", Code: "B", Kind: inventory.Own, Priority: 1},
	}
	res := routing.Evaluate(nil, in)
	if want := []string{"c", "a", "b1", "b2"}; !slices.Equal(res.Lines[0].Facilities, want) {
		t.Errorf("got %v, want %v (priority, then code, then id)", res.Lines[0].Facilities, want)
	}
}

// The three rules of the dashboard's examples.
var (
	customOwn = routing.Rule{ID: "custom", Name: "Custom orders ship from our own warehouse", Position: 1, Active: true,
		When: routing.Conditions{Tags: []string{"custom"}},
		Then: routing.Action{Kind: routing.Only, FacilityKinds: []inventory.FacilityKind{inventory.Own}}}
	abroadEU1 = routing.Rule{ID: "abroad", Name: "Outside the US ships from EU1", Position: 3, Active: true,
		When: routing.Conditions{NotCountries: []string{"US"}},
		Then: routing.Action{Kind: routing.Only, Facilities: []string{"EU1"}}}
	supplierX = routing.Rule{ID: "supplier-x", Name: "Supplier X's products are dropshipped", Position: 2, Active: true,
		When: routing.Conditions{Vendors: []string{"Supplier X"}},
		Then: routing.Action{Kind: routing.Only, Facilities: []string{"DS-X"}}}
)

func TestExampleRules(t *testing.T) {
	rules := []routing.Rule{customOwn, abroadEU1, supplierX}
	own := []string{"fac_main", "fac_garage"}
	tests := []struct {
		name  string
		edit  func(*routing.Input)
		want  [][]string
		steps []string
	}{
		{name: "US order, no tag: only supplier X's line is dropshipped",
			want:  [][]string{everywhere, {"fac_dsx"}, everywhere},
			steps: []string{"supplier-x"}},
		{name: "custom tag: own warehouses, supplier X's line has nowhere left",
			edit:  func(in *routing.Input) { in.Tags = []string{"CUSTOM"} },
			want:  [][]string{own, {}, own},
			steps: []string{"custom", "supplier-x"}},
		{name: "to Germany: EU1, but supplier X's line came first",
			edit:  func(in *routing.Input) { in.Country = "DE" },
			want:  [][]string{{"fac_eu1"}, {}, {"fac_eu1"}},
			steps: []string{"supplier-x", "abroad"}},
		{name: "to Germany without supplier X's product",
			edit: func(in *routing.Input) {
				in.Country = "DE"
				in.Lines = slices.Delete(in.Lines, 1, 2)
			},
			want:  [][]string{{"fac_eu1"}, {"fac_eu1"}},
			steps: []string{"abroad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input()
			if tt.edit != nil {
				tt.edit(&in)
			}
			res := routing.Evaluate(rules, in)
			var got [][]string
			for _, l := range res.Lines {
				got = append(got, l.Facilities)
				if l.Unroutable != (len(l.Facilities) == 0) {
					t.Errorf("line %s: unroutable %v with %v", l.LineID, l.Unroutable, l.Facilities)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("facilities (-want +got):\n%s", d)
			}
			var steps []string
			for _, s := range res.Trace {
				steps = append(steps, s.RuleID)
			}
			if !slices.Equal(steps, tt.steps) {
				t.Errorf("trace %v, want %v", steps, tt.steps)
			}
		})
	}
}

func TestTrace(t *testing.T) {
	in := input()
	in.Country = "DE"
	res := routing.Evaluate([]routing.Rule{supplierX, abroadEU1}, in)
	want := []routing.Step{
		{RuleID: "supplier-x", RuleName: supplierX.Name, Position: 2, Kind: routing.Only, Lines: []int{1},
			Effects: []routing.LineEffect{{Line: 1, Removed: []string{"EU1", "GARAGE", "MAIN", "SHOP", "US3PL"}}},
			Summary: "only DS-X on 1 line(s); line 1: removed EU1, GARAGE, MAIN, SHOP, US3PL"},
		{RuleID: "abroad", RuleName: abroadEU1.Name, Position: 3, Kind: routing.Only, Lines: []int{0, 1, 2},
			Effects: []routing.LineEffect{
				{Line: 0, Removed: []string{"DS-X", "GARAGE", "MAIN", "SHOP", "US3PL"}},
				{Line: 1, Removed: []string{"DS-X"}},
				{Line: 2, Removed: []string{"DS-X", "GARAGE", "MAIN", "SHOP", "US3PL"}},
			},
			Summary: "only EU1 on 3 line(s); line 0: removed DS-X, GARAGE, MAIN, SHOP, US3PL; line 1: removed DS-X; line 2: removed DS-X, GARAGE, MAIN, SHOP, US3PL"},
	}
	if d := cmp.Diff(want, res.Trace); d != "" {
		t.Errorf("trace (-want +got):\n%s", d)
	}
	if u := res.Unroutable(); !slices.Equal(u, []int{1}) {
		t.Errorf("unroutable %v, want [1]", u)
	}

	res = routing.Evaluate([]routing.Rule{{ID: "p", Name: "p", Active: true, Then: routing.Action{Kind: routing.Prefer, FacilityKinds: []inventory.FacilityKind{inventory.Retail}}},
		{ID: "q", Name: "q", Position: 1, Active: true, Then: routing.Action{Kind: routing.Prefer, Facilities: []string{"SHOP"}}}}, input())
	if got := res.Trace[0].Summary; got != "prefer every store facility on 3 line(s); line 0: preferred SHOP; line 1: preferred SHOP; line 2: preferred SHOP" {
		t.Errorf("summary %q", got)
	}
	if got := res.Trace[1]; got.Summary != "prefer SHOP on 3 line(s): no change" || got.Effects != nil {
		t.Errorf("second prefer: %+v", got)
	}
}

func rule(id string, pos int, kind routing.ActionKind, codes ...string) routing.Rule {
	return routing.Rule{ID: id, Name: id, Position: pos, Active: true, Then: routing.Action{Kind: kind, Facilities: codes}}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		rules []routing.Rule
		want  []string
	}{
		{name: "a later only cannot re-allow",
			rules: []routing.Rule{rule("a", 1, routing.Only, "MAIN"), rule("b", 2, routing.Only, "EU1")},
			want:  []string{}},
		{name: "a later only cannot re-allow what exclude removed",
			rules: []routing.Rule{rule("a", 1, routing.Exclude, "MAIN"), rule("b", 2, routing.Only, "MAIN", "EU1")},
			want:  []string{"fac_eu1"}},
		{name: "only then exclude narrow together",
			rules: []routing.Rule{rule("a", 2, routing.Exclude, "GARAGE"), rule("b", 1, routing.Only, "MAIN", "GARAGE", "EU1")},
			want:  []string{"fac_main", "fac_eu1"}},
		{name: "earlier prefer comes first",
			rules: []routing.Rule{rule("a", 2, routing.Prefer, "DS-X"), rule("b", 1, routing.Prefer, "EU1")},
			want:  []string{"fac_eu1", "fac_dsx", "fac_main", "fac_garage", "fac_us3pl", "fac_shop"}},
		{name: "positions, not slice order",
			rules: []routing.Rule{rule("a", 1, routing.Prefer, "DS-X"), rule("b", 2, routing.Prefer, "EU1")},
			want:  []string{"fac_dsx", "fac_eu1", "fac_main", "fac_garage", "fac_us3pl", "fac_shop"}},
		{name: "same position: id decides",
			rules: []routing.Rule{rule("b", 1, routing.Prefer, "EU1"), rule("a", 1, routing.Prefer, "DS-X")},
			want:  []string{"fac_dsx", "fac_eu1", "fac_main", "fac_garage", "fac_us3pl", "fac_shop"}},
		{name: "a later prefer does not demote an earlier one",
			rules: []routing.Rule{rule("a", 1, routing.Prefer, "DS-X"), rule("b", 2, routing.Prefer, "EU1"), rule("c", 3, routing.Prefer, "EU1", "DS-X")},
			want:  []string{"fac_dsx", "fac_eu1", "fac_main", "fac_garage", "fac_us3pl", "fac_shop"}},
		{name: "prefer cannot bring back an excluded facility",
			rules: []routing.Rule{rule("a", 1, routing.Exclude, "EU1"), rule("b", 2, routing.Prefer, "EU1")},
			want:  []string{"fac_main", "fac_garage", "fac_us3pl", "fac_shop", "fac_dsx"}},
		{name: "a later exclude removes a preferred facility",
			rules: []routing.Rule{rule("a", 1, routing.Prefer, "EU1", "DS-X"), rule("b", 2, routing.Exclude, "EU1")},
			want:  []string{"fac_dsx", "fac_main", "fac_garage", "fac_us3pl", "fac_shop"}},
		{name: "only keeps the preference order",
			rules: []routing.Rule{rule("a", 1, routing.Prefer, "EU1"), rule("b", 2, routing.Only, "MAIN", "EU1")},
			want:  []string{"fac_eu1", "fac_main"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := routing.Evaluate(tt.rules, input())
			if got := res.Lines[0].Facilities; !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLineScope(t *testing.T) {
	// A rule with line conditions acts on its lines only.
	r := routing.Rule{ID: "mugs", Name: "mugs", Active: true, When: routing.Conditions{ProductTypes: []string{"Mug"}},
		Then: routing.Action{Kind: routing.Exclude, FacilityKinds: []inventory.FacilityKind{inventory.Own}}}
	res := routing.Evaluate([]routing.Rule{r}, input())
	want := [][]string{{"fac_us3pl", "fac_shop", "fac_eu1", "fac_dsx"}, everywhere, everywhere}
	for i, l := range res.Lines {
		if !slices.Equal(l.Facilities, want[i]) {
			t.Errorf("line %d: %v, want %v", i, l.Facilities, want[i])
		}
	}
}

func TestInactive(t *testing.T) {
	off := rule("off", 1, routing.Only, "EU1")
	off.Active = false
	hold := routing.Rule{ID: "hold", Name: "hold", Position: 0, Then: routing.Action{Kind: routing.Hold, HoldReason: order.OtherHold}}
	res := routing.Evaluate([]routing.Rule{off, hold, rule("on", 2, routing.Prefer, "DS-X")}, input())
	if res.Hold != nil {
		t.Errorf("inactive hold rule held the order: %+v", res.Hold)
	}
	if len(res.Trace) != 1 || res.Trace[0].RuleID != "on" {
		t.Errorf("trace %+v, want only the active rule", res.Trace)
	}
	if got := res.Lines[0].Facilities; !slices.Equal(got, []string{"fac_dsx", "fac_main", "fac_garage", "fac_us3pl", "fac_shop", "fac_eu1"}) {
		t.Errorf("got %v", got)
	}
}

func TestHold(t *testing.T) {
	fraud := routing.Rule{ID: "fraud", Name: "Big orders from the new channel", Position: 2, Active: true,
		When: routing.Conditions{Channels: []string{"shopify"}, MinTotal: "50"},
		Then: routing.Action{Kind: routing.Hold, HoldReason: order.HighRiskOfFraud, HoldNote: "check the customer"}}
	custom := routing.Rule{ID: "custom", Name: "Custom items wait for artwork", Position: 4, Active: true,
		When: routing.Conditions{SKUs: []string{"CUSTOM-*"}},
		Then: routing.Action{Kind: routing.Hold, HoldReason: order.OtherHold, HoldNote: "artwork"}}
	rules := []routing.Rule{custom, rule("later", 3, routing.Only, "EU1"), fraud, rule("first", 1, routing.Exclude, "MAIN")}

	res := routing.Evaluate(rules, input())
	if want := (&routing.OrderHold{RuleID: "fraud", Reason: order.HighRiskOfFraud, Note: "check the customer"}); !cmp.Equal(res.Hold, want) {
		t.Errorf("hold %+v, want %+v", res.Hold, want)
	}
	if res.Lines != nil {
		t.Errorf("a held order has lines %+v", res.Lines)
	}
	var steps []string
	for _, s := range res.Trace {
		steps = append(steps, s.RuleID)
	}
	if !slices.Equal(steps, []string{"first", "fraud"}) {
		t.Errorf("trace %v: evaluation must stop at the hold", steps)
	}
	if s := res.Trace[1].Summary; s != "hold the order: HIGH_RISK_OF_FRAUD — check the customer" {
		t.Errorf("summary %q", s)
	}

	// Below the threshold the fraud rule does not match; the next hold does.
	in := input()
	in.Total = 4999
	res = routing.Evaluate(rules, in)
	if res.Hold == nil || res.Hold.RuleID != "custom" {
		t.Errorf("hold %+v, want the custom rule's", res.Hold)
	}
	// Without a custom line, nothing holds and routing happens.
	in.Lines = in.Lines[:2]
	res = routing.Evaluate(rules, in)
	if res.Hold != nil || !slices.Equal(res.Lines[0].Facilities, []string{"fac_eu1"}) {
		t.Errorf("got %+v", res)
	}
	// Once a person released the hold, the order is routed past it.
	in = input()
	in.IgnoreHolds = true
	res = routing.Evaluate(rules, in)
	if res.Hold != nil || len(res.Trace) != 2 || !slices.Equal(res.Lines[2].Facilities, []string{"fac_eu1"}) {
		t.Errorf("ignoring holds: %+v", res)
	}
}

func TestUnknownAction(t *testing.T) {
	res := routing.Evaluate([]routing.Rule{rule("odd", 1, "route", "EU1")}, input())
	if len(res.Trace) != 1 || res.Trace[0].Summary != `unknown action "route": ignored` || !slices.Equal(res.Lines[0].Facilities, everywhere) {
		t.Errorf("got %+v", res)
	}
}

func TestValidate(t *testing.T) {
	valid := func(edit func(*routing.Rule)) routing.Rule {
		r := routing.Rule{ID: "r", Name: "Outside the US", Active: true,
			When: routing.Conditions{NotCountries: []string{"US"}},
			Then: routing.Action{Kind: routing.Only, Facilities: []string{"EU1"}}}
		edit(&r)
		return r
	}
	tests := []struct {
		name   string
		rule   routing.Rule
		fields []string // nil: valid
	}{
		{name: "valid", rule: valid(func(*routing.Rule) {})},
		{name: "the examples", rule: customOwn},
		{name: "supplier", rule: supplierX},
		{name: "every condition", rule: valid(func(r *routing.Rule) {
			r.When = routing.Conditions{SKUs: []string{"CUSTOM-*"}, Tags: []string{"vip"}, ProductTypes: []string{"Mug"}, Vendors: []string{"Acme"},
				Countries: []string{"us", "UK"}, NotCountries: []string{"DE"}, Regions: []string{"US-CA", "ON", "GB-ENG"}, Channels: []string{"shopify"},
				MinTotal: "10.50", MaxTotal: "10.5", ShippingCodes: []string{"ups_next_day_air"}}
		})},
		{name: "hold", rule: valid(func(r *routing.Rule) {
			r.Then = routing.Action{Kind: routing.Hold, HoldReason: order.HighRiskOfFraud, HoldNote: "call them"}
		})},
		{name: "no name", rule: valid(func(r *routing.Rule) { r.Name = "  " }), fields: []string{"name"}},
		{name: "no action", rule: valid(func(r *routing.Rule) { r.Then = routing.Action{} }), fields: []string{"then.kind"}},
		{name: "unknown action", rule: valid(func(r *routing.Rule) { r.Then.Kind = "route" }), fields: []string{"then.kind"}},
		{name: "only nothing", rule: valid(func(r *routing.Rule) { r.Then.Facilities = nil }), fields: []string{"then.facilities"}},
		{name: "unknown facility", rule: valid(func(r *routing.Rule) { r.Then.Facilities = []string{"EU1", "EU2", "eu1"} }),
			fields: []string{"then.facilities[1]", "then.facilities[2]"}},
		{name: "unknown facility kind", rule: valid(func(r *routing.Rule) {
			r.Then.FacilityKinds = []inventory.FacilityKind{inventory.Own, "warehouse"}
		}), fields: []string{"then.facility_kinds[1]"}},
		{name: "hold reason on prefer", rule: valid(func(r *routing.Rule) { r.Then.Kind, r.Then.HoldReason = routing.Prefer, order.OtherHold }),
			fields: []string{"then.hold_reason"}},
		{name: "hold without reason, with facilities", rule: valid(func(r *routing.Rule) {
			r.Then = routing.Action{Kind: routing.Hold, Facilities: []string{"EU1"}, FacilityKinds: []inventory.FacilityKind{inventory.Own}}
		}), fields: []string{"then.facilities", "then.facility_kinds", "then.hold_reason"}},
		{name: "unknown hold reason", rule: valid(func(r *routing.Rule) {
			r.Then = routing.Action{Kind: routing.Hold, HoldReason: "BECAUSE"}
		}), fields: []string{"then.hold_reason"}},
		{name: "countries", rule: valid(func(r *routing.Rule) {
			r.When.Countries = []string{"US", "XX", "USA", ""}
			r.When.NotCountries = []string{"ZZ", "us"}
		}), fields: []string{"when.countries[1]", "when.countries[2]", "when.countries[3]", "when.not_countries[0]", "when.not_countries[1]"}},
		{name: "regions", rule: valid(func(r *routing.Rule) { r.When.Regions = []string{"US-CA", "California", "XX-CA", "US-"} }),
			fields: []string{"when.regions[1]", "when.regions[2]", "when.regions[3]"}},
		{name: "bad min total", rule: valid(func(r *routing.Rule) { r.When.MinTotal = "-5" }), fields: []string{"when.min_total"}},
		{name: "bad max total", rule: valid(func(r *routing.Rule) { r.When.MaxTotal = "1e3" }), fields: []string{"when.max_total"}},
		{name: "amount with separators", rule: valid(func(r *routing.Rule) { r.When.MinTotal, r.When.MaxTotal = "1,000", ".5" }),
			fields: []string{"when.min_total", "when.max_total"}},
		{name: "huge amount", rule: valid(func(r *routing.Rule) { r.When.MinTotal = "10000000000000000" }), fields: []string{"when.min_total"}},
		{name: "max below min", rule: valid(func(r *routing.Rule) { r.When.MinTotal, r.When.MaxTotal = "100", "99.99" }),
			fields: []string{"when.max_total"}},
		{name: "empty list entries", rule: valid(func(r *routing.Rule) {
			r.When.SKUs = []string{"A", " "}
			r.When.Tags = []string{""}
			r.When.Vendors = []string{""}
			r.When.ShippingCodes = []string{"x", ""}
		}), fields: []string{"when.skus[1]", "when.tags[0]", "when.vendors[0]", "when.shipping_codes[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := routing.Validate(tt.rule, codes)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errs.Is(errs.Invalid, err) {
				t.Fatalf("error %v, want Invalid", err)
			}
			var got []string
			for _, f := range errs.Fields(err) {
				got = append(got, f.Field)
			}
			want := slices.Sorted(slices.Values(tt.fields))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("fields %v, want %v (%v)", got, want, err)
			}
		})
	}
}

func TestRuleJSON(t *testing.T) {
	r := routing.Rule{ID: "rule_1", Name: "Outside the US", Position: 3, Active: true,
		When: routing.Conditions{NotCountries: []string{"US"}, MinTotal: "50"},
		Then: routing.Action{Kind: routing.Only, Facilities: []string{"EU1"}, FacilityKinds: []inventory.FacilityKind{inventory.ThreePL}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"rule_1","name":"Outside the US","position":3,"active":true,` +
		`"when":{"not_countries":["US"],"min_total":"50"},"then":{"kind":"only","facilities":["EU1"],"facility_kinds":["3pl"]}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back routing.Rule
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, back); d != "" {
		t.Error(d)
	}
	hold := routing.Action{Kind: routing.Hold, HoldReason: order.OtherHold, HoldNote: "n"}
	if b, _ := json.Marshal(hold); string(b) != `{"kind":"hold","hold_reason":"OTHER","hold_note":"n"}` {
		t.Errorf("hold action %s", b)
	}
}

func TestOrderInput(t *testing.T) {
	o := &order.Order{
		Channel: "shopify", Currency: "EUR", Total: 4250, Tags: []string{"vip"},
		ShippingAddress: &order.Address{Country: "DE", Region: "BE"},
		Lines: []order.Line{
			{ID: "l1", SKU: "MUG-1", Quantity: 3, Fulfilled: 1},
			{ID: "l2", SKU: "X-CHAIR", Quantity: 1, Fulfilled: 1},
		},
		ShippingLines: []order.ShippingLine{{Title: "Express", Code: "dhl_express"}, {Title: "Gift wrap"}},
	}
	fs := []inventory.Facility{
		{ID: "f1", Code: "MAIN", Kind: inventory.Own, Priority: 2, Active: true},
		{ID: "f2", Code: "OLD", Kind: inventory.Own, Priority: 1},
	}
	in := routing.OrderInput(o, fs, productInfo)
	in.ProductInfo = nil // funcs do not compare
	want := routing.Input{
		Lines:         []routing.Line{{ID: "l1", SKU: "MUG-1", Quantity: 2}, {ID: "l2", SKU: "X-CHAIR", Quantity: 0}},
		Tags:          []string{"vip"},
		Country:       "DE",
		Region:        "BE",
		Channel:       "shopify",
		Total:         4250,
		Currency:      "EUR",
		ShippingCodes: []string{"dhl_express"},
		Facilities:    []routing.Facility{{ID: "f1", Code: "MAIN", Kind: inventory.Own, Priority: 2}},
	}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
