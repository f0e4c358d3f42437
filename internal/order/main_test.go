package order_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain keeps the property test to 20 random sequences a run (each
// touches the database a few hundred times on both engines) unless
// -rapid.checks asks for more.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if f := flag.Lookup("rapid.checks"); f != nil && !set {
		f.Value.Set("20")
	}
	os.Exit(m.Run())
}
