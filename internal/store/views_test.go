package store_test

import (
	"testing"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

func TestSavedViews(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ctx := t.Context()
		vs := store.NewViews(e.Open(t))
		save := func(tenant, user, area, name, query string) store.SavedView {
			t.Helper()
			v, err := vs.SaveView(ctx, store.SavedView{TenantID: tenant, UserID: user, Area: area, Name: name, Query: query})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		ready := save("ten_a", "usr_1", "orders", "Ready to ship", "fulfillment=unfulfilled&hold=no")
		held := save("ten_a", "usr_1", "orders", "Held — адрес", "hold=INCORRECT_ADDRESS")
		save("ten_a", "usr_2", "orders", "Ready to ship", "status=open")   // someone else's
		save("ten_b", "usr_1", "orders", "Ready to ship", "status=closed") // another tenant
		save("ten_a", "usr_1", "products", "Kits", "kind=kit")             // another list

		// Saving under a name again replaces the query and keeps the tab's place.
		again := save("ten_a", "usr_1", "orders", "Ready to ship", "fulfillment=unfulfilled&hold=no&country=DE")
		if again.ID != ready.ID || !again.CreatedAt.Equal(ready.CreatedAt) {
			t.Errorf("saved again as %s at %v, first %s at %v", again.ID, again.CreatedAt, ready.ID, ready.CreatedAt)
		}
		got, err := vs.ListViews(ctx, "ten_a", "usr_1", "orders")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != ready.ID || got[0].Query != "fulfillment=unfulfilled&hold=no&country=DE" || got[1].Name != "Held — адрес" {
			t.Fatalf("views = %+v", got)
		}

		// Only the owner deletes a view.
		if err := vs.DeleteView(ctx, "ten_a", "usr_2", held.ID); !errs.Is(errs.NotExist, err) {
			t.Errorf("another person deleted a view: %v", err)
		}
		if err := vs.DeleteView(ctx, "ten_b", "usr_1", held.ID); !errs.Is(errs.NotExist, err) {
			t.Errorf("another tenant deleted a view: %v", err)
		}
		if err := vs.DeleteView(ctx, "ten_a", "usr_1", held.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := vs.ListViews(ctx, "ten_a", "usr_1", "orders"); len(got) != 1 {
			t.Errorf("after delete: %+v", got)
		}
		if got, _ := vs.ListViews(ctx, "ten_a", "usr_9", "orders"); len(got) != 0 {
			t.Errorf("nobody's views: %+v", got)
		}
	})
}
