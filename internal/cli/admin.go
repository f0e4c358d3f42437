package cli

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/waybill/waybill/internal/app"
	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
)

// TenantCmd groups tenant subcommands.
type TenantCmd struct {
	Create TenantCreateCmd `cmd:"" help:"Create a tenant and print its id."`
	List   TenantListCmd   `cmd:"" help:"List tenants."`
}

// TenantCreateCmd creates a tenant.
type TenantCreateCmd struct {
	DBFlag
	Name     string `arg:"" help:"The tenant's name (unique), e.g. \"Acme Outdoor\"."`
	Timezone string `name:"timezone" default:"UTC" help:"IANA time zone the dashboard shows times in."`
	Currency string `name:"currency" default:"USD" help:"Default ISO 4217 currency."`
}

func (c *TenantCreateCmd) Run(env *Env) error {
	a, err := env.open(c.DB)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Auth.CreateTenant(env.Ctx, c.Name, c.Timezone, c.Currency)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, t.ID)
	return nil
}

// TenantListCmd lists tenants.
type TenantListCmd struct {
	DBFlag
}

func (c *TenantListCmd) Run(env *Env) error {
	a, err := env.open(c.DB)
	if err != nil {
		return err
	}
	defer a.Close()
	ts, err := a.Auth.ListTenants(env.Ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTIMEZONE\tCURRENCY")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Timezone, t.Currency)
	}
	return tw.Flush()
}

// UserCmd groups user subcommands.
type UserCmd struct {
	Create UserCreateCmd `cmd:"" help:"Add a dashboard user to a tenant."`
	List   UserListCmd   `cmd:"" help:"List a tenant's users."`
}

// UserCreateCmd adds a user.
type UserCreateCmd struct {
	DBFlag
	Tenant   string `name:"tenant" required:"" help:"Tenant name or id."`
	Email    string `name:"email" required:"" help:"Sign-in e-mail address."`
	Name     string `name:"name" help:"The person's name."`
	Role     string `name:"role" default:"owner" enum:"owner,admin,warehouse,viewer" help:"owner, admin, warehouse or viewer."`
	Password string `name:"password" env:"WAYBILL_PASSWORD" help:"Password (at least 10 characters); prompted for when absent."`
}

func (c *UserCreateCmd) Run(env *Env) error {
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	pw := c.Password
	if pw == "" {
		if pw, err = readPassword(env); err != nil {
			return err
		}
	}
	u, err := a.Auth.CreateUser(env.Ctx, t.ID, auth.NewUser{Email: c.Email, Name: c.Name, Role: auth.Role(c.Role), Password: pw})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, u.ID)
	return nil
}

// readPassword prompts on a terminal without echo, or reads a line from a pipe.
func readPassword(env *Env) (string, error) {
	if f, ok := env.Stdin.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errs.E("cli.password", errs.Invalid, "no password given: use --password, WAYBILL_PASSWORD or standard input")
	}
	_ = err
	return line, nil
}

// UserListCmd lists users.
type UserListCmd struct {
	DBFlag
	Tenant string `name:"tenant" required:"" help:"Tenant name or id."`
}

func (c *UserListCmd) Run(env *Env) error {
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	us, err := a.Auth.ListUsers(env.Ctx, t.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tDISABLED")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", u.ID, u.Email, u.Name, u.Role, u.Disabled)
	}
	return tw.Flush()
}

// APIKeyCmd groups key subcommands.
type APIKeyCmd struct {
	Create APIKeyCreateCmd `cmd:"" help:"Create an API key; prints only the key, so scripts can capture it."`
	List   APIKeyListCmd   `cmd:"" help:"List a tenant's API keys (never their secrets)."`
	Revoke APIKeyRevokeCmd `cmd:"" help:"Revoke an API key; it stops working at once."`
}

// APIKeyCreateCmd creates a key.
type APIKeyCreateCmd struct {
	DBFlag
	Tenant string   `name:"tenant" required:"" help:"Tenant name or id."`
	Name   string   `name:"name" help:"What the key is for, e.g. \"Shopify sync\"."`
	Scope  []string `name:"scope" help:"A scope such as catalog:read or orders:write; repeat for more. Default: every scope."`
}

func (c *APIKeyCreateCmd) Run(env *Env) error {
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	var scopes []auth.Scope
	for _, s := range c.Scope {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				scopes = append(scopes, auth.Scope(part))
			}
		}
	}
	_, secret, err := a.Auth.CreateAPIKey(env.Ctx, t.ID, c.Name, scopes)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, secret)
	return nil
}

// APIKeyListCmd lists keys.
type APIKeyListCmd struct {
	DBFlag
	Tenant string `name:"tenant" required:"" help:"Tenant name or id."`
}

func (c *APIKeyListCmd) Run(env *Env) error {
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	ks, err := a.Auth.ListAPIKeys(env.Ctx, t.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tCREATED\tLAST USED\tREVOKED")
	for _, k := range ks {
		last, rev := "never", ""
		if k.LastUsedAt != nil {
			last = k.LastUsedAt.Format("2006-01-02 15:04")
		}
		if k.RevokedAt != nil {
			rev = k.RevokedAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, k.CreatedAt.Format("2006-01-02 15:04"), last, rev)
	}
	return tw.Flush()
}

// APIKeyRevokeCmd revokes a key by id or by the key itself.
type APIKeyRevokeCmd struct {
	DBFlag
	Tenant string `name:"tenant" required:"" help:"Tenant name or id."`
	Key    string `arg:"" help:"The key's id (key_…) or the key itself (wb_…)."`
}

func (c *APIKeyRevokeCmd) Run(env *Env) error {
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	keyID := c.Key
	if strings.HasPrefix(c.Key, auth.KeyPrefix) {
		p, err := a.Auth.Authenticate(env.Ctx, c.Key)
		if err != nil || p.TenantID != t.ID {
			return errs.E("cli.apikey.revoke", errs.NotExist, "no active key like that in tenant "+t.Name)
		}
		keyID = p.KeyID
	}
	k, err := a.Auth.RevokeAPIKey(env.Ctx, t.ID, keyID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "revoked %s (%s…)\n", k.ID, k.Prefix)
	return nil
}

// openTenant opens the app on db and finds the tenant named (or with the id)
// tenant; the caller closes the app.
func (e *Env) openTenant(db, tenant string) (*app.App, auth.Tenant, error) {
	a, err := e.open(db)
	if err != nil {
		return nil, auth.Tenant{}, err
	}
	t, err := findTenant(e, a.Auth, tenant)
	if err != nil {
		a.Close()
		return nil, auth.Tenant{}, err
	}
	return a, t, nil
}

// findTenant accepts a tenant's id or its name.
func findTenant(env *Env, s *auth.Service, nameOrID string) (auth.Tenant, error) {
	if strings.HasPrefix(nameOrID, "ten_") {
		if t, err := s.Tenant(env.Ctx, nameOrID); err == nil {
			return t, nil
		}
	}
	t, err := s.TenantByName(env.Ctx, nameOrID)
	if err != nil && errs.Is(errs.NotExist, err) {
		return t, errs.E("cli.tenant", errs.NotExist, "no tenant named "+nameOrID+" (waybill tenant list shows them)")
	}
	return t, err
}
