package inventory

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
)

// ReservationStatus is where a reservation is in its life. It leaves
// Active exactly once.
type ReservationStatus string

const (
	Active   ReservationStatus = "active"
	Released ReservationStatus = "released"
	Consumed ReservationStatus = "consumed"
	Expired  ReservationStatus = "expired"
)

// Reservation holds stock for an order line or a storefront checkout.
type Reservation struct {
	ID        string
	TenantID  string
	Status    ReservationStatus
	RefType   string // "order_line", "checkout", …
	RefID     string
	ExpiresAt *time.Time
	CreatedAt time.Time
	ClosedAt  *time.Time
	Lines     []ReservationLine
}

// ReservationLine is stock held of one SKU at one facility. A kit line is
// stored as one line per component, each naming the kit.
type ReservationLine struct {
	LineNo     int
	ProductID  string
	SKU        string
	KitID      string
	FacilityID string
	Quantity   int64
}

// TransferStatus is where a transfer is.
type TransferStatus string

const (
	InTransit         TransferStatus = "in_transit"
	TransferReceived  TransferStatus = "received"
	TransferCancelled TransferStatus = "cancelled"
)

// Transfer moves stock between two facilities.
type Transfer struct {
	ID             string
	TenantID       string
	FromFacilityID string
	ToFacilityID   string
	Status         TransferStatus
	Note           string
	CreatedAt      time.Time
	ReceivedAt     *time.Time
	Lines          []TransferLine
}

// TransferLine is one SKU on a transfer.
type TransferLine struct {
	ProductID string
	SKU       string
	Quantity  int64
}

// ReorderSettings are a SKU's supplier lead time and safety stock.
type ReorderSettings struct {
	ProductID    string
	LeadTimeDays int
	SafetyDays   int
	SafetyStock  int64
	ReorderPoint *int64 // overrides the computed point when set
}

// Service is inventory's API.
type Service struct {
	store Store
	now   func() time.Time
	// DemandWindow is how far back average daily demand looks.
	DemandWindow time.Duration
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, DemandWindow: 30 * 24 * time.Hour}
}

var codeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._\-/]{0,39}$`)

// FacilityInput is what people write to create or change a facility.
type FacilityInput struct {
	Code     string
	Name     string
	Kind     FacilityKind
	Address  Address
	Timezone string
	Cutoff   string
	Priority *int
	Active   *bool
}

func (in FacilityInput) validate(f *Facility) error {
	const op = "inventory.Facility"
	var fe errs.FieldList
	f.Code, f.Name = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name)
	if !codeRe.MatchString(f.Code) {
		fe.Add("code", "must be 1 to 40 letters, digits, . _ - /, starting with a letter or digit", in.Code)
	}
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 200 {
		fe.Add("name", "must be 1 to 200 characters", in.Name)
	}
	f.Kind = in.Kind
	if !slices.Contains([]FacilityKind{Own, ThreePL, Dropship, Retail}, f.Kind) {
		fe.Add("kind", "must be one of own, 3pl, dropship, store", string(in.Kind))
	}
	f.Address = in.Address
	f.Address.Country = strings.ToUpper(strings.TrimSpace(in.Address.Country))
	if c := f.Address.Country; c != "" && (len(c) != 2 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		fe.Add("address.country", "must be an ISO 3166-1 alpha-2 code such as US", in.Address.Country)
	}
	f.Timezone = strings.TrimSpace(in.Timezone)
	if f.Timezone == "" {
		f.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(f.Timezone); err != nil {
		fe.Add("timezone", "unknown IANA time zone", in.Timezone)
	}
	f.Cutoff = strings.TrimSpace(in.Cutoff)
	if f.Cutoff != "" {
		if _, err := time.Parse("15:04", f.Cutoff); err != nil {
			fe.Add("cutoff_time", "must be HH:MM, e.g. 15:00", in.Cutoff)
		}
	}
	if in.Priority != nil {
		f.Priority = *in.Priority
	}
	if in.Active != nil {
		f.Active = *in.Active
	}
	return fe.Err(op)
}

// CreateFacility adds a facility.
func (s *Service) CreateFacility(ctx context.Context, tenantID string, in FacilityInput) (Facility, error) {
	f := Facility{Priority: 100, Active: true}
	if err := in.validate(&f); err != nil {
		return Facility{}, err
	}
	now := s.now()
	f.ID, f.TenantID, f.CreatedAt, f.UpdatedAt = id.New("fac"), tenantID, now, now
	if err := s.store.CreateFacility(ctx, &f); err != nil {
		return Facility{}, errs.E("inventory.CreateFacility", err)
	}
	return f, nil
}

// UpdateFacility changes a facility; change edits the current values.
func (s *Service) UpdateFacility(ctx context.Context, tenantID, id string, change func(*FacilityInput)) (Facility, error) {
	f, err := s.store.Facility(ctx, tenantID, id)
	if err != nil {
		return Facility{}, err
	}
	in := FacilityInput{Code: f.Code, Name: f.Name, Kind: f.Kind, Address: f.Address, Timezone: f.Timezone, Cutoff: f.Cutoff, Priority: &f.Priority, Active: &f.Active}
	change(&in)
	if in.Kind != f.Kind {
		return Facility{}, errs.InvalidFields("inventory.UpdateFacility", errs.FieldError{Field: "kind", Message: "a facility's kind cannot change; create a new facility", Value: string(in.Kind)})
	}
	if err := in.validate(&f); err != nil {
		return Facility{}, err
	}
	f.UpdatedAt = s.now()
	if err := s.store.UpdateFacility(ctx, &f); err != nil {
		return Facility{}, errs.E("inventory.UpdateFacility", err)
	}
	return f, nil
}

// Facility returns one facility.
func (s *Service) Facility(ctx context.Context, tenantID, id string) (Facility, error) {
	return s.store.Facility(ctx, tenantID, id)
}

// FacilityByCode returns the facility with that code.
func (s *Service) FacilityByCode(ctx context.Context, tenantID, code string) (Facility, error) {
	return s.store.FacilityByCode(ctx, tenantID, code)
}

// ListFacilities lists a tenant's facilities.
func (s *Service) ListFacilities(ctx context.Context, tenantID string) ([]Facility, error) {
	return s.store.ListFacilities(ctx, tenantID)
}

// BinInput describes a bin.
type BinInput struct {
	Code, Zone, Aisle, Bay, Level, Position string
	Pickable                                *bool
}

// CreateBin adds a bin to an own facility.
func (s *Service) CreateBin(ctx context.Context, tenantID, facilityID string, in BinInput) (Bin, error) {
	const op = "inventory.CreateBin"
	f, err := s.store.Facility(ctx, tenantID, facilityID)
	if err != nil {
		return Bin{}, err
	}
	if f.Kind != Own && f.Kind != Retail {
		return Bin{}, errs.E(op, errs.Invalid, "bins belong to own warehouses and stores; a "+string(f.Kind)+" facility keeps its own")
	}
	b := Bin{ID: id.New("bin"), TenantID: tenantID, FacilityID: f.ID, Pickable: true, CreatedAt: s.now()}
	if err := in.apply(&b); err != nil {
		return Bin{}, err
	}
	if err := s.store.CreateBin(ctx, &b); err != nil {
		return Bin{}, errs.E(op, err)
	}
	return b, nil
}

func (in BinInput) apply(b *Bin) error {
	var fe errs.FieldList
	b.Code = strings.TrimSpace(in.Code)
	if !codeRe.MatchString(b.Code) {
		fe.Add("code", "must be 1 to 40 letters, digits, . _ - /, e.g. A-03-2-B", in.Code)
	}
	b.Zone, b.Aisle, b.Bay, b.Level, b.Position = strings.TrimSpace(in.Zone), strings.TrimSpace(in.Aisle), strings.TrimSpace(in.Bay), strings.TrimSpace(in.Level), strings.TrimSpace(in.Position)
	for name, v := range map[string]string{"zone": b.Zone, "aisle": b.Aisle, "bay": b.Bay, "level": b.Level, "position": b.Position} {
		if utf8.RuneCountInString(v) > 20 {
			fe.Add(name, "must be at most 20 characters", v)
		}
	}
	if in.Pickable != nil {
		b.Pickable = *in.Pickable
	}
	return fe.Err("inventory.Bin")
}

// UpdateBin changes a bin.
func (s *Service) UpdateBin(ctx context.Context, tenantID, binID string, change func(*BinInput)) (Bin, error) {
	b, err := s.store.Bin(ctx, tenantID, binID)
	if err != nil {
		return Bin{}, err
	}
	in := BinInput{Code: b.Code, Zone: b.Zone, Aisle: b.Aisle, Bay: b.Bay, Level: b.Level, Position: b.Position, Pickable: &b.Pickable}
	change(&in)
	if err := in.apply(&b); err != nil {
		return Bin{}, err
	}
	if err := s.store.UpdateBin(ctx, &b); err != nil {
		return Bin{}, errs.E("inventory.UpdateBin", err)
	}
	return b, nil
}

// Bin returns one bin.
func (s *Service) Bin(ctx context.Context, tenantID, id string) (Bin, error) {
	return s.store.Bin(ctx, tenantID, id)
}

// ListBins lists a facility's bins in code order, a page at a time.
func (s *Service) ListBins(ctx context.Context, tenantID, facilityID, after string, limit int) ([]Bin, string, error) {
	if _, err := s.store.Facility(ctx, tenantID, facilityID); err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	bs, err := s.store.ListBins(ctx, tenantID, facilityID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(bs) > limit {
		bs = bs[:limit]
		next = bs[limit-1].Code
	}
	return bs, next, nil
}

func clampLimit(l int) int {
	if l <= 0 {
		return 50
	}
	if l > 250 {
		return 250
	}
	return l
}

// locate resolves a facility code and optional bin code.
func (s *Service) locate(ctx context.Context, tenantID, facilityCode, binCode string, facField, binField string) (Facility, string, error) {
	f, err := s.store.FacilityByCode(ctx, tenantID, strings.TrimSpace(facilityCode))
	if err != nil {
		if errs.Is(errs.NotExist, err) {
			return Facility{}, "", errs.InvalidFields("inventory.locate", errs.FieldError{Field: facField, Message: "no facility has this code", Value: facilityCode})
		}
		return Facility{}, "", err
	}
	if binCode == "" {
		return f, "", nil
	}
	b, err := s.store.BinByCode(ctx, tenantID, f.ID, strings.TrimSpace(binCode))
	if err != nil {
		if errs.Is(errs.NotExist, err) {
			return Facility{}, "", errs.InvalidFields("inventory.locate", errs.FieldError{Field: binField, Message: "no bin with this code in facility " + f.Code, Value: binCode})
		}
		return Facility{}, "", err
	}
	return f, b.ID, nil
}

// item resolves one SKU that stock can be kept of (not a kit).
func (s *Service) stockItem(ctx context.Context, tenantID, sku, field string) (Item, error) {
	items, err := s.store.Items(ctx, tenantID, []string{sku})
	if err != nil {
		return Item{}, err
	}
	it, ok := items[sku]
	if !ok {
		return Item{}, errs.InvalidFields("inventory.item", errs.FieldError{Field: field, Message: "no product has this SKU", Value: sku})
	}
	if len(it.Components) > 0 {
		return Item{}, errs.InvalidFields("inventory.item", errs.FieldError{Field: field, Message: "is a kit; kits have no stock of their own, adjust its components", Value: sku})
	}
	return it, nil
}

// Adjustment is a manual change of on-hand stock.
type Adjustment struct {
	SKU      string
	Facility string // code
	Bin      string // code, optional
	Lot      string
	Quantity int64 // signed
	Reason   string
	Kind     Kind // Receive, Adjust, WriteOff, Return; default Adjust
	RefType  string
	RefID    string
	Actor    string
}

// Adjust applies an adjustment. It refuses (Conflict, insufficient_stock) to
// take on hand below zero or below what is reserved.
func (s *Service) Adjust(ctx context.Context, tenantID string, a Adjustment) (Movement, Level, error) {
	const op = "inventory.Adjust"
	var fe errs.FieldList
	if a.Quantity == 0 {
		fe.Add("quantity", "must not be zero", a.Quantity)
	}
	if a.Quantity > 1_000_000_000 || a.Quantity < -1_000_000_000 {
		fe.Add("quantity", "is out of range", a.Quantity)
	}
	if a.Kind == "" {
		a.Kind = Adjust
	}
	if !slices.Contains([]Kind{Receive, Adjust, WriteOff, Return}, a.Kind) {
		fe.Add("kind", "must be receive, adjust, write_off or return", string(a.Kind))
	}
	if (a.Kind == Receive || a.Kind == Return) && a.Quantity < 0 {
		fe.Add("quantity", "must be positive for "+string(a.Kind), a.Quantity)
	}
	if a.Kind == WriteOff && a.Quantity > 0 {
		a.Quantity = -a.Quantity
	}
	if a.Kind == Adjust && strings.TrimSpace(a.Reason) == "" {
		fe.Add("reason", "is required for an adjustment (e.g. damaged, found, correction)", a.Reason)
	}
	if utf8.RuneCountInString(a.Reason) > 500 {
		fe.Add("reason", "must be at most 500 characters", nil)
	}
	if err := fe.Err(op); err != nil {
		return Movement{}, Level{}, err
	}
	it, err := s.stockItem(ctx, tenantID, strings.TrimSpace(a.SKU), "sku")
	if err != nil {
		return Movement{}, Level{}, err
	}
	f, binID, err := s.locate(ctx, tenantID, a.Facility, a.Bin, "facility", "bin")
	if err != nil {
		return Movement{}, Level{}, err
	}
	var lvl Level
	var m Movement
	err = s.store.InTx(ctx, func(tx Tx) error {
		var err error
		m, err = tx.Apply(ctx, tenantID, Change{ProductID: it.ID, FacilityID: f.ID, BinID: binID, Lot: strings.TrimSpace(a.Lot), Kind: a.Kind, OnHand: a.Quantity,
			Reason: strings.TrimSpace(a.Reason), RefType: a.RefType, RefID: a.RefID, Actor: a.Actor, Field: "quantity"})
		if err != nil {
			return err
		}
		if err := s.afterChange(ctx, tx, tenantID, []string{it.ID}, f.ID, &lvl); err != nil {
			return err
		}
		return tx.Emit(ctx, tenantID, "inventory.adjusted", "stock_movement", m.ID, map[string]any{
			"id": m.ID, "sku": it.SKU, "product_id": it.ID, "facility": f.Code, "facility_id": f.ID, "bin": a.Bin, "lot": m.Lot,
			"kind": m.Kind, "quantity": a.Quantity, "reason": m.Reason, "ref_type": m.RefType, "ref_id": m.RefID, "actor": m.Actor,
			"on_hand": lvl.OnHand, "reserved": lvl.Reserved, "available": lvl.Available(), "created_at": m.CreatedAt})
	})
	if err != nil {
		return Movement{}, Level{}, errs.E(op, err)
	}
	lvl.SKU, lvl.FacilityCode = it.SKU, f.Code
	m.SKU, m.FacilityCode = it.SKU, f.Code
	return m, lvl, nil
}

// afterChange reads the balances of products at facility after a change
// (the first product's into lvl when given) and brings their low-stock flags
// up to date (flagLowStock).
func (s *Service) afterChange(ctx context.Context, tx Tx, tenantID string, productIDs []string, facilityID string, lvl *Level) error {
	levels, err := lockLevels(ctx, tx, tenantID, productIDs, facilityID)
	if err != nil {
		return err
	}
	for _, l := range levels {
		if lvl != nil && l.ProductID == productIDs[0] {
			*lvl = l
		}
	}
	_, err = s.flagLowStock(ctx, tx, tenantID, levels)
	return err
}

// lockChunk is how many balances one locking read takes, well below the
// engines' limits on query parameters; chunks of sorted ids keep the lock
// order fixed.
const lockChunk = 500

// flagLowStock compares each balance's low-stock flag with its cover now
// and, where they differ, stores the new flag and emits inventory.low_stock
// (or inventory.restocked), so an alert goes out once per fall to the
// reorder point, not with every sale after it. The balances must have been
// read in tx (Tx.Levels); those without a row are skipped. It returns how
// many flags changed.
func (s *Service) flagLowStock(ctx context.Context, tx Tx, tenantID string, levels []Level) (int, error) {
	n := 0
	var rows []Level
	for _, l := range levels {
		if !l.UpdatedAt.IsZero() {
			rows = append(rows, l)
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	covers, err := s.coversTx(ctx, tx, tenantID, rows)
	if err != nil {
		return 0, err
	}
	for _, l := range rows {
		cover := covers[[2]string{l.ProductID, l.FacilityID}]
		if cover.Low == l.LowStock {
			continue
		}
		if err := tx.SetLowStock(ctx, tenantID, l.ProductID, l.FacilityID, cover.Low); err != nil {
			return n, err
		}
		typ := "inventory.restocked"
		if cover.Low {
			typ = "inventory.low_stock"
		}
		if err := tx.Emit(ctx, tenantID, typ, "stock_level", l.FacilityID+"/"+l.ProductID, cover); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// ReserveLine asks for a quantity of one SKU (a kit reserves its components).
type ReserveLine struct {
	SKU      string
	Quantity int64
}

// ReserveRequest is a reservation to make.
type ReserveRequest struct {
	Lines    []ReserveLine
	Facility string        // code; empty = choose per line
	TTL      time.Duration // 0 = no expiry
	RefType  string
	RefID    string
	Actor    string
}

// ShortLine reports a line that could not be reserved.
type ShortLine struct {
	Line      int
	SKU       string
	Requested int64
	Available int64
}

// ErrCodeInsufficient is the code of a reservation refused for lack of stock.
const ErrCodeInsufficient = "insufficient_stock"

// MakeReservation reserves every line or none. A line's components are held
// at one facility: the requested one, or else the first active facility (by
// priority, then code) that has all of them. A SKU that allows backorder is
// reserved even beyond stock. Lines that cannot be reserved are reported as
// a Conflict with code insufficient_stock whose fields name the short lines.
func (s *Service) MakeReservation(ctx context.Context, tenantID string, req ReserveRequest) (Reservation, []ShortLine, error) {
	const op = "inventory.MakeReservation"
	var fe errs.FieldList
	if len(req.Lines) == 0 || len(req.Lines) > 500 {
		fe.Add("lines", "must list 1 to 500 lines", len(req.Lines))
	}
	skus := []string{}
	for i, l := range req.Lines {
		if l.Quantity < 1 || l.Quantity > 1_000_000 {
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), "must be between 1 and 1000000", l.Quantity)
		}
		skus = append(skus, strings.TrimSpace(l.SKU))
	}
	if req.TTL < 0 || req.TTL > 30*24*time.Hour {
		fe.Add("ttl_seconds", "must be between 0 and 2592000 (30 days)", int64(req.TTL/time.Second))
	}
	if err := fe.Err(op); err != nil {
		return Reservation{}, nil, err
	}
	items, err := s.store.Items(ctx, tenantID, skus)
	if err != nil {
		return Reservation{}, nil, err
	}
	for i, sku := range skus {
		it, ok := items[sku]
		switch {
		case !ok:
			fe.Add(fmt.Sprintf("lines[%d].sku", i), "no product has this SKU", sku)
		case it.Archived:
			fe.Add(fmt.Sprintf("lines[%d].sku", i), "is archived", sku)
		}
	}
	if err := fe.Err(op); err != nil {
		return Reservation{}, nil, err
	}
	var candidates []Facility
	if req.Facility != "" {
		f, _, err := s.locate(ctx, tenantID, req.Facility, "", "facility", "")
		if err != nil {
			return Reservation{}, nil, err
		}
		candidates = []Facility{f}
	} else {
		all, err := s.store.ListFacilities(ctx, tenantID)
		if err != nil {
			return Reservation{}, nil, err
		}
		for _, f := range all {
			if f.Active {
				candidates = append(candidates, f)
			}
		}
		sort.SliceStable(candidates, func(i, j int) bool {
			if candidates[i].Priority != candidates[j].Priority {
				return candidates[i].Priority < candidates[j].Priority
			}
			return candidates[i].Code < candidates[j].Code
		})
	}
	if len(candidates) == 0 {
		return Reservation{}, nil, errs.WithCode(errs.E(op, errs.Conflict, "there is no active facility to reserve stock at; create one first"), ErrCodeInsufficient)
	}
	now := s.now()
	r := Reservation{ID: id.New("res"), TenantID: tenantID, Status: Active, RefType: req.RefType, RefID: req.RefID, CreatedAt: now}
	if req.TTL > 0 {
		exp := now.Add(req.TTL)
		r.ExpiresAt = &exp
	}
	var short []ShortLine
	err = s.store.InTx(ctx, func(tx Tx) error {
		short = nil
		r.Lines = nil
		// Lock and read every balance this reservation can touch, in one
		// query, in a fixed order (no deadlocks between reservations).
		var pids []string
		for _, sku := range skus {
			for _, c := range components(items[sku]) {
				pids = append(pids, c.ProductID)
			}
		}
		facIDs := make([]string, len(candidates))
		for i, f := range candidates {
			facIDs[i] = f.ID
		}
		levels, err := tx.Levels(ctx, tenantID, pids, facIDs)
		if err != nil {
			return err
		}
		// Quantities this reservation already takes, so two lines of one
		// SKU (or kits sharing a component) are counted together.
		taken := map[[2]string]int64{}
		lineNo := 0
		var lineOf []int // the request line of each reservation line
		for i, sku := range skus {
			it := items[sku]
			qty := req.Lines[i].Quantity
			chosen := ""
			bestAvail := int64(-1 << 62)
			for _, f := range candidates {
				ok := true
				minAvail := int64(1 << 62)
				for _, c := range components(it) {
					k := [2]string{c.ProductID, f.ID}
					avail := levels[k].Available() - taken[k]
					need := c.Quantity * qty
					if avail/max(c.Quantity, 1) < minAvail {
						minAvail = avail / max(c.Quantity, 1)
					}
					if avail < need && !c.AllowBackorder {
						ok = false
					}
				}
				if minAvail > bestAvail {
					bestAvail = minAvail
				}
				if ok {
					chosen = f.ID
					break
				}
			}
			if chosen == "" {
				short = append(short, ShortLine{Line: i, SKU: sku, Requested: qty, Available: max(bestAvail, 0)})
				continue
			}
			for _, c := range components(it) {
				k := [2]string{c.ProductID, chosen}
				taken[k] += c.Quantity * qty
				kitID := ""
				if len(it.Components) > 0 {
					kitID = it.ID
				}
				r.Lines = append(r.Lines, ReservationLine{LineNo: lineNo, ProductID: c.ProductID, SKU: c.SKU, KitID: kitID, FacilityID: chosen, Quantity: c.Quantity * qty})
				lineOf = append(lineOf, i)
				lineNo++
			}
		}
		if len(short) > 0 {
			var fields []errs.FieldError
			for _, sl := range short {
				fields = append(fields, errs.FieldError{Field: fmt.Sprintf("lines[%d].quantity", sl.Line),
					Message: fmt.Sprintf("only %d of %s available", sl.Available, sl.SKU), Value: sl.Requested})
			}
			return errs.WithCode(errs.E(op, errs.Conflict, fields, "not enough stock for every line"), ErrCodeInsufficient)
		}
		if err := tx.CreateReservation(ctx, &r); err != nil {
			return err
		}
		touched := map[string][]string{}
		for j, l := range r.Lines {
			if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: l.FacilityID, Kind: Reserve, Reserved: l.Quantity,
				AllowNegativeAvailable: backorderable(items, l.ProductID), RefType: "reservation", RefID: r.ID, Actor: req.Actor,
				Field: fmt.Sprintf("lines[%d].quantity", lineOf[j])}); err != nil {
				return err
			}
			if !slices.Contains(touched[l.FacilityID], l.ProductID) {
				touched[l.FacilityID] = append(touched[l.FacilityID], l.ProductID)
			}
		}
		for fid, ps := range touched {
			if err := s.afterChange(ctx, tx, tenantID, ps, fid, nil); err != nil {
				return err
			}
		}
		return tx.Emit(ctx, tenantID, "reservation.created", "reservation", r.ID, reservationPayload(r))
	})
	if err != nil {
		return Reservation{}, short, errs.E(op, err)
	}
	r, err = s.Reservation(ctx, tenantID, r.ID)
	return r, nil, err
}

func backorderable(items map[string]Item, productID string) bool {
	for _, it := range items {
		for _, c := range components(it) {
			if c.ProductID == productID {
				return c.AllowBackorder
			}
		}
	}
	return false
}

// components returns what stock a unit of it holds: its components, or itself.
func components(it Item) []ItemComponent {
	if len(it.Components) > 0 {
		return it.Components
	}
	return []ItemComponent{{ProductID: it.ID, SKU: it.SKU, Quantity: 1, AllowBackorder: it.AllowBackorder}}
}

func reservationPayload(r Reservation) map[string]any {
	lines := []map[string]any{}
	for _, l := range r.Lines {
		lines = append(lines, map[string]any{"sku": l.SKU, "product_id": l.ProductID, "facility_id": l.FacilityID, "quantity": l.Quantity, "kit_id": l.KitID})
	}
	return map[string]any{"id": r.ID, "status": r.Status, "ref_type": r.RefType, "ref_id": r.RefID, "lines": lines}
}

// Reservation returns one reservation with its lines.
func (s *Service) Reservation(ctx context.Context, tenantID, id string) (Reservation, error) {
	var r Reservation
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		r, err = tx.Reservation(ctx, tenantID, id)
		return err
	})
	return r, err
}

// ListReservations lists reservations, newest first.
func (s *Service) ListReservations(ctx context.Context, tenantID string, status ReservationStatus, after string, limit int) ([]Reservation, string, error) {
	limit = clampLimit(limit)
	rs, err := s.store.ListReservations(ctx, tenantID, status, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rs) > limit {
		rs = rs[:limit]
		next = rs[limit-1].ID
	}
	return rs, next, nil
}

// ReleaseReservation gives a reservation's stock back. Releasing a released
// reservation changes nothing; a consumed or expired one is a Conflict.
func (s *Service) ReleaseReservation(ctx context.Context, tenantID, id, actor string) (Reservation, error) {
	return s.closeReservation(ctx, tenantID, id, Released, actor)
}

// ConsumeReservation ships a reservation's stock: on hand and reserved fall
// together.
func (s *Service) ConsumeReservation(ctx context.Context, tenantID, id, actor string) (Reservation, error) {
	return s.closeReservation(ctx, tenantID, id, Consumed, actor)
}

func (s *Service) closeReservation(ctx context.Context, tenantID, id string, to ReservationStatus, actor string) (Reservation, error) {
	const op = "inventory.closeReservation"
	err := s.store.InTx(ctx, func(tx Tx) error { return s.CloseIn(ctx, tx, tenantID, id, to, actor) })
	if err != nil {
		return Reservation{}, errs.E(op, err)
	}
	return s.Reservation(ctx, tenantID, id)
}

// CloseIn moves an active reservation to released, consumed or expired
// inside the caller's transaction (so an order change and its stock change
// commit together). Closing a reservation already in that status changes
// nothing; any other closed status is a Conflict (code reservation_closed).
func (s *Service) CloseIn(ctx context.Context, tx Tx, tenantID, id string, to ReservationStatus, actor string) error {
	const op = "inventory.CloseIn"
	r, err := tx.Reservation(ctx, tenantID, id)
	if err != nil {
		return err
	}
	ok, err := tx.CloseReservation(ctx, tenantID, id, to, s.now())
	if err != nil {
		return err
	}
	if !ok {
		if r.Status == to {
			return nil // idempotent
		}
		return errs.WithCode(errs.E(op, errs.Conflict, "reservation is "+string(r.Status)+", not active"), "reservation_closed")
	}
	kind := map[ReservationStatus]Kind{Released: Release, Expired: Expire, Consumed: Ship}[to]
	touched := map[string][]string{}
	for _, l := range r.Lines {
		c := Change{ProductID: l.ProductID, FacilityID: l.FacilityID, Kind: kind, Reserved: -l.Quantity, RefType: "reservation", RefID: r.ID, Actor: actor}
		if to == Consumed {
			c.OnHand = -l.Quantity
			c.AllowNegativeAvailable = true // shipping lowers on hand and reserved together; available is unchanged
		}
		if _, err := tx.Apply(ctx, tenantID, c); err != nil {
			return err
		}
		touched[l.FacilityID] = append(touched[l.FacilityID], l.ProductID)
	}
	if to == Consumed {
		for fid, ps := range touched {
			if err := s.afterChange(ctx, tx, tenantID, ps, fid, nil); err != nil {
				return err
			}
		}
	}
	r.Status = to
	if r.RefType == RefOrderLine {
		return nil // reported by the order's own events
	}
	return tx.Emit(ctx, tenantID, "reservation."+string(to), "reservation", r.ID, reservationPayload(r))
}

// ExpireDue releases every reservation whose hold time has passed, exactly
// once each even with several processes sweeping. It returns how many it
// expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	n := 0
	for {
		due, err := s.store.ExpiredReservations(ctx, s.now(), 100)
		if err != nil {
			return n, err
		}
		if len(due) == 0 {
			return n, nil
		}
		for _, d := range due {
			_, err := s.closeReservation(ctx, d[0], d[1], Expired, "system")
			if err != nil && errs.CodeOf(err) != "reservation_closed" {
				return n, err
			}
			if err == nil {
				n++
			}
		}
		if len(due) < 100 {
			return n, nil
		}
	}
}
