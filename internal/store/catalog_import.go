package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
)

// Batch reads and writes for catalogue imports: a CSV of 10 000 rows is
// read and written 500 products at a time instead of one query per row.

func (s *Catalog) ProductsBySKU(ctx context.Context, tenantID string, skus []string) (map[string]catalog.Product, error) {
	const op = "store.ProductsBySKU"
	out := make(map[string]catalog.Product, len(skus))
	if len(skus) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(skus)+1)
	args = append(args, tenantID)
	for _, sku := range skus {
		args = append(args, sku)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+productCols+` FROM products WHERE tenant_id = $1 AND sku IN (`+placeholders(2, len(skus))+`)`, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	var ps []catalog.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	if err := s.loadChildren(ctx, tenantID, ps); err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.SKU] = p
	}
	return out, nil
}

func (s *Catalog) BarcodeOwners(ctx context.Context, tenantID string, codes []string) (map[string]string, error) {
	const op = "store.BarcodeOwners"
	out := map[string]string{}
	if len(codes) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(codes)+1)
	args = append(args, tenantID)
	for _, c := range codes {
		args = append(args, c)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT b.code, p.sku FROM product_barcodes b JOIN products p ON p.id = b.product_id
		WHERE b.tenant_id = $1 AND b.code IN (`+placeholders(2, len(codes))+`)`, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, sku string
		if err := rows.Scan(&code, &sku); err != nil {
			return nil, wrap(op, err)
		}
		out[code] = sku
	}
	return out, wrap(op, rows.Err())
}

func (s *Catalog) WriteProducts(ctx context.Context, tenantID string, create, update []catalog.Product) error {
	const op = "store.WriteProducts"
	if len(create)+len(update) == 0 {
		return nil
	}
	// Multi-row statements: a batch of 500 products is a handful of round
	// trips instead of several per product.
	var products, barcodes, tags, components []any
	for i := range create {
		p := &create[i]
		products = append(products, p.ID, tenantID, p.SKU, p.Name, p.Description, p.Vendor, p.ProductType,
			p.WeightG, p.LengthMM, p.WidthMM, p.HeightMM, p.Currency, p.Price, p.Cost, p.HSCode, p.CountryOfOrigin,
			p.AllowBackorder, p.LotTracked, p.SerialTracked, p.IsKit(), p.ArchivedAt, p.CreatedAt, p.UpdatedAt, searchText(p))
	}
	updated := make([]any, 0, len(update))
	for _, ps := range [][]catalog.Product{create, update} {
		for i := range ps {
			p := &ps[i]
			for j, b := range p.Barcodes {
				barcodes = append(barcodes, tenantID, b.Code, p.ID, string(b.Kind), j)
			}
			for _, t := range p.Tags {
				tags = append(tags, tenantID, p.ID, t)
			}
			for j, c := range p.Components {
				components = append(components, tenantID, p.ID, c.ProductID, c.Quantity, j)
			}
		}
	}
	for i := range update {
		updated = append(updated, update[i].ID)
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"product_barcodes", "product_tags"} {
			if err := inChunks(updated, func(ids []any) error {
				_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE product_id IN (`+placeholders(1, len(ids))+`)`, ids...)
				return err
			}); err != nil {
				return wrap(op, err)
			}
		}
		if err := inChunks(updated, func(ids []any) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM kit_components WHERE kit_id IN (`+placeholders(1, len(ids))+`)`, ids...)
			return err
		}); err != nil {
			return wrap(op, err)
		}
		err := insertRows(ctx, tx, `INSERT INTO products (id, tenant_id, sku, name, description, vendor, product_type,
			weight_g, length_mm, width_mm, height_mm, currency, price_minor, cost_minor, hs_code, country_of_origin,
			allow_backorder, lot_tracked, serial_tracked, is_kit, archived_at, created_at, updated_at, search_text) VALUES `, ``, 24, products)
		if ok, _ := isUniqueViolation(err); ok {
			return errs.WithCode(errs.E(op, errs.Conflict, "a product with one of these SKUs was created while the import ran; run it again"), "sku_taken")
		}
		if err != nil {
			return wrap(op, err)
		}
		if len(update) > 0 {
			stmt, err := tx.PrepareContext(ctx, `UPDATE products SET sku = $3, name = $4, description = $5, vendor = $6, product_type = $7,
				weight_g = $8, length_mm = $9, width_mm = $10, height_mm = $11, currency = $12, price_minor = $13, cost_minor = $14,
				hs_code = $15, country_of_origin = $16, allow_backorder = $17, lot_tracked = $18, serial_tracked = $19, is_kit = $20,
				archived_at = $21, updated_at = $22, search_text = $23
				WHERE tenant_id = $1 AND id = $2`)
			if err != nil {
				return wrap(op, err)
			}
			defer stmt.Close()
			for i := range update {
				p := &update[i]
				res, err := stmt.ExecContext(ctx, tenantID, p.ID, p.SKU, p.Name, p.Description, p.Vendor, p.ProductType,
					p.WeightG, p.LengthMM, p.WidthMM, p.HeightMM, p.Currency, p.Price, p.Cost,
					p.HSCode, p.CountryOfOrigin, p.AllowBackorder, p.LotTracked, p.SerialTracked, p.IsKit(),
					p.ArchivedAt, p.UpdatedAt, searchText(p))
				if err := affected(op, "product", res, err); err != nil {
					return err
				}
			}
		}
		// A barcode held by another product moves here: Import checked that
		// the other product is in the same file and gives it up.
		if err := insertRows(ctx, tx, `INSERT INTO product_barcodes (tenant_id, code, product_id, kind, position) VALUES `,
			` ON CONFLICT (tenant_id, code) DO UPDATE SET product_id = excluded.product_id, kind = excluded.kind, position = excluded.position`,
			5, barcodes); err != nil {
			return wrap(op, err)
		}
		if err := insertRows(ctx, tx, `INSERT INTO product_tags (tenant_id, product_id, tag) VALUES `, ``, 3, tags); err != nil {
			return wrap(op, err)
		}
		if err := insertRows(ctx, tx, `INSERT INTO kit_components (tenant_id, kit_id, component_id, quantity, position) VALUES `, ``, 5, components); err != nil {
			return wrap(op, err)
		}
		return nil
	})
}

// maxParams bounds the parameters of one statement. SQLite resolves each
// "$N" by scanning a list, so a statement costs the square of its
// parameters; PostgreSQL wants few round trips. Measured on 10 000 rows,
// 250 is about the best for SQLite and close to it for PostgreSQL.
const maxParams = 250

// insertRows runs head + "($1, …), ($n+1, …)" + tail over args, which hold
// rows of ncols values each, in as few statements as maxParams allows.
func insertRows(ctx context.Context, tx *sql.Tx, head, tail string, ncols int, args []any) error {
	return insertRowsUpTo(ctx, tx, maxParams, head, tail, ncols, args)
}

// insertRowsUpTo is insertRows with another bound on parameters.
func insertRowsUpTo(ctx context.Context, tx *sql.Tx, limit int, head, tail string, ncols int, args []any) error {
	per := max(limit/ncols, 1)
	for len(args) > 0 {
		n := min(len(args)/ncols, per)
		var b strings.Builder
		b.WriteString(head)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(i*ncols+1, ncols) + ")")
		}
		b.WriteString(tail)
		if _, err := tx.ExecContext(ctx, b.String(), args[:n*ncols]...); err != nil {
			return err
		}
		args = args[n*ncols:]
	}
	return nil
}

// inChunks calls fn with at most maxParams of args at a time.
func inChunks(args []any, fn func([]any) error) error {
	for len(args) > 0 {
		n := min(len(args), maxParams)
		if err := fn(args[:n]); err != nil {
			return err
		}
		args = args[n:]
	}
	return nil
}
