package httpapi

import (
	"context"
	"time"

	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// The fulfilment request handshake (docs/3pl-protocol.md): actions on a
// fulfilment order, its request history, facility connections, and the
// API keys 3PLs answer with.

type foIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

// checkFacility refuses (as not found) a fulfilment order of another
// facility when the caller's key is restricted to one.
func (a *API) checkFacility(ctx context.Context, foID string) error {
	p := principal(ctx)
	if p.FacilityID == "" {
		return nil
	}
	v, err := a.d.Orders.FulfillmentOrder(ctx, p.TenantID, foID)
	if err != nil {
		return err
	}
	if v.FacilityID != p.FacilityID {
		return errs.E("httpapi.checkFacility", errs.NotExist, "fulfillment order not found")
	}
	return nil
}

type actionIn struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		Reason    string     `json:"reason,omitempty" maxLength:"200" doc:"Why: for hold, reject and close (e.g. INVENTORY_OUT_OF_STOCK, INCORRECT_ADDRESS, OTHER)."`
		Message   string     `json:"message,omitempty" maxLength:"2000"`
		FulfillAt *time.Time `json:"fulfill_at,omitempty" doc:"For schedule: when it opens."`
	}
}

// action returns the handler of one fulfilment order action.
func (a *API) action(kind string) func(ctx context.Context, in *actionIn) (*fulfillmentOrderOut, error) {
	return func(ctx context.Context, in *actionIn) (*fulfillmentOrderOut, error) {
		if err := a.checkFacility(ctx, in.ID); err != nil {
			return nil, err
		}
		act := order.FulfillmentAction{Kind: kind}
		if in.Body != nil {
			act.Reason, act.Message = in.Body.Reason, in.Body.Message
			if in.Body.FulfillAt != nil {
				act.FulfillAt = *in.Body.FulfillAt
			}
		}
		v, err := a.d.Orders.Act(ctx, principal(ctx).TenantID, in.ID, act, actor(ctx))
		if err != nil {
			return nil, err
		}
		a.d.Wake()
		return &fulfillmentOrderOut{Body: v.Doc()}, nil
	}
}

func (a *API) moveFulfillmentOrder(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Facility string          `json:"facility" maxLength:"64" doc:"The destination facility's code."`
		Lines    []FulfillLineIn `json:"lines,omitempty" maxItems:"500" doc:"Move only these units (a split); everything when absent."`
	}
}) (*fulfillmentOrderOut, error) {
	if principal(ctx).FacilityID != "" {
		return nil, errs.E("httpapi.move", errs.Permission, "a facility's key cannot move fulfilment orders")
	}
	var lines []order.FulfillLine
	for _, l := range in.Body.Lines {
		lines = append(lines, order.FulfillLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	v, err := a.d.Orders.Move(ctx, principal(ctx).TenantID, in.ID, in.Body.Facility, lines, actor(ctx))
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &fulfillmentOrderOut{Body: v.Doc()}, nil
}

// RequestMessageDoc is one step of a fulfilment order's request history.
type RequestMessageDoc struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind" doc:"fulfillment_request, accepted, rejected, cancellation_request, cancellation_accepted, …"`
	RequestStatus string    `json:"request_status"`
	Reason        string    `json:"reason,omitempty"`
	Message       string    `json:"message,omitempty"`
	Actor         string    `json:"actor"`
	CreatedAt     time.Time `json:"created_at"`
}

func (a *API) fulfillmentOrderRequests(ctx context.Context, in *foIDInput) (*struct {
	Body struct {
		Items []RequestMessageDoc `json:"items"`
	}
}, error) {
	if err := a.checkFacility(ctx, in.ID); err != nil {
		return nil, err
	}
	ms, err := a.d.Orders.RequestHistory(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []RequestMessageDoc `json:"items"`
		}
	}{}
	out.Body.Items = []RequestMessageDoc{}
	for _, m := range ms {
		out.Body.Items = append(out.Body.Items, RequestMessageDoc{ID: m.ID, Kind: m.Kind, RequestStatus: string(m.RequestStatus), Reason: m.Reason,
			Message: m.Message, Actor: m.Actor, CreatedAt: m.CreatedAt})
	}
	return out, nil
}

// ConnectionDoc is how a facility is reached. Provider secrets are never
// shown; the signing secret only when made.
type ConnectionDoc struct {
	Facility    string         `json:"facility"`
	Method      string         `json:"method" enum:"callback,email,shipbob,amazon_mcf"`
	CallbackURL string         `json:"callback_url,omitempty"`
	Email       string         `json:"email,omitempty"`
	FetchStock  bool           `json:"fetch_stock"`
	Settings    map[string]any `json:"settings,omitempty"`
	SecretsSet  []string       `json:"secrets_set,omitempty" doc:"Which provider secrets are stored (their values are never shown)."`
	Secret      string         `json:"secret,omitempty" doc:"The signing secret, shown once: when the connection is made or the secret rotated."`
	LastStockAt *time.Time     `json:"last_stock_at,omitempty"`
	LastError   string         `json:"last_error,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

func connectionDoc(code string, c dispatch.Connection, showSecret bool) ConnectionDoc {
	d := ConnectionDoc{Facility: code, Method: string(c.Method), CallbackURL: c.CallbackURL, Email: c.Email, FetchStock: c.FetchStock, Settings: c.Settings,
		LastStockAt: c.LastStockAt, LastError: c.LastError, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	for k := range c.Secrets {
		d.SecretsSet = append(d.SecretsSet, k)
	}
	if showSecret {
		d.Secret = c.Secret
	}
	return d
}

type connectionOut struct {
	Body ConnectionDoc
}

func (a *API) getConnection(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"64"`
}) (*connectionOut, error) {
	tenantID := principal(ctx).TenantID
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	c, err := a.d.Dispatch.Connection(ctx, tenantID, f.ID)
	if err != nil {
		return nil, err
	}
	return &connectionOut{Body: connectionDoc(f.Code, c, false)}, nil
}

func (a *API) putConnection(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Method      string         `json:"method" enum:"callback,email,shipbob,amazon_mcf"`
		CallbackURL string         `json:"callback_url,omitempty" maxLength:"2000"`
		Email       string         `json:"email,omitempty" maxLength:"254" doc:"The supplier's address (email method)."`
		FetchStock  bool           `json:"fetch_stock,omitempty"`
		Settings    map[string]any `json:"settings,omitempty" doc:"A provider's settings (see docs/fulfillment.md)."`
		Secrets     map[string]any `json:"secrets,omitempty" doc:"A provider's credentials; write-only. Omit to keep the stored ones."`
	}
}) (*struct {
	Status int `json:"-"`
	Body   ConnectionDoc
}, error) {
	tenantID := principal(ctx).TenantID
	b := in.Body
	c, made, err := a.d.Dispatch.Connect(ctx, tenantID, in.ID, dispatch.ConnectionInput{Method: dispatch.Method(b.Method), CallbackURL: b.CallbackURL,
		Email: b.Email, FetchStock: b.FetchStock, Settings: b.Settings, Secrets: b.Secrets})
	if err != nil {
		return nil, err
	}
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Status int `json:"-"`
		Body   ConnectionDoc
	}{Status: 200, Body: connectionDoc(f.Code, c, made)}
	if made {
		out.Status = 201
	}
	a.d.Wake()
	return out, nil
}

func (a *API) deleteConnection(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"64"`
}) (*struct{}, error) {
	return nil, a.d.Dispatch.Disconnect(ctx, principal(ctx).TenantID, in.ID)
}

func (a *API) rotateConnectionSecret(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"64"`
}) (*connectionOut, error) {
	tenantID := principal(ctx).TenantID
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	c, err := a.d.Dispatch.RotateSecret(ctx, tenantID, f.ID)
	if err != nil {
		return nil, err
	}
	return &connectionOut{Body: connectionDoc(f.Code, c, true)}, nil
}

// StockSync is what one pull of a 3PL's stock changed.
type StockSync struct {
	Facility string `json:"facility"`
	Reported int    `json:"reported" doc:"SKUs reported that the catalogue knows."`
	Unknown  int    `json:"unknown" doc:"SKUs reported that the catalogue has not (ignored)."`
	Changed  int    `json:"changed" doc:"SKUs whose on-hand figure was corrected by a count."`
}

func (a *API) syncFacilityStock(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"64"`
}) (*struct{ Body StockSync }, error) {
	r, err := a.d.Dispatch.SyncStock(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body StockSync }{StockSync{Facility: r.Facility, Reported: r.Reported, Unknown: r.Unknown, Changed: r.Changed}}, nil
}

func (a *API) createFacilityKey(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		Name string `json:"name,omitempty" maxLength:"200" example:"ShipFast 3PL"`
	}
}) (*struct{ Body NewAPIKey }, error) {
	tenantID := principal(ctx).TenantID
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	name := ""
	if in.Body != nil {
		name = in.Body.Name
	}
	if name == "" {
		name = f.Code + " fulfilment"
	}
	k, secret, err := a.d.Auth.CreateFacilityKey(ctx, tenantID, name, f.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body NewAPIKey }{NewAPIKey{APIKey: keyOut(k), Key: secret}}, nil
}

func (a *API) mergeFulfillmentOrder(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Into string `json:"into" maxLength:"64" doc:"The fulfilment order (of the same order) to merge into."`
	}
}) (*fulfillmentOrderOut, error) {
	if principal(ctx).FacilityID != "" {
		return nil, errs.E("httpapi.merge", errs.Permission, "a facility's key cannot merge fulfilment orders")
	}
	v, err := a.d.Orders.Merge(ctx, principal(ctx).TenantID, in.ID, in.Body.Into, actor(ctx))
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &fulfillmentOrderOut{Body: v.Doc()}, nil
}

func (a *API) splitFulfillmentOrder(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Lines    []FulfillLineIn `json:"lines" minItems:"1" maxItems:"500" doc:"The units to split off."`
		Facility string          `json:"facility,omitempty" maxLength:"64" doc:"Send them to this facility instead (a partial move); they stay at the same facility when absent."`
	}
}) (*fulfillmentOrderOut, error) {
	if principal(ctx).FacilityID != "" {
		return nil, errs.E("httpapi.split", errs.Permission, "a facility's key cannot split fulfilment orders")
	}
	var lines []order.FulfillLine
	for _, l := range in.Body.Lines {
		lines = append(lines, order.FulfillLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	var v order.FulfillmentOrderView
	var err error
	if in.Body.Facility != "" {
		v, err = a.d.Orders.Move(ctx, principal(ctx).TenantID, in.ID, in.Body.Facility, lines, actor(ctx))
	} else {
		v, err = a.d.Orders.Split(ctx, principal(ctx).TenantID, in.ID, lines, actor(ctx))
	}
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &fulfillmentOrderOut{Body: v.Doc()}, nil
}
