package auth

import "testing"

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyPassword("correct horse battery", h); !ok || err != nil {
		t.Fatalf("verify own hash: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword("wrong horse battery", h); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := VerifyPassword("x", dummyHash); err != nil {
		t.Fatalf("dummy hash must parse: %v", err)
	}
}

func TestScopes(t *testing.T) {
	p := Principal{TenantID: "t", KeyID: "k", Scopes: []Scope{"catalog:write", "orders:read"}}
	cases := map[Scope]bool{"catalog:read": true, "catalog:write": true, "orders:read": true, "orders:write": false, "settings:read": false}
	for s, want := range cases {
		if got := p.Can(s); got != want {
			t.Errorf("Can(%s) = %v, want %v", s, got, want)
		}
	}
	v := Principal{TenantID: "t", UserID: "u", Role: Viewer}
	if v.Can("catalog:write") || !v.Can("catalog:read") {
		t.Error("viewer must read only")
	}
	w := Principal{TenantID: "t", UserID: "u", Role: Warehouse}
	if w.Can("settings:write") || !w.Can("inventory:write") {
		t.Error("warehouse role scopes wrong")
	}
	if (Principal{}).Can("catalog:read") {
		t.Error("empty principal must not be allowed anything")
	}
	if _, err := ParseScope("catalog:delete"); err == nil {
		t.Error("bad scope accepted")
	}
}
