package routing_test

import (
	"cmp"
	"fmt"
	"math/rand"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
)

// subset draws some of xs, each perhaps with its case changed.
func subset(t *rapid.T, label string, xs []string, recase bool) []string {
	var out []string
	for _, x := range xs {
		if rapid.IntRange(0, 3).Draw(t, label) == 0 {
			if recase && rapid.Bool().Draw(t, label+"-case") {
				x = strings.ToLower(x)
			}
			out = append(out, x)
		}
	}
	return out
}

func drawRule(t *rapid.T, i int) routing.Rule {
	kind := rapid.SampledFrom([]routing.ActionKind{routing.Only, routing.Only, routing.Exclude, routing.Exclude, routing.Prefer, routing.Prefer, routing.Hold}).Draw(t, "kind")
	r := routing.Rule{
		ID:       fmt.Sprintf("r%d", i),
		Name:     fmt.Sprintf("rule %d", i),
		Position: rapid.IntRange(0, 4).Draw(t, "position"),
		Active:   rapid.IntRange(0, 4).Draw(t, "active") > 0,
		When: routing.Conditions{
			SKUs:         subset(t, "skus", []string{"MUG-1", "CUSTOM-*", "*CHAIR", "X-*", "*"}, true),
			Tags:         subset(t, "tags", []string{"VIP", "custom", "Wholesale"}, true),
			Countries:    subset(t, "countries", []string{"US", "DE", "GB"}, false),
			NotCountries: subset(t, "not_countries", []string{"US", "DE"}, false),
		},
		Then: routing.Action{Kind: kind},
	}
	if kind == routing.Hold {
		r.Then.HoldReason = order.OtherHold
	} else {
		r.Then.Facilities = subset(t, "facilities", codes, false)
		for _, k := range []inventory.FacilityKind{inventory.Own, inventory.ThreePL, inventory.Dropship, inventory.Retail} {
			if rapid.IntRange(0, 4).Draw(t, "facility_kind") == 0 {
				r.Then.FacilityKinds = append(r.Then.FacilityKinds, k)
			}
		}
	}
	return r
}

func drawInput(t *rapid.T) routing.Input {
	in := input()
	in.Lines = nil
	for i := range rapid.IntRange(1, 4).Draw(t, "lines") {
		in.Lines = append(in.Lines, routing.Line{
			ID:       fmt.Sprintf("l%d", i),
			SKU:      rapid.SampledFrom([]string{"MUG-1", "X-CHAIR", "CUSTOM-7", "custom-8"}).Draw(t, "sku"),
			Quantity: int64(rapid.IntRange(0, 3).Draw(t, "quantity")),
		})
	}
	in.Tags = subset(t, "order_tags", []string{"vip", "CUSTOM", "gift"}, false)
	in.Country = rapid.SampledFrom([]string{"US", "DE", "GB", ""}).Draw(t, "country")
	in.Facilities = slices.Clone(facilities)
	for i := range in.Facilities {
		in.Facilities[i].Priority = rapid.IntRange(0, 3).Draw(t, "priority")
	}
	return in
}

// The oracle below restates the conditions the property test draws, apart
// from the package's own matching code.

func globRe(p string) *regexp.Regexp {
	return regexp.MustCompile("(?i)^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*") + "$")
}

// oracleLines is the lines r applies to, or false when it does not match.
func oracleLines(r routing.Rule, in routing.Input) ([]int, bool) {
	w := r.When
	if len(w.Tags) > 0 && !slices.ContainsFunc(w.Tags, func(t string) bool {
		return slices.ContainsFunc(in.Tags, func(u string) bool { return strings.EqualFold(t, u) })
	}) {
		return nil, false
	}
	if len(w.Countries) > 0 && !slices.Contains(w.Countries, in.Country) {
		return nil, false
	}
	if len(w.NotCountries) > 0 && (in.Country == "" || slices.Contains(w.NotCountries, in.Country)) {
		return nil, false
	}
	var lines []int
	for i, l := range in.Lines {
		if l.Quantity > 0 && (len(w.SKUs) == 0 || slices.ContainsFunc(w.SKUs, func(p string) bool { return globRe(p).MatchString(l.SKU) })) {
			lines = append(lines, i)
		}
	}
	if len(w.SKUs) > 0 && len(lines) == 0 {
		return nil, false
	}
	return lines, true
}

func names(a routing.Action, f routing.Facility) bool {
	return slices.Contains(a.Facilities, f.Code) || slices.Contains(a.FacilityKinds, f.Kind)
}

func TestEvaluateProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := drawInput(t)
		var rules []routing.Rule
		for i := range rapid.IntRange(0, 7).Draw(t, "rules") {
			rules = append(rules, drawRule(t, i))
		}
		res := routing.Evaluate(rules, in)

		// Deterministic, whatever order the rules come in.
		if again := routing.Evaluate(rules, in); !reflect.DeepEqual(res, again) {
			t.Fatalf("two evaluations differ:\n%+v\n%+v", res, again)
		}
		shuffled := slices.Clone(rules)
		rand.New(rand.NewSource(rapid.Int64().Draw(t, "seed"))).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if again := routing.Evaluate(shuffled, in); !reflect.DeepEqual(res, again) {
			t.Fatalf("rule order in the slice changed the result:\n%+v\n%+v", res, again)
		}

		var active []routing.Rule
		for _, r := range rules {
			if r.Active {
				active = append(active, r)
			}
		}
		slices.SortFunc(active, func(a, b routing.Rule) int {
			return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
		})

		// The first applicable hold rule holds the order; nothing is routed.
		for _, r := range active {
			if _, ok := oracleLines(r, in); ok && r.Then.Kind == routing.Hold {
				if res.Hold == nil || res.Hold.RuleID != r.ID || res.Lines != nil {
					t.Fatalf("want the hold of %s, got %+v", r.ID, res)
				}
				return
			}
		}
		if res.Hold != nil {
			t.Fatalf("held by %s, but no hold rule applies", res.Hold.RuleID)
		}

		byID := map[string]routing.Facility{}
		for _, f := range in.Facilities {
			byID[f.ID] = f
		}
		for l, line := range in.Lines {
			got := res.Lines[l]
			if line.Quantity <= 0 {
				if len(got.Facilities) > 0 || got.Unroutable {
					t.Fatalf("line %d has nothing to fulfil but got %+v", l, got)
				}
				continue
			}
			// Allowed is exactly what no applicable only or exclude forbade,
			// and tier is the first applicable prefer rule naming it.
			var want []string
			tier := map[string]int{}
			for _, f := range in.Facilities {
				ok := true
				tier[f.ID] = len(active)
				for ri, r := range active {
					lines, matched := oracleLines(r, in)
					if !matched || !slices.Contains(lines, l) {
						continue
					}
					switch r.Then.Kind {
					case routing.Only:
						ok = ok && names(r.Then, f)
					case routing.Exclude:
						ok = ok && !names(r.Then, f)
					case routing.Prefer:
						if names(r.Then, f) && tier[f.ID] == len(active) {
							tier[f.ID] = ri
						}
					}
				}
				if ok {
					want = append(want, f.ID)
				}
			}
			if !slices.Equal(slices.Sorted(slices.Values(got.Facilities)), want) {
				t.Fatalf("line %d: allowed %v, want %v", l, got.Facilities, want)
			}
			if got.Unroutable != (len(want) == 0) {
				t.Fatalf("line %d: unroutable %v with %v", l, got.Unroutable, got.Facilities)
			}
			for i := 1; i < len(got.Facilities); i++ {
				a, b := byID[got.Facilities[i-1]], byID[got.Facilities[i]]
				if c := cmp.Or(cmp.Compare(tier[a.ID], tier[b.ID]), cmp.Compare(a.Priority, b.Priority), strings.Compare(a.Code, b.Code)); c > 0 {
					t.Fatalf("line %d: %s (tier %d, priority %d) before %s (tier %d, priority %d)", l, a.Code, tier[a.ID], a.Priority, b.Code, tier[b.ID], b.Priority)
				}
			}
		}
	})
}
