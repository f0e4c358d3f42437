package mail

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func ptr[T any](v T) *T { return &v }

// renderCase is one notification as the rest of Waybill would render it.
type renderCase struct {
	name    string // golden files testdata/NAME.txt and testdata/NAME.html
	kind    Kind
	data    any
	subject string
	// want appear in both the text and the HTML.
	want []string
}

func renderCases() []renderCase {
	return []renderCase{
		{
			name: "new_order_one",
			kind: NewOrder,
			data: NewOrderData{
				TenantName:   "Acme Outdoor",
				DashboardURL: "https://waybill.example.com/",
				Orders: []OrderSummary{
					{Number: "1001", Customer: "Jane Doe", Total: "USD 59.00", Lines: 2, URL: "https://waybill.example.com/orders/ord_01"},
				},
			},
			subject: "New order #1001",
			want:    []string{"Acme Outdoor", "#1001", "Jane Doe", "USD 59.00", "https://waybill.example.com/orders/ord_01"},
		},
		{
			name: "new_order_batch",
			kind: NewOrder,
			data: &NewOrderData{
				TenantName:   "Acme Outdoor",
				DashboardURL: "https://waybill.example.com/",
				Orders: []OrderSummary{
					{Number: "#1001", Customer: "Jane Doe", Total: "USD 59.00", Lines: 2, URL: "https://waybill.example.com/orders/ord_01"},
					{Number: "#1002", Customer: "Zoë Ångström", Total: "EUR 120.50", Lines: 1, URL: "https://waybill.example.com/orders/ord_02"},
					{Number: "#1003", Customer: "Kenji Sato", Total: "JPY 4800", Lines: 3, URL: "https://waybill.example.com/orders/ord_03"},
					{Number: "#1004", Customer: "", Total: "USD 12.00", Lines: 1, URL: "https://waybill.example.com/orders/ord_04"},
					{Number: "#1005", Customer: "Tom & Jerry's <Shop>", Total: "USD 7.25", Lines: 1},
				},
			},
			subject: "5 new orders",
			want:    []string{"Acme Outdoor", "5 new orders", "#1002", "Zoë Ångström", "EUR 120.50", "#1005", "https://waybill.example.com/orders/ord_04"},
		},
		{
			name: "low_stock",
			kind: LowStock,
			data: LowStockData{
				TenantName:   "Acme Outdoor",
				DashboardURL: "https://waybill.example.com/",
				Items: []LowStockItem{
					{SKU: "MUG-01", Name: "Trail Mug", Facility: "Denver", Available: 20, DaysOfCover: ptr(4.0), LeadTimeDays: 30,
						Reason: "4.0 days of cover is less than the 30-day lead time plus 14 safety days"},
					{SKU: "XSS-1", Name: "<script>alert(1)</script>", Facility: "Rotterdam 3PL", Available: 0, LeadTimeDays: 1,
						Reason: "available is at or below the reorder point of 5"},
				},
			},
			subject: "Low stock: 2 items",
			want:    []string{"Acme Outdoor", "MUG-01", "Trail Mug", "Denver", "4.0 days", "30 days", "no recent sales", "Rotterdam 3PL", "1 day", "reorder point of 5"},
		},
		{
			name: "order_shipped",
			kind: OrderShipped,
			data: OrderShippedData{
				TenantName:     "Café Müller",
				OrderNumber:    "1001",
				CustomerName:   "Zoë Ångström",
				Carrier:        "UPS",
				Service:        "Ground",
				TrackingNumber: "1Z999AA10123456784",
				TrackingURL:    "https://www.ups.com/track?tracknum=1Z999AA10123456784",
				Lines:          []ShippedLine{{Name: "Trail Mug", Quantity: 2}, {Name: "Camp Stove", Quantity: 1}},
			},
			subject: "Your Café Müller order #1001 has shipped",
			want:    []string{"Café Müller", "Zoë Ångström", "#1001", "UPS Ground", "1Z999AA10123456784", "Trail Mug", "Camp Stove"},
		},
		{
			name: "webhook_disabled",
			kind: WebhookDisabled,
			data: WebhookDisabledData{
				TenantName:   "Acme Outdoor",
				DashboardURL: "https://waybill.example.com/",
				EndpointURL:  "https://hooks.example.org/waybill/events",
				FailingSince: time.Date(2026, 3, 2, 14, 5, 0, 0, time.FixedZone("CET", 3600)),
				LastError:    "503 Service Unavailable",
				SettingsURL:  "https://waybill.example.com/settings/webhooks/whe_01",
			},
			subject: "Webhook endpoint disabled: hooks.example.org",
			want:    []string{"Acme Outdoor", "https://hooks.example.org/waybill/events", "2 March 2026 at 13:05 UTC", "503 Service Unavailable", "https://waybill.example.com/settings/webhooks/whe_01"},
		},
		{
			name: "fulfillment_rejected",
			kind: FulfillmentRejected,
			data: FulfillmentRejectedData{
				TenantName:   "Acme Outdoor",
				DashboardURL: "https://waybill.example.com/",
				OrderNumber:  "#1042",
				Facility:     "EU1",
				Reason:       "INVENTORY_OUT_OF_STOCK",
				Message:      "two <damaged> on arrival",
				Link:         "https://waybill.example.com/fulfillment/ffo_01",
			},
			subject: "EU1 refused order #1042",
			want:    []string{"Acme Outdoor", "#1042", "INVENTORY_OUT_OF_STOCK", "on hold", "https://waybill.example.com/fulfillment/ffo_01"},
		},
	}
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			subject, text, html, err := Render(tc.kind, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if subject != tc.subject {
				t.Errorf("subject = %q, want %q", subject, tc.subject)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q", w)
				}
				if !strings.Contains(html, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			golden(t, tc.name+".txt", text)
			golden(t, tc.name+".html", html)
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", path, got)
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	_, text, html, err := Render(LowStock, LowStockData{
		TenantName:   `Acme "Outdoor" <b>`,
		DashboardURL: "javascript:alert(1)",
		Items:        []LowStockItem{{SKU: "X-1", Name: "<script>alert(1)</script>", Reason: `<img src=x onerror="alert(2)">`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img", "<b>", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;", "#ZgotmplZ"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// Plain text is not HTML: it shows the name as it is.
	if !strings.Contains(text, "<script>alert(1)</script>") {
		t.Errorf("text lacks the literal name:\n%s", text)
	}
}

func TestRenderSubjects(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		data any
		want string
	}{
		{NewOrder, NewOrderData{Orders: []OrderSummary{{Number: "#77"}}}, "New order #77"},
		{NewOrder, NewOrderData{Orders: make([]OrderSummary, 2)}, "2 new orders"},
		{LowStock, LowStockData{Items: []LowStockItem{{SKU: "MUG-01", Name: "Trail\nMug"}}}, "Low stock: Trail Mug (MUG-01)"},
		{OrderShipped, &OrderShippedData{TenantName: "Acme", OrderNumber: "5"}, "Your Acme order #5 has shipped"},
		{WebhookDisabled, WebhookDisabledData{EndpointURL: "not a url"}, "Webhook endpoint disabled: not a url"},
	} {
		subject, _, _, err := Render(tc.kind, tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.kind, err)
			continue
		}
		if subject != tc.want {
			t.Errorf("%s: subject = %q, want %q", tc.kind, subject, tc.want)
		}
	}
}

func TestRenderRejectsWrongData(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		data any
		want string
	}{
		{NewOrder, LowStockData{}, "needs mail.NewOrderData data, not mail.LowStockData"},
		{NewOrder, NewOrderData{}, "at least one order"},
		{LowStock, &LowStockData{}, "at least one item"},
		{OrderShipped, (*OrderShippedData)(nil), "needs mail.OrderShippedData"},
		{WebhookDisabled, nil, "needs mail.WebhookDisabledData"},
		{Kind("password_reset"), nil, `unknown kind of notification "password_reset"`},
	} {
		_, _, _, err := Render(tc.kind, tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errs.Is(errs.Invalid, err) {
			t.Errorf("Render(%s, %T) = %v, want an Invalid error containing %q", tc.kind, tc.data, err, tc.want)
		}
	}
}
