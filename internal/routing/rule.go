// Package routing owns the seller's routing rules, kept as data, and their
// evaluation: which facilities may fulfil each line of an order, in which
// order of preference, or whether the order must be held first.
package routing

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// Rule is one routing rule: when an order (or some of its lines) meets the
// conditions, the action applies. Rules apply in Position order.
type Rule struct {
	ID       string     `json:"id"`
	Name     string     `json:"name" maxLength:"200"`
	Position int        `json:"position" doc:"Rules apply in ascending position; an earlier rule wins over a later one."`
	Active   bool       `json:"active"`
	When     Conditions `json:"when"`
	Then     Action     `json:"then"`
}

// Conditions says which orders and lines a rule applies to. Every condition
// given must hold; a list holds when any of its entries does. Conditions left
// empty always hold, so a rule without any applies to every order.
//
// SKUs, ProductTypes and Vendors are line conditions: a rule that has any
// applies to the lines that meet all of them (and matches only if one does).
// The others are order conditions and a rule without line conditions applies
// to every line.
type Conditions struct {
	SKUs          []string `json:"skus,omitempty" doc:"SKU patterns; * matches any run of characters, e.g. CUSTOM-*. Case-insensitive."`
	Tags          []string `json:"tags,omitempty" doc:"Order tags, case-insensitive."`
	ProductTypes  []string `json:"product_types,omitempty" doc:"The line's product type, case-insensitive."`
	Vendors       []string `json:"vendors,omitempty" doc:"The line's vendor (supplier), case-insensitive."`
	Countries     []string `json:"countries,omitempty" doc:"Destination country, ISO 3166-1 alpha-2."`
	NotCountries  []string `json:"not_countries,omitempty" doc:"Destination country is none of these (and is known)."`
	Regions       []string `json:"regions,omitempty" doc:"Destination region: US-CA (country and region) or CA (region code in any country)."`
	Channels      []string `json:"channels,omitempty" doc:"The order's channel, e.g. shopify, api, csv."`
	MinTotal      string   `json:"min_total,omitempty" doc:"Order total at least this, a decimal in the order's currency, e.g. 100 or 49.99."`
	MaxTotal      string   `json:"max_total,omitempty" doc:"Order total at most this, a decimal in the order's currency."`
	ShippingCodes []string `json:"shipping_codes,omitempty" doc:"Shipping method code the customer chose, e.g. ups_next_day_air."`
}

// lineConditions reports whether c has conditions on lines.
func (c Conditions) lineConditions() bool {
	return len(c.SKUs) > 0 || len(c.ProductTypes) > 0 || len(c.Vendors) > 0
}

// ActionKind is what a rule does.
type ActionKind string

const (
	Only    ActionKind = "only"    // only the named facilities may fulfil the lines
	Prefer  ActionKind = "prefer"  // the named facilities come first; others stay allowed
	Exclude ActionKind = "exclude" // the named facilities may never fulfil the lines
	Hold    ActionKind = "hold"    // put the order on hold; no routing happens
)

// ActionKinds lists every action, in the order the dashboard offers them.
var ActionKinds = []ActionKind{Only, Prefer, Exclude, Hold}

// Action is what a rule does when it matches. Only, Prefer and Exclude name
// facilities by code, by kind, or both (a facility is named when either
// names it); Hold gives a hold reason and note instead.
type Action struct {
	Kind          ActionKind               `json:"kind" enum:"only,prefer,exclude,hold"`
	Facilities    []string                 `json:"facilities,omitempty" doc:"Facility codes."`
	FacilityKinds []inventory.FacilityKind `json:"facility_kinds,omitempty" doc:"Facility kinds: own, 3pl, dropship, store."`
	HoldReason    order.HoldReason         `json:"hold_reason,omitempty" doc:"For hold: one of Shopify's hold reasons, e.g. OTHER or HIGH_RISK_OF_FRAUD."`
	HoldNote      string                   `json:"hold_note,omitempty" maxLength:"1000"`
}

// facilityKinds are the kinds an action may name.
var facilityKinds = []inventory.FacilityKind{inventory.Own, inventory.ThreePL, inventory.Dropship, inventory.Retail}

// regionRe is an ISO 3166-2 subdivision code, with or without its country.
var regionRe = regexp.MustCompile(`^(?:([A-Za-z]{2})-)?[A-Za-z0-9]{1,3}$`)

// Validate checks a rule as a person wrote it; knownFacilityCodes are the
// tenant's facility codes. The error is Invalid and names each wrong field
// in the API's spelling ("when.countries[1]", "then.facilities[0]").
func Validate(r Rule, knownFacilityCodes []string) error {
	const op = "routing.Validate"
	var fe errs.FieldList
	name := strings.TrimSpace(r.Name)
	switch {
	case name == "":
		fe.Add("name", "is required", r.Name)
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 200:
		fe.Add("name", "must be valid text of at most 200 characters", r.Name)
	}

	w := r.When
	checkTexts(&fe, "when.skus", w.SKUs)
	checkTexts(&fe, "when.tags", w.Tags)
	checkTexts(&fe, "when.product_types", w.ProductTypes)
	checkTexts(&fe, "when.vendors", w.Vendors)
	checkTexts(&fe, "when.channels", w.Channels)
	checkTexts(&fe, "when.shipping_codes", w.ShippingCodes)
	for i, c := range w.Countries {
		if _, ok := order.Country(c); !ok {
			fe.Add(fmt.Sprintf("when.countries[%d]", i), "must be an ISO 3166-1 alpha-2 country code such as US", c)
		}
	}
	for i, c := range w.NotCountries {
		f := fmt.Sprintf("when.not_countries[%d]", i)
		cc, ok := order.Country(c)
		switch {
		case !ok:
			fe.Add(f, "must be an ISO 3166-1 alpha-2 country code such as US", c)
		case slices.ContainsFunc(w.Countries, func(x string) bool { y, _ := order.Country(x); return y == cc }):
			fe.Add(f, "is also in countries, so the rule could never match", c)
		}
	}
	for i, reg := range w.Regions {
		m := regionRe.FindStringSubmatch(strings.TrimSpace(reg))
		f := fmt.Sprintf("when.regions[%d]", i)
		if m == nil {
			fe.Add(f, "must be a region code such as US-CA or CA", reg)
		} else if _, ok := order.Country(m[1]); m[1] != "" && !ok {
			fe.Add(f, "must start with an ISO 3166-1 alpha-2 country code, as in US-CA", reg)
		}
	}
	lo, loErr := parseDecimal(w.MinTotal)
	hi, hiErr := parseDecimal(w.MaxTotal)
	if w.MinTotal != "" && loErr != nil {
		fe.Add("when.min_total", loErr.Error(), w.MinTotal)
	}
	if w.MaxTotal != "" && hiErr != nil {
		fe.Add("when.max_total", hiErr.Error(), w.MaxTotal)
	}
	if w.MinTotal != "" && w.MaxTotal != "" && loErr == nil && hiErr == nil && lo.cmp(hi) > 0 {
		fe.Add("when.max_total", "must not be less than min_total", w.MaxTotal)
	}

	t := r.Then
	switch t.Kind {
	case "":
		fe.Add("then.kind", "is required: one of only, prefer, exclude, hold", "")
	case Only, Prefer, Exclude:
		if len(t.Facilities) == 0 && len(t.FacilityKinds) == 0 {
			fe.Add("then.facilities", "name at least one facility or facility kind", nil)
		}
		if t.HoldReason != "" {
			fe.Add("then.hold_reason", "is only for hold", string(t.HoldReason))
		}
		if t.HoldNote != "" {
			fe.Add("then.hold_note", "is only for hold", t.HoldNote)
		}
	case Hold:
		if len(t.Facilities) > 0 {
			fe.Add("then.facilities", "must be empty for hold", t.Facilities)
		}
		if len(t.FacilityKinds) > 0 {
			fe.Add("then.facility_kinds", "must be empty for hold", t.FacilityKinds)
		}
		if !slices.Contains(order.HoldReasons, t.HoldReason) {
			fe.Add("then.hold_reason", "must be one of "+holdReasonList(), string(t.HoldReason))
		}
		if !utf8.ValidString(t.HoldNote) || utf8.RuneCountInString(t.HoldNote) > 1000 {
			fe.Add("then.hold_note", "must be valid text of at most 1000 characters", t.HoldNote)
		}
	default:
		fe.Add("then.kind", "must be one of only, prefer, exclude, hold", string(t.Kind))
	}
	if t.Kind != Hold {
		for i, code := range t.Facilities {
			if !slices.Contains(knownFacilityCodes, code) {
				fe.Add(fmt.Sprintf("then.facilities[%d]", i), "is not a facility of this account", code)
			}
		}
		for i, k := range t.FacilityKinds {
			if !slices.Contains(facilityKinds, k) {
				fe.Add(fmt.Sprintf("then.facility_kinds[%d]", i), "must be one of own, 3pl, dropship, store", string(k))
			}
		}
	}
	return fe.Err(op)
}

// checkTexts checks the entries of a list condition: non-empty, short text.
func checkTexts(fe *errs.FieldList, field string, vs []string) {
	for i, v := range vs {
		v = strings.TrimSpace(v)
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case v == "":
			fe.Add(f, "must not be empty", v)
		case !utf8.ValidString(v) || utf8.RuneCountInString(v) > 255:
			fe.Add(f, "must be valid text of at most 255 characters", v)
		}
	}
}

func holdReasonList() string {
	s := make([]string, len(order.HoldReasons))
	for i, r := range order.HoldReasons {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// decimal is a non-negative plain decimal number as a rule states it, kept as
// digits because the currency (and so the minor unit) is known only when an
// order is evaluated. whole has no leading zeros ("0" for zero) and frac no
// trailing zeros.
type decimal struct{ whole, frac string }

// parseDecimal accepts "100", "49.99", "0.5"; not signs, spaces, separators,
// exponents, ".5" or "5.".
func parseDecimal(s string) (decimal, error) {
	whole, frac, point := strings.Cut(s, ".")
	if whole == "" || (point && frac == "") || !digits(whole) || !digits(frac) {
		return decimal{}, fmt.Errorf("must be a non-negative decimal such as 100 or 49.99")
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if len(whole) > 15 {
		return decimal{}, fmt.Errorf("is too large")
	}
	return decimal{whole, strings.TrimRight(frac, "0")}, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmp compares two decimals: -1, 0 or +1.
func (d decimal) cmp(e decimal) int {
	if c := len(d.whole) - len(e.whole); c != 0 {
		return c
	}
	if c := strings.Compare(d.whole, e.whole); c != 0 {
		return c
	}
	n := max(len(d.frac), len(e.frac))
	return strings.Compare(d.frac+strings.Repeat("0", n-len(d.frac)), e.frac+strings.Repeat("0", n-len(e.frac)))
}

// minor converts d to minor units of currency, exactly: floor and ceil are
// equal unless d has more fraction digits than the currency ("10.5" JPY is
// floor 10, ceil 11), so that "total ≥ min" is total ≥ ceil and "total ≤
// max" is total ≤ floor, and nothing is rounded. ok is false for an unknown
// currency or an amount out of range.
func (d decimal) minor(currency string) (floor, ceil int64, ok bool) {
	n, ok := money.Digits(currency)
	if !ok {
		return 0, 0, false
	}
	s, rest := d.whole, ""
	if len(d.frac) > n {
		rest = d.frac[n:]
		if n > 0 {
			s += "." + d.frac[:n]
		}
	} else if d.frac != "" {
		s += "." + d.frac
	}
	a, err := money.Parse(s, currency)
	if err != nil {
		return 0, 0, false
	}
	floor, ceil = a.Minor, a.Minor
	if rest != "" { // frac has no trailing zeros, so rest is not all zeros
		if floor == math.MaxInt64 {
			return 0, 0, false
		}
		ceil++
	}
	return floor, ceil, true
}
