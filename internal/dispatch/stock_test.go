package dispatch

import (
	"encoding/json"
	"testing"
)

func TestParseStock(t *testing.T) {
	ls, err := parseStock([]byte(`{"B": 2, "A": 7, "": 4}`))
	if err != nil || len(ls) != 2 || ls[0].SKU != "A" || ls[0].Available != 7 || ls[1].SKU != "B" {
		t.Fatalf("%+v %v", ls, err)
	}
	for _, bad := range []string{`[]`, `{"A": "7"}`, `{"A": 1.5}`, `nope`} {
		if _, err := parseStock([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzParseStock: a 3PL's answer never panics the parser, and what it
// accepts is a JSON object of whole numbers, each SKU once.
func FuzzParseStock(f *testing.F) {
	f.Add([]byte(`{"SKU-1": 12, "SKU-2": 0}`))
	f.Add([]byte(`{"a": -1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ls, err := parseStock(b)
		if err != nil {
			return
		}
		var m map[string]int64
		if json.Unmarshal(b, &m) != nil {
			t.Fatalf("accepted %q, which is not an object of whole numbers", b)
		}
		seen := map[string]bool{}
		for _, l := range ls {
			if seen[l.SKU] || l.SKU == "" {
				t.Fatalf("SKU %q twice or empty", l.SKU)
			}
			seen[l.SKU] = true
		}
	})
}
