package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/provider"
	"github.com/waybill/waybill/internal/webhook"
)

// StockResult is what one stock pull changed.
type StockResult struct {
	Facility string
	Reported int // SKUs the 3PL reported that Waybill knows
	Unknown  int // SKUs it reported that the catalogue has not
	Changed  int // SKUs whose on-hand figure was corrected
}

// SyncAllStock pulls stock from every connection that offers it.
func (s *Service) SyncAllStock(ctx context.Context) ([]StockResult, error) {
	cs, err := s.store.StockConnections(ctx)
	if err != nil {
		return nil, err
	}
	var out []StockResult
	for _, c := range cs {
		r, err := s.SyncStock(ctx, c.TenantID, c.FacilityID)
		c.LastError = ""
		if err != nil {
			c.LastError = err.Error()
		} else {
			out = append(out, r)
		}
		now := s.now()
		c.LastStockAt, c.UpdatedAt = &now, now
		if err := s.store.SaveConnection(ctx, &c); err != nil {
			return out, err
		}
	}
	return out, nil
}

// SyncStock pulls one 3PL's sellable stock and books the differences in
// the ledger as a count at its facility. The 3PL reports what it can still
// sell; what Waybill has reserved there is on its shelves too, so on hand
// becomes reported + reserved, and available matches the 3PL's figure.
func (s *Service) SyncStock(ctx context.Context, tenantID, facilityID string) (StockResult, error) {
	const op = "dispatch.SyncStock"
	c, err := s.store.Connection(ctx, tenantID, facilityID)
	if err != nil {
		return StockResult{}, errs.E(op, err)
	}
	f, err := s.inv.Facility(ctx, tenantID, facilityID)
	if err != nil {
		return StockResult{}, errs.E(op, err)
	}
	var levels []provider.Level
	switch {
	case c.Provider():
		p, err := s.adapter(c)
		if err != nil {
			return StockResult{}, errs.E(op, err)
		}
		if levels, err = p.Stock(ctx); err != nil {
			return StockResult{}, errs.E(op, err)
		}
	case c.Method == Callback && c.FetchStock:
		if levels, err = s.fetchStock(ctx, c); err != nil {
			return StockResult{}, errs.E(op, err)
		}
	default:
		return StockResult{}, errs.E(op, errs.Invalid, f.Code+" does not offer its stock")
	}
	res := StockResult{Facility: f.Code}
	var skus []string
	for _, l := range levels {
		skus = append(skus, l.SKU)
	}
	items, err := s.inv.Items(ctx, tenantID, skus)
	if err != nil {
		return res, errs.E(op, err)
	}
	var lines []inventory.CountLine
	for _, l := range levels {
		it, ok := items[l.SKU]
		if !ok || len(it.Components) > 0 {
			res.Unknown++
			continue
		}
		res.Reported++
		var reserved int64
		ls, _, err := s.inv.Levels(ctx, tenantID, inventory.LevelFilter{ProductID: it.ID, FacilityID: f.ID, Limit: 10})
		if err != nil {
			return res, errs.E(op, err)
		}
		for _, lv := range ls {
			reserved += lv.Reserved
		}
		lines = append(lines, inventory.CountLine{SKU: l.SKU, Counted: max(l.Available, 0) + reserved})
	}
	if len(lines) == 0 {
		return res, nil
	}
	for chunk := range slices.Chunk(lines, 2000) {
		_, results, err := s.inv.RecordCount(ctx, tenantID, f.Code, chunk, "3pl:"+f.Code)
		if err != nil {
			return res, errs.E(op, err)
		}
		for _, r := range results {
			if r.Delta != 0 {
				res.Changed++
			}
		}
	}
	return res, nil
}

// fetchStock asks a generic-protocol 3PL for its stock: a signed GET of
// <callback_url>/fetch_stock answered with {"SKU": units, …}.
func (s *Service) fetchStock(ctx context.Context, c Connection) ([]provider.Level, error) {
	h, err := webhook.Headers(c.Secret, "msg_"+id.Secret(16), s.now(), nil)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.CallbackURL+"/fetch_stock", nil)
	if err != nil {
		return nil, err
	}
	req.Header = h
	req.Header.Del("Content-Type")
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, errs.E("dispatch.fetchStock", errs.Transient, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, errs.E("dispatch.fetchStock", errs.Transient, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errs.E("dispatch.fetchStock", errs.Transient, fmt.Sprintf("%s/fetch_stock answered %d", c.CallbackURL, resp.StatusCode))
	}
	return parseStock(body)
}

// parseStock reads a fetch_stock answer: an object of SKU → whole units.
func parseStock(body []byte) ([]provider.Level, error) {
	var m map[string]int64
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errs.E("dispatch.fetchStock", errs.Invalid, "fetch_stock must answer a JSON object of SKU to whole units: "+err.Error())
	}
	out := make([]provider.Level, 0, len(m))
	for sku, n := range m {
		if sku == "" || len(sku) > 255 {
			continue
		}
		out = append(out, provider.Level{SKU: sku, Available: n})
	}
	slices.SortFunc(out, func(a, b provider.Level) int {
		if a.SKU < b.SKU {
			return -1
		}
		if a.SKU > b.SKU {
			return 1
		}
		return 0
	})
	return out, nil
}

// StockEvery is how often stock is pulled (SyncAllStock).
const StockEvery = 15 * time.Minute
