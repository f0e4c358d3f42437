package ordercsv

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// progressEvery is how many rows pass between progress reports.
const progressEvery = 1000

// Check reads every order of an order CSV and collects what is wrong with
// it, by row and column, without changing anything: what the rows say
// (Reader.Next), what check says of each order (order.Check, or a check of
// the caller's that also knows the catalogue), re-labelled with the rows
// and columns the order came from (Order.Problems), and orders whose rows
// are not together in the file (they would import as two orders, or the
// second not at all).
//
// It stops once maxErrors problems are found (no limit when maxErrors is
// 0 or less); orders and rows then count what was read. progress, when
// set, is called with the rows read every thousand rows and at the end.
// err is for a file that cannot be read or a check that failed for
// another reason than the order (its kind is not Invalid); problems are in
// row order.
func Check(r io.Reader, check func(order.Input) error, maxErrors int, progress func(rows int)) (orders, rows int, problems []RowError, err error) {
	const op = "ordercsv.Check"
	rd, es, err := newReader(r)
	if err != nil {
		return 0, 0, nil, errs.E(op, errs.Invalid, "cannot read the file", err)
	}
	if len(es) > 0 {
		return 0, 0, es, nil
	}
	full := func() bool { return maxErrors > 0 && len(problems) >= maxErrors }
	add := func(es ...RowError) {
		for _, e := range es {
			if full() {
				return
			}
			problems = append(problems, e)
		}
	}
	var keys []orderKey
	reported := 0
	for !full() {
		o, es, err := rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return orders, rows, problems, errs.E(op, errs.Invalid, "cannot read the file", err)
		}
		orders++
		rows += o.LastRow - o.FirstRow + 1
		add(es...)
		if check != nil && o.src != nil {
			if cerr := check(o.Input); cerr != nil {
				if !errs.Is(errs.Invalid, cerr) {
					return orders, rows, problems, errs.E(op, fmt.Sprintf("rows %d-%d", o.FirstRow, o.LastRow), cerr)
				}
				add(merge(es, o.Problems(cerr), rd.names[fTotal])...)
			}
		}
		if o.src != nil && o.Input.ExternalID != "" {
			keys = append(keys, orderKey{hash: keyHash(o.Input), first: int32(min(o.FirstRow, 1<<31-1)), last: int32(min(o.LastRow, 1<<31-1))})
		}
		if progress != nil && rows-reported >= progressEvery {
			progress(rows)
			reported = rows
		}
	}
	if !full() {
		add(scattered(keys, rd.names[fExternalID], rd.shopify)...)
	}
	if progress != nil {
		progress(rows)
	}
	slices.SortStableFunc(problems, func(a, b RowError) int { return cmp.Compare(a.Row, b.Row) })
	return orders, rows, problems, nil
}

// merge returns the problems check found that the reading did not: when
// a cell could not be read, the check sees it empty and says so again.
// Problems of the order as a whole, and a total that does not add up,
// follow from unreadable cells too and are left out while there are any.
func merge(read, checked []RowError, totalColumn string) []RowError {
	if len(read) == 0 {
		return checked
	}
	type at struct {
		row    int
		column string
	}
	seen := map[at]bool{}
	for _, e := range read {
		seen[at{e.Row, e.Column}] = true
	}
	var out []RowError
	for _, e := range checked {
		if e.Column == "" || e.Column == totalColumn || seen[at{e.Row, e.Column}] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// orderKey is an order's (channel, external id), hashed, and its rows:
// 16 bytes an order, so a million-order file needs 16 MB to find orders
// whose rows are apart.
type orderKey struct {
	hash        uint64
	first, last int32
}

func keyHash(in order.Input) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(in.Channel))))
	h.Write([]byte{0})
	h.Write([]byte(strings.TrimSpace(in.ExternalID)))
	return h.Sum64()
}

// scattered reports the orders that appear in more than one place. (Two
// different orders whose 64-bit hashes collide would be reported too; in a
// file of a million orders the odds are about one in 30 million.)
func scattered(keys []orderKey, column string, shopify bool) []RowError {
	slices.SortFunc(keys, func(a, b orderKey) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.first, b.first)
	})
	what := "external_id"
	if shopify {
		what = "Name (or Id)"
	}
	var out []RowError
	for i := 1; i < len(keys); i++ {
		if keys[i].hash != keys[i-1].hash {
			continue
		}
		j := i - 1
		for j > 0 && keys[j-1].hash == keys[i].hash {
			j--
		}
		out = append(out, RowError{Row: int(keys[i].first), LastRow: int(keys[i].last),
			Message: fmt.Sprintf("the same order (channel and %s) is also on rows %d-%d; the rows of one order must be next to each other", what, keys[j].first, keys[j].last)})
	}
	return out
}

// Result says what Import did.
type Result struct {
	Orders   int // orders read
	Created  int
	Existing int // already known (same channel and external id): left as they were
	Rows     int
}

// Import creates the orders of an order CSV, one at a time, through
// create, which returns whether it created the order or found it already
// there (order.Service.Create does: an order is unique by channel and
// external id, so importing a file again, or after a failure half way,
// creates only what is missing).
//
// Import does not check the file first: callers run Check over it and
// import only a file without problems, reading it a second time. A row
// problem found now (the file changed in between) stops the import with
// an Invalid error naming the rows; so does an order create refuses, its
// field errors put back into rows and columns. Orders before it stay
// created.
func Import(ctx context.Context, r io.Reader, create func(context.Context, order.Input) (created bool, err error), progress func(rows int)) (Result, error) {
	const op = "ordercsv.Import"
	var res Result
	rd, err := NewReader(r)
	if err != nil {
		return res, errs.E(op, err)
	}
	reported := 0
	for {
		if err := ctx.Err(); err != nil {
			return res, errs.E(op, errs.Transient, err)
		}
		o, es, err := rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, errs.E(op, errs.Invalid, "cannot read the file", err)
		}
		if len(es) > 0 {
			return res, errs.E(op, errs.Conflict, "the file changed since it was checked", invalid(op, es))
		}
		created, err := create(ctx, o.Input)
		if err != nil {
			if errs.Is(errs.Invalid, err) {
				return res, invalid(op, o.Problems(err))
			}
			return res, errs.E(op, fmt.Sprintf("rows %d-%d", o.FirstRow, o.LastRow), err)
		}
		res.Orders++
		res.Rows += o.LastRow - o.FirstRow + 1
		if created {
			res.Created++
		} else {
			res.Existing++
		}
		if progress != nil && res.Rows-reported >= progressEvery {
			progress(res.Rows)
			reported = res.Rows
		}
	}
	if progress != nil {
		progress(res.Rows)
	}
	return res, nil
}
