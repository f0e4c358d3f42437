package store_test

import (
	"context"
	"testing"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

func TestCatalogStore(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ctx := context.Background()
		db := e.Open(t)
		as := auth.NewService(store.NewAuth(db))
		ten, err := as.CreateTenant(ctx, "Shop", "Europe/Berlin", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := as.CreateTenant(ctx, "Other", "", "")
		cs := catalog.NewService(store.NewCatalog(db))
		mug, err := cs.Create(ctx, ten.ID, ten.Currency, catalog.Draft{SKU: "MUG-1", Name: "Mug", Price: "12.50", Barcodes: []string{"4006381333931", "MUG1-INT"}, Tags: []string{"kitchen", "gift"}, WeightG: 350})
		if err != nil {
			t.Fatal(err)
		}
		if *mug.Price != 1250 || mug.Currency != "EUR" {
			t.Fatalf("price %v %s", *mug.Price, mug.Currency)
		}
		got, err := cs.Get(ctx, ten.ID, mug.ID)
		if err != nil || len(got.Barcodes) != 2 || len(got.Tags) != 2 || got.WeightG != 350 || !got.CreatedAt.Equal(mug.CreatedAt) {
			t.Fatalf("get: %+v %v", got, err)
		}
		if _, err := cs.Get(ctx, other.ID, mug.ID); !errs.Is(errs.NotExist, err) {
			t.Fatalf("other tenant sees product: %v", err)
		}
		if _, err := cs.Create(ctx, ten.ID, "EUR", catalog.Draft{SKU: "MUG-1", Name: "Again"}); !errs.Is(errs.Conflict, err) {
			t.Fatalf("duplicate sku: %v", err)
		}
		if _, err := cs.Create(ctx, ten.ID, "EUR", catalog.Draft{SKU: "MUG-2", Name: "Again", Barcodes: []string{"4006381333931"}}); !errs.Is(errs.Conflict, err) {
			t.Fatalf("duplicate barcode: %v", err)
		}
		// The other tenant may use the same SKU and barcode.
		if _, err := cs.Create(ctx, other.ID, "USD", catalog.Draft{SKU: "MUG-1", Name: "Theirs", Barcodes: []string{"4006381333931"}}); err != nil {
			t.Fatal(err)
		}
		kit, err := cs.Create(ctx, ten.ID, "EUR", catalog.Draft{SKU: "GIFT-SET", Name: "Gift set", Components: []catalog.DraftComponent{{SKU: "MUG-1", Quantity: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(kit.Components) != 1 || kit.Components[0].ProductID != mug.ID {
			t.Fatalf("kit: %+v", kit.Components)
		}
		if _, err := cs.Create(ctx, ten.ID, "EUR", catalog.Draft{SKU: "NEST", Name: "Nested", Components: []catalog.DraftComponent{{SKU: "GIFT-SET", Quantity: 1}}}); !errs.Is(errs.Invalid, err) {
			t.Fatalf("nested kit: %v", err)
		}
		list, next, err := cs.List(ctx, ten.ID, catalog.Filter{Query: "mug"})
		if err != nil || len(list) != 1 || next != "" {
			t.Fatalf("query: %d %q %v", len(list), next, err)
		}
		list, _, _ = cs.List(ctx, ten.ID, catalog.Filter{Tag: "gift"})
		if len(list) != 1 {
			t.Fatalf("tag filter: %d", len(list))
		}
		list, _, _ = cs.List(ctx, ten.ID, catalog.Filter{Barcode: "MUG1-INT"})
		if len(list) != 1 {
			t.Fatalf("barcode filter: %d", len(list))
		}
		list, next, _ = cs.List(ctx, ten.ID, catalog.Filter{Limit: 1})
		if len(list) != 1 || next == "" {
			t.Fatalf("page 1: %d %q", len(list), next)
		}
		list, next, _ = cs.List(ctx, ten.ID, catalog.Filter{Limit: 1, After: next})
		if len(list) != 1 || next != "" {
			t.Fatalf("page 2: %d %q", len(list), next)
		}
		up, err := cs.Update(ctx, ten.ID, mug.ID, "EUR", func(d *catalog.Draft) { d.Name = "Big mug"; d.Barcodes = nil })
		if err != nil || up.Name != "Big mug" || len(up.Barcodes) != 0 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, err := cs.Archive(ctx, ten.ID, mug.ID); err != nil {
			t.Fatal(err)
		}
		list, _, _ = cs.List(ctx, ten.ID, catalog.Filter{})
		if len(list) != 1 {
			t.Fatalf("archived still listed: %d", len(list))
		}
	})
}
