package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/waybill/waybill/internal/errs"
)

// CheckCmd recomputes every stock balance from the ledger.
type CheckCmd struct {
	DBFlag
}

func (c *CheckCmd) Run(env *Env) error {
	a, err := env.open(c.DB)
	if err != nil {
		return err
	}
	defer a.Close()
	ds, err := a.Inventory.Check(env.Ctx)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		fmt.Fprintln(env.Stdout, "ok: every stock balance agrees with the ledger and the active reservations")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSKU\tFACILITY\tFIELD\tBALANCE\tLEDGER")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", d.TenantID, d.SKU, d.FacilityID, d.Field, d.Balance, d.Ledger)
	}
	tw.Flush()
	return errs.E("cli.check", errs.Conflict, fmt.Sprintf("%d balances disagree with the ledger", len(ds)))
}
