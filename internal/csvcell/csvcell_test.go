package csvcell

import "testing"

func TestRoundTrip(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"plain":        "plain",
		"=SUM(A1)":     "'=SUM(A1)",
		"-5":           "'-5",
		"+1":           "'+1",
		"@cmd":         "'@cmd",
		"\t=x":         "'\t=x",
		"'=x":          "''=x",
		"'":            "'",
		"it's":         "it's",
		"'quoted text": "'quoted text",
	} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
		if got := Restore(Neutralize(in)); got != in {
			t.Errorf("Restore(Neutralize(%q)) = %q", in, got)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "=1", "'=1", "''-2", "a", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Neutralize(s)
		if formulaStart(n) && n[0] != '\'' {
			t.Fatalf("Neutralize(%q) = %q still starts a formula", s, n)
		}
		if got := Restore(n); got != s {
			t.Fatalf("Restore(Neutralize(%q)) = %q", s, got)
		}
	})
}
