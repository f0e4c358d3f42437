package httpapi

import (
	"context"
	"strconv"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
)

// Tenant is the merchant an API key belongs to.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Timezone  string    `json:"timezone"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

func (a *API) getTenant(ctx context.Context, _ *struct{}) (*struct{ Body Tenant }, error) {
	t, err := a.d.Auth.Tenant(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body Tenant }{Tenant{ID: t.ID, Name: t.Name, Timezone: t.Timezone, Currency: t.Currency, CreatedAt: t.CreatedAt}}, nil
}

// User is a person who signs in to the dashboard.
type User struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role" enum:"owner,admin,warehouse,viewer"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

func userOut(u auth.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled, CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt}
}

func (a *API) listUsers(ctx context.Context, _ *struct{}) (*struct {
	Body struct {
		Items []User `json:"items"`
	}
}, error) {
	us, err := a.d.Auth.ListUsers(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []User `json:"items"`
		}
	}{}
	out.Body.Items = make([]User, 0, len(us))
	for _, u := range us {
		out.Body.Items = append(out.Body.Items, userOut(u))
	}
	return out, nil
}

func (a *API) getUser(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"100"`
}) (*struct{ Body User }, error) {
	u, err := a.d.Auth.User(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body User }{userOut(u)}, nil
}

func (a *API) createUser(ctx context.Context, in *struct {
	Body struct {
		Email    string `json:"email" maxLength:"254"`
		Name     string `json:"name,omitempty" maxLength:"200"`
		Role     string `json:"role,omitempty" enum:"owner,admin,warehouse,viewer" default:"admin"`
		Password string `json:"password" minLength:"10" maxLength:"200" doc:"At least 10 characters."`
	}
}) (*struct{ Body User }, error) {
	u, err := a.d.Auth.CreateUser(ctx, principal(ctx).TenantID, auth.NewUser{Email: in.Body.Email, Name: in.Body.Name, Role: auth.Role(in.Body.Role), Password: in.Body.Password})
	if err != nil {
		return nil, err
	}
	return &struct{ Body User }{userOut(u)}, nil
}

func (a *API) updateUser(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100"`
	Body struct {
		Name     *string `json:"name,omitempty" maxLength:"200"`
		Role     *string `json:"role,omitempty" enum:"owner,admin,warehouse,viewer"`
		Disabled *bool   `json:"disabled,omitempty"`
	}
}) (*struct{ Body User }, error) {
	var role *auth.Role
	if in.Body.Role != nil {
		r := auth.Role(*in.Body.Role)
		role = &r
	}
	u, err := a.d.Auth.UpdateUser(ctx, principal(ctx).TenantID, in.ID, in.Body.Name, role, in.Body.Disabled)
	if err != nil {
		return nil, err
	}
	return &struct{ Body User }{userOut(u)}, nil
}

// APIKey is a key without its secret.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix" doc:"The key's first characters, to recognise it."`
	Scopes     []string   `json:"scopes"`
	FacilityID string     `json:"facility_id,omitempty" doc:"Set on a 3PL's key: it works only that facility's fulfilment orders."`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func keyOut(k auth.APIKey) APIKey {
	out := APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: []string{}, FacilityID: k.FacilityID, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
	for _, s := range k.Scopes {
		out.Scopes = append(out.Scopes, string(s))
	}
	return out
}

func (a *API) listAPIKeys(ctx context.Context, _ *struct{}) (*struct {
	Body struct {
		Items []APIKey `json:"items"`
	}
}, error) {
	ks, err := a.d.Auth.ListAPIKeys(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []APIKey `json:"items"`
		}
	}{}
	out.Body.Items = make([]APIKey, 0, len(ks))
	for _, k := range ks {
		out.Body.Items = append(out.Body.Items, keyOut(k))
	}
	return out, nil
}

func (a *API) getAPIKey(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"100"`
}) (*struct{ Body APIKey }, error) {
	k, err := a.d.Auth.APIKey(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body APIKey }{keyOut(k)}, nil
}

// NewAPIKey is a freshly made key: the only time its secret is shown.
type NewAPIKey struct {
	APIKey
	Key string `json:"key" doc:"The secret. Shown only in this response; store it now."`
}

func (a *API) createAPIKey(ctx context.Context, in *struct {
	Body struct {
		Name   string   `json:"name,omitempty" maxLength:"200"`
		Scopes []string `json:"scopes,omitempty" doc:"e.g. catalog:read, orders:write. Default: every scope."`
	}
}) (*struct{ Body NewAPIKey }, error) {
	var scopes []auth.Scope
	for _, s := range in.Body.Scopes {
		scopes = append(scopes, auth.Scope(s))
	}
	// A key may only hand out what it holds itself, so a narrow key that
	// may manage keys cannot mint a wider one.
	p := principal(ctx)
	if p.KeyID != "" {
		if len(scopes) == 0 {
			scopes = p.Scopes
		}
		for i, s := range scopes {
			if _, err := auth.ParseScope(string(s)); err == nil && !p.Can(s) {
				return nil, errs.E("httpapi.createAPIKey", errs.Permission, errs.FieldError{Field: "scopes[" + strconv.Itoa(i) + "]", Message: "this API key does not hold " + string(s) + " itself", Value: string(s)},
					"an API key cannot grant a scope it does not hold")
			}
		}
	}
	k, secret, err := a.d.Auth.CreateAPIKey(ctx, p.TenantID, in.Body.Name, scopes)
	if err != nil {
		return nil, err
	}
	return &struct{ Body NewAPIKey }{NewAPIKey{APIKey: keyOut(k), Key: secret}}, nil
}

func (a *API) revokeAPIKey(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"100"`
}) (*struct{ Body APIKey }, error) {
	k, err := a.d.Auth.RevokeAPIKey(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body APIKey }{keyOut(k)}, nil
}
