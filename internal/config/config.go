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
	// AllowPrivateWebhookURLs lets webhooks go to loopback/private addresses
	// and plain http (development and tests only).
	AllowPrivateWebhookURLs bool
	// SMTPURL is where e-mail goes (smtp://user:pass@host:587); empty
	// disables e-mail. MailFrom is the sender address.
	SMTPURL  string
	MailFrom string
	// NewOrderMailEvery is how often at most a tenant gets a new-order
	// e-mail; orders in between are gathered into one.
	NewOrderMailEvery time.Duration
	// PublicURL is the dashboard's address as people reach it, for links in
	// e-mails (default http://Addr).
	PublicURL string
	// IdempotencyTimeout is how long a retry gets 409 for a key whose first
	// request never finished (its process died) before it may run again.
	IdempotencyTimeout time.Duration
	// Workers is how many background jobs one process runs at once; 0
	// disables background work in this process.
	Workers int
}

// Defaults returns the configuration a fresh `waybill serve` uses.
func Defaults() Config {
	return Config{
		DB:                 "waybill.db",
		Addr:               "127.0.0.1:8080",
		RateLimit:          100,
		RateBurst:          200,
		MaxBodyBytes:       1 << 20,
		ShutdownTimeout:    20 * time.Second,
		Version:            "dev",
		MailFrom:           "Waybill <waybill@localhost>",
		NewOrderMailEvery:  15 * time.Minute,
		Workers:            4,
		IdempotencyTimeout: 30 * time.Second,
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
