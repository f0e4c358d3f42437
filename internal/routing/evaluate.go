package routing

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
)

// ProductInfo looks up a SKU's product type and vendor; "" when unknown.
type ProductInfo func(sku string) (productType, vendor string)

// Input is what evaluation needs to know of one order and of the tenant.
type Input struct {
	Lines         []Line
	Tags          []string
	Country       string // destination, ISO 3166-1 alpha-2; "" when unknown
	Region        string // destination region code, "CA" or "US-CA"
	Channel       string
	Total         int64 // minor units of Currency
	Currency      string
	ShippingCodes []string
	// ProductInfo serves product_types and vendors conditions; when nil
	// those conditions match no line.
	ProductInfo ProductInfo
	// Facilities are the candidates: every line starts allowed at each.
	Facilities []Facility
	// IgnoreHolds skips hold rules, for routing an order once a person has
	// released the hold a rule put on it.
	IgnoreHolds bool
}

// Line is one order line to route. A line with Quantity ≤ 0 (nothing left to
// fulfil) takes no part: it matches no line condition and gets no facility.
type Line struct {
	ID       string
	SKU      string
	Quantity int64
}

// Facility is a candidate facility.
type Facility struct {
	ID       string
	Code     string
	Kind     inventory.FacilityKind
	Priority int // lower is preferred when no rule decides
}

// Result is the outcome of evaluating rules for an order.
type Result struct {
	// Lines match Input.Lines index for index; nil when the order is held.
	Lines []LineResult `json:"lines"`
	// Hold is set when a hold rule matched; nothing was routed.
	Hold  *OrderHold `json:"hold,omitempty"`
	Trace []Step     `json:"trace"`
}

// LineResult is where one line may be fulfilled from.
type LineResult struct {
	LineID string `json:"line_id"`
	SKU    string `json:"sku"`
	// Facilities are the allowed facility IDs, most preferred first.
	Facilities []string `json:"facilities"`
	// Unroutable is set when rules left the line without any facility; the
	// caller holds the order.
	Unroutable bool `json:"unroutable"`
}

// OrderHold is the hold a rule asks for.
type OrderHold struct {
	RuleID string           `json:"rule_id"`
	Reason order.HoldReason `json:"reason"`
	Note   string           `json:"note,omitempty"`
}

// Step is one rule that matched, and what it did.
type Step struct {
	RuleID   string     `json:"rule_id"`
	RuleName string     `json:"rule_name"`
	Position int        `json:"position"`
	Kind     ActionKind `json:"kind"`
	// Lines are the indexes of the lines the rule applied to.
	Lines   []int        `json:"lines,omitempty"`
	Effects []LineEffect `json:"effects,omitempty"`
	Summary string       `json:"summary"`
}

// LineEffect is what one rule changed for one line, in facility codes.
type LineEffect struct {
	Line      int      `json:"line"`
	Removed   []string `json:"removed,omitempty"`   // no longer allowed
	Preferred []string `json:"preferred,omitempty"` // raised in preference
}

// Unroutable returns the indexes of lines left without any facility.
func (r Result) Unroutable() []int {
	var out []int
	for i, l := range r.Lines {
		if l.Unroutable {
			out = append(out, i)
		}
	}
	return out
}

// notPreferred is the preference tier of a facility no rule raised.
const notPreferred = int(^uint(0) >> 1)

// Evaluate applies the active rules to an order, in ascending Position
// (then ID). The first hold rule that matches stops evaluation with a hold.
// Otherwise "only" and "exclude" narrow the allowed facilities of the lines
// they apply to (so no later rule can allow again what they removed), and
// "prefer" raises facilities: those raised by an earlier rule come before
// those raised by a later one, which come before the rest; ties go to the
// facility's priority, then its code. Evaluate is pure and deterministic.
func Evaluate(rules []Rule, in Input) Result {
	active := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if r.Active && !(in.IgnoreHolds && r.Then.Kind == Hold) {
			active = append(active, r)
		}
	}
	slices.SortStableFunc(active, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
	})

	facts := newFacts(in)
	// allowed[l][f] and tier[l][f] are line l's state for in.Facilities[f].
	allowed := make([][]bool, len(in.Lines))
	tier := make([][]int, len(in.Lines))
	for l, line := range in.Lines {
		if line.Quantity <= 0 {
			continue
		}
		allowed[l] = make([]bool, len(in.Facilities))
		tier[l] = make([]int, len(in.Facilities))
		for f := range in.Facilities {
			allowed[l][f], tier[l][f] = true, notPreferred
		}
	}

	res := Result{Trace: []Step{}}
	for ri, r := range active {
		lines, ok := facts.applies(r.When)
		if !ok {
			continue
		}
		step := Step{RuleID: r.ID, RuleName: r.Name, Position: r.Position, Kind: r.Then.Kind, Lines: lines}
		named := func(f Facility) bool {
			return slices.Contains(r.Then.Facilities, f.Code) || slices.Contains(r.Then.FacilityKinds, f.Kind)
		}
		switch r.Then.Kind {
		case Hold:
			step.Lines = nil
			step.Summary = "hold the order: " + string(r.Then.HoldReason)
			if r.Then.HoldNote != "" {
				step.Summary += " — " + r.Then.HoldNote
			}
			res.Trace = append(res.Trace, step)
			res.Hold = &OrderHold{RuleID: r.ID, Reason: r.Then.HoldReason, Note: r.Then.HoldNote}
			return res
		case Only, Exclude:
			for _, l := range lines {
				e := LineEffect{Line: l}
				for f, fac := range in.Facilities {
					// only removes what it does not name, exclude what it names.
					if allowed[l][f] && named(fac) == (r.Then.Kind == Exclude) {
						allowed[l][f] = false
						e.Removed = append(e.Removed, fac.Code)
					}
				}
				if len(e.Removed) > 0 {
					step.Effects = append(step.Effects, e)
				}
			}
		case Prefer:
			for _, l := range lines {
				e := LineEffect{Line: l}
				for f, fac := range in.Facilities {
					if allowed[l][f] && tier[l][f] == notPreferred && named(fac) {
						tier[l][f] = ri
						e.Preferred = append(e.Preferred, fac.Code)
					}
				}
				if len(e.Preferred) > 0 {
					step.Effects = append(step.Effects, e)
				}
			}
		default:
			step.Summary = fmt.Sprintf("unknown action %q: ignored", r.Then.Kind)
		}
		if step.Summary == "" {
			step.Summary = summary(r.Then, len(lines), step.Effects)
		}
		res.Trace = append(res.Trace, step)
	}

	res.Lines = make([]LineResult, len(in.Lines))
	for l, line := range in.Lines {
		lr := LineResult{LineID: line.ID, SKU: line.SKU, Facilities: []string{}}
		if line.Quantity > 0 {
			var idx []int
			for f := range in.Facilities {
				if allowed[l][f] {
					idx = append(idx, f)
				}
			}
			slices.SortFunc(idx, func(a, b int) int {
				fa, fb := in.Facilities[a], in.Facilities[b]
				return cmp.Or(cmp.Compare(tier[l][a], tier[l][b]), cmp.Compare(fa.Priority, fb.Priority),
					strings.Compare(fa.Code, fb.Code), strings.Compare(fa.ID, fb.ID))
			})
			for _, f := range idx {
				lr.Facilities = append(lr.Facilities, in.Facilities[f].ID)
			}
			lr.Unroutable = len(idx) == 0
		}
		res.Lines[l] = lr
	}
	return res
}

// summary says in a line what a rule did, for the dashboard's preview.
func summary(a Action, lines int, effects []LineEffect) string {
	var target []string
	target = append(target, a.Facilities...)
	for _, k := range a.FacilityKinds {
		target = append(target, "every "+string(k)+" facility")
	}
	s := fmt.Sprintf("%s %s on %d line(s)", a.Kind, strings.Join(target, ", "), lines)
	if len(effects) == 0 {
		return s + ": no change"
	}
	for _, e := range effects {
		switch {
		case len(e.Removed) > 0:
			s += fmt.Sprintf("; line %d: removed %s", e.Line, strings.Join(e.Removed, ", "))
		case len(e.Preferred) > 0:
			s += fmt.Sprintf("; line %d: preferred %s", e.Line, strings.Join(e.Preferred, ", "))
		}
	}
	return s
}

// facts are an order's facts, normalised once for matching.
type facts struct {
	in       Input
	country  string // "" when unknown or not a country
	region   string // without its country prefix, upper case
	products []product
}

type product struct{ typ, vendor string }

func newFacts(in Input) facts {
	f := facts{in: in}
	if c, ok := order.Country(in.Country); ok {
		f.country = c
	}
	f.region = strings.ToUpper(strings.TrimSpace(in.Region))
	if f.country != "" {
		f.region = strings.TrimPrefix(f.region, f.country+"-")
	}
	f.products = make([]product, len(in.Lines))
	if in.ProductInfo != nil {
		for i, l := range in.Lines {
			if l.Quantity > 0 {
				f.products[i].typ, f.products[i].vendor = in.ProductInfo(l.SKU)
			}
		}
	}
	return f
}

// applies reports whether the order meets c and, if so, the lines c applies
// to: every line with something to fulfil when c has no line conditions,
// else those meeting them (and at least one must).
func (f facts) applies(c Conditions) ([]int, bool) {
	if !f.orderMatches(c) {
		return nil, false
	}
	var lines []int
	for i, l := range f.in.Lines {
		if l.Quantity <= 0 {
			continue
		}
		if anyOf(c.SKUs, func(p string) bool { return glob(p, l.SKU) }) &&
			anyOf(c.ProductTypes, func(t string) bool { return f.products[i].typ != "" && equalFold(t, f.products[i].typ) }) &&
			anyOf(c.Vendors, func(v string) bool { return f.products[i].vendor != "" && equalFold(v, f.products[i].vendor) }) {
			lines = append(lines, i)
		}
	}
	if c.lineConditions() && len(lines) == 0 {
		return nil, false
	}
	return lines, true
}

func (f facts) orderMatches(c Conditions) bool {
	in := f.in
	country := func(x string) bool { cc, ok := order.Country(x); return ok && cc == f.country }
	ok := anyOf(c.Tags, func(t string) bool {
		return slices.ContainsFunc(in.Tags, func(u string) bool { return equalFold(t, u) })
	}) &&
		anyOf(c.Countries, country) &&
		(len(c.NotCountries) == 0 || f.country != "" && !slices.ContainsFunc(c.NotCountries, country)) &&
		anyOf(c.Regions, f.inRegion) &&
		anyOf(c.Channels, func(ch string) bool { return equalFold(ch, in.Channel) }) &&
		anyOf(c.ShippingCodes, func(s string) bool {
			return slices.ContainsFunc(in.ShippingCodes, func(u string) bool { return equalFold(s, u) })
		})
	if !ok {
		return false
	}
	if c.MinTotal != "" {
		d, err := parseDecimal(c.MinTotal)
		_, ceil, ok := d.minor(in.Currency)
		if err != nil || !ok || in.Total < ceil {
			return false
		}
	}
	if c.MaxTotal != "" {
		d, err := parseDecimal(c.MaxTotal)
		floor, _, ok := d.minor(in.Currency)
		if err != nil || !ok || in.Total > floor {
			return false
		}
	}
	return true
}

// inRegion matches a region condition: "US-CA" needs both the country and the
// region, "CA" the region in any country.
func (f facts) inRegion(cond string) bool {
	if f.region == "" {
		return false
	}
	cond = strings.ToUpper(strings.TrimSpace(cond))
	if c, r, ok := strings.Cut(cond, "-"); ok {
		cc, valid := order.Country(c)
		return valid && cc == f.country && r == f.region
	}
	return cond == f.region
}

// anyOf holds for an empty list (no condition) or when match holds for an
// entry.
func anyOf(list []string, match func(string) bool) bool {
	return len(list) == 0 || slices.ContainsFunc(list, match)
}

func equalFold(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// glob matches s against a pattern where * is any run of characters,
// case-insensitively.
func glob(pattern, s string) bool {
	pattern, s = strings.ToUpper(strings.TrimSpace(pattern)), strings.ToUpper(s)
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// OrderInput gathers an order's facts and the tenant's active facilities.
func OrderInput(o *order.Order, facilities []inventory.Facility, info ProductInfo) Input {
	in := Input{Tags: o.Tags, Channel: o.Channel, Total: o.Total, Currency: o.Currency, ProductInfo: info}
	if a := o.ShippingAddress; a != nil {
		in.Country, in.Region = a.Country, a.Region
	}
	for _, l := range o.Lines {
		in.Lines = append(in.Lines, Line{ID: l.ID, SKU: l.SKU, Quantity: l.Open()})
	}
	for _, s := range o.ShippingLines {
		if s.Code != "" {
			in.ShippingCodes = append(in.ShippingCodes, s.Code)
		}
	}
	for _, f := range facilities {
		if f.Active {
			in.Facilities = append(in.Facilities, Facility{ID: f.ID, Code: f.Code, Kind: f.Kind, Priority: f.Priority})
		}
	}
	return in
}
