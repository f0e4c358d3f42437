// Package store is Waybill's database layer: it opens SQLite or PostgreSQL,
// applies the embedded migrations, and holds the SQL of every domain beside
// the code that scans it. Engine differences live in dialect.go.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/store/migrations"
)

// Engine names the database behind a DB.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open database. On SQLite, writes go through a pool of exactly one
// connection (SQLite has one writer; queueing in Go beats "database is
// locked"), reads through a larger pool. On PostgreSQL both are one pool.
type DB struct {
	Engine Engine
	W      *sql.DB // writes and transactions
	R      *sql.DB // reads outside transactions
}

// Querier is what both *sql.DB and *sql.Tx offer; store code takes it so the
// same query runs inside or outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// IsPostgresURL reports whether a --db value names PostgreSQL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn: a PostgreSQL URL, "sqlite:PATH", or a
// plain file path (SQLite).
func Open(ctx context.Context, dsn string) (*DB, error) {
	const op = "store.Open"
	if IsPostgresURL(dsn) {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		d := &DB{Engine: Postgres, W: db, R: db}
		if err := d.Ping(ctx); err != nil {
			db.Close()
			return nil, errs.E(op, errs.Transient, "cannot reach PostgreSQL", err)
		}
		return d, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" {
		return nil, errs.E(op, errs.Invalid, "empty database path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
	}
	// Pragmas in a deliberate order: the busy timeout first so the others
	// wait rather than fail, then WAL, then durability and integrity.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-16000)")
	base := "file:" + path
	w, err := sql.Open("sqlite", base+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", base+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, errs.E(op, errs.Internal, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	d := &DB{Engine: SQLite, W: w, R: r}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, errs.E(op, errs.Internal, fmt.Sprintf("cannot open SQLite database %q", path), err)
	}
	return d, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.W.PingContext(ctx); err != nil {
		return err
	}
	if db.R != db.W {
		return db.R.PingContext(ctx)
	}
	return nil
}

// Close closes the pools.
func (db *DB) Close() error {
	err := db.W.Close()
	if db.R != db.W {
		if e := db.R.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Tx runs fn in one write transaction, committing when fn returns nil.
// On SQLite the transaction starts with BEGIN IMMEDIATE (via _txlock), so it
// holds the write lock from the start and never fails half-way on a lock.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return errs.E("store.Tx", errs.Transient, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := markCommitted(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return errs.E("store.Tx", errs.Transient, "commit failed", err)
	}
	return nil
}

// Migrate applies every embedded migration not yet applied. On PostgreSQL a
// session advisory lock makes concurrent starts of several processes safe.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	const op = "store.Migrate"
	fsys, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if db.Engine == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.W, fsys, opts...)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	var applied []string
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// Now is the one clock store code uses for timestamps it writes: UTC, at
// microsecond precision (what PostgreSQL keeps), so values read back compare
// equal to values written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Relaxed runs fn with SQLite's commits not waiting for the disk
// (synchronous=OFF) and restores FULL afterwards: for seeding demo data,
// where thousands of small transactions would otherwise each wait for an
// fsync. A crash meanwhile may lose the seeded data, never corrupt the file.
// On PostgreSQL it just runs fn.
func (db *DB) Relaxed(ctx context.Context, fn func() error) error {
	if db.Engine != SQLite {
		return fn()
	}
	if _, err := db.W.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
		return errs.E("store.Relaxed", errs.Internal, err)
	}
	defer db.W.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`)
	return fn()
}
