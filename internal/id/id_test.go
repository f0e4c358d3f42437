package id

import (
	"strings"
	"testing"
)

func TestNewSortsByTime(t *testing.T) {
	prev := New("prod")
	for i := 0; i < 1000; i++ {
		next := New("prod")
		if !strings.HasPrefix(next, "prod_") || len(next) != len("prod_")+26 {
			t.Fatalf("bad id %q", next)
		}
		if next <= prev {
			t.Fatalf("ids not increasing: %q then %q", prev, next)
		}
		prev = next
	}
}

func TestSecret(t *testing.T) {
	a, b := Secret(32), Secret(32)
	if len(a) != 32 || a == b {
		t.Fatalf("bad secrets %q %q", a, b)
	}
}
