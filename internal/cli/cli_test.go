package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, "test", strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAdminCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	code, out, errOut := run(t, "", "tenant", "create", "Acme Outdoor", "--db", db, "--currency", "EUR")
	if code != 0 || !strings.HasPrefix(out, "ten_") {
		t.Fatalf("tenant create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "", "tenant", "create", "Acme Outdoor", "--db", db); code == 0 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("duplicate tenant: %d %q", code, errOut)
	}
	code, out, errOut = run(t, "", "apikey", "create", "--tenant", "Acme Outdoor", "--db", db, "--scope", "catalog:read,orders:write")
	key := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(key, "wb_") || strings.Count(out, "\n") != 1 {
		t.Fatalf("apikey create must print only the key: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "", "apikey", "create", "--tenant", "Acme Outdoor", "--db", db, "--scope", "catalog:delete"); code == 0 || !strings.Contains(errOut, "unknown scope") {
		t.Fatalf("bad scope: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "apikey", "create", "--tenant", "Nobody", "--db", db); code == 0 || !strings.Contains(errOut, "no tenant named Nobody") {
		t.Fatalf("unknown tenant: %d %q", code, errOut)
	}
	code, out, errOut = run(t, "s3cret-password\n", "user", "create", "--tenant", "Acme Outdoor", "--email", "Ann@Example.com", "--db", db)
	if code != 0 || !strings.HasPrefix(out, "usr_") {
		t.Fatalf("user create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "", "user", "create", "--tenant", "Acme Outdoor", "--email", "bob@example.com", "--password", "short", "--db", db); code == 0 || !strings.Contains(errOut, "at least 10") {
		t.Fatalf("short password: %d %q", code, errOut)
	}
	code, out, _ = run(t, "", "apikey", "list", "--tenant", "Acme Outdoor", "--db", db)
	if code != 0 || !strings.Contains(out, key[:10]) || strings.Contains(out, key) {
		t.Fatalf("apikey list: %d %q", code, out)
	}
	if code, out, errOut := run(t, "", "apikey", "revoke", "--tenant", "Acme Outdoor", key, "--db", db); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %q %q", code, out, errOut)
	}
	if code, _, _ := run(t, "", "apikey", "revoke", "--tenant", "Acme Outdoor", key, "--db", db); code == 0 {
		t.Fatal("revoking a revoked key by its secret should say it is not active")
	}
	if code, out, _ := run(t, "", "version"); code != 0 || out != "waybill test\n" {
		t.Fatalf("version: %q", out)
	}
	if code, out, _ := run(t, "", "--help"); code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "apikey") {
		t.Fatalf("help: %d %q", code, out)
	}
	if code, _, _ := run(t, "", "no-such-command"); code == 0 {
		t.Fatal("unknown command must fail")
	}
}

func TestDemoIsIdempotent(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	code, out1, errOut := run(t, "", "demo", "--no-serve", "--orders", "40", "--db", db)
	if code != 0 || !strings.Contains(out1, "33 products and 40 orders created this run") || !strings.Contains(out1, "wb_") {
		t.Fatalf("demo: %d %q %q", code, out1, errOut)
	}
	code, out2, _ := run(t, "", "demo", "--no-serve", "--orders", "40", "--db", db)
	if code != 0 || !strings.Contains(out2, "(0 products and 0 orders created this run)") {
		t.Fatalf("second demo run: %d %q", code, out2)
	}
}
