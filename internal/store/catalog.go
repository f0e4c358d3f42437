package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/gtin"
)

// Catalog is the database side of package catalog.
type Catalog struct{ db *DB }

var _ catalog.Store = (*Catalog)(nil)

// NewCatalog returns the catalog store.
func NewCatalog(db *DB) *Catalog { return &Catalog{db: db} }

func searchText(p *catalog.Product) string {
	return strings.ToLower(p.SKU + "\n" + p.Name + "\n" + p.Vendor)
}

func (s *Catalog) CreateProduct(ctx context.Context, p *catalog.Product) error {
	const op = "store.CreateProduct"
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO products (id, tenant_id, sku, name, description, vendor, product_type,
			weight_g, length_mm, width_mm, height_mm, currency, price_minor, cost_minor, hs_code, country_of_origin,
			allow_backorder, lot_tracked, serial_tracked, is_kit, archived_at, created_at, updated_at, search_text)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
			p.ID, p.TenantID, p.SKU, p.Name, p.Description, p.Vendor, p.ProductType,
			p.WeightG, p.LengthMM, p.WidthMM, p.HeightMM, p.Currency, p.Price, p.Cost, p.HSCode, p.CountryOfOrigin,
			p.AllowBackorder, p.LotTracked, p.SerialTracked, p.IsKit(), p.ArchivedAt, p.CreatedAt, p.UpdatedAt, searchText(p))
		if ok, _ := isUniqueViolation(err); ok {
			return errs.WithCode(errs.E(op, errs.Conflict, errs.FieldError{Field: "sku", Message: "a product with this SKU exists already", Value: p.SKU},
				"a product with SKU "+p.SKU+" exists already"), "sku_taken")
		}
		if err != nil {
			return wrap(op, err)
		}
		return writeProductChildren(ctx, tx, p)
	})
}

// writeProductChildren replaces barcodes, tags and kit components of p.
func writeProductChildren(ctx context.Context, tx *sql.Tx, p *catalog.Product) error {
	const op = "store.writeProductChildren"
	for _, q := range []string{
		`DELETE FROM product_barcodes WHERE product_id = $1`,
		`DELETE FROM product_tags WHERE product_id = $1`,
		`DELETE FROM kit_components WHERE kit_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, p.ID); err != nil {
			return wrap(op, err)
		}
	}
	for i, b := range p.Barcodes {
		_, err := tx.ExecContext(ctx, `INSERT INTO product_barcodes (tenant_id, code, product_id, kind, position) VALUES ($1, $2, $3, $4, $5)`,
			p.TenantID, b.Code, p.ID, string(b.Kind), i)
		if ok, _ := isUniqueViolation(err); ok {
			var owner string
			_ = tx.QueryRowContext(ctx, `SELECT p.sku FROM product_barcodes b JOIN products p ON p.id = b.product_id WHERE b.tenant_id = $1 AND b.code = $2`, p.TenantID, b.Code).Scan(&owner)
			return errs.WithCode(errs.E(op, errs.Conflict,
				errs.FieldError{Field: "barcodes[" + itoa(i) + "]", Message: "this barcode belongs to SKU " + owner, Value: b.Code},
				"barcode "+b.Code+" belongs to SKU "+owner), "barcode_taken")
		}
		if err != nil {
			return wrap(op, err)
		}
	}
	for _, t := range p.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO product_tags (tenant_id, product_id, tag) VALUES ($1, $2, $3)`, p.TenantID, p.ID, t); err != nil {
			return wrap(op, err)
		}
	}
	for i, c := range p.Components {
		if _, err := tx.ExecContext(ctx, `INSERT INTO kit_components (tenant_id, kit_id, component_id, quantity, position) VALUES ($1, $2, $3, $4, $5)`,
			p.TenantID, p.ID, c.ProductID, c.Quantity, i); err != nil {
			return wrap(op, err)
		}
	}
	return nil
}

func (s *Catalog) UpdateProduct(ctx context.Context, p *catalog.Product) error {
	const op = "store.UpdateProduct"
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE products SET sku = $3, name = $4, description = $5, vendor = $6, product_type = $7,
			weight_g = $8, length_mm = $9, width_mm = $10, height_mm = $11, currency = $12, price_minor = $13, cost_minor = $14,
			hs_code = $15, country_of_origin = $16, allow_backorder = $17, lot_tracked = $18, serial_tracked = $19, is_kit = $20,
			updated_at = $21, search_text = $22
			WHERE tenant_id = $1 AND id = $2`,
			p.TenantID, p.ID, p.SKU, p.Name, p.Description, p.Vendor, p.ProductType,
			p.WeightG, p.LengthMM, p.WidthMM, p.HeightMM, p.Currency, p.Price, p.Cost,
			p.HSCode, p.CountryOfOrigin, p.AllowBackorder, p.LotTracked, p.SerialTracked, p.IsKit(),
			p.UpdatedAt, searchText(p))
		if ok, _ := isUniqueViolation(err); ok {
			return errs.WithCode(errs.E(op, errs.Conflict, errs.FieldError{Field: "sku", Message: "a product with this SKU exists already", Value: p.SKU},
				"a product with SKU "+p.SKU+" exists already"), "sku_taken")
		}
		if err := affected(op, "product", res, err); err != nil {
			return err
		}
		return writeProductChildren(ctx, tx, p)
	})
}

const productCols = `id, tenant_id, sku, name, description, vendor, product_type, weight_g, length_mm, width_mm, height_mm,
	currency, price_minor, cost_minor, hs_code, country_of_origin, allow_backorder, lot_tracked, serial_tracked,
	archived_at, created_at, updated_at`

func scanProduct(row interface{ Scan(...any) error }) (catalog.Product, error) {
	var p catalog.Product
	var price, cost sql.NullInt64
	var archived sql.NullTime
	err := row.Scan(&p.ID, &p.TenantID, &p.SKU, &p.Name, &p.Description, &p.Vendor, &p.ProductType,
		&p.WeightG, &p.LengthMM, &p.WidthMM, &p.HeightMM, &p.Currency, &price, &cost, &p.HSCode, &p.CountryOfOrigin,
		&p.AllowBackorder, &p.LotTracked, &p.SerialTracked, &archived, &p.CreatedAt, &p.UpdatedAt)
	if price.Valid {
		p.Price = &price.Int64
	}
	if cost.Valid {
		p.Cost = &cost.Int64
	}
	p.ArchivedAt = timePtr(archived)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, err
}

func (s *Catalog) Product(ctx context.Context, tenantID, id string) (catalog.Product, error) {
	return s.one(ctx, "store.Product", `WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

func (s *Catalog) ProductBySKU(ctx context.Context, tenantID, sku string) (catalog.Product, error) {
	return s.one(ctx, "store.ProductBySKU", `WHERE tenant_id = $1 AND sku = $2`, tenantID, sku)
}

func (s *Catalog) one(ctx context.Context, op, where string, args ...any) (catalog.Product, error) {
	p, err := scanProduct(s.db.R.QueryRowContext(ctx, `SELECT `+productCols+` FROM products `+where, args...))
	if err != nil {
		return catalog.Product{}, notFound(op, "product", err)
	}
	ps := []catalog.Product{p}
	if err := s.loadChildren(ctx, p.TenantID, ps); err != nil {
		return catalog.Product{}, err
	}
	return ps[0], nil
}

// loadChildren fills barcodes, tags and components of ps with three queries.
func (s *Catalog) loadChildren(ctx context.Context, tenantID string, ps []catalog.Product) error {
	const op = "store.loadChildren"
	if len(ps) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ps))
	ids := make([]any, 0, len(ps)+1)
	ids = append(ids, tenantID)
	for i, p := range ps {
		idx[p.ID] = i
		ids = append(ids, p.ID)
	}
	in := placeholders(2, len(ps))
	rows, err := s.db.R.QueryContext(ctx, `SELECT product_id, code, kind FROM product_barcodes WHERE tenant_id = $1 AND product_id IN (`+in+`) ORDER BY product_id, position`, ids...)
	if err != nil {
		return wrap(op, err)
	}
	for rows.Next() {
		var pid, code, kind string
		if err := rows.Scan(&pid, &code, &kind); err != nil {
			rows.Close()
			return wrap(op, err)
		}
		ps[idx[pid]].Barcodes = append(ps[idx[pid]].Barcodes, catalog.Barcode{Code: code, Kind: gtin.Kind(kind)})
	}
	rows.Close()
	rows, err = s.db.R.QueryContext(ctx, `SELECT product_id, tag FROM product_tags WHERE tenant_id = $1 AND product_id IN (`+in+`) ORDER BY product_id, tag`, ids...)
	if err != nil {
		return wrap(op, err)
	}
	for rows.Next() {
		var pid, tag string
		if err := rows.Scan(&pid, &tag); err != nil {
			rows.Close()
			return wrap(op, err)
		}
		ps[idx[pid]].Tags = append(ps[idx[pid]].Tags, tag)
	}
	rows.Close()
	rows, err = s.db.R.QueryContext(ctx, `SELECT k.kit_id, k.component_id, p.sku, k.quantity FROM kit_components k JOIN products p ON p.id = k.component_id
		WHERE k.tenant_id = $1 AND k.kit_id IN (`+in+`) ORDER BY k.kit_id, k.position`, ids...)
	if err != nil {
		return wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kid string
		var c catalog.Component
		if err := rows.Scan(&kid, &c.ProductID, &c.SKU, &c.Quantity); err != nil {
			return wrap(op, err)
		}
		ps[idx[kid]].Components = append(ps[idx[kid]].Components, c)
	}
	return wrap(op, rows.Err())
}

func (s *Catalog) ProductIDsBySKU(ctx context.Context, tenantID string, skus []string) (map[string]catalog.SKURef, error) {
	out := map[string]catalog.SKURef{}
	if len(skus) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, s := range skus {
		args = append(args, s)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT sku, id, is_kit, archived_at IS NOT NULL FROM products WHERE tenant_id = $1 AND sku IN (`+placeholders(2, len(skus))+`)`, args...)
	if err != nil {
		return nil, wrap("store.ProductIDsBySKU", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sku string
		var r catalog.SKURef
		if err := rows.Scan(&sku, &r.ID, &r.IsKit, &r.Archived); err != nil {
			return nil, wrap("store.ProductIDsBySKU", err)
		}
		out[sku] = r
	}
	return out, wrap("store.ProductIDsBySKU", rows.Err())
}

func (s *Catalog) ListProducts(ctx context.Context, tenantID string, f catalog.Filter) ([]catalog.Product, error) {
	var where []string
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	where = append(where, "p.tenant_id = $1")
	switch f.Status {
	case catalog.Active:
		where = append(where, "p.archived_at IS NULL")
	case catalog.Archived:
		where = append(where, "p.archived_at IS NOT NULL")
	}
	if f.SKU != "" {
		where = append(where, "p.sku = "+arg(f.SKU))
	}
	if f.Barcode != "" {
		where = append(where, "p.id IN (SELECT product_id FROM product_barcodes WHERE tenant_id = $1 AND code = "+arg(f.Barcode)+")")
	}
	if f.Tag != "" {
		where = append(where, "p.id IN (SELECT product_id FROM product_tags WHERE tenant_id = $1 AND tag = "+arg(f.Tag)+")")
	}
	if f.Query != "" {
		where = append(where, `p.search_text LIKE `+arg("%"+likeEscape(strings.ToLower(f.Query))+"%")+` ESCAPE '\'`)
	}
	if f.Kits != nil {
		where = append(where, "p.is_kit = "+arg(*f.Kits))
	}
	if f.After != "" {
		where = append(where, "p.id > "+arg(f.After))
	}
	q := `SELECT ` + prefixCols("p.", productCols) + ` FROM products p WHERE ` + strings.Join(where, " AND ") + ` ORDER BY p.id LIMIT ` + arg(f.Limit)
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("store.ListProducts", err)
	}
	var out []catalog.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("store.ListProducts", err)
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("store.ListProducts", err)
	}
	return out, s.loadChildren(ctx, tenantID, out)
}

func (s *Catalog) SetArchived(ctx context.Context, tenantID, id string, at *time.Time) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE products SET archived_at = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, id, at, Now())
	return affected("store.SetArchived", "product", res, err)
}

func (s *Catalog) KitsUsing(ctx context.Context, tenantID, productID string) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT p.sku FROM kit_components k JOIN products p ON p.id = k.kit_id WHERE k.tenant_id = $1 AND k.component_id = $2 ORDER BY p.sku`, tenantID, productID)
	if err != nil {
		return nil, wrap("store.KitsUsing", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sku string
		if err := rows.Scan(&sku); err != nil {
			return nil, wrap("store.KitsUsing", err)
		}
		out = append(out, sku)
	}
	return out, wrap("store.KitsUsing", rows.Err())
}

// placeholders returns "$from, $from+1, …" n times.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + itoa(from+i))
	}
	return b.String()
}

func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
