package httpapi

import (
	"context"
	"time"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/money"
)

// KitComponent is one SKU inside a kit.
type KitComponent struct {
	SKU      string `json:"sku" minLength:"1" maxLength:"100"`
	Quantity int64  `json:"quantity" minimum:"1" maximum:"10000"`
}

// Product is a SKU as the API shows it.
type Product struct {
	ID              string         `json:"id" example:"prod_01jd5x3m7q8r9s0t1v2w3x4y5z"`
	SKU             string         `json:"sku"`
	Name            string         `json:"name"`
	Description     string         `json:"description"`
	Vendor          string         `json:"vendor"`
	ProductType     string         `json:"product_type"`
	Barcodes        []string       `json:"barcodes" doc:"GTIN-8/12/13/14 (check digit verified) or free-form codes."`
	WeightG         int64          `json:"weight_g" doc:"Weight in grams."`
	LengthMM        int64          `json:"length_mm"`
	WidthMM         int64          `json:"width_mm"`
	HeightMM        int64          `json:"height_mm"`
	Currency        string         `json:"currency" doc:"ISO 4217 code of price and cost."`
	Price           *string        `json:"price" doc:"Decimal string such as \"19.99\", or null."`
	Cost            *string        `json:"cost" doc:"Decimal string, or null."`
	HSCode          string         `json:"hs_code"`
	CountryOfOrigin string         `json:"country_of_origin" doc:"ISO 3166-1 alpha-2."`
	Tags            []string       `json:"tags"`
	AllowBackorder  bool           `json:"allow_backorder"`
	LotTracked      bool           `json:"lot_tracked"`
	SerialTracked   bool           `json:"serial_tracked"`
	IsKit           bool           `json:"is_kit"`
	KitComponents   []KitComponent `json:"kit_components"`
	Status          string         `json:"status" enum:"active,archived"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
}

func productOut(p catalog.Product) Product {
	out := Product{
		ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description, Vendor: p.Vendor, ProductType: p.ProductType,
		Barcodes: []string{}, WeightG: p.WeightG, LengthMM: p.LengthMM, WidthMM: p.WidthMM, HeightMM: p.HeightMM,
		Currency: p.Currency, HSCode: p.HSCode, CountryOfOrigin: p.CountryOfOrigin, Tags: []string{},
		AllowBackorder: p.AllowBackorder, LotTracked: p.LotTracked, SerialTracked: p.SerialTracked,
		IsKit: p.IsKit(), KitComponents: []KitComponent{}, Status: "active", CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	for _, b := range p.Barcodes {
		out.Barcodes = append(out.Barcodes, b.Code)
	}
	out.Tags = append(out.Tags, p.Tags...)
	if p.Price != nil {
		s := money.Amount{Minor: *p.Price, Currency: p.Currency}.String()
		out.Price = &s
	}
	if p.Cost != nil {
		s := money.Amount{Minor: *p.Cost, Currency: p.Currency}.String()
		out.Cost = &s
	}
	for _, c := range p.Components {
		out.KitComponents = append(out.KitComponents, KitComponent{SKU: c.SKU, Quantity: c.Quantity})
	}
	if p.ArchivedAt != nil {
		out.Status = "archived"
	}
	return out
}

// ProductInput is the body of a create.
type ProductInput struct {
	SKU             string         `json:"sku" doc:"Unique per tenant; no spaces." example:"TSHIRT-BLK-M"`
	Name            string         `json:"name" example:"T-shirt black M"`
	Description     string         `json:"description,omitempty"`
	Vendor          string         `json:"vendor,omitempty"`
	ProductType     string         `json:"product_type,omitempty"`
	Barcodes        []string       `json:"barcodes,omitempty" maxItems:"20"`
	WeightG         int64          `json:"weight_g,omitempty"`
	LengthMM        int64          `json:"length_mm,omitempty"`
	WidthMM         int64          `json:"width_mm,omitempty"`
	HeightMM        int64          `json:"height_mm,omitempty"`
	Currency        string         `json:"currency,omitempty" doc:"Defaults to the tenant's currency."`
	Price           string         `json:"price,omitempty" example:"19.99"`
	Cost            string         `json:"cost,omitempty" example:"7.40"`
	HSCode          string         `json:"hs_code,omitempty" example:"6109.10"`
	CountryOfOrigin string         `json:"country_of_origin,omitempty" example:"PT"`
	Tags            []string       `json:"tags,omitempty" maxItems:"50"`
	AllowBackorder  bool           `json:"allow_backorder,omitempty"`
	LotTracked      bool           `json:"lot_tracked,omitempty"`
	SerialTracked   bool           `json:"serial_tracked,omitempty"`
	KitComponents   []KitComponent `json:"kit_components,omitempty" maxItems:"100" doc:"Makes the product a kit of these SKUs."`
}

func (in ProductInput) draft() catalog.Draft {
	d := catalog.Draft{
		SKU: in.SKU, Name: in.Name, Description: in.Description, Vendor: in.Vendor, ProductType: in.ProductType,
		Barcodes: in.Barcodes, WeightG: in.WeightG, LengthMM: in.LengthMM, WidthMM: in.WidthMM, HeightMM: in.HeightMM,
		Currency: in.Currency, Price: in.Price, Cost: in.Cost, HSCode: in.HSCode, CountryOfOrigin: in.CountryOfOrigin,
		Tags: in.Tags, AllowBackorder: in.AllowBackorder, LotTracked: in.LotTracked, SerialTracked: in.SerialTracked,
	}
	for _, c := range in.KitComponents {
		d.Components = append(d.Components, catalog.DraftComponent{SKU: c.SKU, Quantity: c.Quantity})
	}
	return d
}

// ProductPatch is the body of an update: absent fields stay as they are.
type ProductPatch struct {
	SKU             *string         `json:"sku,omitempty"`
	Name            *string         `json:"name,omitempty"`
	Description     *string         `json:"description,omitempty"`
	Vendor          *string         `json:"vendor,omitempty"`
	ProductType     *string         `json:"product_type,omitempty"`
	Barcodes        *[]string       `json:"barcodes,omitempty"`
	WeightG         *int64          `json:"weight_g,omitempty"`
	LengthMM        *int64          `json:"length_mm,omitempty"`
	WidthMM         *int64          `json:"width_mm,omitempty"`
	HeightMM        *int64          `json:"height_mm,omitempty"`
	Currency        *string         `json:"currency,omitempty"`
	Price           *string         `json:"price,omitempty" doc:"\"\" clears the price."`
	Cost            *string         `json:"cost,omitempty" doc:"\"\" clears the cost."`
	HSCode          *string         `json:"hs_code,omitempty"`
	CountryOfOrigin *string         `json:"country_of_origin,omitempty"`
	Tags            *[]string       `json:"tags,omitempty"`
	AllowBackorder  *bool           `json:"allow_backorder,omitempty"`
	LotTracked      *bool           `json:"lot_tracked,omitempty"`
	SerialTracked   *bool           `json:"serial_tracked,omitempty"`
	KitComponents   *[]KitComponent `json:"kit_components,omitempty" doc:"[] turns a kit back into a plain product."`
}

func (p ProductPatch) apply(d *catalog.Draft) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&d.SKU, p.SKU)
	set(&d.Name, p.Name)
	set(&d.Description, p.Description)
	set(&d.Vendor, p.Vendor)
	set(&d.ProductType, p.ProductType)
	set(&d.Currency, p.Currency)
	set(&d.Price, p.Price)
	set(&d.Cost, p.Cost)
	set(&d.HSCode, p.HSCode)
	set(&d.CountryOfOrigin, p.CountryOfOrigin)
	for _, n := range []struct {
		dst *int64
		src *int64
	}{{&d.WeightG, p.WeightG}, {&d.LengthMM, p.LengthMM}, {&d.WidthMM, p.WidthMM}, {&d.HeightMM, p.HeightMM}} {
		if n.src != nil {
			*n.dst = *n.src
		}
	}
	for _, b := range []struct {
		dst *bool
		src *bool
	}{{&d.AllowBackorder, p.AllowBackorder}, {&d.LotTracked, p.LotTracked}, {&d.SerialTracked, p.SerialTracked}} {
		if b.src != nil {
			*b.dst = *b.src
		}
	}
	if p.Barcodes != nil {
		d.Barcodes = *p.Barcodes
	}
	if p.Tags != nil {
		d.Tags = *p.Tags
	}
	if p.KitComponents != nil {
		d.Components = nil
		for _, c := range *p.KitComponents {
			d.Components = append(d.Components, catalog.DraftComponent{SKU: c.SKU, Quantity: c.Quantity})
		}
	}
}

type productOutput struct {
	Body Product
}

type productIDInput struct {
	ID string `path:"id" maxLength:"100"`
}

func (a *API) tenantCurrency(ctx context.Context) string {
	t, err := a.d.Auth.Tenant(ctx, principal(ctx).TenantID)
	if err != nil || t.Currency == "" {
		return "USD"
	}
	return t.Currency
}

func (a *API) createProduct(ctx context.Context, in *struct{ Body ProductInput }) (*productOutput, error) {
	p, err := a.d.Catalog.Create(ctx, principal(ctx).TenantID, a.tenantCurrency(ctx), in.Body.draft())
	if err != nil {
		return nil, err
	}
	return &productOutput{Body: productOut(p)}, nil
}

func (a *API) getProduct(ctx context.Context, in *productIDInput) (*productOutput, error) {
	p, err := a.d.Catalog.Get(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &productOutput{Body: productOut(p)}, nil
}

func (a *API) updateProduct(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100"`
	Body ProductPatch
}) (*productOutput, error) {
	p, err := a.d.Catalog.Update(ctx, principal(ctx).TenantID, in.ID, a.tenantCurrency(ctx), in.Body.apply)
	if err != nil {
		return nil, err
	}
	return &productOutput{Body: productOut(p)}, nil
}

func (a *API) archiveProduct(ctx context.Context, in *productIDInput) (*productOutput, error) {
	p, err := a.d.Catalog.Archive(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &productOutput{Body: productOut(p)}, nil
}

func (a *API) unarchiveProduct(ctx context.Context, in *productIDInput) (*productOutput, error) {
	p, err := a.d.Catalog.Unarchive(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &productOutput{Body: productOut(p)}, nil
}

// ProductList is one page of products.
type ProductList struct {
	Items      []Product `json:"items"`
	NextCursor string    `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
}

func (a *API) listProducts(ctx context.Context, in *struct {
	PageParams
	SKU     string `query:"sku" doc:"Exact SKU."`
	Barcode string `query:"barcode" doc:"Exact barcode."`
	Tag     string `query:"tag"`
	Q       string `query:"q" doc:"Text in SKU, name or vendor."`
	Status  string `query:"status" enum:"active,archived,any" default:"active"`
	Kind    string `query:"kind" enum:"any,kit,product" default:"any" doc:"Only kits, or only plain products."`
}) (*struct{ Body ProductList }, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	f := catalog.Filter{SKU: in.SKU, Barcode: in.Barcode, Tag: in.Tag, Query: in.Q, Status: catalog.Status(in.Status), After: after, Limit: in.Limit}
	switch in.Kind {
	case "kit":
		t := true
		f.Kits = &t
	case "product":
		f2 := false
		f.Kits = &f2
	}
	ps, next, err := a.d.Catalog.List(ctx, principal(ctx).TenantID, f)
	if err != nil {
		return nil, err
	}
	out := &struct{ Body ProductList }{Body: ProductList{Items: make([]Product, 0, len(ps)), NextCursor: encodeCursor(next)}}
	for _, p := range ps {
		out.Body.Items = append(out.Body.Items, productOut(p))
	}
	return out, nil
}
