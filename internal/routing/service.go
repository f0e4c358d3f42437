package routing

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
)

// Store keeps a tenant's rules.
type Store interface {
	Rules(ctx context.Context, tenantID string) ([]Rule, error)
	SaveRule(ctx context.Context, tenantID string, r Rule, at time.Time) error
	DeleteRule(ctx context.Context, tenantID, id string) error
}

// ProductLookup tells a SKU's product type and vendor (for rules on them).
type ProductLookup func(ctx context.Context, tenantID, sku string) (productType, vendor string)

// Service manages routing rules and routes orders with them; it is the
// order service's Router.
type Service struct {
	store    Store
	inv      *inventory.Service
	products ProductLookup
	now      func() time.Time
}

// NewService returns the routing service.
func NewService(store Store, inv *inventory.Service, products ProductLookup) *Service {
	return &Service{store: store, inv: inv, products: products, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

var _ order.Router = (*Service)(nil)

// Rules lists the tenant's rules in the order they apply.
func (s *Service) Rules(ctx context.Context, tenantID string) ([]Rule, error) {
	rs, err := s.store.Rules(ctx, tenantID)
	if rs == nil {
		rs = []Rule{}
	}
	return rs, err
}

// Rule returns one rule.
func (s *Service) Rule(ctx context.Context, tenantID, ruleID string) (Rule, error) {
	rs, err := s.store.Rules(ctx, tenantID)
	if err != nil {
		return Rule{}, err
	}
	for _, r := range rs {
		if r.ID == ruleID {
			return r, nil
		}
	}
	return Rule{}, errs.E("routing.Rule", errs.NotExist, "routing rule not found")
}

func (s *Service) codes(ctx context.Context, tenantID string) ([]string, error) {
	fs, err := s.inv.ListFacilities(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out, nil
}

// Save checks r and stores it (a new rule when ID is empty; a rule without
// a position goes last).
func (s *Service) Save(ctx context.Context, tenantID string, r Rule) (Rule, error) {
	codes, err := s.codes(ctx, tenantID)
	if err != nil {
		return Rule{}, err
	}
	r.Name = strings.TrimSpace(r.Name)
	if err := Validate(r, codes); err != nil {
		return Rule{}, err
	}
	existing, err := s.store.Rules(ctx, tenantID)
	if err != nil {
		return Rule{}, err
	}
	if r.ID == "" {
		r.ID = id.New("rul")
		if r.Position == 0 {
			r.Position = 10
			for _, e := range existing {
				r.Position = max(r.Position, e.Position+10)
			}
		}
	} else if !slices.ContainsFunc(existing, func(e Rule) bool { return e.ID == r.ID }) {
		return Rule{}, errs.E("routing.Save", errs.NotExist, "routing rule not found")
	}
	if err := s.store.SaveRule(ctx, tenantID, r, s.now()); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// Delete removes a rule.
func (s *Service) Delete(ctx context.Context, tenantID, ruleID string) error {
	return s.store.DeleteRule(ctx, tenantID, ruleID)
}

// Explain evaluates the rules for an order as it stands (the "test this
// order" preview): which rules matched, what they did, and where each line
// may go.
func (s *Service) Explain(ctx context.Context, o *order.Order) (Result, error) {
	facilities, err := s.inv.Candidates(ctx, o.TenantID)
	if err != nil {
		return Result{}, err
	}
	rules, err := s.store.Rules(ctx, o.TenantID)
	if err != nil {
		return Result{}, err
	}
	return Evaluate(rules, OrderInput(o, facilities, s.info(ctx, o.TenantID))), nil
}

func (s *Service) info(ctx context.Context, tenantID string) ProductInfo {
	if s.products == nil {
		return nil
	}
	cache := map[string][2]string{}
	return func(sku string) (string, string) {
		if v, ok := cache[sku]; ok {
			return v[0], v[1]
		}
		t, v := s.products(ctx, tenantID, sku)
		cache[sku] = [2]string{t, v}
		return t, v
	}
}

// Route is order.Router: the facilities each SKU may be fulfilled from,
// most preferred first, and the hold a rule asks for. Holds are looked for
// separately, so an order a rule holds still has its stock reserved where
// the other rules allow.
func (s *Service) Route(ctx context.Context, o *order.Order, facilities []inventory.Facility) (order.Route, error) {
	rules, err := s.store.Rules(ctx, o.TenantID)
	if err != nil || len(rules) == 0 {
		return order.Route{}, err
	}
	in := OrderInput(o, facilities, s.info(ctx, o.TenantID))
	in.IgnoreHolds = true
	res := Evaluate(rules, in)
	out := order.Route{BySKU: map[string][]string{}}
	for i, lr := range res.Lines {
		if in.Lines[i].Quantity <= 0 {
			continue
		}
		ids := lr.Facilities
		if prev, ok := out.BySKU[lr.SKU]; ok {
			ids = intersect(prev, ids) // two lines of one SKU: what both allow
		}
		out.BySKU[lr.SKU] = ids
	}
	in.IgnoreHolds = false
	if h := Evaluate(rules, in).Hold; h != nil {
		out.Hold = &order.RouteHold{Reason: h.Reason, Note: h.Note}
		if out.Hold.Note == "" {
			out.Hold.Note = "held by a routing rule"
		}
	}
	return out, nil
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// Reorder gives rules new positions in the order of ids (10, 20, …).
func (s *Service) Reorder(ctx context.Context, tenantID string, ids []string) ([]Rule, error) {
	rs, err := s.store.Rules(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	pos := map[string]int{}
	for i, id := range ids {
		pos[id] = (i + 1) * 10
	}
	for i := range rs {
		p, ok := pos[rs[i].ID]
		if !ok {
			return nil, errs.InvalidFields("routing.Reorder", errs.FieldError{Field: "ids", Message: "must list every rule once", Value: len(ids)})
		}
		rs[i].Position = p
	}
	if len(ids) != len(rs) {
		return nil, errs.InvalidFields("routing.Reorder", errs.FieldError{Field: "ids", Message: "must list every rule once", Value: len(ids)})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Position < rs[j].Position })
	for _, r := range rs {
		if err := s.store.SaveRule(ctx, tenantID, r, s.now()); err != nil {
			return nil, err
		}
	}
	return rs, nil
}
