package inventory

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
)

// TransferRequest moves stock from one facility to another.
type TransferRequest struct {
	From  string // facility codes
	To    string
	Lines []ReserveLine
	Note  string
	Actor string
}

// CreateTransfer takes stock out of the source at once (it must be
// available there) and records it as incoming at the destination.
func (s *Service) CreateTransfer(ctx context.Context, tenantID string, req TransferRequest) (Transfer, error) {
	const op = "inventory.CreateTransfer"
	from, _, err := s.locate(ctx, tenantID, req.From, "", "from", "")
	if err != nil {
		return Transfer{}, err
	}
	to, _, err := s.locate(ctx, tenantID, req.To, "", "to", "")
	if err != nil {
		return Transfer{}, err
	}
	var fe errs.FieldList
	if from.ID == to.ID {
		fe.Add("to", "must differ from the source facility", req.To)
	}
	if len(req.Lines) == 0 || len(req.Lines) > 500 {
		fe.Add("lines", "must list 1 to 500 lines", len(req.Lines))
	}
	t := Transfer{ID: id.New("trf"), TenantID: tenantID, FromFacilityID: from.ID, ToFacilityID: to.ID, Status: InTransit, Note: strings.TrimSpace(req.Note), CreatedAt: s.now()}
	seen := map[string]bool{}
	for i, l := range req.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		if l.Quantity < 1 || l.Quantity > 1_000_000 {
			fe.Add(field+".quantity", "must be between 1 and 1000000", l.Quantity)
		}
		it, err := s.stockItem(ctx, tenantID, strings.TrimSpace(l.SKU), field+".sku")
		if err != nil {
			if errs.Is(errs.Invalid, err) {
				fe = append(fe, errs.Fields(err)...)
				continue
			}
			return Transfer{}, err
		}
		if seen[it.ID] {
			fe.Add(field+".sku", "is listed twice", l.SKU)
		}
		seen[it.ID] = true
		t.Lines = append(t.Lines, TransferLine{ProductID: it.ID, SKU: it.SKU, Quantity: l.Quantity})
	}
	if err := fe.Err(op); err != nil {
		return Transfer{}, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateTransfer(ctx, &t); err != nil {
			return err
		}
		var pids []string
		for i, l := range t.Lines {
			// Stock leaving the source is transfer_out there; everything at
			// the destination, incoming now and on hand when received, is
			// transfer_in.
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: from.ID, Kind: TransferOut, OnHand: -l.Quantity, RefType: "transfer", RefID: t.ID, Actor: req.Actor,
				Field: fmt.Sprintf("lines[%d].quantity", i)}); err != nil {
				return err
			}
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: to.ID, Kind: TransferIn, Incoming: l.Quantity, RefType: "transfer", RefID: t.ID, Actor: req.Actor}); err != nil {
				return err
			}
			pids = append(pids, l.ProductID)
		}
		if err := s.afterChange(ctx, tx, tenantID, pids, from.ID, nil); err != nil {
			return err
		}
		return tx.Emit(ctx, tenantID, "inventory.transfer_created", "transfer", t.ID, transferPayload(t, from.Code, to.Code))
	})
	if err != nil {
		return Transfer{}, errs.E(op, err)
	}
	return s.Transfer(ctx, tenantID, t.ID)
}

// ReceiveTransfer books a transfer's stock into the destination (into a
// bin when given). Receiving a received transfer changes nothing.
func (s *Service) ReceiveTransfer(ctx context.Context, tenantID, transferID, binCode, actor string) (Transfer, error) {
	const op = "inventory.ReceiveTransfer"
	t, err := s.Transfer(ctx, tenantID, transferID)
	if err != nil {
		return Transfer{}, err
	}
	binID := ""
	if binCode != "" {
		dest, err := s.store.Facility(ctx, tenantID, t.ToFacilityID)
		if err != nil {
			return Transfer{}, err
		}
		if _, binID, err = s.locate(ctx, tenantID, dest.Code, binCode, "", "bin"); err != nil {
			return Transfer{}, err
		}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		ok, err := tx.SetTransferStatus(ctx, tenantID, t.ID, InTransit, TransferReceived, s.now())
		if err != nil || !ok {
			if err == nil && t.Status != TransferReceived {
				err = errs.E(op, errs.Conflict, "transfer is "+string(t.Status))
			}
			return err
		}
		var pids []string
		for _, l := range t.Lines {
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: t.ToFacilityID, BinID: binID, Kind: TransferIn, OnHand: l.Quantity, Incoming: -l.Quantity, RefType: "transfer", RefID: t.ID, Actor: actor}); err != nil {
				return err
			}
			pids = append(pids, l.ProductID)
		}
		// The destination now has the stock: it may no longer be low.
		if err := s.afterChange(ctx, tx, tenantID, pids, t.ToFacilityID, nil); err != nil {
			return err
		}
		t.Status = TransferReceived
		return tx.Emit(ctx, tenantID, "inventory.transfer_received", "transfer", t.ID, transferPayload(t, "", ""))
	})
	if err != nil {
		return Transfer{}, errs.E(op, err)
	}
	return s.Transfer(ctx, tenantID, t.ID)
}

// Transfer returns one transfer.
func (s *Service) Transfer(ctx context.Context, tenantID, id string) (Transfer, error) {
	var t Transfer
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		t, err = tx.Transfer(ctx, tenantID, id)
		return err
	})
	return t, err
}

// ListTransfers lists transfers, newest first.
func (s *Service) ListTransfers(ctx context.Context, tenantID, after string, limit int) ([]Transfer, string, error) {
	limit = clampLimit(limit)
	ts, err := s.store.ListTransfers(ctx, tenantID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) > limit {
		ts = ts[:limit]
		next = ts[limit-1].ID
	}
	return ts, next, nil
}

// CountLine is one counted SKU (at a bin and lot).
type CountLine struct {
	SKU     string
	Bin     string
	Lot     string
	Counted int64
}

// CountResult is what a count found for one line.
type CountResult struct {
	SKU      string
	Bin      string
	Lot      string
	Expected int64
	Counted  int64
	Delta    int64
}

// RecordCount compares counted with expected stock per line and books the
// differences as count movements, all in one transaction. A count that
// would leave less on hand than is reserved is refused (Conflict): release
// or re-route those reservations first.
func (s *Service) RecordCount(ctx context.Context, tenantID, facilityCode string, lines []CountLine, actor string) (string, []CountResult, error) {
	const op = "inventory.RecordCount"
	f, _, err := s.locate(ctx, tenantID, facilityCode, "", "facility", "")
	if err != nil {
		return "", nil, err
	}
	var fe errs.FieldList
	if len(lines) == 0 || len(lines) > 2000 {
		fe.Add("lines", "must list 1 to 2000 lines", len(lines))
	}
	var items []countItem
	for i, l := range lines {
		field := fmt.Sprintf("lines[%d]", i)
		if l.Counted < 0 || l.Counted > 1_000_000_000 {
			fe.Add(field+".counted", "must be between 0 and 1000000000", l.Counted)
		}
		it, err := s.stockItem(ctx, tenantID, strings.TrimSpace(l.SKU), field+".sku")
		if err != nil {
			if errs.Is(errs.Invalid, err) {
				fe = append(fe, errs.Fields(err)...)
				continue
			}
			return "", nil, err
		}
		_, binID, err := s.locate(ctx, tenantID, f.Code, l.Bin, "facility", field+".bin")
		if err != nil {
			if errs.Is(errs.Invalid, err) {
				fe = append(fe, errs.Fields(err)...)
				continue
			}
			return "", nil, err
		}
		items = append(items, countItem{it: it, binID: binID, bin: l.Bin, lot: strings.TrimSpace(l.Lot), counted: l.Counted, field: field + ".counted"})
	}
	if err := fe.Err(op); err != nil {
		return "", nil, err
	}
	countID := id.New("cnt")
	var out []CountResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		var pids []string
		for _, it := range items {
			pids = append(pids, it.it.ID)
		}
		// Lock the balances first so the expected figures cannot move.
		if _, err := lockLevels(ctx, tx, tenantID, pids, f.ID); err != nil {
			return err
		}
		var err error
		out, err = s.book(ctx, tx, tenantID, f, items, countID, "cycle count", actor)
		if err != nil {
			return err
		}
		if err := s.afterChange(ctx, tx, tenantID, changedProducts(items, out), f.ID, nil); err != nil {
			return err
		}
		return tx.Emit(ctx, tenantID, "inventory.counted", "count", countID, countPayload(countID, f, out, actor))
	})
	if err != nil {
		return "", nil, errs.E(op, err)
	}
	return countID, out, nil
}

// countItem is one counted location, resolved.
type countItem struct {
	it      Item
	binID   string
	bin     string // the bin's code, as given
	lot     string
	counted int64
	field   string // the request field a refusal names
	// expected, when known, is what the location held when its balance
	// was locked; otherwise book reads it.
	expected int64
	known    bool
}

// book is the count path: it compares each item's counted figure with the
// expected stock at its location in facility f and books the difference
// as a count movement (ref count/countID). A location is read just before
// it changes, so one listed twice ends at its last figure. The caller holds
// the balances (lockLevels) and decides what to emit.
func (s *Service) book(ctx context.Context, tx Tx, tenantID string, f Facility, items []countItem, countID, reason, actor string) ([]CountResult, error) {
	out := make([]CountResult, 0, len(items))
	for _, c := range items {
		expected := c.expected
		if !c.known {
			var err error
			if expected, err = tx.LocationOnHand(ctx, tenantID, c.it.ID, f.ID, c.binID, c.lot); err != nil {
				return nil, err
			}
		}
		res := CountResult{SKU: c.it.SKU, Bin: c.bin, Lot: c.lot, Expected: expected, Counted: c.counted, Delta: c.counted - expected}
		if res.Delta != 0 {
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: c.it.ID, FacilityID: f.ID, BinID: c.binID, Lot: c.lot, Kind: Count, OnHand: res.Delta,
				Reason: reason, RefType: "count", RefID: countID, Actor: actor, Field: c.field}); err != nil {
				return nil, err
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// changedProducts lists the products of items whose count changed stock.
func changedProducts(items []countItem, res []CountResult) []string {
	var pids []string
	for i, r := range res {
		if r.Delta != 0 {
			pids = append(pids, items[i].it.ID)
		}
	}
	return pids
}

func countPayload(countID string, f Facility, res []CountResult, actor string) map[string]any {
	lines := []map[string]any{}
	for _, r := range res {
		lines = append(lines, map[string]any{"sku": r.SKU, "bin": r.Bin, "lot": r.Lot, "expected": r.Expected, "counted": r.Counted, "delta": r.Delta})
	}
	return map[string]any{"id": countID, "facility": f.Code, "facility_id": f.ID, "lines": lines, "actor": actor}
}

// lockLevels reads the balances of products at one facility in tx, locked
// on PostgreSQL, in product order and in chunks (so the lock order is
// fixed and no query has too many parameters). Each product appears once;
// a balance without a row reads as zero with a zero UpdatedAt.
func lockLevels(ctx context.Context, tx Tx, tenantID string, productIDs []string, facilityID string) ([]Level, error) {
	pids := slices.Clone(productIDs)
	slices.Sort(pids)
	pids = slices.Compact(pids)
	out := make([]Level, 0, len(pids))
	for chunk := range slices.Chunk(pids, lockChunk) {
		m, err := tx.Levels(ctx, tenantID, chunk, []string{facilityID})
		if err != nil {
			return nil, err
		}
		for _, pid := range chunk {
			out = append(out, m[[2]string{pid, facilityID}])
		}
	}
	return out, nil
}

// Cover is a SKU's days of cover at a facility and what to do about it.
type Cover struct {
	ProductID    string   `json:"product_id"`
	FacilityID   string   `json:"facility_id"`
	Available    int64    `json:"available"`
	DailyDemand  float64  `json:"daily_demand"`
	DaysOfCover  *float64 `json:"days_of_cover"` // nil when nothing sells
	LeadTimeDays int      `json:"lead_time_days"`
	SafetyDays   int      `json:"safety_days"`
	SafetyStock  int64    `json:"safety_stock"`
	ReorderPoint int64    `json:"reorder_point"`
	Low          bool     `json:"low"`
	Reason       string   `json:"reason,omitempty"`
}

// CoverOf computes days of cover from a level, average daily demand and
// reorder settings. The seed's example: 200 available, 5 a day → 40 days;
// with a 30-day lead time and 14 safety days it is low.
func CoverOf(l Level, dailyDemand float64, rs ReorderSettings) Cover {
	c := Cover{ProductID: l.ProductID, FacilityID: l.FacilityID, Available: l.Available(), DailyDemand: dailyDemand,
		LeadTimeDays: rs.LeadTimeDays, SafetyDays: rs.SafetyDays, SafetyStock: rs.SafetyStock}
	horizon := float64(rs.LeadTimeDays + rs.SafetyDays)
	c.ReorderPoint = int64(math.Ceil(dailyDemand*horizon)) + rs.SafetyStock
	if rs.ReorderPoint != nil {
		c.ReorderPoint = *rs.ReorderPoint
	}
	if dailyDemand > 0 {
		d := math.Round(float64(c.Available)/dailyDemand*10) / 10
		c.DaysOfCover = &d
	}
	nothingConfigured := rs.LeadTimeDays == 0 && rs.SafetyDays == 0 && rs.SafetyStock == 0 && rs.ReorderPoint == nil
	switch {
	case nothingConfigured:
		// Without a lead time or a reorder point there is nothing to warn against.
	case c.DaysOfCover != nil && *c.DaysOfCover < horizon:
		c.Low = true
		c.Reason = fmt.Sprintf("%.1f days of cover is less than the %d-day lead time plus %d safety days", *c.DaysOfCover, rs.LeadTimeDays, rs.SafetyDays)
	case c.Available <= c.ReorderPoint && (dailyDemand > 0 || rs.ReorderPoint != nil || rs.SafetyStock > 0):
		c.Low = true
		c.Reason = fmt.Sprintf("available %d is at or below the reorder point %d", c.Available, c.ReorderPoint)
	}
	return c
}

// coversTx computes the cover of balances read in tx, reading demand and
// reorder settings for all of them in two queries.
func (s *Service) coversTx(ctx context.Context, tx Tx, tenantID string, levels []Level) (map[[2]string]Cover, error) {
	var pids, fids []string
	for _, l := range levels {
		pids, fids = append(pids, l.ProductID), append(fids, l.FacilityID)
	}
	slices.Sort(pids)
	slices.Sort(fids)
	pids, fids = slices.Compact(pids), slices.Compact(fids)
	demand, err := tx.DemandSince(ctx, tenantID, pids, fids, s.now().Add(-s.DemandWindow))
	if err != nil {
		return nil, err
	}
	rs, err := tx.ReorderSettingsFor(ctx, tenantID, pids)
	if err != nil {
		return nil, err
	}
	days := s.DemandWindow.Hours() / 24
	out := map[[2]string]Cover{}
	for _, l := range levels {
		k := [2]string{l.ProductID, l.FacilityID}
		r, ok := rs[l.ProductID]
		if !ok {
			r = ReorderSettings{ProductID: l.ProductID}
		}
		out[k] = CoverOf(l, float64(max(demand[k], 0))/days, r)
	}
	return out, nil
}

// LevelWithCover is a balance with its days of cover.
type LevelWithCover struct {
	Level
	Cover Cover
}

// Levels lists balances with days of cover, a page at a time.
func (s *Service) Levels(ctx context.Context, tenantID string, f LevelFilter) ([]LevelWithCover, string, error) {
	f.Limit = clampLimit(f.Limit)
	want := f.Limit
	f.Limit++
	ls, err := s.store.ListLevels(ctx, tenantID, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ls) > want {
		ls = ls[:want]
		next = ls[want-1].FacilityID + "/" + ls[want-1].ProductID
	}
	covers, err := s.covers(ctx, tenantID, ls)
	if err != nil {
		return nil, "", err
	}
	out := make([]LevelWithCover, len(ls))
	for i, l := range ls {
		out[i] = LevelWithCover{Level: l, Cover: covers[i]}
	}
	return out, next, nil
}

// covers computes the days of cover of one tenant's balances through the
// read path: demand and reorder settings in two queries, nothing locked and
// no write transaction (which on SQLite would queue behind every writer).
func (s *Service) covers(ctx context.Context, tenantID string, ls []Level) ([]Cover, error) {
	out := make([]Cover, len(ls))
	if len(ls) == 0 {
		return out, nil
	}
	var pids, fids []string
	for _, l := range ls {
		pids = append(pids, l.ProductID)
		fids = append(fids, l.FacilityID)
	}
	slices.Sort(pids)
	slices.Sort(fids)
	pids, fids = slices.Compact(pids), slices.Compact(fids)
	demand, err := s.store.DemandSince(ctx, tenantID, pids, fids, s.now().Add(-s.DemandWindow))
	if err != nil {
		return nil, err
	}
	settings, err := s.store.ReorderSettingsFor(ctx, tenantID, pids)
	if err != nil {
		return nil, err
	}
	days := s.DemandWindow.Hours() / 24
	for i, l := range ls {
		rs, ok := settings[l.ProductID]
		if !ok {
			rs = ReorderSettings{ProductID: l.ProductID}
		}
		out[i] = CoverOf(l, float64(max(demand[[2]string{l.ProductID, l.FacilityID}], 0))/days, rs)
	}
	return out, nil
}

// Movements lists ledger rows, newest first.
func (s *Service) Movements(ctx context.Context, tenantID string, f MovementFilter) ([]Movement, string, error) {
	f.Limit = clampLimit(f.Limit)
	want := f.Limit
	f.Limit++
	ms, err := s.store.ListMovements(ctx, tenantID, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > want {
		ms = ms[:want]
		next = ms[want-1].ID
	}
	return ms, next, nil
}

// SetReorderSettings sets a SKU's lead time and safety stock.
func (s *Service) SetReorderSettings(ctx context.Context, tenantID, sku string, rs ReorderSettings) (ReorderSettings, error) {
	var fe errs.FieldList
	if rs.LeadTimeDays < 0 || rs.LeadTimeDays > 3650 {
		fe.Add("lead_time_days", "must be between 0 and 3650", rs.LeadTimeDays)
	}
	if rs.SafetyDays < 0 || rs.SafetyDays > 3650 {
		fe.Add("safety_days", "must be between 0 and 3650", rs.SafetyDays)
	}
	if rs.SafetyStock < 0 {
		fe.Add("safety_stock", "must not be negative", rs.SafetyStock)
	}
	if rs.ReorderPoint != nil && *rs.ReorderPoint < 0 {
		fe.Add("reorder_point", "must not be negative", *rs.ReorderPoint)
	}
	if err := fe.Err("inventory.SetReorderSettings"); err != nil {
		return ReorderSettings{}, err
	}
	it, err := s.stockItem(ctx, tenantID, strings.TrimSpace(sku), "sku")
	if err != nil {
		return ReorderSettings{}, err
	}
	rs.ProductID = it.ID
	facs, err := s.store.ListFacilities(ctx, tenantID)
	if err != nil {
		return ReorderSettings{}, err
	}
	fids := make([]string, len(facs))
	for i, f := range facs {
		fids[i] = f.ID
	}
	slices.Sort(fids)
	// New settings move the reorder point: the SKU's balances are flagged
	// (and alerted) with the change, not at their next sale.
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.SetReorderSettings(ctx, tenantID, rs); err != nil {
			return err
		}
		levels, err := tx.Levels(ctx, tenantID, []string{it.ID}, fids)
		if err != nil {
			return err
		}
		list := make([]Level, 0, len(fids))
		for _, fid := range fids {
			list = append(list, levels[[2]string{it.ID, fid}])
		}
		_, err = s.flagLowStock(ctx, tx, tenantID, list)
		return err
	})
	if err != nil {
		return ReorderSettings{}, errs.E("inventory.SetReorderSettings", err)
	}
	return rs, nil
}

// RecheckLowStock brings the low-stock flag of every balance that has
// reorder settings (or is flagged) up to date with its cover now, across
// tenants, emitting inventory.low_stock or inventory.restocked where it
// changes. Stock changes do this as they happen; the sweep catches what
// moves without one, above all demand ageing out of the window. It reads
// without locks and writes only where a flag changes, one short
// transaction per page and tenant. It returns how many flags changed.
func (s *Service) RecheckLowStock(ctx context.Context) (int, error) {
	const op = "inventory.RecheckLowStock"
	const page = 500
	n := 0
	var after Level
	for {
		ls, err := s.store.LowStockCandidates(ctx, after, page)
		if err != nil {
			return n, errs.E(op, err)
		}
		for start := 0; start < len(ls); {
			end := start + 1
			for end < len(ls) && ls[end].TenantID == ls[start].TenantID {
				end++
			}
			changed, err := s.recheck(ctx, ls[start].TenantID, ls[start:end])
			n += changed
			if err != nil {
				return n, errs.E(op, err)
			}
			start = end
		}
		if len(ls) < page {
			return n, nil
		}
		after = ls[len(ls)-1]
	}
}

// recheck flags those of one tenant's balances whose cover disagrees with
// their flag, reading them again locked so a change made meanwhile counts.
func (s *Service) recheck(ctx context.Context, tenantID string, ls []Level) (int, error) {
	covers, err := s.covers(ctx, tenantID, ls)
	if err != nil {
		return 0, err
	}
	stale := map[string][]string{} // facility -> products
	for i, l := range ls {
		if covers[i].Low != l.LowStock {
			stale[l.FacilityID] = append(stale[l.FacilityID], l.ProductID)
		}
	}
	if len(stale) == 0 {
		return 0, nil
	}
	n := 0
	err = s.store.InTx(ctx, func(tx Tx) error {
		n = 0
		for _, fid := range slices.Sorted(maps.Keys(stale)) {
			levels, err := lockLevels(ctx, tx, tenantID, stale[fid], fid)
			if err != nil {
				return err
			}
			changed, err := s.flagLowStock(ctx, tx, tenantID, levels)
			n += changed
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Check recomputes balances from the ledger.
func (s *Service) Check(ctx context.Context) ([]Discrepancy, error) { return s.store.Check(ctx) }

// Now is the service's clock (tests may replace it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// ReorderSettingsOf returns a product's reorder settings (zeros when unset).
func (s *Service) ReorderSettingsOf(ctx context.Context, tenantID, productID string) (ReorderSettings, error) {
	all, err := s.store.ReorderSettingsFor(ctx, tenantID, []string{productID})
	if err != nil {
		return ReorderSettings{}, err
	}
	if rs, ok := all[productID]; ok {
		return rs, nil
	}
	return ReorderSettings{ProductID: productID}, nil
}

func transferPayload(t Transfer, from, to string) map[string]any {
	lines := []map[string]any{}
	for _, l := range t.Lines {
		lines = append(lines, map[string]any{"sku": l.SKU, "product_id": l.ProductID, "quantity": l.Quantity})
	}
	p := map[string]any{"id": t.ID, "status": t.Status, "from_facility_id": t.FromFacilityID, "to_facility_id": t.ToFacilityID, "lines": lines, "note": t.Note}
	if from != "" {
		p["from"], p["to"] = from, to
	}
	return p
}
