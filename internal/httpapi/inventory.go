package httpapi

import (
	"context"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
)

// actor names who made a change, for the ledger.
func actor(ctx context.Context) string {
	p := principal(ctx)
	if p.UserID != "" {
		return "user:" + p.UserID
	}
	return "key:" + p.KeyID
}

// Address is a postal address.
type Address struct {
	Name       string `json:"name,omitempty" maxLength:"200"`
	Company    string `json:"company,omitempty" maxLength:"200"`
	Line1      string `json:"line1,omitempty" maxLength:"200"`
	Line2      string `json:"line2,omitempty" maxLength:"200"`
	City       string `json:"city,omitempty" maxLength:"100"`
	Region     string `json:"region,omitempty" maxLength:"100"`
	PostalCode string `json:"postal_code,omitempty" maxLength:"20"`
	Country    string `json:"country,omitempty" maxLength:"2" doc:"ISO 3166-1 alpha-2"`
	Phone      string `json:"phone,omitempty" maxLength:"40"`
}

func (a Address) domain() inventory.Address { return inventory.Address(a) }

// Facility is a place stock lives in or ships from.
type Facility struct {
	ID         string    `json:"id"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind" enum:"own,3pl,dropship,store"`
	Address    Address   `json:"address"`
	Timezone   string    `json:"timezone"`
	CutoffTime string    `json:"cutoff_time" doc:"Daily shipping cut-off, HH:MM local time."`
	Priority   int       `json:"priority" doc:"Lower is preferred when stock could come from several facilities."`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Set only in the answer that creates a facility with a callback URL.
	CallbackURL    string `json:"callback_url,omitempty"`
	CallbackSecret string `json:"callback_secret,omitempty" doc:"The signing secret of requests to the callback URL, shown once."`
}

func facilityOut(f inventory.Facility) Facility {
	return Facility{ID: f.ID, Code: f.Code, Name: f.Name, Kind: string(f.Kind), Address: Address(f.Address), Timezone: f.Timezone,
		CutoffTime: f.Cutoff, Priority: f.Priority, Active: f.Active, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

type facilityBody struct{ Body Facility }

func (a *API) createFacility(ctx context.Context, in *struct {
	Body struct {
		Code       string  `json:"code" example:"MAIN"`
		Name       string  `json:"name" example:"Main warehouse"`
		Kind       string  `json:"kind" enum:"own,3pl,dropship,store"`
		Address    Address `json:"address,omitempty"`
		Timezone   string  `json:"timezone,omitempty" example:"America/Denver"`
		CutoffTime string  `json:"cutoff_time,omitempty" example:"15:00"`
		Priority   *int    `json:"priority,omitempty"`
		Active     *bool   `json:"active,omitempty"`
		// A 3PL speaking the generic protocol: requests are POSTed to
		// <callback_url>/fulfillment_order_notification, signed with the
		// secret returned once in callback_secret.
		CallbackURL string `json:"callback_url,omitempty" maxLength:"2000" doc:"For 3pl (and dropship) facilities speaking Waybill's fulfilment protocol (docs/3pl-protocol.md)."`
		FetchStock  bool   `json:"fetch_stock,omitempty" doc:"Pull the 3PL's stock from <callback_url>/fetch_stock every 15 minutes."`
	}
}) (*facilityBody, error) {
	b := in.Body
	tenantID := principal(ctx).TenantID
	if b.CallbackURL != "" {
		// Checked before the facility exists, so a bad URL creates nothing.
		var fe errs.FieldList
		if k := inventory.FacilityKind(b.Kind); k != inventory.ThreePL && k != inventory.Dropship {
			fe.Add("callback_url", "only 3pl and dropship facilities have a callback URL", b.CallbackURL)
		}
		if err := a.d.Dispatch.CheckURL(strings.TrimSpace(b.CallbackURL)); err != nil {
			fe.Add("callback_url", errs.Message(err), b.CallbackURL)
		}
		if err := fe.Err("httpapi.createFacility"); err != nil {
			return nil, err
		}
	}
	f, err := a.d.Inventory.CreateFacility(ctx, tenantID, inventory.FacilityInput{Code: b.Code, Name: b.Name, Kind: inventory.FacilityKind(b.Kind),
		Address: b.Address.domain(), Timezone: b.Timezone, Cutoff: b.CutoffTime, Priority: b.Priority, Active: b.Active})
	if err != nil {
		return nil, err
	}
	out := &facilityBody{facilityOut(f)}
	if b.CallbackURL != "" {
		c, _, err := a.d.Dispatch.Connect(ctx, tenantID, f.ID, dispatch.ConnectionInput{Method: dispatch.Callback, CallbackURL: b.CallbackURL, FetchStock: b.FetchStock})
		if err != nil {
			return nil, err
		}
		out.Body.CallbackURL, out.Body.CallbackSecret = c.CallbackURL, c.Secret
	}
	return out, nil
}

func (a *API) listFacilities(ctx context.Context, _ *struct{}) (*struct {
	Body struct {
		Items []Facility `json:"items"`
	}
}, error) {
	fs, err := a.d.Inventory.ListFacilities(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []Facility `json:"items"`
		}
	}{}
	out.Body.Items = []Facility{}
	for _, f := range fs {
		out.Body.Items = append(out.Body.Items, facilityOut(f))
	}
	return out, nil
}

func (a *API) getFacility(ctx context.Context, in *productIDInput) (*facilityBody, error) {
	f, err := a.d.Inventory.Facility(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &facilityBody{facilityOut(f)}, nil
}

func (a *API) updateFacility(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100"`
	Body struct {
		Code       *string  `json:"code,omitempty"`
		Name       *string  `json:"name,omitempty"`
		Address    *Address `json:"address,omitempty"`
		Timezone   *string  `json:"timezone,omitempty"`
		CutoffTime *string  `json:"cutoff_time,omitempty"`
		Priority   *int     `json:"priority,omitempty"`
		Active     *bool    `json:"active,omitempty"`
	}
}) (*facilityBody, error) {
	b := in.Body
	f, err := a.d.Inventory.UpdateFacility(ctx, principal(ctx).TenantID, in.ID, func(fi *inventory.FacilityInput) {
		setStr(&fi.Code, b.Code)
		setStr(&fi.Name, b.Name)
		setStr(&fi.Timezone, b.Timezone)
		setStr(&fi.Cutoff, b.CutoffTime)
		if b.Address != nil {
			fi.Address = b.Address.domain()
		}
		if b.Priority != nil {
			fi.Priority = b.Priority
		}
		if b.Active != nil {
			fi.Active = b.Active
		}
	})
	if err != nil {
		return nil, err
	}
	return &facilityBody{facilityOut(f)}, nil
}

func setStr(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

// Bin is a storage location in a facility.
type Bin struct {
	ID         string    `json:"id"`
	FacilityID string    `json:"facility_id"`
	Code       string    `json:"code" example:"A-03-2-B"`
	Zone       string    `json:"zone"`
	Aisle      string    `json:"aisle"`
	Bay        string    `json:"bay"`
	Level      string    `json:"level"`
	Position   string    `json:"position"`
	Pickable   bool      `json:"pickable"`
	CreatedAt  time.Time `json:"created_at"`
}

func binOut(b inventory.Bin) Bin {
	return Bin{ID: b.ID, FacilityID: b.FacilityID, Code: b.Code, Zone: b.Zone, Aisle: b.Aisle, Bay: b.Bay, Level: b.Level, Position: b.Position, Pickable: b.Pickable, CreatedAt: b.CreatedAt}
}

// BinInput describes a bin.
type BinInput struct {
	Code     string `json:"code" example:"A-03-2-B"`
	Zone     string `json:"zone,omitempty"`
	Aisle    string `json:"aisle,omitempty" example:"A"`
	Bay      string `json:"bay,omitempty" example:"03"`
	Level    string `json:"level,omitempty" example:"2"`
	Position string `json:"position,omitempty" example:"B"`
	Pickable *bool  `json:"pickable,omitempty" doc:"Default true; false for overstock and receiving bins."`
}

func (a *API) createBin(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100" doc:"The facility's id."`
	Body BinInput
}) (*struct{ Body Bin }, error) {
	b := in.Body
	bin, err := a.d.Inventory.CreateBin(ctx, principal(ctx).TenantID, in.ID, inventory.BinInput{Code: b.Code, Zone: b.Zone, Aisle: b.Aisle, Bay: b.Bay, Level: b.Level, Position: b.Position, Pickable: b.Pickable})
	if err != nil {
		return nil, err
	}
	return &struct{ Body Bin }{binOut(bin)}, nil
}

func (a *API) listBins(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"100"`
	PageParams
}) (*struct {
	Body struct {
		Items      []Bin  `json:"items"`
		NextCursor string `json:"next_cursor,omitempty"`
	}
}, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	bs, next, err := a.d.Inventory.ListBins(ctx, principal(ctx).TenantID, in.ID, after, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items      []Bin  `json:"items"`
			NextCursor string `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = []Bin{}
	for _, b := range bs {
		out.Body.Items = append(out.Body.Items, binOut(b))
	}
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}

func (a *API) getBin(ctx context.Context, in *productIDInput) (*struct{ Body Bin }, error) {
	b, err := a.d.Inventory.Bin(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body Bin }{binOut(b)}, nil
}

func (a *API) updateBin(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100"`
	Body struct {
		Code     *string `json:"code,omitempty"`
		Zone     *string `json:"zone,omitempty"`
		Aisle    *string `json:"aisle,omitempty"`
		Bay      *string `json:"bay,omitempty"`
		Level    *string `json:"level,omitempty"`
		Position *string `json:"position,omitempty"`
		Pickable *bool   `json:"pickable,omitempty"`
	}
}) (*struct{ Body Bin }, error) {
	b := in.Body
	bin, err := a.d.Inventory.UpdateBin(ctx, principal(ctx).TenantID, in.ID, func(bi *inventory.BinInput) {
		setStr(&bi.Code, b.Code)
		setStr(&bi.Zone, b.Zone)
		setStr(&bi.Aisle, b.Aisle)
		setStr(&bi.Bay, b.Bay)
		setStr(&bi.Level, b.Level)
		setStr(&bi.Position, b.Position)
		if b.Pickable != nil {
			bi.Pickable = b.Pickable
		}
	})
	if err != nil {
		return nil, err
	}
	return &struct{ Body Bin }{binOut(bin)}, nil
}

// StockLevel is the balance of one SKU at one facility.
type StockLevel struct {
	SKU          string    `json:"sku"`
	ProductID    string    `json:"product_id"`
	Facility     string    `json:"facility" doc:"The facility's code."`
	FacilityID   string    `json:"facility_id"`
	OnHand       int64     `json:"on_hand"`
	Reserved     int64     `json:"reserved"`
	Available    int64     `json:"available" doc:"on_hand - reserved."`
	Incoming     int64     `json:"incoming" doc:"On transfers not yet received."`
	DailyDemand  float64   `json:"daily_demand" doc:"Average units a day reserved over the last 30 days."`
	DaysOfCover  *float64  `json:"days_of_cover" doc:"available / daily_demand; null when nothing sells."`
	LeadTimeDays int       `json:"lead_time_days"`
	SafetyDays   int       `json:"safety_days"`
	ReorderPoint int64     `json:"reorder_point"`
	LowStock     bool      `json:"low_stock"`
	LowReason    string    `json:"low_reason,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func levelOut(l inventory.LevelWithCover) StockLevel {
	return StockLevel{SKU: l.SKU, ProductID: l.ProductID, Facility: l.FacilityCode, FacilityID: l.FacilityID, OnHand: l.OnHand, Reserved: l.Reserved,
		Available: l.Available(), Incoming: l.Incoming, DailyDemand: l.Cover.DailyDemand, DaysOfCover: l.Cover.DaysOfCover, LeadTimeDays: l.Cover.LeadTimeDays,
		SafetyDays: l.Cover.SafetyDays, ReorderPoint: l.Cover.ReorderPoint, LowStock: l.Cover.Low, LowReason: l.Cover.Reason, UpdatedAt: l.UpdatedAt}
}

// facilityID resolves an optional facility code from a query parameter.
func (a *API) facilityID(ctx context.Context, code, field string) (string, error) {
	if code == "" {
		return "", nil
	}
	f, err := a.d.Inventory.FacilityByCode(ctx, principal(ctx).TenantID, code)
	if err != nil {
		if errs.Is(errs.NotExist, err) {
			return "", errs.InvalidFields("httpapi.facility", errs.FieldError{Field: field, Message: "no facility has this code", Value: code})
		}
		return "", err
	}
	return f.ID, nil
}

func (a *API) listInventory(ctx context.Context, in *struct {
	PageParams
	SKU      string `query:"sku"`
	Facility string `query:"facility" doc:"Facility code."`
	Q        string `query:"q" doc:"Text in SKU or product name."`
}) (*struct {
	Body struct {
		Items      []StockLevel `json:"items"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}
}, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	fid, err := a.facilityID(ctx, in.Facility, "query.facility")
	if err != nil {
		return nil, err
	}
	ls, next, err := a.d.Inventory.Levels(ctx, principal(ctx).TenantID, inventory.LevelFilter{SKU: in.SKU, FacilityID: fid, Query: in.Q, After: after, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items      []StockLevel `json:"items"`
			NextCursor string       `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = []StockLevel{}
	for _, l := range ls {
		out.Body.Items = append(out.Body.Items, levelOut(l))
	}
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}

// Movement is one row of the stock ledger.
type Movement struct {
	ID            string    `json:"id"`
	SKU           string    `json:"sku"`
	ProductID     string    `json:"product_id"`
	Facility      string    `json:"facility"`
	Bin           string    `json:"bin"`
	Lot           string    `json:"lot"`
	Kind          string    `json:"kind"`
	OnHandDelta   int64     `json:"on_hand_delta"`
	ReservedDelta int64     `json:"reserved_delta"`
	IncomingDelta int64     `json:"incoming_delta"`
	Reason        string    `json:"reason"`
	RefType       string    `json:"ref_type"`
	RefID         string    `json:"ref_id"`
	Actor         string    `json:"actor"`
	CreatedAt     time.Time `json:"created_at"`
}

func movementOut(m inventory.Movement) Movement {
	return Movement{ID: m.ID, SKU: m.SKU, ProductID: m.ProductID, Facility: m.FacilityCode, Bin: m.BinCode, Lot: m.Lot, Kind: string(m.Kind),
		OnHandDelta: m.OnHandDelta, ReservedDelta: m.ReservedDelta, IncomingDelta: m.IncomingDelta, Reason: m.Reason, RefType: m.RefType, RefID: m.RefID,
		Actor: m.Actor, CreatedAt: m.CreatedAt}
}

func (a *API) listMovements(ctx context.Context, in *struct {
	PageParams
	SKU      string    `query:"sku"`
	Facility string    `query:"facility"`
	Kind     string    `query:"kind" enum:"receive,adjust,transfer_out,transfer_in,count,reserve,release,expire,pick,ship,return,write_off,"`
	RefType  string    `query:"ref_type"`
	RefID    string    `query:"ref_id"`
	Since    time.Time `query:"since" doc:"RFC 3339; movements at or after."`
	Until    time.Time `query:"until" doc:"RFC 3339; movements before."`
}) (*struct {
	Body struct {
		Items      []Movement `json:"items"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}
}, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	tenant := principal(ctx).TenantID
	f := inventory.MovementFilter{Kind: inventory.Kind(in.Kind), RefType: in.RefType, RefID: in.RefID, After: after, Limit: in.Limit}
	if f.FacilityID, err = a.facilityID(ctx, in.Facility, "query.facility"); err != nil {
		return nil, err
	}
	if in.SKU != "" {
		p, err := a.d.Catalog.BySKU(ctx, tenant, in.SKU)
		if err != nil {
			if errs.Is(errs.NotExist, err) {
				return nil, errs.InvalidFields("httpapi.listMovements", errs.FieldError{Field: "query.sku", Message: "no product has this SKU", Value: in.SKU})
			}
			return nil, err
		}
		f.ProductID = p.ID
	}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	ms, next, err := a.d.Inventory.Movements(ctx, tenant, f)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items      []Movement `json:"items"`
			NextCursor string     `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = []Movement{}
	for _, m := range ms {
		out.Body.Items = append(out.Body.Items, movementOut(m))
	}
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}

func (a *API) adjustInventory(ctx context.Context, in *struct {
	Body struct {
		SKU      string `json:"sku"`
		Facility string `json:"facility" doc:"The facility's code."`
		Bin      string `json:"bin,omitempty" doc:"A bin code in that facility."`
		Lot      string `json:"lot,omitempty" maxLength:"100"`
		Quantity int64  `json:"quantity" doc:"Signed: positive adds stock, negative removes it."`
		Reason   string `json:"reason,omitempty" doc:"Required for kind adjust: damaged, found, correction, …"`
		Kind     string `json:"kind,omitempty" enum:"adjust,receive,write_off,return" default:"adjust"`
		RefType  string `json:"ref_type,omitempty" maxLength:"50"`
		RefID    string `json:"ref_id,omitempty" maxLength:"100"`
	}
}) (*struct {
	Body struct {
		Movement Movement   `json:"movement"`
		Level    StockLevel `json:"level"`
	}
}, error) {
	b := in.Body
	m, lvl, err := a.d.Inventory.Adjust(ctx, principal(ctx).TenantID, inventory.Adjustment{SKU: b.SKU, Facility: b.Facility, Bin: b.Bin, Lot: b.Lot,
		Quantity: b.Quantity, Reason: b.Reason, Kind: inventory.Kind(b.Kind), RefType: b.RefType, RefID: b.RefID, Actor: actor(ctx)})
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Movement Movement   `json:"movement"`
			Level    StockLevel `json:"level"`
		}
	}{}
	out.Body.Movement = movementOut(m)
	out.Body.Level = levelOut(inventory.LevelWithCover{Level: lvl})
	out.Body.Level.LowStock, out.Body.Level.DaysOfCover = false, nil
	return out, nil
}

// CountLineResult is one counted line.
type CountLineResult struct {
	SKU      string `json:"sku"`
	Bin      string `json:"bin"`
	Lot      string `json:"lot"`
	Expected int64  `json:"expected"`
	Counted  int64  `json:"counted"`
	Delta    int64  `json:"delta"`
}

func (a *API) countInventory(ctx context.Context, in *struct {
	Body struct {
		Facility string `json:"facility"`
		Lines    []struct {
			SKU     string `json:"sku"`
			Bin     string `json:"bin,omitempty"`
			Lot     string `json:"lot,omitempty"`
			Counted int64  `json:"counted" minimum:"0"`
		} `json:"lines" minItems:"1" maxItems:"2000"`
	}
}) (*struct {
	Body struct {
		ID    string            `json:"id" doc:"The count's id; its ledger rows carry it as ref_id."`
		Lines []CountLineResult `json:"lines"`
	}
}, error) {
	var lines []inventory.CountLine
	for _, l := range in.Body.Lines {
		lines = append(lines, inventory.CountLine{SKU: l.SKU, Bin: l.Bin, Lot: l.Lot, Counted: l.Counted})
	}
	cid, res, err := a.d.Inventory.RecordCount(ctx, principal(ctx).TenantID, in.Body.Facility, lines, actor(ctx))
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			ID    string            `json:"id" doc:"The count's id; its ledger rows carry it as ref_id."`
			Lines []CountLineResult `json:"lines"`
		}
	}{}
	out.Body.ID = cid
	for _, r := range res {
		out.Body.Lines = append(out.Body.Lines, CountLineResult(r))
	}
	return out, nil
}

// Line is a SKU and a quantity.
type Line struct {
	SKU      string `json:"sku" minLength:"1" maxLength:"100"`
	Quantity int64  `json:"quantity" minimum:"1" maximum:"1000000"`
}

// Transfer moves stock between facilities.
type Transfer struct {
	ID         string     `json:"id"`
	From       string     `json:"from" doc:"Source facility code."`
	To         string     `json:"to" doc:"Destination facility code."`
	Status     string     `json:"status" enum:"in_transit,received,cancelled"`
	Note       string     `json:"note"`
	Lines      []Line     `json:"lines"`
	CreatedAt  time.Time  `json:"created_at"`
	ReceivedAt *time.Time `json:"received_at"`
}

func (a *API) transferOut(ctx context.Context, t inventory.Transfer) Transfer {
	out := Transfer{ID: t.ID, Status: string(t.Status), Note: t.Note, CreatedAt: t.CreatedAt, ReceivedAt: t.ReceivedAt, Lines: []Line{}}
	tenant := principal(ctx).TenantID
	if f, err := a.d.Inventory.Facility(ctx, tenant, t.FromFacilityID); err == nil {
		out.From = f.Code
	}
	if f, err := a.d.Inventory.Facility(ctx, tenant, t.ToFacilityID); err == nil {
		out.To = f.Code
	}
	for _, l := range t.Lines {
		out.Lines = append(out.Lines, Line{SKU: l.SKU, Quantity: l.Quantity})
	}
	return out
}

func (a *API) createTransfer(ctx context.Context, in *struct {
	Body struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Note  string `json:"note,omitempty" maxLength:"500"`
		Lines []Line `json:"lines" minItems:"1" maxItems:"500"`
	}
}) (*struct{ Body Transfer }, error) {
	var lines []inventory.ReserveLine
	for _, l := range in.Body.Lines {
		lines = append(lines, inventory.ReserveLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	t, err := a.d.Inventory.CreateTransfer(ctx, principal(ctx).TenantID, inventory.TransferRequest{From: in.Body.From, To: in.Body.To, Lines: lines, Note: in.Body.Note, Actor: actor(ctx)})
	if err != nil {
		return nil, err
	}
	return &struct{ Body Transfer }{a.transferOut(ctx, t)}, nil
}

func (a *API) getTransfer(ctx context.Context, in *productIDInput) (*struct{ Body Transfer }, error) {
	t, err := a.d.Inventory.Transfer(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body Transfer }{a.transferOut(ctx, t)}, nil
}

func (a *API) receiveTransfer(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100"`
	Body *struct {
		Bin string `json:"bin,omitempty" doc:"Put the stock into this bin of the destination."`
	}
}) (*struct{ Body Transfer }, error) {
	bin := ""
	if in.Body != nil {
		bin = in.Body.Bin
	}
	t, err := a.d.Inventory.ReceiveTransfer(ctx, principal(ctx).TenantID, in.ID, bin, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &struct{ Body Transfer }{a.transferOut(ctx, t)}, nil
}

func (a *API) listTransfers(ctx context.Context, in *struct{ PageParams }) (*struct {
	Body struct {
		Items      []Transfer `json:"items"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}
}, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	ts, next, err := a.d.Inventory.ListTransfers(ctx, principal(ctx).TenantID, after, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items      []Transfer `json:"items"`
			NextCursor string     `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = []Transfer{}
	for _, t := range ts {
		out.Body.Items = append(out.Body.Items, a.transferOut(ctx, t))
	}
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}

// ReorderSettings are a SKU's supplier lead time and safety stock.
type ReorderSettings struct {
	LeadTimeDays int    `json:"lead_time_days,omitempty" minimum:"0" maximum:"3650" doc:"Days from ordering to stock on the shelf."`
	SafetyDays   int    `json:"safety_days,omitempty" minimum:"0" maximum:"3650" doc:"Extra days of cover to keep."`
	SafetyStock  int64  `json:"safety_stock,omitempty" minimum:"0" doc:"Extra units to keep."`
	ReorderPoint *int64 `json:"reorder_point,omitempty" doc:"Fixed reorder point; computed from demand when absent."`
}

func (a *API) getReorderSettings(ctx context.Context, in *productIDInput) (*struct{ Body ReorderSettings }, error) {
	tenant := principal(ctx).TenantID
	if _, err := a.d.Catalog.Get(ctx, tenant, in.ID); err != nil {
		return nil, err
	}
	rs, err := a.d.Inventory.ReorderSettingsOf(ctx, tenant, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body ReorderSettings }{ReorderSettings{LeadTimeDays: rs.LeadTimeDays, SafetyDays: rs.SafetyDays, SafetyStock: rs.SafetyStock, ReorderPoint: rs.ReorderPoint}}, nil
}

func (a *API) setReorderSettings(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100"`
	Body ReorderSettings
}) (*struct{ Body ReorderSettings }, error) {
	tenant := principal(ctx).TenantID
	p, err := a.d.Catalog.Get(ctx, tenant, in.ID)
	if err != nil {
		return nil, err
	}
	b := in.Body
	rs, err := a.d.Inventory.SetReorderSettings(ctx, tenant, p.SKU, inventory.ReorderSettings{LeadTimeDays: b.LeadTimeDays, SafetyDays: b.SafetyDays, SafetyStock: b.SafetyStock, ReorderPoint: b.ReorderPoint})
	if err != nil {
		return nil, err
	}
	return &struct{ Body ReorderSettings }{ReorderSettings{LeadTimeDays: rs.LeadTimeDays, SafetyDays: rs.SafetyDays, SafetyStock: rs.SafetyStock, ReorderPoint: rs.ReorderPoint}}, nil
}

// Reservation holds stock for an order or a checkout.
type Reservation struct {
	ID        string            `json:"id"`
	Status    string            `json:"status" enum:"active,released,consumed,expired"`
	RefType   string            `json:"ref_type"`
	RefID     string            `json:"ref_id"`
	ExpiresAt *time.Time        `json:"expires_at"`
	CreatedAt time.Time         `json:"created_at"`
	ClosedAt  *time.Time        `json:"closed_at"`
	Lines     []ReservationLine `json:"lines"`
}

// ReservationLine is stock held of one SKU at one facility; a kit's line
// appears as one line per component with kit_sku set.
type ReservationLine struct {
	SKU        string `json:"sku"`
	KitSKU     string `json:"kit_sku,omitempty"`
	Facility   string `json:"facility"`
	FacilityID string `json:"facility_id"`
	Quantity   int64  `json:"quantity"`
}

func (a *API) reservationOut(ctx context.Context, r inventory.Reservation) Reservation {
	out := Reservation{ID: r.ID, Status: string(r.Status), RefType: r.RefType, RefID: r.RefID, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, ClosedAt: r.ClosedAt, Lines: []ReservationLine{}}
	codes := map[string]string{}
	kits := map[string]string{}
	tenant := principal(ctx).TenantID
	for _, l := range r.Lines {
		if _, ok := codes[l.FacilityID]; !ok {
			if f, err := a.d.Inventory.Facility(ctx, tenant, l.FacilityID); err == nil {
				codes[l.FacilityID] = f.Code
			}
		}
		if l.KitID != "" {
			if _, ok := kits[l.KitID]; !ok {
				if p, err := a.d.Catalog.Get(ctx, tenant, l.KitID); err == nil {
					kits[l.KitID] = p.SKU
				}
			}
		}
		out.Lines = append(out.Lines, ReservationLine{SKU: l.SKU, KitSKU: kits[l.KitID], Facility: codes[l.FacilityID], FacilityID: l.FacilityID, Quantity: l.Quantity})
	}
	return out
}

func (a *API) createReservation(ctx context.Context, in *struct {
	Body struct {
		Lines      []Line `json:"lines" minItems:"1" maxItems:"500"`
		TTLSeconds int64  `json:"ttl_seconds,omitempty" minimum:"0" maximum:"2592000" doc:"Release automatically after this long; 0 holds until released."`
		Facility   string `json:"facility,omitempty" doc:"Reserve at this facility only; otherwise the first active facility (by priority) that has the stock."`
		RefType    string `json:"ref_type,omitempty" maxLength:"50" example:"checkout"`
		RefID      string `json:"ref_id,omitempty" maxLength:"100"`
	}
}) (*struct{ Body Reservation }, error) {
	b := in.Body
	var lines []inventory.ReserveLine
	for _, l := range b.Lines {
		lines = append(lines, inventory.ReserveLine{SKU: strings.TrimSpace(l.SKU), Quantity: l.Quantity})
	}
	r, _, err := a.d.Inventory.MakeReservation(ctx, principal(ctx).TenantID, inventory.ReserveRequest{Lines: lines, Facility: b.Facility,
		TTL: time.Duration(b.TTLSeconds) * time.Second, RefType: b.RefType, RefID: b.RefID, Actor: actor(ctx)})
	if err != nil {
		return nil, err
	}
	return &struct{ Body Reservation }{a.reservationOut(ctx, r)}, nil
}

func (a *API) getReservation(ctx context.Context, in *productIDInput) (*struct{ Body Reservation }, error) {
	r, err := a.d.Inventory.Reservation(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body Reservation }{a.reservationOut(ctx, r)}, nil
}

func (a *API) releaseReservation(ctx context.Context, in *productIDInput) (*struct{ Body Reservation }, error) {
	r, err := a.d.Inventory.ReleaseReservation(ctx, principal(ctx).TenantID, in.ID, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &struct{ Body Reservation }{a.reservationOut(ctx, r)}, nil
}

func (a *API) listReservations(ctx context.Context, in *struct {
	PageParams
	Status string `query:"status" enum:"active,released,consumed,expired,"`
}) (*struct {
	Body struct {
		Items      []Reservation `json:"items"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}
}, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	rs, next, err := a.d.Inventory.ListReservations(ctx, principal(ctx).TenantID, inventory.ReservationStatus(in.Status), after, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items      []Reservation `json:"items"`
			NextCursor string        `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = []Reservation{}
	for _, r := range rs {
		out.Body.Items = append(out.Body.Items, a.reservationOut(ctx, r))
	}
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}
