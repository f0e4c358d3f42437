package httpapi

import (
	"context"

	"github.com/waybill/waybill/internal/routing"
)

// RoutingRuleIn is a rule as people write it.
type RoutingRuleIn struct {
	Name     string             `json:"name" maxLength:"200"`
	Position int                `json:"position,omitempty" doc:"Rules apply in ascending position; new rules go last when absent."`
	Active   *bool              `json:"active,omitempty" doc:"Default true."`
	When     routing.Conditions `json:"when,omitempty" doc:"Every condition given must hold; none: every order."`
	Then     routing.Action     `json:"then"`
}

func (b RoutingRuleIn) rule(id string) routing.Rule {
	r := routing.Rule{ID: id, Name: b.Name, Position: b.Position, Active: true, When: b.When, Then: b.Then}
	if b.Active != nil {
		r.Active = *b.Active
	}
	return r
}

func (a *API) listRoutingRules(ctx context.Context, _ *struct{}) (*struct {
	Body struct {
		Items []routing.Rule `json:"items"`
	}
}, error) {
	rs, err := a.d.Routing.Rules(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []routing.Rule `json:"items"`
		}
	}{}
	out.Body.Items = rs
	return out, nil
}

func (a *API) createRoutingRule(ctx context.Context, in *struct{ Body RoutingRuleIn }) (*struct{ Body routing.Rule }, error) {
	r, err := a.d.Routing.Save(ctx, principal(ctx).TenantID, in.Body.rule(""))
	if err != nil {
		return nil, err
	}
	return &struct{ Body routing.Rule }{r}, nil
}

func (a *API) getRoutingRule(ctx context.Context, in *orderIDInput) (*struct{ Body routing.Rule }, error) {
	r, err := a.d.Routing.Rule(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body routing.Rule }{r}, nil
}

func (a *API) updateRoutingRule(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body RoutingRuleIn
}) (*struct{ Body routing.Rule }, error) {
	cur, err := a.d.Routing.Rule(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	r := in.Body.rule(in.ID)
	if in.Body.Position == 0 {
		r.Position = cur.Position
	}
	r, err = a.d.Routing.Save(ctx, principal(ctx).TenantID, r)
	if err != nil {
		return nil, err
	}
	return &struct{ Body routing.Rule }{r}, nil
}

func (a *API) deleteRoutingRule(ctx context.Context, in *orderIDInput) (*struct{}, error) {
	return &struct{}{}, a.d.Routing.Delete(ctx, principal(ctx).TenantID, in.ID)
}

func (a *API) previewRouting(ctx context.Context, in *orderIDInput) (*struct{ Body routing.Result }, error) {
	o, err := a.d.Orders.Get(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	res, err := a.d.Routing.Explain(ctx, &o)
	if err != nil {
		return nil, err
	}
	return &struct{ Body routing.Result }{res}, nil
}
