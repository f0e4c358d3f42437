package order_test

import (
	"context"
	stderrors "errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

type fixture struct {
	db     *store.DB
	inv    *inventory.Service
	cat    *catalog.Service
	ord    *order.Service
	notify *notify.Service
	tenant string
}

func setup(t testing.TB, e testenv.Engine) fixture {
	t.Helper()
	db := e.Open(t)
	ctx := context.Background()
	ten, err := auth.NewService(store.NewAuth(db)).CreateTenant(ctx, "Shop", "UTC", "USD")
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.NewService(store.NewInventory(db))
	f := fixture{db: db, inv: inv, cat: catalog.NewService(store.NewCatalog(db)), ord: order.NewService(store.NewOrders(db), inv),
		notify: notify.NewService(store.NewNotify(db), nil, nil), tenant: ten.ID}
	prio := 1
	if _, err := inv.CreateFacility(ctx, f.tenant, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own, Priority: &prio}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) product(t testing.TB, sku string, backorder bool, comps ...catalog.DraftComponent) {
	t.Helper()
	if _, err := f.cat.Create(context.Background(), f.tenant, "USD", catalog.Draft{SKU: sku, Name: sku, AllowBackorder: backorder, Components: comps}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) receive(t testing.TB, sku string, n int64) {
	t.Helper()
	if _, _, err := f.inv.Adjust(context.Background(), f.tenant, inventory.Adjustment{SKU: sku, Facility: "MAIN", Quantity: n, Kind: inventory.Receive}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) level(t testing.TB, sku string) inventory.Level {
	t.Helper()
	ls, _, err := f.inv.Levels(context.Background(), f.tenant, inventory.LevelFilter{SKU: sku})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) == 0 {
		return inventory.Level{}
	}
	return ls[0].Level
}

// clean checks the ledger and that every line's reserved + backordered is
// what it still owes.
func (f fixture) clean(t testing.TB, os ...order.Order) {
	t.Helper()
	ds, err := f.inv.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) > 0 {
		t.Fatalf("ledger and balances disagree: %+v", ds)
	}
	for _, o := range os {
		o, err := f.ord.Get(context.Background(), f.tenant, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range o.Lines {
			if l.Reserved+l.Backordered != l.Open() || l.Reserved < 0 || l.Backordered < 0 {
				t.Fatalf("line %s: reserved %d + backordered %d != open %d", l.SKU, l.Reserved, l.Backordered, l.Open())
			}
		}
	}
}

func input(ext string, lines ...order.LineInput) order.Input {
	return order.Input{Channel: "web", ExternalID: ext, Currency: "USD", Customer: order.Customer{Name: "Ada Lovelace", Email: "Ada@Example.com"},
		ShippingAddress: &order.Address{Name: "Ada Lovelace", Line1: "12 Analytical St", City: "London", PostalCode: "N1 1AA", Country: "gb"},
		Lines:           lines}
}

func line(sku string, qty int64, price string) order.LineInput {
	return order.LineInput{SKU: sku, Quantity: qty, UnitPrice: price}
}

func fieldsOf(err error) map[string]string {
	out := map[string]string{}
	var e *errs.Error
	if ok := asErr(err, &e); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Message
		}
	}
	return out
}

func TestCreateReservesAndBackorders(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.product(t, "CAP", false)
		f.receive(t, "MUG", 5)
		rp := int64(2)
		if _, err := f.inv.SetReorderSettings(ctx, f.tenant, "MUG", inventory.ReorderSettings{ReorderPoint: &rp}); err != nil {
			t.Fatal(err)
		}
		in := input("1001", line("MUG", 3, "12.50"), line("CAP", 2, "20.00"))
		in.ShippingLines = []order.ShippingInput{{Title: "Standard", Code: "ups_ground", Price: "4.99", TaxLines: []order.TaxInput{{Title: "VAT", Rate: "0.2", Amount: "1.00"}}}}
		in.Lines[0].TaxLines = []order.TaxInput{{Title: "VAT", Rate: "0.2", Amount: "7.50"}}
		in.Lines[1].Discount = "5.00"
		in.Total = "85.99" // 37.50 + 35.00 + 4.99 + 8.50 tax
		o, created, err := f.ord.Create(ctx, f.tenant, in, "test")
		if err != nil || !created {
			t.Fatalf("create: %v %v", created, err)
		}
		if o.Number != "#1001" || o.Status != order.Open || o.Fulfillment != order.Unfulfilled || o.ShippingAddress.Country != "GB" {
			t.Fatalf("order: %+v", o)
		}
		if o.Lines[0].Reserved != 3 || o.Lines[0].Backordered != 0 || o.Lines[1].Reserved != 0 || o.Lines[1].Backordered != 2 {
			t.Fatalf("lines: %+v", o.Lines)
		}
		if !o.HasHold(order.InventoryOutOfStock) {
			t.Fatalf("no INVENTORY_OUT_OF_STOCK hold: %+v", o.Holds)
		}
		d := o.Doc()
		if d.TotalPrice != "85.99" || d.SubtotalPrice != "72.50" || d.TotalTax != "8.50" || d.TotalDiscounts != "5.00" || d.TotalShipping != "4.99" {
			t.Fatalf("totals: %+v", d)
		}
		if l := f.level(t, "MUG"); l.Reserved != 3 || l.OnHand != 5 {
			t.Fatalf("MUG level: %+v", l)
		}
		// The same order again is recognised, never duplicated.
		again, created, err := f.ord.Create(ctx, f.tenant, in, "test")
		if err != nil || created || again.ID != o.ID {
			t.Fatalf("second create: %v %v %s vs %s", created, err, again.ID, o.ID)
		}
		if l := f.level(t, "MUG"); l.Reserved != 3 {
			t.Fatalf("second create reserved again: %+v", l)
		}
		// Events: one order.created, one hold_added.
		es, _, err := f.notify.Events(ctx, f.tenant, notify.EventFilter{Type: "order.*", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, ev := range es {
			types[ev.Type]++
		}
		if types["order.created"] != 1 || types["order.hold_added"] != 1 || len(es) != 2 {
			t.Fatalf("events: %v", types)
		}
		// Reserving 3 of 5 took MUG to its reorder point: one alert.
		if low, _, _ := f.notify.Events(ctx, f.tenant, notify.EventFilter{Type: "inventory.low_stock", Limit: 10}); len(low) != 1 {
			t.Fatalf("%d low-stock events after the order took MUG to its reorder point", len(low))
		}
		tl, err := f.ord.Timeline(ctx, f.tenant, o.ID)
		if err != nil || len(tl) != 2 || tl[0].Kind != "created" || tl[1].Kind != "hold_added" {
			t.Fatalf("timeline: %v %+v", err, tl)
		}
		f.clean(t, o)
	})
}

func TestCreateRefusesBadInputAndChangesNothing(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.receive(t, "MUG", 5)
		cases := []struct {
			name  string
			in    order.Input
			field string
		}{
			{"currency", func() order.Input { in := input("a", line("MUG", 1, "1.00")); in.Currency = "XXY"; return in }(), "currency"},
			{"country", func() order.Input {
				in := input("a", line("MUG", 1, "1.00"))
				in.ShippingAddress.Country = "Germany"
				return in
			}(), "shipping_address.country"},
			{"price digits", input("a", line("MUG", 1, "1.999")), "lines[0].unit_price"},
			{"quantity", input("a", line("MUG", 0, "1.00")), "lines[0].quantity"},
			{"unknown sku", input("a", line("MUG", 1, "1.00"), line("NOPE", 1, "1.00")), "lines[1].sku"},
			{"total", func() order.Input { in := input("a", line("MUG", 2, "1.00")); in.Total = "3.00"; return in }(), "total_price"},
			{"email", func() order.Input {
				in := input("a", line("MUG", 1, "1.00"))
				in.Customer.Email = "not an email"
				return in
			}(), "customer.email"},
			{"no lines", input("a"), "lines"},
		}
		for _, c := range cases {
			_, _, err := f.ord.Create(ctx, f.tenant, c.in, "test")
			if !errs.Is(errs.Invalid, err) {
				t.Fatalf("%s: want invalid, got %v", c.name, err)
			}
			if _, ok := fieldsOf(err)[c.field]; !ok {
				t.Fatalf("%s: error does not name %s: %v", c.name, c.field, err)
			}
		}
		os, _, err := f.ord.List(ctx, f.tenant, order.Filter{}, "")
		if err != nil || len(os) != 0 {
			t.Fatalf("bad input left orders: %v %d", err, len(os))
		}
		if l := f.level(t, "MUG"); l.Reserved != 0 {
			t.Fatalf("bad input reserved stock: %+v", l)
		}
	})
}

func TestConcurrentSameOrderMakesOne(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.receive(t, "MUG", 100)
		var wg sync.WaitGroup
		ids := make([]string, 16)
		errsOut := make([]error, 16)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, _, err := f.ord.Create(ctx, f.tenant, input("same", line("MUG", 2, "1.00")), "test")
				ids[i], errsOut[i] = o.ID, err
			}()
		}
		wg.Wait()
		for i := range ids {
			if errsOut[i] != nil || ids[i] != ids[0] {
				t.Fatalf("client %d: %v %s vs %s", i, errsOut[i], ids[i], ids[0])
			}
		}
		if l := f.level(t, "MUG"); l.Reserved != 2 {
			t.Fatalf("reserved %d, want 2", l.Reserved)
		}
		f.clean(t)
	})
}

func TestLastUnitsGoToOneOrderAndBackordersFillOldestFirst(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "LAMP", false)
		f.receive(t, "LAMP", 3)
		base := time.Now().UTC().Add(-time.Hour)
		var wg sync.WaitGroup
		orders := make([]order.Order, 8)
		for i := range orders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := input(fmt.Sprint("o", i), line("LAMP", 1, "9.00"))
				p := base.Add(time.Duration(i) * time.Minute)
				in.PlacedAt = &p
				o, _, err := f.ord.Create(ctx, f.tenant, in, "test")
				if err != nil {
					t.Error(err)
				}
				orders[i] = o
			}()
		}
		wg.Wait()
		var reserved, backordered int64
		for _, o := range orders {
			reserved += o.Lines[0].Reserved
			backordered += o.Lines[0].Backordered
		}
		if reserved != 3 || backordered != 5 {
			t.Fatalf("reserved %d backordered %d: oversold or lost", reserved, backordered)
		}
		if l := f.level(t, "LAMP"); l.Available() != 0 {
			t.Fatalf("available %d", l.Available())
		}
		// Two more arrive: the two oldest backordered orders get them.
		f.receive(t, "LAMP", 2)
		n, err := f.ord.AllocateBackorders(ctx)
		if err != nil || n != 2 {
			t.Fatalf("allocate: %d %v", n, err)
		}
		var waiting []int
		for i, o := range orders {
			o, _ = f.ord.Get(ctx, f.tenant, o.ID)
			orders[i] = o
			if o.Lines[0].Backordered > 0 {
				waiting = append(waiting, i)
				if !o.HasHold(order.InventoryOutOfStock) {
					t.Fatalf("order %d backordered without hold", i)
				}
			} else if o.HasHold(order.InventoryOutOfStock) {
				t.Fatalf("order %d fully reserved but still on hold", i)
			}
		}
		if len(waiting) != 3 {
			t.Fatalf("waiting: %v", waiting)
		}
		// The ones still waiting are the newest of those that were short.
		for _, i := range waiting {
			for j, o := range orders {
				if o.Lines[0].Reserved > 0 && o.PlacedAt.After(orders[i].PlacedAt) && j != i {
					// a newer order holding stock must have had it from the start
					tl, _ := f.ord.Timeline(ctx, f.tenant, o.ID)
					for _, ev := range tl {
						if ev.Kind == "stock_reserved" {
							t.Fatalf("order %d (newer) got arriving stock before order %d", j, i)
						}
					}
				}
			}
		}
		if n, _ := f.ord.AllocateBackorders(ctx); n != 0 {
			t.Fatalf("nothing arrived but %d orders got stock", n)
		}
		f.clean(t, orders...)
	})
}

func TestEditCancelAndHolds(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.product(t, "CAP", false)
		f.product(t, "TENT", false)
		f.receive(t, "MUG", 10)
		f.receive(t, "CAP", 1)
		o, _, err := f.ord.Create(ctx, f.tenant, input("e1", line("MUG", 2, "10.00"), line("CAP", 1, "5.00")), "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		mug, cap := o.Lines[0].ID, o.Lines[1].ID
		// More mugs, a tent (none in stock), cap removed, new address.
		addr := order.Address{Name: "Zoë Ñúñez", Line1: "Calle Mayor 1", City: "Madrid", PostalCode: "28013", Country: "ES"}
		o, err = f.ord.Edit(ctx, f.tenant, o.ID, order.EditInput{SetQuantities: []order.QuantityChange{{LineID: mug, Quantity: 5}}, RemoveLines: []string{cap},
			AddLines: []order.LineInput{line("TENT", 1, "199.00")}, ShippingAddress: &addr}, "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := o.Line(mug)
		c, _ := o.Line(cap)
		if m.Quantity != 5 || m.Reserved != 5 || c.Quantity != 0 || c.Reserved != 0 || c.Cancelled != 1 || len(o.Lines) != 3 || o.Lines[2].Backordered != 1 {
			t.Fatalf("after edit: %+v", o.Lines)
		}
		if o.ShippingAddress.Name != "Zoë Ñúñez" || o.Total != 5*1000+19900 {
			t.Fatalf("address or total: %+v %d", o.ShippingAddress, o.Total)
		}
		if !o.HasHold(order.InventoryOutOfStock) {
			t.Fatal("tent backordered but no hold")
		}
		if l := f.level(t, "CAP"); l.Reserved != 0 {
			t.Fatalf("removed cap still reserved: %+v", l)
		}
		f.clean(t, o)
		// Holds: add two, release one; the same reason twice is one hold.
		for _, r := range []order.HoldReason{order.IncorrectAddress, order.AwaitingPayment, order.IncorrectAddress} {
			if o, err = f.ord.AddHold(ctx, f.tenant, o.ID, r, "check", "user:u1"); err != nil {
				t.Fatal(err)
			}
		}
		if len(o.Holds) != 3 {
			t.Fatalf("holds: %+v", o.Holds)
		}
		if o, err = f.ord.ReleaseHold(ctx, f.tenant, o.ID, string(order.IncorrectAddress), "user:u1"); err != nil || len(o.Holds) != 2 || o.HasHold(order.IncorrectAddress) {
			t.Fatalf("release: %v %+v", err, o.Holds)
		}
		if _, err := f.ord.AddHold(ctx, f.tenant, o.ID, "NAPPING", "", "user:u1"); !errs.Is(errs.Invalid, err) {
			t.Fatalf("unknown reason: %v", err)
		}
		// Cancel two mugs, then the whole order.
		if o, err = f.ord.Cancel(ctx, f.tenant, o.ID, order.CancelInput{Reason: "customer", Lines: []order.QuantityChange{{LineID: mug, Quantity: 2}}}, "user:u1"); err != nil {
			t.Fatal(err)
		}
		if m, _ := o.Line(mug); m.Quantity != 3 || m.Reserved != 3 || o.Status != order.Open {
			t.Fatalf("partial cancel: %+v", m)
		}
		if o, err = f.ord.Cancel(ctx, f.tenant, o.ID, order.CancelInput{Reason: "customer"}, "user:u1"); err != nil {
			t.Fatal(err)
		}
		if o.Status != order.Cancelled || o.CancelledAt == nil || len(o.Holds) != 0 {
			t.Fatalf("cancelled: %+v", o)
		}
		if l := f.level(t, "MUG"); l.Reserved != 0 || l.OnHand != 10 {
			t.Fatalf("cancel did not release: %+v", l)
		}
		again, err := f.ord.Cancel(ctx, f.tenant, o.ID, order.CancelInput{}, "user:u1")
		if err != nil || !again.UpdatedAt.Equal(o.UpdatedAt) {
			t.Fatalf("second cancel changed something: %v", err)
		}
		if _, err := f.ord.Edit(ctx, f.tenant, o.ID, order.EditInput{Note: ptr("late")}, "user:u1"); errs.KindOf(err) != errs.Conflict {
			t.Fatalf("editing a cancelled order: %v", err)
		}
		f.clean(t, o)
	})
}

func TestSyncIgnoresStaleAndAppliesNewer(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.receive(t, "MUG", 10)
		t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
		mk := func(upd time.Duration, qty int64, pay string, cancelled bool) order.Input {
			in := input("S-1", order.LineInput{SKU: "MUG", Quantity: qty, UnitPrice: "3.00", ExternalID: "li-1"})
			in.Channel, in.ChannelID, in.Number, in.PaymentStatus, in.Cancelled = "shopify", "chn_1", "#5001", pay, cancelled
			in.UpdatedAt = at(upd)
			return in
		}
		stream := []order.Input{mk(0, 1, "pending", false), mk(2*time.Minute, 4, "paid", false), mk(time.Minute, 2, "pending", false), mk(2*time.Minute, 4, "paid", false)}
		var o order.Order
		var err error
		outcomes := []order.Outcome{}
		for _, in := range stream {
			var out order.Outcome
			o, out, err = f.ord.Sync(ctx, f.tenant, in, "shopify")
			if err != nil {
				t.Fatal(err)
			}
			outcomes = append(outcomes, out)
		}
		if fmt.Sprint(outcomes) != "[created updated unchanged unchanged]" {
			t.Fatalf("outcomes %v", outcomes)
		}
		o, _ = f.ord.Get(ctx, f.tenant, o.ID)
		if o.Lines[0].Quantity != 4 || o.Lines[0].Reserved != 4 || o.PaymentStatus != "paid" || o.HasHold(order.AwaitingPayment) {
			t.Fatalf("latest state not kept: %+v holds %+v", o.Lines[0], o.Holds)
		}
		o, out, err := f.ord.Sync(ctx, f.tenant, mk(3*time.Minute, 4, "paid", true), "shopify")
		if err != nil || out != order.OutcomeUpdated || o.Status != order.Cancelled {
			t.Fatalf("channel cancel: %v %v %s", err, out, o.Status)
		}
		if l := f.level(t, "MUG"); l.Reserved != 0 {
			t.Fatalf("channel cancel kept stock: %+v", l)
		}
		f.clean(t, o)
	})
}

func TestListFilters(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.product(t, "CAP", false)
		f.receive(t, "MUG", 100)
		for i := 0; i < 7; i++ {
			in := input(fmt.Sprint("L", i), line("MUG", 1, "10.00"))
			if i%2 == 0 {
				in.Lines = append(in.Lines, line("CAP", 1, "5.00"))
				in.Tags = []string{"VIP"}
				in.ShippingAddress.Country = "DE"
				in.Customer = order.Customer{Name: "Jürgen Groß", Email: "jurgen@example.de"}
				in.ShippingAddress.Name = "Jürgen Groß"
			}
			p := time.Now().UTC().Add(-time.Duration(i) * time.Hour)
			in.PlacedAt = &p
			if _, _, err := f.ord.Create(ctx, f.tenant, in, "t"); err != nil {
				t.Fatal(err)
			}
		}
		yes := true
		count := func(fl order.Filter) int {
			t.Helper()
			n, cursor := 0, ""
			for {
				fl.Limit = 2
				os, next, err := f.ord.List(ctx, f.tenant, fl, cursor)
				if err != nil {
					t.Fatal(err)
				}
				n += len(os)
				if next == "" {
					return n
				}
				cursor = next
			}
		}
		checks := []struct {
			name string
			f    order.Filter
			want int
		}{
			{"all", order.Filter{}, 7},
			{"sku", order.Filter{SKU: "CAP"}, 4},
			{"tag any case", order.Filter{Tag: "vip"}, 4},
			{"country", order.Filter{Country: "de"}, 4},
			{"on hold (caps backordered)", order.Filter{OnHold: &yes}, 4},
			{"hold reason", order.Filter{HoldReason: order.InventoryOutOfStock}, 4},
			{"email", order.Filter{Email: "JURGEN@example.de"}, 4},
			{"text prefix", order.Filter{Query: "jür gro"}, 4},
			{"text ada", order.Filter{Query: "ada"}, 3},
			{"number", order.Filter{Number: "1003"}, 1},
			{"since", order.Filter{Since: ptr(time.Now().UTC().Add(-150 * time.Minute))}, 3},
			{"by total", order.Filter{Sort: "-total_price"}, 7},
			{"oldest first", order.Filter{Sort: "placed_at", Status: order.Open}, 7},
		}
		for _, c := range checks {
			if got := count(c.f); got != c.want {
				t.Errorf("%s: %d orders, want %d", c.name, got, c.want)
			}
		}
		if _, _, err := f.ord.List(ctx, f.tenant, order.Filter{Sort: "price"}, ""); !errs.Is(errs.Invalid, err) {
			t.Fatalf("bad sort: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func asErr(err error, target **errs.Error) bool { return stderrors.As(err, target) }
