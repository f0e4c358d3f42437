// Package demo fills a tenant with a realistic small shop so that a new user
// sees a living dashboard: an outdoor-gear brand's catalogue, with barcodes,
// dimensions, prices, customs data and a few kits. Running it again changes
// nothing that exists.
package demo

import (
	"context"
	"fmt"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/gtin"
	"github.com/waybill/waybill/internal/inventory"
)

// Tenant, Email and Password are the demo shop's sign-in.
const (
	TenantName = "Demo Outdoor Co."
	Email      = "demo@waybill.example"
	Password   = "waybill-demo"
)

// Result says what Seed made.
type Result struct {
	Tenant          auth.Tenant
	ProductsCreated int
	APIKey          string
}

// Seed creates (once) the demo tenant, its owner and its catalogue, and
// issues a fresh API key named "demo" (revoking the previous one, since a
// key's secret cannot be shown twice).
func Seed(ctx context.Context, as *auth.Service, cs *catalog.Service, inv *inventory.Service) (Result, error) {
	var r Result
	t, err := as.TenantByName(ctx, TenantName)
	if errs.Is(errs.NotExist, err) {
		t, err = as.CreateTenant(ctx, TenantName, "America/Denver", "USD")
	}
	if err != nil {
		return r, err
	}
	r.Tenant = t
	if _, err := as.CreateUser(ctx, t.ID, auth.NewUser{Email: Email, Name: "Demo Owner", Role: auth.Owner, Password: Password}); err != nil && errs.CodeOf(err) != "email_taken" {
		return r, err
	}
	for i, p := range products() {
		if _, err := cs.BySKU(ctx, t.ID, p.SKU); err == nil {
			continue
		}
		p.Barcodes = []string{ean13(i)}
		if _, err := cs.Create(ctx, t.ID, t.Currency, p); err != nil {
			return r, fmt.Errorf("demo product %s: %w", p.SKU, err)
		}
		r.ProductsCreated++
	}
	for _, k := range kits() {
		if _, err := cs.BySKU(ctx, t.ID, k.SKU); err == nil {
			continue
		}
		if _, err := cs.Create(ctx, t.ID, t.Currency, k); err != nil {
			return r, fmt.Errorf("demo kit %s: %w", k.SKU, err)
		}
		r.ProductsCreated++
	}
	if err := seedStock(ctx, t.ID, inv); err != nil {
		return r, err
	}
	keys, err := as.ListAPIKeys(ctx, t.ID)
	if err != nil {
		return r, err
	}
	for _, k := range keys {
		if k.Name == "demo" && k.RevokedAt == nil {
			if _, err := as.RevokeAPIKey(ctx, t.ID, k.ID); err != nil {
				return r, err
			}
		}
	}
	_, secret, err := as.CreateAPIKey(ctx, t.ID, "demo", nil)
	if err != nil {
		return r, err
	}
	r.APIKey = secret
	return r, nil
}

// ean13 makes a valid EAN-13 in a GS1 prefix reserved for in-store use (20–29),
// so demo codes never collide with real products.
func ean13(i int) string {
	body := fmt.Sprintf("200%09d", 1000+i)
	d, _ := gtin.CheckDigit(body)
	return fmt.Sprintf("%s%d", body, d)
}

type item struct {
	sku, name, vendor, typ, price, cost, hs, origin string
	g, l, w, h                                      int64
	tags                                            []string
}

func products() []catalog.Draft {
	items := []item{
		{"TENT-2P-GRN", "Ridgeline 2-person tent, green", "Ridgeline", "Tents", "289.00", "118.00", "630622", "VN", 2350, 540, 180, 180, []string{"camping", "bulky"}},
		{"TENT-4P-GRN", "Ridgeline 4-person tent, green", "Ridgeline", "Tents", "429.00", "176.00", "630622", "VN", 4900, 650, 230, 230, []string{"camping", "bulky"}},
		{"BAG-DOWN-R", "Summit down sleeping bag, regular", "Summit", "Sleeping bags", "249.00", "97.50", "940490", "CN", 1150, 420, 220, 220, []string{"camping"}},
		{"BAG-DOWN-L", "Summit down sleeping bag, long", "Summit", "Sleeping bags", "269.00", "104.00", "940490", "CN", 1250, 440, 230, 230, []string{"camping"}},
		{"PAD-AIR-R", "Cloudlite air pad, regular", "Cloudlite", "Sleeping pads", "129.00", "44.00", "940429", "TW", 480, 230, 110, 110, []string{"camping"}},
		{"STOVE-TI", "Titanium canister stove", "Emberline", "Cooking", "59.00", "18.20", "732111", "CN", 88, 90, 60, 60, []string{"cooking", "small"}},
		{"POT-TI-900", "Titanium pot 900 ml", "Emberline", "Cooking", "44.00", "13.10", "732393", "CN", 120, 120, 120, 110, []string{"cooking"}},
		{"MUG-ENM-WHT", "Enamel camp mug, white", "Emberline", "Cooking", "16.00", "4.10", "732394", "PL", 210, 110, 90, 90, []string{"cooking", "gift", "fragile"}},
		{"LAMP-HEAD-400", "Headlamp 400 lumen", "Brightpath", "Lighting", "39.95", "12.80", "851310", "CN", 86, 70, 50, 45, []string{"small", "battery"}},
		{"LAMP-LANT-USB", "USB lantern", "Brightpath", "Lighting", "34.50", "11.60", "851310", "CN", 240, 130, 90, 90, []string{"battery"}},
		{"BOTTLE-1L-BLU", "Insulated bottle 1 l, blue", "Trailwater", "Hydration", "32.00", "9.40", "961700", "CN", 430, 280, 85, 85, []string{"hydration", "gift"}},
		{"BOTTLE-1L-BLK", "Insulated bottle 1 l, black", "Trailwater", "Hydration", "32.00", "9.40", "961700", "CN", 430, 280, 85, 85, []string{"hydration", "gift"}},
		{"FILTER-SQZ", "Squeeze water filter", "Trailwater", "Hydration", "36.00", "11.00", "842121", "US", 85, 140, 50, 50, []string{"hydration", "small"}},
		{"PACK-45-GRY", "Ascent 45 l backpack, grey", "Ascent", "Packs", "189.00", "71.00", "420292", "VN", 1450, 650, 320, 250, []string{"packs"}},
		{"PACK-65-GRY", "Ascent 65 l backpack, grey", "Ascent", "Packs", "239.00", "92.00", "420292", "VN", 1900, 750, 350, 280, []string{"packs", "bulky"}},
		{"PACK-DAY-RED", "Daypack 22 l, red", "Ascent", "Packs", "79.00", "26.50", "420292", "VN", 620, 480, 280, 180, []string{"packs"}},
		{"JKT-RAIN-M-BLU", "Stormshell rain jacket, men's M, blue", "Stormshell", "Apparel", "149.00", "52.00", "620193", "BD", 390, 300, 250, 60, []string{"apparel"}},
		{"JKT-RAIN-L-BLU", "Stormshell rain jacket, men's L, blue", "Stormshell", "Apparel", "149.00", "52.00", "620193", "BD", 410, 300, 250, 60, []string{"apparel"}},
		{"JKT-RAIN-W-S-RED", "Stormshell rain jacket, women's S, red", "Stormshell", "Apparel", "149.00", "52.00", "620293", "BD", 350, 300, 250, 60, []string{"apparel"}},
		{"SOCK-MER-M", "Merino hiking socks, M", "Woolpath", "Apparel", "22.00", "5.90", "611592", "PT", 80, 200, 100, 30, []string{"apparel", "small"}},
		{"SOCK-MER-L", "Merino hiking socks, L", "Woolpath", "Apparel", "22.00", "5.90", "611592", "PT", 85, 200, 100, 30, []string{"apparel", "small"}},
		{"TEE-MER-M-BLK", "Merino tee, M, black", "Woolpath", "Apparel", "68.00", "21.00", "610910", "PT", 160, 280, 220, 30, []string{"apparel"}},
		{"POLE-CARB-PR", "Carbon trekking poles, pair", "Ridgeline", "Accessories", "119.00", "41.00", "950699", "TW", 460, 680, 90, 90, []string{"accessories", "long"}},
		{"KNIFE-FOLD", "Folding knife", "Emberline", "Accessories", "45.00", "14.50", "821193", "JP", 95, 120, 40, 20, []string{"accessories", "age-restricted"}},
		{"FIRST-AID-S", "First aid kit, small", "Brightpath", "Safety", "29.00", "8.70", "300650", "US", 260, 180, 120, 60, []string{"safety"}},
		{"MAP-CASE", "Waterproof map case", "Trailwater", "Accessories", "18.00", "4.20", "392690", "CN", 70, 300, 250, 5, []string{"accessories", "small"}},
		{"CHAIR-FOLD", "Compact folding chair", "Ridgeline", "Furniture", "99.00", "36.00", "940179", "CN", 980, 360, 120, 120, []string{"camping", "bulky"}},
		{"HAMMOCK-DBL", "Double hammock", "Ridgeline", "Furniture", "69.00", "22.00", "630629", "VN", 580, 200, 120, 120, []string{"camping"}},
		{"GAS-230", "Isobutane gas canister 230 g", "Emberline", "Cooking", "7.50", "3.10", "271119", "KR", 370, 110, 110, 90, []string{"cooking", "hazmat"}},
		{"CARD-GIFT-50", "Gift card $50 (printed)", "Demo Outdoor Co.", "Gift cards", "50.00", "0.40", "490900", "US", 20, 160, 110, 2, []string{"gift"}},
	}
	var out []catalog.Draft
	for _, it := range items {
		out = append(out, catalog.Draft{
			SKU: it.sku, Name: it.name, Vendor: it.vendor, ProductType: it.typ, Price: it.price, Cost: it.cost,
			HSCode: it.hs, CountryOfOrigin: it.origin, WeightG: it.g, LengthMM: it.l, WidthMM: it.w, HeightMM: it.h,
			Tags: it.tags, Description: it.name + " from " + it.vendor + ".",
		})
	}
	return out
}

func kits() []catalog.Draft {
	return []catalog.Draft{
		{SKU: "KIT-COOK", Name: "Camp cook set (stove, pot, 2 mugs, gas)", ProductType: "Bundles", Price: "119.00", Tags: []string{"bundle", "cooking", "hazmat"},
			Components: []catalog.DraftComponent{{SKU: "STOVE-TI", Quantity: 1}, {SKU: "POT-TI-900", Quantity: 1}, {SKU: "MUG-ENM-WHT", Quantity: 2}, {SKU: "GAS-230", Quantity: 1}}},
		{SKU: "KIT-SLEEP-R", Name: "Sleep system, regular (bag + pad)", ProductType: "Bundles", Price: "349.00", Tags: []string{"bundle", "camping"},
			Components: []catalog.DraftComponent{{SKU: "BAG-DOWN-R", Quantity: 1}, {SKU: "PAD-AIR-R", Quantity: 1}}},
		{SKU: "KIT-SOCK-3M", Name: "Merino socks 3-pack, M", ProductType: "Bundles", Price: "59.00", Tags: []string{"bundle", "apparel", "gift"},
			Components: []catalog.DraftComponent{{SKU: "SOCK-MER-M", Quantity: 3}}},
	}
}

// seedStock creates (once) a main warehouse with bins, a 3PL and a dropship
// supplier, and stocks them. It runs only when the tenant has no facility.
func seedStock(ctx context.Context, tenantID string, inv *inventory.Service) error {
	fs, err := inv.ListFacilities(ctx, tenantID)
	if err != nil || len(fs) > 0 {
		return err
	}
	one, two, three := 1, 2, 3
	main, err := inv.CreateFacility(ctx, tenantID, inventory.FacilityInput{Code: "DEN", Name: "Denver warehouse", Kind: inventory.Own, Priority: &one,
		Address:  inventory.Address{Company: TenantName, Line1: "4800 Dahlia St", City: "Denver", Region: "CO", PostalCode: "80216", Country: "US"},
		Timezone: "America/Denver", Cutoff: "15:00"})
	if err != nil {
		return err
	}
	if _, err := inv.CreateFacility(ctx, tenantID, inventory.FacilityInput{Code: "EU-3PL", Name: "Rotterdam fulfilment (3PL)", Kind: inventory.ThreePL, Priority: &two,
		Address:  inventory.Address{Company: "Maas Fulfilment B.V.", Line1: "Waalhaven Z.z. 19", City: "Rotterdam", PostalCode: "3089 JH", Country: "NL"},
		Timezone: "Europe/Amsterdam", Cutoff: "14:00"}); err != nil {
		return err
	}
	if _, err := inv.CreateFacility(ctx, tenantID, inventory.FacilityInput{Code: "SUMMIT-DS", Name: "Summit Gear (dropship)", Kind: inventory.Dropship, Priority: &three,
		Address:  inventory.Address{Company: "Summit Gear Ltd", Line1: "88 Harbour Rd", City: "Portland", Region: "OR", PostalCode: "97201", Country: "US"},
		Timezone: "America/Los_Angeles"}); err != nil {
		return err
	}
	// Bins: aisles A–C, bays 01–04, levels 1–3, position A.
	var bins []string
	for _, aisle := range []string{"A", "B", "C"} {
		for bay := 1; bay <= 4; bay++ {
			for level := 1; level <= 3; level++ {
				code := fmt.Sprintf("%s-%02d-%d-A", aisle, bay, level)
				if _, err := inv.CreateBin(ctx, tenantID, main.ID, inventory.BinInput{Code: code, Zone: "pick", Aisle: aisle, Bay: fmt.Sprintf("%02d", bay), Level: fmt.Sprint(level), Position: "A"}); err != nil {
					return err
				}
				bins = append(bins, code)
			}
		}
	}
	for i, p := range products() {
		qty := int64(12 + (i*37)%140)
		if p.SKU == "CARD-GIFT-50" {
			qty = 500
		}
		if _, _, err := inv.Adjust(ctx, tenantID, inventory.Adjustment{SKU: p.SKU, Facility: "DEN", Bin: bins[i%len(bins)], Quantity: qty, Kind: inventory.Receive, Reason: "opening stock", Actor: "demo"}); err != nil {
			return err
		}
		if i%3 == 0 {
			if _, _, err := inv.Adjust(ctx, tenantID, inventory.Adjustment{SKU: p.SKU, Facility: "EU-3PL", Quantity: qty / 2, Kind: inventory.Receive, Reason: "opening stock", Actor: "demo"}); err != nil {
				return err
			}
		}
		if p.ProductType == "Sleeping bags" || p.ProductType == "Tents" {
			if _, _, err := inv.Adjust(ctx, tenantID, inventory.Adjustment{SKU: p.SKU, Facility: "SUMMIT-DS", Quantity: 1000, Kind: inventory.Receive, Reason: "supplier feed", Actor: "demo"}); err != nil {
				return err
			}
		}
		lead := 21 + (i%4)*7
		if _, err := inv.SetReorderSettings(ctx, tenantID, p.SKU, inventory.ReorderSettings{LeadTimeDays: lead, SafetyDays: 7}); err != nil {
			return err
		}
	}
	// A few open checkout holds and sold stock so days of cover means something.
	for i, p := range products()[:12] {
		if _, _, err := inv.MakeReservation(ctx, tenantID, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: p.SKU, Quantity: int64(2 + i%5)}}, Facility: "DEN", RefType: "demo", Actor: "demo"}); err != nil {
			return err
		}
	}
	return nil
}
