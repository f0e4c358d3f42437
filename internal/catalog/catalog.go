// Package catalog owns the products a tenant sells and stocks: SKUs, their
// barcodes, dimensions, prices, customs data, and kits made of other SKUs.
package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/gtin"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/money"
)

// Product is one SKU.
type Product struct {
	ID              string
	TenantID        string
	SKU             string
	Name            string
	Description     string
	Vendor          string
	ProductType     string
	Barcodes        []Barcode
	WeightG         int64
	LengthMM        int64
	WidthMM         int64
	HeightMM        int64
	Currency        string
	Price           *int64 // minor units of Currency; nil when not set
	Cost            *int64
	HSCode          string
	CountryOfOrigin string
	Tags            []string
	AllowBackorder  bool
	LotTracked      bool
	SerialTracked   bool
	Components      []Component // non-empty for a kit
	ArchivedAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// IsKit reports whether the product is made of other SKUs.
func (p Product) IsKit() bool { return len(p.Components) > 0 }

// Barcode is one scannable code of a product.
type Barcode struct {
	Code string
	Kind gtin.Kind
}

// Component is one SKU inside a kit.
type Component struct {
	ProductID string
	SKU       string
	Quantity  int64
}

// Draft is a product as people and files write it: strings for money, SKUs
// for kit components. Every way in (API, dashboard form, CSV) fills a Draft
// and Validate turns it into a Product, so the rules live in one place.
type Draft struct {
	SKU             string
	Name            string
	Description     string
	Vendor          string
	ProductType     string
	Barcodes        []string
	WeightG         int64
	LengthMM        int64
	WidthMM         int64
	HeightMM        int64
	Currency        string
	Price           string // decimal, e.g. "19.99"; empty = not set
	Cost            string
	HSCode          string
	CountryOfOrigin string
	Tags            []string
	AllowBackorder  bool
	LotTracked      bool
	SerialTracked   bool
	Components      []DraftComponent
}

// DraftComponent names a kit component by SKU.
type DraftComponent struct {
	SKU      string
	Quantity int64
}

// DraftOf turns a stored product back into a Draft (for edits and exports).
func DraftOf(p Product) Draft {
	d := Draft{
		SKU: p.SKU, Name: p.Name, Description: p.Description, Vendor: p.Vendor, ProductType: p.ProductType,
		WeightG: p.WeightG, LengthMM: p.LengthMM, WidthMM: p.WidthMM, HeightMM: p.HeightMM,
		Currency: p.Currency, HSCode: p.HSCode, CountryOfOrigin: p.CountryOfOrigin,
		Tags: slices.Clone(p.Tags), AllowBackorder: p.AllowBackorder, LotTracked: p.LotTracked, SerialTracked: p.SerialTracked,
	}
	for _, b := range p.Barcodes {
		d.Barcodes = append(d.Barcodes, b.Code)
	}
	if p.Price != nil {
		d.Price = money.Amount{Minor: *p.Price, Currency: p.Currency}.String()
	}
	if p.Cost != nil {
		d.Cost = money.Amount{Minor: *p.Cost, Currency: p.Currency}.String()
	}
	for _, c := range p.Components {
		d.Components = append(d.Components, DraftComponent{SKU: c.SKU, Quantity: c.Quantity})
	}
	return d
}

// Limits on sizes, so that one product cannot fill the database.
const (
	maxSKU         = 100
	maxName        = 255
	maxDescription = 65536
	maxBarcodes    = 20
	maxTags        = 50
	maxTag         = 64
	maxComponents  = 100
	maxDimension   = 100_000_000 // 100 km in mm / 100 t in g: a typo guard, not physics
)

// Validate checks a draft and returns the product it describes (without id,
// tenant, kit component ids or timestamps). Field names in errors are the
// API's.
func (d Draft) Validate(defaultCurrency string) (Product, error) {
	const op = "catalog.Validate"
	var fe errs.FieldList
	p := Product{
		SKU:             strings.TrimSpace(d.SKU),
		Name:            strings.TrimSpace(d.Name),
		Description:     d.Description,
		Vendor:          strings.TrimSpace(d.Vendor),
		ProductType:     strings.TrimSpace(d.ProductType),
		WeightG:         d.WeightG,
		LengthMM:        d.LengthMM,
		WidthMM:         d.WidthMM,
		HeightMM:        d.HeightMM,
		Currency:        strings.TrimSpace(d.Currency),
		HSCode:          strings.ReplaceAll(strings.TrimSpace(d.HSCode), ".", ""),
		CountryOfOrigin: strings.ToUpper(strings.TrimSpace(d.CountryOfOrigin)),
		AllowBackorder:  d.AllowBackorder,
		LotTracked:      d.LotTracked,
		SerialTracked:   d.SerialTracked,
	}
	switch {
	case p.SKU == "":
		fe.Add("sku", "is required", d.SKU)
	case utf8.RuneCountInString(p.SKU) > maxSKU:
		fe.Add("sku", fmt.Sprintf("must be at most %d characters", maxSKU), d.SKU)
	case strings.IndexFunc(p.SKU, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		fe.Add("sku", "must not contain spaces or control characters", d.SKU)
	}
	if p.Name == "" {
		fe.Add("name", "is required", d.Name)
	} else if utf8.RuneCountInString(p.Name) > maxName {
		fe.Add("name", fmt.Sprintf("must be at most %d characters", maxName), nil)
	}
	if len(p.Description) > maxDescription {
		fe.Add("description", "must be at most 64 KiB", nil)
	}
	if !utf8.ValidString(p.Name + p.Description + p.Vendor + p.ProductType + p.SKU) {
		fe.Add("name", "text must be valid UTF-8", nil)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"weight_g", p.WeightG}, {"length_mm", p.LengthMM}, {"width_mm", p.WidthMM}, {"height_mm", p.HeightMM}} {
		if f.v < 0 || f.v > maxDimension {
			fe.Add(f.name, "must be between 0 and 100000000", f.v)
		}
	}
	if p.Currency == "" {
		p.Currency = defaultCurrency
	}
	if !money.ValidCurrency(p.Currency) {
		fe.Add("currency", "must be an ISO 4217 currency code such as USD", d.Currency)
	} else {
		for _, m := range []struct {
			name string
			s    string
			dst  **int64
		}{{"price", d.Price, &p.Price}, {"cost", d.Cost, &p.Cost}} {
			s := strings.TrimSpace(m.s)
			if s == "" {
				continue
			}
			a, err := money.Parse(s, p.Currency)
			if err != nil {
				fe.Add(m.name, err.Error(), m.s)
				continue
			}
			if a.Minor < 0 {
				fe.Add(m.name, "must not be negative", m.s)
				continue
			}
			v := a.Minor
			*m.dst = &v
		}
	}
	if p.HSCode != "" {
		if len(p.HSCode) < 6 || len(p.HSCode) > 10 || strings.Trim(p.HSCode, "0123456789") != "" {
			fe.Add("hs_code", "must be 6 to 10 digits (dots allowed), e.g. 6109.10", d.HSCode)
		}
	}
	if p.CountryOfOrigin != "" && (len(p.CountryOfOrigin) != 2 || strings.Trim(p.CountryOfOrigin, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		fe.Add("country_of_origin", "must be an ISO 3166-1 alpha-2 code such as CN", d.CountryOfOrigin)
	}
	if len(d.Barcodes) > maxBarcodes {
		fe.Add("barcodes", fmt.Sprintf("at most %d barcodes", maxBarcodes), nil)
	}
	seen := map[string]bool{}
	for i, raw := range d.Barcodes {
		code := strings.TrimSpace(raw)
		field := fmt.Sprintf("barcodes[%d]", i)
		kind, err := gtin.Classify(code)
		if err != nil {
			fe.Add(field, err.Error(), raw)
			continue
		}
		if seen[code] {
			fe.Add(field, "is listed twice", raw)
			continue
		}
		seen[code] = true
		p.Barcodes = append(p.Barcodes, Barcode{Code: code, Kind: kind})
	}
	if len(d.Tags) > maxTags {
		fe.Add("tags", fmt.Sprintf("at most %d tags", maxTags), nil)
	}
	for i, t := range d.Tags {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if utf8.RuneCountInString(t) > maxTag || strings.ContainsAny(t, ",\n\r\t") {
			fe.Add(fmt.Sprintf("tags[%d]", i), "must be at most 64 characters without commas or line breaks", d.Tags[i])
			continue
		}
		if !slices.Contains(p.Tags, t) {
			p.Tags = append(p.Tags, t)
		}
	}
	slices.Sort(p.Tags)
	if len(d.Components) > maxComponents {
		fe.Add("kit_components", fmt.Sprintf("at most %d components", maxComponents), nil)
	}
	compSeen := map[string]bool{}
	for i, c := range d.Components {
		sku := strings.TrimSpace(c.SKU)
		switch {
		case sku == "":
			fe.Add(fmt.Sprintf("kit_components[%d].sku", i), "is required", c.SKU)
		case sku == p.SKU:
			fe.Add(fmt.Sprintf("kit_components[%d].sku", i), "a kit cannot contain itself", c.SKU)
		case compSeen[sku]:
			fe.Add(fmt.Sprintf("kit_components[%d].sku", i), "is listed twice", c.SKU)
		}
		if c.Quantity < 1 || c.Quantity > 10000 {
			fe.Add(fmt.Sprintf("kit_components[%d].quantity", i), "must be between 1 and 10000", c.Quantity)
		}
		compSeen[sku] = true
		p.Components = append(p.Components, Component{SKU: sku, Quantity: c.Quantity})
	}
	if p.IsKit() && (p.LotTracked || p.SerialTracked) {
		fe.Add("lot_tracked", "a kit is tracked through its components, not itself", nil)
	}
	if err := fe.Err(op); err != nil {
		return Product{}, err
	}
	return p, nil
}

// Status filters products by archive state.
type Status string

const (
	Active   Status = "active"
	Archived Status = "archived"
	AnyState Status = "any"
)

// Filter selects products in a list. Empty fields do not filter.
type Filter struct {
	SKU     string // exact
	Barcode string // exact
	Tag     string // exact
	Query   string // substring of sku, name or vendor, case-insensitive
	Status  Status // default Active
	Kits    *bool  // only kits / only non-kits
	After   string // cursor: list ids greater than this
	Limit   int
}

// Store is what the catalog needs from the database.
type Store interface {
	// CreateProduct inserts p; Conflict when its SKU or a barcode is taken.
	CreateProduct(ctx context.Context, p *Product) error
	// UpdateProduct replaces p's fields, barcodes, tags and components.
	UpdateProduct(ctx context.Context, p *Product) error
	Product(ctx context.Context, tenantID, id string) (Product, error)
	ProductBySKU(ctx context.Context, tenantID, sku string) (Product, error)
	// ProductIDsBySKU maps the given SKUs to ids and whether each is a kit;
	// missing SKUs are absent.
	ProductIDsBySKU(ctx context.Context, tenantID string, skus []string) (map[string]SKURef, error)
	ListProducts(ctx context.Context, tenantID string, f Filter) ([]Product, error)
	SetArchived(ctx context.Context, tenantID, id string, at *time.Time) error
	// KitsUsing lists the SKUs of kits that contain productID.
	KitsUsing(ctx context.Context, tenantID, productID string) ([]string, error)

	// For imports, a batch at a time:

	// ProductsBySKU returns the products with the given SKUs, with their
	// barcodes, tags and components, keyed by SKU; missing SKUs are absent.
	ProductsBySKU(ctx context.Context, tenantID string, skus []string) (map[string]Product, error)
	// BarcodeOwners maps those of codes that a product has to its SKU.
	BarcodeOwners(ctx context.Context, tenantID string, codes []string) (map[string]string, error)
	// WriteProducts inserts create and replaces update (fields, archive
	// state, barcodes, tags, components) in one transaction. A barcode that
	// another product holds moves to the product written: the caller checks
	// beforehand that this is meant.
	WriteProducts(ctx context.Context, tenantID string, create, update []Product) error
}

// SKURef is what a lookup by SKU returns.
type SKURef struct {
	ID       string
	IsKit    bool
	Archived bool
}

// Service is the catalog's API.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// resolveComponents fills component product ids, checking they exist, are
// not kits themselves (kits do not nest) and are not archived.
func (s *Service) resolveComponents(ctx context.Context, tenantID string, p *Product) error {
	const op = "catalog.resolveComponents"
	if !p.IsKit() {
		return nil
	}
	skus := make([]string, len(p.Components))
	for i, c := range p.Components {
		skus[i] = c.SKU
	}
	refs, err := s.store.ProductIDsBySKU(ctx, tenantID, skus)
	if err != nil {
		return errs.E(op, err)
	}
	var fe errs.FieldList
	for i := range p.Components {
		ref, ok := refs[p.Components[i].SKU]
		field := fmt.Sprintf("kit_components[%d].sku", i)
		switch {
		case !ok:
			fe.Add(field, "no product has this SKU", p.Components[i].SKU)
		case ref.IsKit:
			fe.Add(field, "is a kit itself; kits cannot contain kits", p.Components[i].SKU)
		case ref.Archived:
			fe.Add(field, "is archived", p.Components[i].SKU)
		default:
			p.Components[i].ProductID = ref.ID
		}
	}
	return fe.Err(op)
}

// Create validates a draft and stores a new product.
func (s *Service) Create(ctx context.Context, tenantID, defaultCurrency string, d Draft) (Product, error) {
	const op = "catalog.Create"
	p, err := d.Validate(defaultCurrency)
	if err != nil {
		return Product{}, err
	}
	if err := s.resolveComponents(ctx, tenantID, &p); err != nil {
		return Product{}, err
	}
	now := s.now()
	p.ID, p.TenantID, p.CreatedAt, p.UpdatedAt = id.New("prod"), tenantID, now, now
	if err := s.store.CreateProduct(ctx, &p); err != nil {
		return Product{}, errs.E(op, err)
	}
	return p, nil
}

// Get returns one product.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Product, error) {
	return s.store.Product(ctx, tenantID, id)
}

// BySKU returns the product with that SKU.
func (s *Service) BySKU(ctx context.Context, tenantID, sku string) (Product, error) {
	return s.store.ProductBySKU(ctx, tenantID, sku)
}

// Update replaces a product's editable fields with those of a draft that the
// caller built from DraftOf(current) plus its changes.
func (s *Service) Update(ctx context.Context, tenantID, id, defaultCurrency string, change func(*Draft)) (Product, error) {
	const op = "catalog.Update"
	cur, err := s.store.Product(ctx, tenantID, id)
	if err != nil {
		return Product{}, errs.E(op, err)
	}
	d := DraftOf(cur)
	change(&d)
	p, err := d.Validate(defaultCurrency)
	if err != nil {
		return Product{}, err
	}
	if p.IsKit() {
		if kits, err := s.store.KitsUsing(ctx, tenantID, cur.ID); err != nil {
			return Product{}, errs.E(op, err)
		} else if len(kits) > 0 {
			return Product{}, errs.InvalidFields(op, errs.FieldError{Field: "kit_components", Message: "this product is a component of " + strings.Join(kits, ", ") + "; kits cannot contain kits"})
		}
	}
	if err := s.resolveComponents(ctx, tenantID, &p); err != nil {
		return Product{}, err
	}
	p.ID, p.TenantID, p.CreatedAt, p.ArchivedAt, p.UpdatedAt = cur.ID, tenantID, cur.CreatedAt, cur.ArchivedAt, s.now()
	if err := s.store.UpdateProduct(ctx, &p); err != nil {
		return Product{}, errs.E(op, err)
	}
	return p, nil
}

// Archive hides a product from lists and new orders; history keeps it.
// Archiving an archived product changes nothing.
func (s *Service) Archive(ctx context.Context, tenantID, id string) (Product, error) {
	p, err := s.store.Product(ctx, tenantID, id)
	if err != nil {
		return Product{}, errs.E("catalog.Archive", err)
	}
	if p.ArchivedAt == nil {
		now := s.now()
		if err := s.store.SetArchived(ctx, tenantID, id, &now); err != nil {
			return Product{}, errs.E("catalog.Archive", err)
		}
	}
	return s.store.Product(ctx, tenantID, id)
}

// Unarchive makes an archived product active again.
func (s *Service) Unarchive(ctx context.Context, tenantID, id string) (Product, error) {
	if err := s.store.SetArchived(ctx, tenantID, id, nil); err != nil {
		return Product{}, errs.E("catalog.Unarchive", err)
	}
	return s.store.Product(ctx, tenantID, id)
}

// MaxPageSize bounds one page of a list.
const MaxPageSize = 250

// List returns a page of products and the cursor of the next page ("" at the end).
func (s *Service) List(ctx context.Context, tenantID string, f Filter) ([]Product, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > MaxPageSize {
		f.Limit = MaxPageSize
	}
	if f.Status == "" {
		f.Status = Active
	}
	want := f.Limit
	f.Limit++
	ps, err := s.store.ListProducts(ctx, tenantID, f)
	if err != nil {
		return nil, "", errs.E("catalog.List", err)
	}
	next := ""
	if len(ps) > want {
		ps = ps[:want]
		next = ps[want-1].ID
	}
	return ps, next, nil
}
