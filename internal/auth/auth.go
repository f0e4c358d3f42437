// Package auth owns tenants, the people and API keys that act for them, their
// roles and scopes, and the Principal that every request carries.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
)

// Tenant is one merchant: every other row belongs to exactly one.
type Tenant struct {
	ID        string
	Name      string
	Timezone  string
	Currency  string
	CreatedAt time.Time
}

// Role is what a dashboard user may do.
type Role string

const (
	Owner     Role = "owner"     // everything, including people and keys
	Admin     Role = "admin"     // everything, including people and keys
	Warehouse Role = "warehouse" // reads everything, works stock and fulfilment
	Viewer    Role = "viewer"    // reads everything
)

// Roles lists the roles in order of power.
var Roles = []Role{Owner, Admin, Warehouse, Viewer}

// User is a person who signs in to the dashboard.
type User struct {
	ID          string
	TenantID    string
	Email       string
	Name        string
	Role        Role
	CreatedAt   time.Time
	LastLoginAt *time.Time
	Disabled    bool
}

// Scope is one permission of an API key: an area and read or write.
// Write implies read.
type Scope string

// Areas are the parts of Waybill a key can be scoped to.
var Areas = []string{"catalog", "inventory", "orders", "fulfillment", "shipping", "returns", "analytics", "settings"}

// AllScopes is every scope, the default for a new key.
func AllScopes() []Scope {
	var s []Scope
	for _, a := range Areas {
		s = append(s, Scope(a+":read"), Scope(a+":write"))
	}
	return s
}

// ParseScope checks a scope string such as "catalog:write".
func ParseScope(s string) (Scope, error) {
	area, mode, ok := strings.Cut(s, ":")
	if !ok || (mode != "read" && mode != "write") || !slices.Contains(Areas, area) {
		return "", errs.E("auth.ParseScope", errs.Invalid,
			"unknown scope "+strconvQuote(s)+": use AREA:read or AREA:write with AREA one of "+strings.Join(Areas, ", "))
	}
	return Scope(s), nil
}

func strconvQuote(s string) string { return `"` + s + `"` }

// APIKey is a credential for programs. The key itself is shown once, at
// creation; only its SHA-256 is stored.
type APIKey struct {
	ID       string
	TenantID string
	Name     string
	Prefix   string // the first characters, to recognise a key in lists
	Scopes   []Scope
	// FacilityID restricts the key to one facility's fulfilment orders: a
	// 3PL's key (see CreateFacilityKey).
	FacilityID string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// KeyPrefix starts every Waybill API key, so secret scanners can find them.
const KeyPrefix = "wb_"

// HashKey is how a key is stored and looked up.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Principal is who is acting in a request: a user through the dashboard or a
// program through an API key. It always names one tenant.
type Principal struct {
	TenantID string
	UserID   string // set for dashboard sessions
	KeyID    string // set for API keys
	Role     Role   // for users
	Scopes   []Scope
	// FacilityID, when set, limits the key to the fulfilment orders of one
	// facility (a 3PL answering its requests).
	FacilityID string
}

// Can reports whether the principal holds scope (area:read or area:write).
func (p Principal) Can(s Scope) bool {
	if p.TenantID == "" {
		return false
	}
	if p.FacilityID != "" && !strings.HasPrefix(string(s), "fulfillment:") {
		return false
	}
	if p.UserID != "" {
		area, mode, _ := strings.Cut(string(s), ":")
		switch p.Role {
		case Owner, Admin:
			return true
		case Warehouse:
			return mode == "read" || (area != "settings" && area != "analytics")
		case Viewer:
			return mode == "read"
		}
		return false
	}
	if slices.Contains(p.Scopes, s) {
		return true
	}
	if area, mode, _ := strings.Cut(string(s), ":"); mode == "read" {
		return slices.Contains(p.Scopes, Scope(area+":write"))
	}
	return false
}

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Store is what auth needs from the database.
type Store interface {
	CreateTenant(ctx context.Context, t Tenant) error
	Tenant(ctx context.Context, id string) (Tenant, error)
	TenantByName(ctx context.Context, name string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)

	CreateUser(ctx context.Context, u User, passwordHash string) error
	User(ctx context.Context, tenantID, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, string, error)
	ListUsers(ctx context.Context, tenantID string) ([]User, error)
	UpdateUser(ctx context.Context, u User) error
	SetPassword(ctx context.Context, tenantID, userID, passwordHash string) error
	TouchLogin(ctx context.Context, userID string, at time.Time) error

	CreateAPIKey(ctx context.Context, k APIKey, hash string) error
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	APIKey(ctx context.Context, tenantID, id string) (APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Service is the auth domain's API.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// CreateTenant makes a new tenant.
func (s *Service) CreateTenant(ctx context.Context, name, timezone, currency string) (Tenant, error) {
	const op = "auth.CreateTenant"
	var fe errs.FieldList
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		fe.Add("name", "must be 1 to 200 characters", name)
	}
	if timezone == "" {
		timezone = "UTC"
	}
	if _, err := time.LoadLocation(timezone); err != nil {
		fe.Add("timezone", "unknown IANA time zone", timezone)
	}
	if currency == "" {
		currency = "USD"
	}
	if len(currency) != 3 || strings.ToUpper(currency) != currency {
		fe.Add("currency", "must be an ISO 4217 code such as USD", currency)
	}
	if err := fe.Err(op); err != nil {
		return Tenant{}, err
	}
	t := Tenant{ID: id.New("ten"), Name: name, Timezone: timezone, Currency: currency, CreatedAt: s.now()}
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return Tenant{}, errs.E(op, err)
	}
	return t, nil
}

// Tenant returns one tenant.
func (s *Service) Tenant(ctx context.Context, id string) (Tenant, error) {
	return s.store.Tenant(ctx, id)
}

// TenantByName finds a tenant by its unique name.
func (s *Service) TenantByName(ctx context.Context, name string) (Tenant, error) {
	return s.store.TenantByName(ctx, strings.TrimSpace(name))
}

// ListTenants lists every tenant (an operator's view; the CLI uses it).
func (s *Service) ListTenants(ctx context.Context) ([]Tenant, error) { return s.store.ListTenants(ctx) }

// NewUser is what it takes to add a person.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// CreateUser adds a person who can sign in to the tenant's dashboard.
func (s *Service) CreateUser(ctx context.Context, tenantID string, nu NewUser) (User, error) {
	const op = "auth.CreateUser"
	var fe errs.FieldList
	email := strings.ToLower(strings.TrimSpace(nu.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		fe.Add("email", "must be an e-mail address like name@example.com", nu.Email)
	}
	if nu.Role == "" {
		nu.Role = Admin
	}
	if !slices.Contains(Roles, nu.Role) {
		fe.Add("role", "must be one of owner, admin, warehouse, viewer", string(nu.Role))
	}
	if utf8.RuneCountInString(nu.Password) < MinPasswordLength {
		fe.Add("password", "must be at least 10 characters", nil)
	}
	if err := fe.Err(op); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return User{}, errs.E(op, errs.Internal, err)
	}
	u := User{ID: id.New("usr"), TenantID: tenantID, Email: email, Name: strings.TrimSpace(nu.Name), Role: nu.Role, CreatedAt: s.now()}
	if err := s.store.CreateUser(ctx, u, hash); err != nil {
		return User{}, errs.E(op, err)
	}
	return u, nil
}

// ListUsers lists a tenant's people.
func (s *Service) ListUsers(ctx context.Context, tenantID string) ([]User, error) {
	return s.store.ListUsers(ctx, tenantID)
}

// User returns one of a tenant's people.
func (s *Service) User(ctx context.Context, tenantID, id string) (User, error) {
	return s.store.User(ctx, tenantID, id)
}

// UpdateUser changes a person's name, role or disabled flag. The last active
// owner cannot be demoted or disabled, so a tenant is never locked out.
func (s *Service) UpdateUser(ctx context.Context, tenantID, userID string, name *string, role *Role, disabled *bool) (User, error) {
	const op = "auth.UpdateUser"
	u, err := s.store.User(ctx, tenantID, userID)
	if err != nil {
		return User{}, errs.E(op, err)
	}
	if name != nil {
		u.Name = strings.TrimSpace(*name)
	}
	if role != nil {
		if !slices.Contains(Roles, *role) {
			return User{}, errs.InvalidFields(op, errs.FieldError{Field: "role", Message: "must be one of owner, admin, warehouse, viewer", Value: string(*role)})
		}
		u.Role = *role
	}
	if disabled != nil {
		u.Disabled = *disabled
	}
	if u.Role != Owner || u.Disabled {
		users, err := s.store.ListUsers(ctx, tenantID)
		if err != nil {
			return User{}, errs.E(op, err)
		}
		owners := 0
		for _, o := range users {
			if o.ID != u.ID && o.Role == Owner && !o.Disabled {
				owners++
			}
		}
		was, _ := s.store.User(ctx, tenantID, userID)
		if owners == 0 && was.Role == Owner && !was.Disabled {
			return User{}, errs.E(op, errs.Conflict, "a tenant must keep at least one active owner")
		}
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return User{}, errs.E(op, err)
	}
	return u, nil
}

// SetPassword replaces a person's password.
func (s *Service) SetPassword(ctx context.Context, tenantID, userID, password string) error {
	const op = "auth.SetPassword"
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return errs.InvalidFields(op, errs.FieldError{Field: "password", Message: "must be at least 10 characters"})
	}
	hash, err := HashPassword(password)
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	return s.store.SetPassword(ctx, tenantID, userID, hash)
}

// Login checks an e-mail and password. Every failure looks the same to the
// caller, and takes about as long, so it does not tell which part was wrong.
func (s *Service) Login(ctx context.Context, email, password string) (User, error) {
	const op = "auth.Login"
	u, hash, err := s.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		if errs.Is(errs.NotExist, err) {
			_, _ = VerifyPassword(password, dummyHash)
			return User{}, errs.E(op, errs.Unauthenticated, "wrong e-mail or password")
		}
		return User{}, errs.E(op, err)
	}
	ok, err := VerifyPassword(password, hash)
	if err != nil {
		return User{}, errs.E(op, errs.Internal, err)
	}
	if !ok || u.Disabled {
		return User{}, errs.E(op, errs.Unauthenticated, "wrong e-mail or password")
	}
	_ = s.store.TouchLogin(ctx, u.ID, s.now())
	return u, nil
}

// PrincipalForUser returns the principal of a signed-in user, re-read from the
// store so a disabled user or a changed role takes effect at once.
func (s *Service) PrincipalForUser(ctx context.Context, tenantID, userID string) (Principal, User, error) {
	u, err := s.store.User(ctx, tenantID, userID)
	if errs.Is(errs.NotExist, err) {
		return Principal{}, User{}, errs.E("auth.PrincipalForUser", errs.Unauthenticated, err)
	}
	if err != nil {
		return Principal{}, User{}, errs.E("auth.PrincipalForUser", err) // the database, not the user: keep the session
	}
	if u.Disabled {
		return Principal{}, User{}, errs.E("auth.PrincipalForUser", errs.Unauthenticated, "user is disabled")
	}
	return Principal{TenantID: u.TenantID, UserID: u.ID, Role: u.Role}, u, nil
}

// CreateAPIKey makes a key and returns it with its secret, which is never
// shown again.
func (s *Service) CreateAPIKey(ctx context.Context, tenantID, name string, scopes []Scope) (APIKey, string, error) {
	const op = "auth.CreateAPIKey"
	if len(scopes) == 0 {
		scopes = AllScopes()
	}
	for i, sc := range scopes {
		if _, err := ParseScope(string(sc)); err != nil {
			return APIKey{}, "", errs.InvalidFields(op, errs.FieldError{Field: "scopes[" + itoa(i) + "]", Message: err.(*errs.Error).Msg, Value: string(sc)})
		}
	}
	if utf8.RuneCountInString(name) > 200 {
		return APIKey{}, "", errs.InvalidFields(op, errs.FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	secret := KeyPrefix + id.Secret(40)
	k := APIKey{ID: id.New("key"), TenantID: tenantID, Name: strings.TrimSpace(name), Prefix: secret[:10], Scopes: slices.Compact(slices.Sorted(slices.Values(scopes))), CreatedAt: s.now()}
	if err := s.store.CreateAPIKey(ctx, k, HashKey(secret)); err != nil {
		return APIKey{}, "", errs.E(op, err)
	}
	return k, secret, nil
}

// CreateFacilityKey makes the key a 3PL uses to answer its facility's
// fulfilment requests: it reads and works that facility's fulfilment
// orders and nothing else. The secret is returned once.
func (s *Service) CreateFacilityKey(ctx context.Context, tenantID, name, facilityID string) (APIKey, string, error) {
	if utf8.RuneCountInString(name) > 200 {
		return APIKey{}, "", errs.InvalidFields("auth.CreateFacilityKey", errs.FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	secret := KeyPrefix + id.Secret(40)
	k := APIKey{ID: id.New("key"), TenantID: tenantID, Name: strings.TrimSpace(name), Prefix: secret[:10],
		Scopes: []Scope{"fulfillment:read", "fulfillment:write"}, FacilityID: facilityID, CreatedAt: s.now()}
	if err := s.store.CreateAPIKey(ctx, k, HashKey(secret)); err != nil {
		return APIKey{}, "", errs.E("auth.CreateFacilityKey", err)
	}
	return k, secret, nil
}

// Authenticate turns a presented API key into a principal. Revoked and unknown
// keys fail the same way.
func (s *Service) Authenticate(ctx context.Context, key string) (Principal, error) {
	const op = "auth.Authenticate"
	if !strings.HasPrefix(key, KeyPrefix) || len(key) > 200 {
		return Principal{}, errs.E(op, errs.Unauthenticated, "invalid API key")
	}
	k, err := s.store.APIKeyByHash(ctx, HashKey(key))
	if err != nil {
		if errs.Is(errs.NotExist, err) {
			return Principal{}, errs.E(op, errs.Unauthenticated, "invalid API key")
		}
		return Principal{}, errs.E(op, err)
	}
	if k.RevokedAt != nil {
		return Principal{}, errs.E(op, errs.Unauthenticated, "invalid API key")
	}
	// Record use at most once a minute per key: a write per request would
	// cost more than the request.
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		_ = s.store.TouchAPIKey(ctx, k.ID, now)
	}
	return Principal{TenantID: k.TenantID, KeyID: k.ID, Scopes: k.Scopes, FacilityID: k.FacilityID}, nil
}

// ListAPIKeys lists a tenant's keys (without secrets).
func (s *Service) ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error) {
	return s.store.ListAPIKeys(ctx, tenantID)
}

// APIKey returns one key.
func (s *Service) APIKey(ctx context.Context, tenantID, id string) (APIKey, error) {
	return s.store.APIKey(ctx, tenantID, id)
}

// RevokeAPIKey revokes a key; it stops working with the next request.
// Revoking a revoked key is not an error (the write is idempotent).
func (s *Service) RevokeAPIKey(ctx context.Context, tenantID, id string) (APIKey, error) {
	if err := s.store.RevokeAPIKey(ctx, tenantID, id, s.now()); err != nil {
		return APIKey{}, errs.E("auth.RevokeAPIKey", err)
	}
	return s.store.APIKey(ctx, tenantID, id)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
