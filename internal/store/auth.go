package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
)

// Auth is the database side of package auth.
type Auth struct{ db *DB }

var _ auth.Store = (*Auth)(nil)

// NewAuth returns the auth store.
func NewAuth(db *DB) *Auth { return &Auth{db: db} }

func (s *Auth) CreateTenant(ctx context.Context, t auth.Tenant) error {
	_, err := s.db.W.ExecContext(ctx,
		`INSERT INTO tenants (id, name, timezone, currency, created_at) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, t.Name, t.Timezone, t.Currency, t.CreatedAt)
	if ok, _ := isUniqueViolation(err); ok {
		return errs.WithCode(errs.E("store.CreateTenant", errs.Conflict, "a tenant named "+t.Name+" exists already"), "tenant_name_taken")
	}
	return wrap("store.CreateTenant", err)
}

const tenantCols = `id, name, timezone, currency, created_at`

func scanTenant(row interface{ Scan(...any) error }) (auth.Tenant, error) {
	var t auth.Tenant
	err := row.Scan(&t.ID, &t.Name, &t.Timezone, &t.Currency, &t.CreatedAt)
	t.CreatedAt = t.CreatedAt.UTC()
	return t, err
}

func (s *Auth) Tenant(ctx context.Context, id string) (auth.Tenant, error) {
	t, err := scanTenant(s.db.R.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1`, id))
	return t, notFound("store.Tenant", "tenant", err)
}

func (s *Auth) TenantByName(ctx context.Context, name string) (auth.Tenant, error) {
	t, err := scanTenant(s.db.R.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE name = $1`, name))
	return t, notFound("store.TenantByName", "tenant "+name, err)
}

func (s *Auth) ListTenants(ctx context.Context) ([]auth.Tenant, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY name`)
	if err != nil {
		return nil, wrap("store.ListTenants", err)
	}
	defer rows.Close()
	var out []auth.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, wrap("store.ListTenants", err)
		}
		out = append(out, t)
	}
	return out, wrap("store.ListTenants", rows.Err())
}

func (s *Auth) CreateUser(ctx context.Context, u auth.User, hash string) error {
	_, err := s.db.W.ExecContext(ctx,
		`INSERT INTO users (id, tenant_id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.TenantID, u.Email, u.Name, string(u.Role), hash, u.CreatedAt)
	if ok, _ := isUniqueViolation(err); ok {
		return errs.WithCode(errs.InvalidFields("store.CreateUser", errs.FieldError{Field: "email", Message: "a user with this e-mail exists already", Value: u.Email}), "email_taken")
	}
	return wrap("store.CreateUser", err)
}

const userCols = `id, tenant_id, email, name, role, created_at, last_login_at, disabled_at`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (auth.User, error) {
	var u auth.User
	var role string
	var last, disabled sql.NullTime
	err := row.Scan(append([]any{&u.ID, &u.TenantID, &u.Email, &u.Name, &role, &u.CreatedAt, &last, &disabled}, extra...)...)
	u.Role = auth.Role(role)
	u.CreatedAt = u.CreatedAt.UTC()
	u.LastLoginAt = timePtr(last)
	u.Disabled = disabled.Valid
	return u, err
}

func (s *Auth) User(ctx context.Context, tenantID, id string) (auth.User, error) {
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return u, notFound("store.User", "user", err)
}

func (s *Auth) UserByEmail(ctx context.Context, email string) (auth.User, string, error) {
	var hash string
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE email = $1`, email), &hash)
	return u, hash, notFound("store.UserByEmail", "user", err)
}

func (s *Auth) ListUsers(ctx context.Context, tenantID string) ([]auth.User, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = $1 ORDER BY email`, tenantID)
	if err != nil {
		return nil, wrap("store.ListUsers", err)
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("store.ListUsers", err)
		}
		out = append(out, u)
	}
	return out, wrap("store.ListUsers", rows.Err())
}

func (s *Auth) UpdateUser(ctx context.Context, u auth.User) error {
	var disabled any
	if u.Disabled {
		disabled = Now()
	}
	res, err := s.db.W.ExecContext(ctx,
		`UPDATE users SET name = $3, role = $4, disabled_at = CASE WHEN $5 THEN COALESCE(disabled_at, $6) ELSE NULL END WHERE tenant_id = $1 AND id = $2`,
		u.TenantID, u.ID, u.Name, string(u.Role), u.Disabled, disabled)
	return affected("store.UpdateUser", "user", res, err)
}

func (s *Auth) SetPassword(ctx context.Context, tenantID, userID, hash string) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, hash)
	return affected("store.SetPassword", "user", res, err)
}

func (s *Auth) TouchLogin(ctx context.Context, userID string, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1`, userID, at)
	return wrap("store.TouchLogin", err)
}

func (s *Auth) CreateAPIKey(ctx context.Context, k auth.APIKey, hash string) error {
	_, err := s.db.W.ExecContext(ctx,
		`INSERT INTO api_keys (id, tenant_id, name, prefix, hash, scopes, facility_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.TenantID, k.Name, k.Prefix, hash, joinScopes(k.Scopes), k.FacilityID, k.CreatedAt)
	return wrap("store.CreateAPIKey", err)
}

const keyCols = `id, tenant_id, name, prefix, scopes, facility_id, created_at, last_used_at, revoked_at`

func scanKey(row interface{ Scan(...any) error }) (auth.APIKey, error) {
	var k auth.APIKey
	var scopes string
	var last, revoked sql.NullTime
	err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &scopes, &k.FacilityID, &k.CreatedAt, &last, &revoked)
	for _, sc := range strings.Fields(scopes) {
		k.Scopes = append(k.Scopes, auth.Scope(sc))
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.LastUsedAt, k.RevokedAt = timePtr(last), timePtr(revoked)
	return k, err
}

func (s *Auth) APIKeyByHash(ctx context.Context, hash string) (auth.APIKey, error) {
	k, err := scanKey(s.db.R.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash = $1`, hash))
	return k, notFound("store.APIKeyByHash", "API key", err)
}

func (s *Auth) APIKey(ctx context.Context, tenantID, id string) (auth.APIKey, error) {
	k, err := scanKey(s.db.R.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return k, notFound("store.APIKey", "API key", err)
}

func (s *Auth) ListAPIKeys(ctx context.Context, tenantID string) ([]auth.APIKey, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE tenant_id = $1 ORDER BY id DESC`, tenantID)
	if err != nil {
		return nil, wrap("store.ListAPIKeys", err)
	}
	defer rows.Close()
	var out []auth.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, wrap("store.ListAPIKeys", err)
		}
		out = append(out, k)
	}
	return out, wrap("store.ListAPIKeys", rows.Err())
}

func (s *Auth) RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error {
	res, err := s.db.W.ExecContext(ctx,
		`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant_id = $1 AND id = $2`, tenantID, id, at)
	return affected("store.RevokeAPIKey", "API key", res, err)
}

func (s *Auth) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, at)
	return wrap("store.TouchAPIKey", err)
}

func joinScopes(s []auth.Scope) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = string(x)
	}
	return strings.Join(parts, " ")
}

// Shared helpers for every store file.

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.E(op, errs.Transient, err)
	}
	return errs.E(op, errs.Internal, err)
}

func notFound(op, what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(op, errs.NotExist, what+" not found")
	}
	return wrap(op, err)
}

func affected(op, what string, res sql.Result, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return errs.E(op, errs.NotExist, what+" not found")
	}
	return nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
