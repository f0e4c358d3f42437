package sourcing

import (
	"cmp"
	"math/bits"
	"slices"
)

// model is a Problem indexed for the search. Facilities are renumbered into
// positions sorted by (Rank, ID), so "first found" is also "preferred" and
// every tie resolves the same way on every run.
type model struct {
	qty    []int64 // per line, negative quantities read as zero
	sku    []int   // per line, index of its SKU
	groups [][]int // lines with units to source, grouped by SKU
	nsku   int

	ids    []string  // per position
	fixed  []int64   // per position: PerShipment + DistanceCost
	unit   []price   // per position: PerUnit and Rank
	avail  [][]int64 // [position][sku]
	usable [][]bool  // [line][position]: allowed and holding the line's SKU
	useful []int     // positions usable by at least one line

	masks  map[int][]uint32 // subsets of n items, smallest first
	leaves int              // split patterns still allowed; negative = unlimited
	exact  bool
}

func newModel(p Problem) *model {
	m := &model{
		qty:   make([]int64, len(p.Lines)),
		sku:   make([]int, len(p.Lines)),
		masks: map[int][]uint32{},
	}
	skus := map[string]int{}
	var names []string
	for l, ln := range p.Lines {
		s, ok := skus[ln.SKU]
		if !ok {
			s = len(names)
			skus[ln.SKU] = s
			names = append(names, ln.SKU)
			m.groups = append(m.groups, nil)
		}
		m.sku[l] = s
		m.qty[l] = max(ln.Quantity, 0)
		if m.qty[l] > 0 {
			m.groups[s] = append(m.groups[s], l)
		}
	}
	m.nsku = len(names)
	m.groups = slices.DeleteFunc(m.groups, func(g []int) bool { return len(g) == 0 })

	var order []int
	seen := map[string]bool{}
	for i, f := range p.Facilities {
		if !seen[f.ID] {
			seen[f.ID] = true
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		fa, fb := p.Facilities[a], p.Facilities[b]
		return cmp.Or(cmp.Compare(fa.Rank, fb.Rank), cmp.Compare(fa.ID, fb.ID))
	})
	posOf := make([]int, len(p.Facilities))
	for i := range posOf {
		posOf[i] = -1
	}
	for pos, i := range order {
		f := p.Facilities[i]
		posOf[i] = pos
		m.ids = append(m.ids, f.ID)
		m.fixed = append(m.fixed, f.PerShipment+f.DistanceCost)
		m.unit = append(m.unit, price{f.PerUnit, int64(f.Rank)})
		stock := make([]int64, len(names))
		for s, name := range names {
			stock[s] = max(p.Available[f.ID][name], 0)
		}
		m.avail = append(m.avail, stock)
	}

	isUseful := make([]bool, len(order))
	m.usable = make([][]bool, len(p.Lines))
	for l := range p.Lines {
		m.usable[l] = make([]bool, len(order))
		allowed := make([]bool, len(order))
		if p.Allowed == nil || l >= len(p.Allowed) || p.Allowed[l] == nil {
			for pos := range allowed {
				allowed[pos] = true
			}
		} else {
			for _, i := range p.Allowed[l] {
				if i >= 0 && i < len(posOf) && posOf[i] >= 0 {
					allowed[posOf[i]] = true
				}
			}
		}
		for pos := range order {
			if allowed[pos] && m.qty[l] > 0 && m.avail[pos][m.sku[l]] > 0 {
				m.usable[l][pos] = true
				isUseful[pos] = true
			}
		}
	}
	for pos, ok := range isUseful {
		if ok {
			m.useful = append(m.useful, pos)
		}
	}
	return m
}

// score orders candidate assignments; see the package documentation.
type score struct {
	unfulfilled int64
	shipments   int
	parts       int
	cost        int64
	pref        int64
}

func (a score) less(b score) bool {
	switch {
	case a.unfulfilled != b.unfulfilled:
		return a.unfulfilled < b.unfulfilled
	case a.shipments != b.shipments:
		return a.shipments < b.shipments
	case a.parts != b.parts:
		return a.parts < b.parts
	case a.cost != b.cost:
		return a.cost < b.cost
	}
	return a.pref < b.pref
}

type piece struct {
	line, pos int
	qty       int64
}

type plan struct {
	score
	pieces []piece
}

// search enumerates facility subsets by size. The fewest unfulfilled units
// are those left when every useful facility may ship; the first size at
// which some subset reaches that is the fewest shipments, and the best fill
// over the subsets of that size is optimal. When a size would take the count
// of subsets examined past subsetBudget (negative = no limit), a greedy cover
// with local improvement answers instead.
func (m *model) search(joint bool, subsetBudget, leaves int) Assignment {
	m.leaves, m.exact = leaves, true
	target := m.fulfil(m.useful)
	if target == 0 {
		return m.assignment(m.evaluate(nil, joint))
	}
	var best plan
	found := false
	spent := 0
	n := len(m.useful)
	for k := 1; k <= n && !found; k++ {
		if subsetBudget >= 0 && spent+binomial(n, k, subsetBudget+1) > subsetBudget {
			m.exact = false
			best = m.improve(m.greedy(target), target, joint)
			break
		}
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		set := make([]int, k)
		for {
			spent++
			for i, j := range idx {
				set[i] = m.useful[j]
			}
			if m.fulfil(set) == target {
				if c := m.evaluate(set, joint); !found || c.less(best.score) {
					best, found = c, true
				}
			}
			// Next k-combination of 0..n-1 in lexicographic order.
			i := k - 1
			for i >= 0 && idx[i] == n-k+i {
				i--
			}
			if i < 0 {
				break
			}
			idx[i]++
			for j := i + 1; j < k; j++ {
				idx[j] = idx[j-1] + 1
			}
		}
	}
	return m.assignment(best)
}

// binomial returns C(n, k), or limit when it is at least limit.
func binomial(n, k, limit int) int {
	c := 1
	for i := 1; i <= k; i++ {
		c = c * (n - k + i) / i
		if c >= limit {
			return limit
		}
	}
	return c
}

// fulfil returns the most units the facilities in set can supply.
func (m *model) fulfil(set []int) int64 {
	var total int64
	for _, g := range m.groups {
		if len(g) == 1 {
			l := g[0]
			var stock int64
			for _, pos := range set {
				if m.usable[l][pos] {
					stock += m.avail[pos][m.sku[l]]
				}
			}
			total += min(stock, m.qty[l])
			continue
		}
		support := m.supports(g, set)
		for _, row := range m.allocate(g, support) {
			for _, q := range row {
				total += q
			}
		}
	}
	return total
}

// supports lists, per line, the positions of set that may supply it.
func (m *model) supports(lines, set []int) [][]int {
	support := make([][]int, len(lines))
	for i, l := range lines {
		for _, pos := range set {
			if m.usable[l][pos] {
				support[i] = append(support[i], pos)
			}
		}
	}
	return support
}

// evaluate returns the best plan that uses only facilities in set. Lines of
// different SKUs never compete for stock, so Solve fills each SKU's lines on
// their own; joint fills all lines in one search, as the independent
// reference does.
func (m *model) evaluate(set []int, joint bool) plan {
	groups := m.groups
	if joint {
		var all []int
		for _, g := range m.groups {
			all = append(all, g...)
		}
		groups = [][]int{all}
	}
	var p plan
	used := make([]bool, len(m.ids))
	for _, g := range groups {
		support, amt, s := m.bestFill(g, set)
		p.unfulfilled += s.unfulfilled
		p.parts += s.parts
		p.cost += s.cost
		p.pref += s.pref
		for i, l := range g {
			for j, pos := range support[i] {
				if amt[i][j] > 0 {
					p.pieces = append(p.pieces, piece{l, pos, amt[i][j]})
					used[pos] = true
				}
			}
		}
	}
	for pos, u := range used {
		if u {
			p.shipments++
			p.cost += m.fixed[pos]
		}
	}
	return p
}

// bestFill fills lines from the facilities in set, minimising unfulfilled
// units, then split parts, then unit cost and preference. Fixed per-shipment
// costs are not its concern: search only fills sets that are all needed.
func (m *model) bestFill(lines, set []int) ([][]int, [][]int64, score) {
	full := m.supports(lines, set)
	bestSupport, bestAmt := full, m.allocate(lines, full)
	best := m.fillScore(lines, full, bestAmt)

	if len(lines) == 1 {
		l, s := lines[0], m.sku[lines[0]]
		if len(full[0]) <= 1 {
			return bestSupport, bestAmt, best
		}
		// One facility holding the whole line beats any split; pick the
		// cheapest such, preferred first.
		one := -1
		for _, pos := range full[0] {
			if m.avail[pos][s] >= m.qty[l] && (one < 0 || m.unit[pos].less(m.unit[one])) {
				one = pos
			}
		}
		if one >= 0 {
			support := [][]int{{one}}
			amt := [][]int64{{m.qty[l]}}
			return support, amt, m.fillScore(lines, support, amt)
		}
	}

	// Try every pattern of which facilities each line may draw from, fewest
	// parts first. A pattern whose size exceeds the best parts so far cannot
	// win: its fill has at most that many parts, and the pattern of exactly
	// the parts it uses is tried on its own.
	for _, row := range full {
		if len(row) > 12 {
			m.exact = false
			return bestSupport, bestAmt, best
		}
	}
	cur := make([][]int, len(lines))
	var walk func(i, parts int) bool
	walk = func(i, parts int) bool {
		if i == len(lines) {
			if m.leaves == 0 {
				m.exact = false
				return false
			}
			if m.leaves > 0 {
				m.leaves--
			}
			amt := m.allocate(lines, cur)
			if s := m.fillScore(lines, cur, amt); s.unfulfilled == best.unfulfilled && s.less(best) {
				best, bestAmt = s, amt
				bestSupport = make([][]int, len(cur))
				for j := range cur {
					bestSupport[j] = slices.Clone(cur[j])
				}
			}
			return true
		}
		for _, mask := range m.subsets(len(full[i])) {
			size := bits.OnesCount32(mask)
			if parts+size > best.parts {
				break
			}
			cur[i] = cur[i][:0]
			for j, pos := range full[i] {
				if mask&(1<<j) != 0 {
					cur[i] = append(cur[i], pos)
				}
			}
			if !walk(i+1, parts+size) {
				return false
			}
		}
		return true
	}
	walk(0, 0)
	return bestSupport, bestAmt, best
}

// subsets returns the subsets of n items as bit masks, smallest first.
func (m *model) subsets(n int) []uint32 {
	if s, ok := m.masks[n]; ok {
		return s
	}
	s := make([]uint32, 1<<n)
	for i := range s {
		s[i] = uint32(i)
	}
	slices.SortStableFunc(s, func(a, b uint32) int {
		return cmp.Compare(bits.OnesCount32(a), bits.OnesCount32(b))
	})
	m.masks[n] = s
	return s
}

// allocate fills lines from their supports: the most units, and among those
// the cheapest, then the most preferred. It returns units per support entry.
func (m *model) allocate(lines []int, support [][]int) [][]int64 {
	amt := make([][]int64, len(lines))
	for i := range lines {
		amt[i] = make([]int64, len(support[i]))
	}
	if len(lines) == 1 {
		// One line: cheapest facilities first.
		l := lines[0]
		order := make([]int, len(support[0]))
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int {
			pa, pb := m.unit[support[0][a]], m.unit[support[0][b]]
			switch {
			case pa.less(pb):
				return -1
			case pb.less(pa):
				return 1
			}
			return 0
		})
		left := m.qty[l]
		for _, j := range order {
			take := min(left, m.avail[support[0][j]][m.sku[l]])
			amt[0][j] = take
			left -= take
		}
		return amt
	}

	// Several lines compete for the same stock: a transportation problem.
	// Nodes: source, lines, (facility, SKU) slots, sink.
	nsku := m.nsku
	slot := map[int]int{}
	var keys []int
	for i, l := range lines {
		for _, pos := range support[i] {
			k := pos*nsku + m.sku[l]
			if _, ok := slot[k]; !ok {
				slot[k] = 1 + len(lines) + len(keys)
				keys = append(keys, k)
			}
		}
	}
	sink := 1 + len(lines) + len(keys)
	nw := newNetwork(sink + 1)
	arcs := make([][]int, len(lines))
	for i, l := range lines {
		nw.add(0, 1+i, m.qty[l], price{})
		arcs[i] = make([]int, len(support[i]))
		for j, pos := range support[i] {
			arcs[i][j] = nw.add(1+i, slot[pos*nsku+m.sku[l]], m.qty[l], m.unit[pos])
		}
	}
	for _, k := range keys {
		nw.add(slot[k], sink, m.avail[k/nsku][k%nsku], price{})
	}
	nw.minCostMaxFlow(0, sink)
	for i, l := range lines {
		for j := range support[i] {
			amt[i][j] = m.qty[l] - nw.g[1+i][arcs[i][j]].cap
		}
	}
	return amt
}

// fillScore scores a fill without shipments and their fixed costs.
func (m *model) fillScore(lines []int, support [][]int, amt [][]int64) score {
	var s score
	for i, l := range lines {
		s.unfulfilled += m.qty[l]
		for j, pos := range support[i] {
			if q := amt[i][j]; q > 0 {
				s.unfulfilled -= q
				s.parts++
				u := m.unit[pos].times(q)
				s.cost += u.money
				s.pref += u.pref
			}
		}
	}
	return s
}

// greedy covers the reachable units with few facilities: it adds the facility
// that supplies the most extra units (ties: lower fixed cost, then preferred)
// and then drops any facility the rest can do without, least preferred first.
func (m *model) greedy(target int64) []int {
	var set []int
	in := make([]bool, len(m.ids))
	var have int64
	for have < target {
		pick, gain := -1, int64(0)
		for _, pos := range m.useful {
			if in[pos] {
				continue
			}
			g := m.fulfil(append(slices.Clip(set), pos)) - have
			if g > gain || g == gain && g > 0 && m.fixed[pos] < m.fixed[pick] {
				pick, gain = pos, g
			}
		}
		if pick < 0 {
			break
		}
		in[pick] = true
		set = append(set, pick)
		have += gain
	}
	slices.Sort(set)
	for i := len(set) - 1; i >= 0; i-- {
		if without := slices.Delete(slices.Clone(set), i, i+1); m.fulfil(without) == target {
			set = without
		}
	}
	return set
}

// improve runs local search from set: drop a facility, swap one for an
// unused one, or replace two by one, taking the first move that improves the
// plan, until none does.
func (m *model) improve(set []int, target int64, joint bool) plan {
	best := m.evaluate(set, joint)
	try := func(cand []int) bool {
		slices.Sort(cand)
		if m.fulfil(cand) != target {
			return false
		}
		if c := m.evaluate(cand, joint); c.less(best.score) {
			best, set = c, cand
			return true
		}
		return false
	}
	outside := func() []int {
		var out []int
		for _, pos := range m.useful {
			if !slices.Contains(set, pos) {
				out = append(out, pos)
			}
		}
		return out
	}
	for range 100 {
		improved := false
	moves:
		for i := range set {
			if try(slices.Delete(slices.Clone(set), i, i+1)) {
				improved = true
				break moves
			}
		}
		if !improved {
		swaps:
			for i := range set {
				for _, pos := range outside() {
					cand := slices.Clone(set)
					cand[i] = pos
					if try(cand) {
						improved = true
						break swaps
					}
				}
			}
		}
		if !improved {
		merges:
			for i := range set {
				for j := i + 1; j < len(set); j++ {
					for _, pos := range outside() {
						cand := slices.Clone(set)
						cand[i] = pos
						cand = slices.Delete(cand, j, j+1)
						if try(cand) {
							improved = true
							break merges
						}
					}
				}
			}
		}
		if !improved {
			break
		}
	}
	return best
}

func (m *model) assignment(p plan) Assignment {
	a := Assignment{
		Unfulfilled: slices.Clone(m.qty),
		Shipments:   p.shipments,
		Cost:        p.cost,
		Exact:       m.exact,
	}
	slices.SortFunc(p.pieces, func(x, y piece) int {
		return cmp.Or(cmp.Compare(x.line, y.line), cmp.Compare(x.pos, y.pos))
	})
	for _, pc := range p.pieces {
		a.Parts = append(a.Parts, Part{Line: pc.line, FacilityID: m.ids[pc.pos], Quantity: pc.qty})
		a.Unfulfilled[pc.line] -= pc.qty
	}
	return a
}
