// Package sourcing decides which facilities fulfil an order's lines. It is a
// pure, deterministic optimiser: it reads plain data (lines, facilities, stock,
// routing limits, cost profiles) and returns an assignment, with no database
// and no I/O, so routing can call it inside its own transaction.
//
// An assignment is judged lexicographically by
//
//  1. units that cannot be fulfilled,
//  2. shipments (distinct facilities used),
//  3. split parts (line × facility pieces): a line stays at one facility
//     unless splitting it fulfils more units or saves a shipment,
//  4. estimated cost in minor units,
//  5. preference: units × facility rank, lower is preferred,
//
// and remaining ties go to the facility with the lower rank, then the lower ID.
package sourcing

// Line is one order line to be sourced.
type Line struct {
	SKU      string
	Quantity int64
}

// Facility is a place that can ship: the seller's warehouse, a 3PL or a
// dropship supplier, with the cost of sending this order from it.
type Facility struct {
	ID   string // unique; a later facility with a repeated ID is ignored
	Rank int    // routing preference, lower is preferred
	// Costs in minor units of the order's currency.
	PerShipment  int64 // handling per parcel
	PerUnit      int64 // pick and pack per unit
	DistanceCost int64 // carriage per parcel from this facility to this order's destination
}

// Problem is everything Solve needs for one order.
type Problem struct {
	Lines      []Line
	Facilities []Facility
	// Allowed lists, per line, the indexes into Facilities that routing rules
	// allow for it. A nil Allowed, or a nil entry, or a missing entry, allows
	// every facility; an empty non-nil entry allows none.
	Allowed [][]int
	// Available is facility ID → SKU → units that can be promised. Lines of
	// the same SKU share a facility's units.
	Available map[string]map[string]int64
}

// Part sends Quantity units of Lines[Line] from one facility.
type Part struct {
	Line       int
	FacilityID string
	Quantity   int64
}

// Assignment is Solve's answer.
type Assignment struct {
	Parts       []Part  // ordered by line, then facility rank and ID
	Unfulfilled []int64 // per line: units no allowed facility can supply
	Shipments   int     // distinct facilities used
	Cost        int64   // Σ used (PerShipment + DistanceCost) + Σ units × PerUnit
	// Exact reports that the assignment is proven optimal; false means the
	// search space was too large and a heuristic answered.
	Exact bool
}

// Budgets for Solve. Exact enumeration examines facility subsets in order of
// size; up to exactSubsets of them (all subsets of 8 useful facilities, or up
// to three-facility subsets of 10) it stays exact, beyond it a greedy cover
// with local improvement answers. fillLeaves caps the line-split patterns
// tried per Solve.
const (
	exactSubsets = 255
	fillLeaves   = 1 << 16
)

// Solve returns the best assignment it can find: exact when the search space
// is small, otherwise a heuristic answer (Assignment.Exact tells which). The
// same Problem always yields the same Assignment.
func Solve(p Problem) Assignment {
	return newModel(p).search(false, exactSubsets, fillLeaves)
}

// Exhaustive returns a proven optimal assignment without any budget. It is the
// reference for tests and benchmarks and may be slow for many facilities and
// lines.
func Exhaustive(p Problem) Assignment {
	return newModel(p).search(true, -1, -1)
}
