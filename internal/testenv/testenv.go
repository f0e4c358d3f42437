// Package testenv gives tests a real database: always a temporary SQLite
// file, and PostgreSQL too when WAYBILL_TEST_POSTGRES holds a URL (each test
// in a schema of its own). With WAYBILL_TEST_REQUIRE_ALL=1 a missing engine
// or browser fails the test instead of skipping it.
package testenv

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/store"
)

// RequireAll reports whether missing test dependencies are failures.
func RequireAll() bool { return os.Getenv("WAYBILL_TEST_REQUIRE_ALL") == "1" }

// Engine is one database engine a test runs on.
type Engine struct {
	Name string // "sqlite" or "postgres"
	// dsn makes a fresh, migrated database for one test.
	dsn func(t testing.TB) string
}

// Engines lists the engines available to this run.
func Engines(t testing.TB) []Engine {
	es := []Engine{{Name: "sqlite", dsn: func(t testing.TB) string {
		return filepath.Join(t.TempDir(), "waybill.db")
	}}}
	pg := os.Getenv("WAYBILL_TEST_POSTGRES")
	if pg == "" {
		if RequireAll() {
			t.Fatal("WAYBILL_TEST_REQUIRE_ALL=1 but WAYBILL_TEST_POSTGRES is not set")
		}
		return es
	}
	es = append(es, Engine{Name: "postgres", dsn: func(t testing.TB) string { return pgSchema(t, pg) }})
	return es
}

// pgSchema creates a schema of its own for t and returns a URL whose
// search_path points at it; the schema is dropped when t ends.
func pgSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	schema := "t_" + strings.TrimPrefix(id.New("s"), "s_")
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("WAYBILL_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DSN returns a fresh database location for t on engine e (not yet opened).
func (e Engine) DSN(t testing.TB) string { return e.dsn(t) }

// Open returns a fresh, migrated database on engine e, closed when t ends.
func (e Engine) Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), e.dsn(t))
	if err != nil {
		t.Fatalf("%s: open: %v", e.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("%s: migrate: %v", e.Name, err)
	}
	return db
}

// Each runs fn as a subtest on every available engine.
func Each(t *testing.T, fn func(t *testing.T, e Engine)) {
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

// Chromium returns the path of a Chromium binary, or skips (fails under
// WAYBILL_TEST_REQUIRE_ALL=1) when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if RequireAll() {
		t.Fatal("WAYBILL_TEST_REQUIRE_ALL=1 but no chromium is installed (apt-get install chromium)")
	}
	t.Skip("browser test skipped: no chromium on PATH (apt-get install chromium to run it)")
	return ""
}
