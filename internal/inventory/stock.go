package inventory

import (
	"context"
	"fmt"
	"math"
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
		for _, l := range t.Lines {
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: from.ID, Kind: TransferOut, OnHand: -l.Quantity, RefType: "transfer", RefID: t.ID, Actor: req.Actor}); err != nil {
				return err
			}
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: to.ID, Kind: TransferOut, Incoming: l.Quantity, RefType: "transfer", RefID: t.ID, Actor: req.Actor}); err != nil {
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
		for _, l := range t.Lines {
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: t.ToFacilityID, BinID: binID, Kind: TransferIn, OnHand: l.Quantity, Incoming: -l.Quantity, RefType: "transfer", RefID: t.ID, Actor: actor}); err != nil {
				return err
			}
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
	type resolved struct {
		it    Item
		binID string
		l     CountLine
	}
	var rs []resolved
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
		rs = append(rs, resolved{it, binID, l})
	}
	if err := fe.Err(op); err != nil {
		return "", nil, err
	}
	countID := id.New("cnt")
	var out []CountResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		out = nil
		var pids []string
		for _, r := range rs {
			// Lock the balance row first so the expected figure cannot move.
			if _, err := tx.Levels(ctx, tenantID, []string{r.it.ID}, []string{f.ID}); err != nil {
				return err
			}
			expected, err := tx.LocationOnHand(ctx, tenantID, r.it.ID, f.ID, r.binID, strings.TrimSpace(r.l.Lot))
			if err != nil {
				return err
			}
			res := CountResult{SKU: r.it.SKU, Bin: r.l.Bin, Lot: strings.TrimSpace(r.l.Lot), Expected: expected, Counted: r.l.Counted, Delta: r.l.Counted - expected}
			if res.Delta != 0 {
				if _, err := tx.Apply(ctx, tenantID, Change{ProductID: r.it.ID, FacilityID: f.ID, BinID: r.binID, Lot: res.Lot, Kind: Count, OnHand: res.Delta,
					Reason: "cycle count", RefType: "count", RefID: countID, Actor: actor}); err != nil {
					return err
				}
				pids = append(pids, r.it.ID)
			}
			out = append(out, res)
		}
		if len(pids) > 0 {
			if err := s.afterChange(ctx, tx, tenantID, pids, f.ID, nil); err != nil {
				return err
			}
		}
		lines := []map[string]any{}
		for _, r := range out {
			lines = append(lines, map[string]any{"sku": r.SKU, "bin": r.Bin, "lot": r.Lot, "expected": r.Expected, "counted": r.Counted, "delta": r.Delta})
		}
		return tx.Emit(ctx, tenantID, "inventory.counted", "count", countID, map[string]any{"id": countID, "facility": f.Code, "facility_id": f.ID, "lines": lines, "actor": actor})
	})
	if err != nil {
		return "", nil, errs.E(op, err)
	}
	return countID, out, nil
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

func (s *Service) coverTx(ctx context.Context, tx Tx, tenantID string, l Level) (Cover, error) {
	since := s.now().Add(-s.DemandWindow)
	demand, err := tx.Demand(ctx, tenantID, l.ProductID, l.FacilityID, since)
	if err != nil {
		return Cover{}, err
	}
	rs, err := tx.ReorderSettings(ctx, tenantID, l.ProductID)
	if err != nil {
		return Cover{}, err
	}
	days := s.DemandWindow.Hours() / 24
	return CoverOf(l, float64(max(demand, 0))/days, rs), nil
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
	out := make([]LevelWithCover, len(ls))
	err = s.store.InTx(ctx, func(tx Tx) error {
		for i, l := range ls {
			c, err := s.coverTx(ctx, tx, tenantID, l)
			if err != nil {
				return err
			}
			out[i] = LevelWithCover{Level: l, Cover: c}
		}
		return nil
	})
	return out, next, err
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
	return rs, s.store.SetReorderSettings(ctx, tenantID, rs)
}

// Check recomputes balances from the ledger.
func (s *Service) Check(ctx context.Context) ([]Discrepancy, error) { return s.store.Check(ctx) }

// Now is the service's clock (tests may replace it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// ReorderSettingsOf returns a product's reorder settings (zeros when unset).
func (s *Service) ReorderSettingsOf(ctx context.Context, tenantID, productID string) (ReorderSettings, error) {
	var rs ReorderSettings
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		rs, err = tx.ReorderSettings(ctx, tenantID, productID)
		return err
	})
	return rs, err
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
