// Package inventory owns where stock is and what is promised: facilities and
// their bins, the immutable stock ledger, balances derived from it,
// reservations that never oversell, transfers, counts, and days of cover.
package inventory

import (
	"context"
	"time"
)

// FacilityKind says who runs a facility.
type FacilityKind string

const (
	Own      FacilityKind = "own"      // the merchant's warehouse or garage
	ThreePL  FacilityKind = "3pl"      // a fulfilment service
	Dropship FacilityKind = "dropship" // a supplier that ships for the merchant
	Retail   FacilityKind = "store"    // a shop or pickup point
)

// Address is a postal address.
type Address struct {
	Name       string
	Company    string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	Country    string // ISO 3166-1 alpha-2
	Phone      string
}

// Facility is a place stock lives in or ships from.
type Facility struct {
	ID        string
	TenantID  string
	Code      string
	Name      string
	Kind      FacilityKind
	Address   Address
	Timezone  string
	Cutoff    string // shipping cut-off, "HH:MM" local time, or ""
	Priority  int    // lower is preferred when nothing else decides
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Bin is a storage location inside an own facility. Aisle, bay, level and
// position are kept apart so that pick routes can be planned later.
type Bin struct {
	ID         string
	TenantID   string
	FacilityID string
	Code       string
	Zone       string
	Aisle      string
	Bay        string
	Level      string
	Position   string
	Pickable   bool
	CreatedAt  time.Time
}

// Kind is the kind of a ledger movement.
type Kind string

const (
	Receive     Kind = "receive"
	Adjust      Kind = "adjust"
	TransferOut Kind = "transfer_out"
	TransferIn  Kind = "transfer_in"
	Count       Kind = "count"
	Reserve     Kind = "reserve"
	Release     Kind = "release"
	Expire      Kind = "expire"
	Pick        Kind = "pick"
	Ship        Kind = "ship"
	Return      Kind = "return"
	WriteOff    Kind = "write_off"
)

// Kinds lists every movement kind.
var Kinds = []Kind{Receive, Adjust, TransferOut, TransferIn, Count, Reserve, Release, Expire, Pick, Ship, Return, WriteOff}

// Movement is one immutable ledger row.
type Movement struct {
	ID            string
	TenantID      string
	ProductID     string
	SKU           string
	FacilityID    string
	FacilityCode  string
	BinID         string
	BinCode       string
	Lot           string
	Kind          Kind
	OnHandDelta   int64
	ReservedDelta int64
	IncomingDelta int64
	Reason        string
	RefType       string
	RefID         string
	Actor         string
	CreatedAt     time.Time
}

// Level is the balance of one SKU at one facility.
type Level struct {
	TenantID     string
	ProductID    string
	SKU          string
	FacilityID   string
	FacilityCode string
	OnHand       int64
	Reserved     int64
	Incoming     int64
	LowStock     bool // as flagged by the last change
	UpdatedAt    time.Time
}

// Available is what can still be promised.
func (l Level) Available() int64 { return l.OnHand - l.Reserved }

// Location is the on hand of one SKU at one bin and lot of a facility
// (BinID "" is the facility's unassigned location).
type Location struct {
	ProductID    string
	SKU          string
	FacilityID   string
	FacilityCode string
	BinID        string
	BinCode      string
	Lot          string
	OnHand       int64
}

// Item is what inventory needs to know of a product.
type Item struct {
	ID             string
	SKU            string
	Name           string // the catalogue's name
	AllowBackorder bool
	Archived       bool
	Components     []ItemComponent // a kit's components; empty otherwise
}

// ItemComponent is one SKU in a kit.
type ItemComponent struct {
	ProductID      string
	SKU            string
	Quantity       int64
	AllowBackorder bool
}

// Change is one change to balances, written to the ledger and applied to the
// balances in the same transaction. The store refuses (ErrShort) a change that
// would take on_hand, reserved or incoming below zero, or available below zero
// when it lowers availability, unless AllowNegativeAvailable.
type Change struct {
	ProductID              string
	FacilityID             string
	BinID                  string
	Lot                    string
	Kind                   Kind
	OnHand                 int64
	Reserved               int64
	Incoming               int64
	AllowNegativeAvailable bool
	Reason                 string
	RefType                string
	RefID                  string
	Actor                  string
	// Field is the request field a refusal names, in the API's spelling
	// ("quantity", "lines[2].quantity", "row[7].quantity"); "" names none.
	Field string
}

// Tx is the store's side of one inventory transaction.
type Tx interface {
	PartTx // consume.go
	// Apply writes c to the ledger and the balances, or returns an error of
	// kind Conflict (code insufficient_stock) and changes nothing.
	Apply(ctx context.Context, tenantID string, c Change) (Movement, error)
	// Levels reads balances for products at facilities (locked for update on
	// PostgreSQL, in facility then product order); missing rows read as zero,
	// with a zero UpdatedAt.
	Levels(ctx context.Context, tenantID string, productIDs, facilityIDs []string) (map[[2]string]Level, error)
	// LocationOnHand reads on hand at one bin and lot.
	LocationOnHand(ctx context.Context, tenantID, productID, facilityID, binID, lot string) (int64, error)
	CreateReservation(ctx context.Context, r *Reservation) error
	Reservation(ctx context.Context, tenantID, id string) (Reservation, error)
	// CloseReservation moves an active reservation to status; false when it
	// was not active any more (someone else closed it first).
	CloseReservation(ctx context.Context, tenantID, id string, status ReservationStatus, at time.Time) (bool, error)
	CreateTransfer(ctx context.Context, t *Transfer) error
	Transfer(ctx context.Context, tenantID, id string) (Transfer, error)
	SetTransferStatus(ctx context.Context, tenantID, id string, from, to TransferStatus, at time.Time) (bool, error)
	// DemandSince is reserved minus released quantity of products at
	// facilities since a time — what customers asked for — in one query.
	DemandSince(ctx context.Context, tenantID string, productIDs, facilityIDs []string, since time.Time) (map[[2]string]int64, error)
	// ReorderSettingsFor reads products' reorder settings (missing: none).
	ReorderSettingsFor(ctx context.Context, tenantID string, productIDs []string) (map[string]ReorderSettings, error)
	SetReorderSettings(ctx context.Context, tenantID string, s ReorderSettings) error
	Emit(ctx context.Context, tenantID, typ, objectType, objectID string, payload any) error
	// SetLowStock records whether a balance is at or below its reorder point.
	SetLowStock(ctx context.Context, tenantID, productID, facilityID string, low bool) error
}

// Store is what inventory needs from the database.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error

	CreateFacility(ctx context.Context, f *Facility) error
	UpdateFacility(ctx context.Context, f *Facility) error
	Facility(ctx context.Context, tenantID, id string) (Facility, error)
	FacilityByCode(ctx context.Context, tenantID, code string) (Facility, error)
	ListFacilities(ctx context.Context, tenantID string) ([]Facility, error)
	CreateBin(ctx context.Context, b *Bin) error
	UpdateBin(ctx context.Context, b *Bin) error
	Bin(ctx context.Context, tenantID, id string) (Bin, error)
	BinByCode(ctx context.Context, tenantID, facilityID, code string) (Bin, error)
	ListBins(ctx context.Context, tenantID, facilityID, after string, limit int) ([]Bin, error)

	Items(ctx context.Context, tenantID string, skus []string) (map[string]Item, error)
	ListLevels(ctx context.Context, tenantID string, f LevelFilter) ([]Level, error)
	ListMovements(ctx context.Context, tenantID string, f MovementFilter) ([]Movement, error)
	ListReservations(ctx context.Context, tenantID string, status ReservationStatus, after string, limit int) ([]Reservation, error)
	ExpiredReservations(ctx context.Context, now time.Time, limit int) ([][2]string, error)
	ListTransfers(ctx context.Context, tenantID, after string, limit int) ([]Transfer, error)

	// DemandSince is Tx.Demand for many balances at once, read without
	// locks: per product and facility, reserved less released or expired
	// since a time. Pairs without demand are absent.
	DemandSince(ctx context.Context, tenantID string, productIDs, facilityIDs []string, since time.Time) (map[[2]string]int64, error)
	// ReorderSettingsFor reads products' reorder settings without locks;
	// products without settings are absent.
	ReorderSettingsFor(ctx context.Context, tenantID string, productIDs []string) (map[string]ReorderSettings, error)
	// LowStockCandidates lists, across tenants, the balances that can be or
	// are flagged low stock (their product has reorder settings, or the flag
	// is set), in tenant, facility, product order after the given balance.
	LowStockCandidates(ctx context.Context, after Level, limit int) ([]Level, error)
	// EachLocation calls fn for every location with stock, of one facility
	// or all (""), ordered by facility code, SKU, bin code and lot, from one
	// consistent read.
	EachLocation(ctx context.Context, tenantID, facilityID string, fn func(Location) error) error

	// Check recomputes every balance from the ledger and returns the rows
	// that disagree.
	Check(ctx context.Context) ([]Discrepancy, error)
}

// LevelFilter selects balances.
type LevelFilter struct {
	ProductID  string
	SKU        string
	FacilityID string
	Query      string // text in SKU or product name
	LowOnly    bool   // only balances flagged low stock by their last change
	After      string // cursor: "facilityID/productID"
	Limit      int
}

// MovementFilter selects ledger rows.
type MovementFilter struct {
	ProductID  string
	FacilityID string
	Kind       Kind
	RefType    string
	RefID      string
	Since      *time.Time
	Until      *time.Time
	After      string
	Limit      int
}

// Discrepancy is a balance that disagrees with its ledger.
type Discrepancy struct {
	TenantID   string
	ProductID  string
	SKU        string
	FacilityID string
	Field      string // on_hand, reserved, incoming, or location
	Balance    int64
	Ledger     int64
}
