package web

import (
	"net/http/httptest"
	"testing"

	"github.com/waybill/waybill/internal/catalog"
)

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "/products",
		"/products?q=a":           "/products?q=a",
		"/settings/users":         "/settings/users",
		"//evil.example":          "/products",
		"/\\evil.example":         "/products",
		"https://evil.example/":   "/products",
		"evil.example":            "/products",
		"javascript:alert(1)":     "/products",
		"/login":                  "/products",
		"/a\r\nSet-Cookie: x=1":   "/products",
		"/%2F%2Fevil.example":     "/%2F%2Fevil.example", // a path on this site, harmless
		"/products#frag":          "/products#frag",
		"/\tevil":                 "/products",
		"///evil.example":         "/products",
		"/products?next=//evil.x": "/products?next=//evil.x",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseComponent(t *testing.T) {
	for _, tc := range []struct {
		line string
		want catalog.DraftComponent
		ok   bool
	}{
		{"STOVE-TI x 2", catalog.DraftComponent{SKU: "STOVE-TI", Quantity: 2}, true},
		{"STOVE-TI X 2", catalog.DraftComponent{SKU: "STOVE-TI", Quantity: 2}, true},
		{"STOVE-TI × 3", catalog.DraftComponent{SKU: "STOVE-TI", Quantity: 3}, true},
		{"STOVE-TI * 4", catalog.DraftComponent{SKU: "STOVE-TI", Quantity: 4}, true},
		{"STOVE-TI x5", catalog.DraftComponent{SKU: "STOVE-TI", Quantity: 5}, true},
		{"STOVE-TI 6", catalog.DraftComponent{SKU: "STOVE-TI", Quantity: 6}, true},
		{"BOX-XL", catalog.DraftComponent{SKU: "BOX-XL", Quantity: 1}, true},
		{"BOX-XL x two", catalog.DraftComponent{SKU: "BOX-XL"}, false},
		{"BOX-XL and 2", catalog.DraftComponent{SKU: "BOX-XL"}, false},
		{"A x 2 more", catalog.DraftComponent{SKU: "A"}, false},
	} {
		got, ok := parseComponent(tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseComponent(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" a, b\r\nc,,\n  \n d ")
	if len(got) != 4 || got[0] != "a" || got[3] != "d" {
		t.Errorf("splitList = %q", got)
	}
}

func TestFormat(t *testing.T) {
	price := int64(1999)
	yen := int64(1500)
	for got, want := range map[string]string{
		formatMoney(&price, "USD"): "USD 19.99",
		formatMoney(&yen, "JPY"):   "JPY 1500",
		formatMoney(nil, "USD"):    "—",
		formatGrams(0):             "—",
		formatGrams(85):            "85 g",
		formatGrams(2350):          "2.35 kg",
		formatGrams(1000):          "1 kg",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                    false,
		"gzip":                true,
		"deflate, gzip;q=0.8": true,
		"gzip;q=0":            false,
		"br, GZIP":            true,
		"identity":            false,
		"gzip;q=0.000, br":    false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", h)
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}
