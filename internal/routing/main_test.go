package routing_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the property test on 1000 random cases a run (evaluation is
// pure and fast, and some rule interactions are rare in small draws) unless
// -rapid.checks asks for another number.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if f := flag.Lookup("rapid.checks"); f != nil && !set {
		f.Value.Set("1000")
	}
	os.Exit(m.Run())
}
