package web

import (
	"testing"
	"time"

	"github.com/waybill/waybill/internal/id"
)

// eventIDFloor must sort like the ids internal/id makes: below every id of
// its millisecond and later, above every earlier one.
func TestEventIDFloor(t *testing.T) {
	before := eventIDFloor(time.Now().Add(-time.Millisecond))
	made := id.New("evt")
	after := eventIDFloor(time.Now().Add(2 * time.Millisecond))
	if len(before) != len(made) || !(before < made && made < after) {
		t.Fatalf("floor %s, id %s, floor %s: out of order", before, made, after)
	}
	if got := eventIDFloor(time.UnixMilli(0)); got != "evt_00000000000000000000000000" {
		t.Errorf("epoch floor = %s", got)
	}
}
