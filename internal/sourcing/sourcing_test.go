package sourcing

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestSolve(t *testing.T) {
	own := Facility{ID: "own", Rank: 0, PerShipment: 300, PerUnit: 50, DistanceCost: 500}
	tpl := Facility{ID: "3pl", Rank: 1, PerShipment: 400, PerUnit: 80, DistanceCost: 600}
	tests := []struct {
		name string
		p    Problem
		want Assignment
	}{
		{
			name: "single facility",
			p: Problem{
				Lines:      []Line{{"A", 2}, {"B", 1}},
				Facilities: []Facility{own},
				Available:  map[string]map[string]int64{"own": {"A": 5, "B": 1}},
			},
			want: Assignment{
				Parts:       []Part{{0, "own", 2}, {1, "own", 1}},
				Unfulfilled: []int64{0, 0}, Shipments: 1, Cost: 800 + 3*50, Exact: true,
			},
		},
		{
			name: "one SKU only at own warehouse, another only at 3PL",
			p: Problem{
				Lines:      []Line{{"A", 1}, {"B", 3}},
				Facilities: []Facility{own, tpl},
				Available:  map[string]map[string]int64{"own": {"A": 4}, "3pl": {"B": 9}},
			},
			want: Assignment{
				Parts:       []Part{{0, "own", 1}, {1, "3pl", 3}},
				Unfulfilled: []int64{0, 0}, Shipments: 2, Cost: 800 + 50 + 1000 + 3*80, Exact: true,
			},
		},
		{
			name: "dearer single shipment beats cheaper split",
			p: Problem{
				Lines: []Line{{"A", 1}, {"B", 1}},
				Facilities: []Facility{
					{ID: "near-a", PerShipment: 100, PerUnit: 10},
					{ID: "near-b", PerShipment: 100, PerUnit: 10},
					{ID: "far", Rank: 5, PerShipment: 900, PerUnit: 40, DistanceCost: 1500},
				},
				Available: map[string]map[string]int64{"near-a": {"A": 1}, "near-b": {"B": 1}, "far": {"A": 1, "B": 1}},
			},
			want: Assignment{
				Parts:       []Part{{0, "far", 1}, {1, "far", 1}},
				Unfulfilled: []int64{0, 0}, Shipments: 1, Cost: 2400 + 80, Exact: true,
			},
		},
		{
			name: "not enough stock anywhere",
			p: Problem{
				Lines:      []Line{{"A", 10}, {"Z", 2}},
				Facilities: []Facility{own, tpl},
				Available:  map[string]map[string]int64{"own": {"A": 4}, "3pl": {"A": 3}},
			},
			want: Assignment{
				Parts:       []Part{{0, "own", 4}, {0, "3pl", 3}},
				Unfulfilled: []int64{3, 2}, Shipments: 2, Cost: 800 + 200 + 1000 + 240, Exact: true,
			},
		},
		{
			name: "allowed lists respected",
			p: Problem{
				Lines:      []Line{{"A", 1}, {"B", 1}},
				Facilities: []Facility{own, tpl},
				Allowed:    [][]int{{1}, nil},
				Available:  map[string]map[string]int64{"own": {"A": 9, "B": 9}, "3pl": {"A": 9, "B": 9}},
			},
			want: Assignment{
				Parts:       []Part{{0, "3pl", 1}, {1, "3pl", 1}},
				Unfulfilled: []int64{0, 0}, Shipments: 1, Cost: 1000 + 160, Exact: true,
			},
		},
		{
			name: "empty allowed list leaves the line unfulfilled",
			p: Problem{
				Lines:      []Line{{"A", 2}},
				Facilities: []Facility{own},
				Allowed:    [][]int{{}},
				Available:  map[string]map[string]int64{"own": {"A": 9}},
			},
			want: Assignment{Unfulfilled: []int64{2}, Exact: true},
		},
		{
			name: "no split when one facility holds the line, even if a split is cheaper",
			p: Problem{
				Lines: []Line{{"A", 10}, {"B", 1}},
				Facilities: []Facility{
					{ID: "cheap", PerUnit: 10},
					{ID: "dear", PerUnit: 90},
				},
				Available: map[string]map[string]int64{"cheap": {"A": 6, "B": 1}, "dear": {"A": 10}},
			},
			want: Assignment{
				Parts:       []Part{{0, "dear", 10}, {1, "cheap", 1}},
				Unfulfilled: []int64{0, 0}, Shipments: 2, Cost: 900 + 10, Exact: true,
			},
		},
		{
			name: "lines of one SKU share stock",
			p: Problem{
				Lines:      []Line{{"A", 3}, {"A", 3}},
				Facilities: []Facility{own, tpl},
				Available:  map[string]map[string]int64{"own": {"A": 4}, "3pl": {"A": 2}},
			},
			want: Assignment{
				Parts:       []Part{{0, "own", 3}, {1, "own", 1}, {1, "3pl", 2}},
				Unfulfilled: []int64{0, 0}, Shipments: 2, Cost: 800 + 200 + 1000 + 160, Exact: true,
			},
		},
		{
			name: "equal cost goes to the lower rank, then the lower ID",
			p: Problem{
				Lines: []Line{{"A", 1}},
				Facilities: []Facility{
					{ID: "c", Rank: 2}, {ID: "b", Rank: 1}, {ID: "a", Rank: 1},
				},
				Available: map[string]map[string]int64{"a": {"A": 1}, "b": {"A": 1}, "c": {"A": 1}},
			},
			want: Assignment{Parts: []Part{{0, "a", 1}}, Unfulfilled: []int64{0}, Shipments: 1, Exact: true},
		},
		{
			name: "nothing to source",
			p:    Problem{Lines: []Line{{"A", 0}}, Facilities: []Facility{own}},
			want: Assignment{Unfulfilled: []int64{0}, Exact: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Solve(tt.p)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Solve (-want +got):\n%s", diff)
			}
			ref := Exhaustive(tt.p)
			if judge(t, tt.p, ref) != judge(t, tt.p, got) {
				t.Errorf("Exhaustive = %+v, Solve = %+v", ref, got)
			}
		})
	}
}

// TestSolveHeuristic makes an order whose fewest shipments need a
// five-facility subset of twelve, past the exact budget.
func TestSolveHeuristic(t *testing.T) {
	var p Problem
	p.Available = map[string]map[string]int64{}
	for i := range 12 {
		id := fmt.Sprintf("f%02d", i)
		p.Facilities = append(p.Facilities, Facility{ID: id, Rank: i, PerShipment: 100, PerUnit: int64(10 + i)})
		p.Available[id] = map[string]int64{fmt.Sprint("S", i%6): 5}
	}
	for i := range 5 {
		p.Lines = append(p.Lines, Line{fmt.Sprint("S", i), 4})
	}
	got := Solve(p)
	if got.Exact {
		t.Fatal("Exact = true, want the heuristic")
	}
	want := Exhaustive(p)
	if judge(t, p, got) != judge(t, p, want) {
		t.Errorf("Solve = %+v\nExhaustive = %+v", got, want)
	}
	if !slices.Equal(got.Unfulfilled, make([]int64, 5)) || got.Shipments != 5 {
		t.Errorf("Solve = %+v, want all 20 units in 5 shipments", got)
	}
}

func TestSolveDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genProblem(t, 8, 5)
		if a, b := Solve(p), Solve(p); !cmp.Equal(a, b) {
			t.Fatalf("two runs differ:\n%+v\n%+v", a, b)
		}
	})
}

// TestSolveProperties checks validity everywhere, and optimality against
// Exhaustive whenever Solve claims to be exact; the forced heuristic must be
// valid and never beat Exhaustive.
func TestSolveProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genProblem(t, 7, 4)
		ref := Exhaustive(p)
		refScore := judge(t, p, ref)
		if !ref.Exact {
			t.Fatalf("Exhaustive not exact: %+v", ref)
		}
		got := Solve(p)
		s := judge(t, p, got)
		if s.less(refScore) {
			t.Fatalf("Solve %+v beats Exhaustive %+v", s, refScore)
		}
		if got.Exact && s != refScore {
			t.Fatalf("exact Solve %+v (%+v) != Exhaustive %+v (%+v)", s, got, refScore, ref)
		}
		h := newModel(p).search(false, 0, fillLeaves)
		if hs := judge(t, p, h); hs.less(refScore) || hs.unfulfilled != refScore.unfulfilled {
			t.Fatalf("heuristic %+v vs Exhaustive %+v", hs, refScore)
		}
	})
}

// TestExhaustiveBruteForce checks the reference itself against enumerating
// every unit allocation on tiny problems.
func TestExhaustiveBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genProblemQty(t, 3, 3, 3)
		got := judge(t, p, Exhaustive(p))
		if want := bruteForce(p); got != want {
			t.Fatalf("Exhaustive %+v, brute force %+v", got, want)
		}
	})
}

func genProblem(t *rapid.T, maxFacilities, maxLines int) Problem {
	return genProblemQty(t, maxFacilities, maxLines, 6)
}

func genProblemQty(t *rapid.T, maxFacilities, maxLines int, maxQty int64) Problem {
	skus := []string{"A", "B", "C", "D"}
	var p Problem
	nf := rapid.IntRange(0, maxFacilities).Draw(t, "facilities")
	p.Available = map[string]map[string]int64{}
	for i := range nf {
		id := fmt.Sprint("F", rapid.IntRange(0, maxFacilities).Draw(t, "id")) // repeats happen
		p.Facilities = append(p.Facilities, Facility{
			ID:           id,
			Rank:         rapid.IntRange(0, 3).Draw(t, "rank"),
			PerShipment:  rapid.Int64Range(0, 500).Draw(t, "ship"),
			PerUnit:      rapid.Int64Range(0, 100).Draw(t, "unit"),
			DistanceCost: rapid.Int64Range(0, 500).Draw(t, "distance"),
		})
		if p.Available[id] == nil {
			p.Available[id] = map[string]int64{}
		}
		for _, s := range skus {
			if rapid.Bool().Draw(t, "stocked") {
				p.Available[id][s] = rapid.Int64Range(-1, maxQty).Draw(t, "available")
			}
		}
		_ = i
	}
	nl := rapid.IntRange(0, maxLines).Draw(t, "lines")
	restrict := rapid.Bool().Draw(t, "restrict")
	for range nl {
		p.Lines = append(p.Lines, Line{
			SKU:      rapid.SampledFrom(skus).Draw(t, "sku"),
			Quantity: rapid.Int64Range(0, maxQty).Draw(t, "qty"),
		})
		var allowed []int
		if restrict && rapid.Bool().Draw(t, "limited") {
			allowed = []int{}
			for f := range nf + 1 { // one index out of range, ignored
				if rapid.Bool().Draw(t, "allow") {
					allowed = append(allowed, f)
				}
			}
		}
		p.Allowed = append(p.Allowed, allowed)
	}
	return p
}

// judge checks that a is a valid assignment for p and scores it from its
// parts alone.
// fataler is what judge needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func judge(t fataler, p Problem, a Assignment) score {
	t.Helper()
	if len(a.Unfulfilled) != len(p.Lines) {
		t.Fatalf("%d unfulfilled entries for %d lines", len(a.Unfulfilled), len(p.Lines))
	}
	index := map[string]int{}
	for i, f := range p.Facilities {
		if _, ok := index[f.ID]; !ok {
			index[f.ID] = i
		}
	}
	assigned := make([]int64, len(p.Lines))
	taken := map[[2]string]int64{}
	used := map[string]bool{}
	seen := map[[2]int]bool{}
	var s score
	for _, part := range a.Parts {
		f, ok := index[part.FacilityID]
		if !ok || part.Line < 0 || part.Line >= len(p.Lines) || part.Quantity <= 0 {
			t.Fatalf("bad part %+v", part)
		}
		if seen[[2]int{part.Line, f}] {
			t.Fatalf("duplicate part %+v", part)
		}
		seen[[2]int{part.Line, f}] = true
		if p.Allowed != nil && part.Line < len(p.Allowed) && p.Allowed[part.Line] != nil &&
			!slices.Contains(p.Allowed[part.Line], f) {
			t.Fatalf("part %+v uses a facility not allowed for its line", part)
		}
		sku := p.Lines[part.Line].SKU
		taken[[2]string{part.FacilityID, sku}] += part.Quantity
		assigned[part.Line] += part.Quantity
		fac := p.Facilities[f]
		if !used[fac.ID] {
			used[fac.ID] = true
			s.shipments++
			s.cost += fac.PerShipment + fac.DistanceCost
		}
		s.parts++
		s.cost += part.Quantity * fac.PerUnit
		s.pref += part.Quantity * int64(fac.Rank)
	}
	for k, q := range taken {
		if q > p.Available[k[0]][k[1]] {
			t.Fatalf("facility %s assigned %d of %s, has %d", k[0], q, k[1], p.Available[k[0]][k[1]])
		}
	}
	for l, ln := range p.Lines {
		if a.Unfulfilled[l] < 0 || assigned[l]+a.Unfulfilled[l] != max(ln.Quantity, 0) {
			t.Fatalf("line %d: assigned %d + unfulfilled %d != quantity %d", l, assigned[l], a.Unfulfilled[l], ln.Quantity)
		}
		s.unfulfilled += a.Unfulfilled[l]
	}
	if s.shipments != a.Shipments || s.cost != a.Cost {
		t.Fatalf("reported shipments %d cost %d, parts say %d and %d", a.Shipments, a.Cost, s.shipments, s.cost)
	}
	return s
}

// bruteForce scores the best of every way to split every line's units over
// its allowed facilities.
func bruteForce(p Problem) score {
	type cell struct {
		line, fac int
	}
	first := map[string]bool{}
	var cells []cell
	var facs []int
	for i, f := range p.Facilities {
		if !first[f.ID] {
			first[f.ID] = true
			facs = append(facs, i)
		}
	}
	for l := range p.Lines {
		for _, f := range facs {
			if p.Allowed == nil || l >= len(p.Allowed) || p.Allowed[l] == nil || slices.Contains(p.Allowed[l], f) {
				cells = append(cells, cell{l, f})
			}
		}
	}
	x := make([]int64, len(cells))
	var best score
	found := false
	var walk func(i int)
	walk = func(i int) {
		if i == len(cells) {
			assigned := make([]int64, len(p.Lines))
			taken := map[[2]string]int64{}
			used := map[int]bool{}
			var s score
			for j, c := range cells {
				if x[j] == 0 {
					continue
				}
				f := p.Facilities[c.fac]
				assigned[c.line] += x[j]
				taken[[2]string{f.ID, p.Lines[c.line].SKU}] += x[j]
				if !used[c.fac] {
					used[c.fac] = true
					s.shipments++
					s.cost += f.PerShipment + f.DistanceCost
				}
				s.parts++
				s.cost += x[j] * f.PerUnit
				s.pref += x[j] * int64(f.Rank)
			}
			for k, q := range taken {
				if q > p.Available[k[0]][k[1]] {
					return
				}
			}
			for l, ln := range p.Lines {
				if assigned[l] > max(ln.Quantity, 0) {
					return
				}
				s.unfulfilled += max(ln.Quantity, 0) - assigned[l]
			}
			if !found || s.less(best) {
				best, found = s, true
			}
			return
		}
		for q := range max(p.Lines[cells[i].line].Quantity, 0) + 1 {
			x[i] = q
			walk(i + 1)
		}
		x[i] = 0
	}
	walk(0)
	return best
}
