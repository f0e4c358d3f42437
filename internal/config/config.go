// Package config holds the Config value every part of Waybill is built from.
// It is filled once, by the CLI (flags > WAYBILL_* environment > defaults),
// and passed down; nothing reads the environment behind its back.
package config

import (
	"net/url"
	"strings"
	"time"
)

// Config is the whole runtime configuration of one waybill process.
type Config struct {
	// DB is a file path, "sqlite:PATH", or a postgres:// / postgresql:// URL.
	DB string
	// Addr is the HTTP listen address.
	Addr string
	// RateLimit is the sustained API requests per second allowed per API key,
	// RateBurst the burst on top of it.
	RateLimit float64
	RateBurst int
	// MaxBodyBytes bounds JSON request bodies (413 beyond it).
	MaxBodyBytes int64
	// SecureCookies marks dashboard cookies Secure (set when served over HTTPS).
	SecureCookies bool
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
	// Version is the build's version string.
	Version string
}

// Defaults returns the configuration a fresh `waybill serve` uses.
func Defaults() Config {
	return Config{
		DB:              "waybill.db",
		Addr:            "127.0.0.1:8080",
		RateLimit:       100,
		RateBurst:       200,
		MaxBodyBytes:    1 << 20,
		ShutdownTimeout: 20 * time.Second,
		Version:         "dev",
	}
}

// MaskedDB returns the database setting with any password hidden, for logs.
func MaskedDB(db string) string {
	if !strings.Contains(db, "://") {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "(unparseable database URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}
