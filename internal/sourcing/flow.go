package sourcing

// price is what one unit costs on an arc: money first, then preference
// (facility rank). Comparing the pair lexicographically lets one min-cost
// flow settle both criteria.
type price struct{ money, pref int64 }

func (a price) plus(b price) price  { return price{a.money + b.money, a.pref + b.pref} }
func (a price) less(b price) bool   { return a.money < b.money || a.money == b.money && a.pref < b.pref }
func (a price) negate() price       { return price{-a.money, -a.pref} }
func (a price) times(n int64) price { return price{a.money * n, a.pref * n} }

type arc struct {
	to, rev int
	cap     int64
	unit    price
}

// network is a small flow network solved by successive shortest paths with
// Bellman–Ford, which is plenty for an order's few lines and facilities.
type network struct{ g [][]arc }

func newNetwork(nodes int) *network { return &network{g: make([][]arc, nodes)} }

// add adds an arc u→v and returns its index in g[u].
func (n *network) add(u, v int, cap int64, unit price) int {
	n.g[u] = append(n.g[u], arc{to: v, rev: len(n.g[v]), cap: cap, unit: unit})
	n.g[v] = append(n.g[v], arc{to: u, rev: len(n.g[u]) - 1, unit: unit.negate()})
	return len(n.g[u]) - 1
}

// minCostMaxFlow pushes the most flow from s to t and, among maximum flows,
// the cheapest.
func (n *network) minCostMaxFlow(s, t int) {
	size := len(n.g)
	dist := make([]price, size)
	seen := make([]bool, size)
	prevNode := make([]int, size)
	prevArc := make([]int, size)
	for {
		clear(seen)
		seen[s] = true
		dist[s] = price{}
		for range size {
			changed := false
			for u := range size {
				if !seen[u] {
					continue
				}
				for i, a := range n.g[u] {
					if a.cap <= 0 {
						continue
					}
					d := dist[u].plus(a.unit)
					if !seen[a.to] || d.less(dist[a.to]) {
						seen[a.to], dist[a.to] = true, d
						prevNode[a.to], prevArc[a.to] = u, i
						changed = true
					}
				}
			}
			if !changed {
				break
			}
		}
		if !seen[t] {
			return
		}
		push := int64(-1)
		for v := t; v != s; v = prevNode[v] {
			if c := n.g[prevNode[v]][prevArc[v]].cap; push < 0 || c < push {
				push = c
			}
		}
		for v := t; v != s; v = prevNode[v] {
			a := &n.g[prevNode[v]][prevArc[v]]
			a.cap -= push
			n.g[v][a.rev].cap += push
		}
	}
}
