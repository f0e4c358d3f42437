package cli

import (
	"fmt"

	"github.com/waybill/waybill/internal/demo"
)

// DemoCmd seeds the demo shop and serves it.
type DemoCmd struct {
	ServeCmd
	NoServe bool `name:"no-serve" help:"Only create the demo data; do not start the server."`
	Orders  int  `name:"orders" default:"2000" help:"How many orders of history the demo shop gets on its first run (0 for none)."`
}

func (c *DemoCmd) Run(env *Env) error {
	a, err := env.open(c.DB, c.ServeCmd.config)
	if err != nil {
		return err
	}
	defer a.Close()
	r, err := demo.Seed(env.Ctx, a.Auth, a.Catalog, a.Inventory)
	if err != nil {
		return err
	}
	if c.Orders > 0 {
		fmt.Fprintf(env.Stderr, "Seeding up to %d orders over the last 90 days (first run only)…\n", c.Orders)
	}
	if err := demo.SeedRouting(env.Ctx, r.Tenant.ID, a.Routing); err != nil {
		return err
	}
	if err := demo.SeedFulfilment(env.Ctx, r.Tenant.ID, a.Inventory, a.Costs, a.Dispatch); err != nil {
		return err
	}
	var nOrders int
	err = a.DB.Relaxed(env.Ctx, func() error {
		nOrders, err = demo.SeedOrders(env.Ctx, r.Tenant.ID, a.Inventory, a.Orders, c.Orders)
		return err
	})
	if err != nil {
		return err
	}
	url := "http://" + c.Addr
	fmt.Fprintf(env.Stdout, `Demo shop %q is ready (%d products and %d orders created this run).

  Dashboard:  %s/
  Sign in:    %s / %s
  API key:    %s
  API docs:   %s/api/v1/docs/

  Try:  curl -H "Authorization: Bearer %s" %s/api/v1/products

`, r.Tenant.Name, r.ProductsCreated, nOrders, url, demo.Email, demo.Password, r.APIKey, url, r.APIKey, url)
	if c.NoServe {
		return nil
	}
	return a.Serve(env.Ctx, nil)
}
