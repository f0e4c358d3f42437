package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The narrow place where SQLite and PostgreSQL differ. Everything else is one
// SQL text: both accept $N placeholders, ON CONFLICT, RETURNING.

// isUniqueViolation reports whether err is a unique or primary-key violation,
// and returns the constraint (PostgreSQL) or the message (SQLite) to tell
// which one.
func isUniqueViolation(err error) (bool, string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505", pgErr.ConstraintName
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqErr.Error()
	}
	return false, ""
}

// violates reports whether a unique violation names the given index or
// columns: PostgreSQL reports the index name, SQLite the "table.column" list.
func violates(detail, index string, columns ...string) bool {
	if detail == index {
		return true
	}
	for _, c := range columns {
		if !strings.Contains(detail, c) {
			return false
		}
	}
	return len(columns) > 0
}

// likeEscape escapes LIKE wildcards so user text matches literally (used
// with ESCAPE '\' on both engines).
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// forUpdate locks selected rows on PostgreSQL. SQLite needs no row locks: a
// write transaction (BEGIN IMMEDIATE) holds the whole database.
func forUpdate(e Engine) string {
	if e == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// retryable reports whether a transaction failed only because of another
// transaction (PostgreSQL deadlock or serialization failure) and may be
// run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40P01" || pgErr.Code == "40001"
	}
	return false
}

// skipLocked lets several PostgreSQL processes claim different rows at once.
// On SQLite the one writer serialises claims anyway.
func skipLocked(e Engine) string {
	if e == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}
