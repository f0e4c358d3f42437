// Package cli is the waybill command line: one file per subcommand. It parses
// flags and WAYBILL_* environment into a config.Config and calls app.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/waybill/waybill/internal/app"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/errs"
)

// DBFlag is the --db flag every data command shares, with serve's default.
type DBFlag struct {
	DB string `name:"db" env:"WAYBILL_DB" default:"waybill.db" help:"Database: a SQLite file path, sqlite:PATH, or a postgres:// URL."`
}

// Env is what every command gets: where to write and how to build the app.
type Env struct {
	Version string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Log     *slog.Logger
	Ctx     context.Context
}

// open builds the app against the --db of a command.
func (e *Env) open(db string, mutate ...func(*config.Config)) (*app.App, error) {
	cfg := config.Defaults()
	cfg.DB = db
	cfg.Version = e.Version
	for _, m := range mutate {
		m(&cfg)
	}
	return app.Open(e.Ctx, cfg, e.Log)
}

// CLI is the command tree.
type CLI struct {
	Serve   ServeCmd   `cmd:"" help:"Run the HTTP API, the dashboard and the background workers."`
	Demo    DemoCmd    `cmd:"" help:"Create a demo shop with a catalogue (once), print its login and an API key, then serve."`
	Migrate MigrateCmd `cmd:"" help:"Apply database migrations (serve does this on start too)."`
	Check   CheckCmd   `cmd:"" help:"Recompute every stock balance from the ledger; exits non-zero naming any difference."`
	Tenant  TenantCmd  `cmd:"" help:"Manage tenants (merchants)."`
	User    UserCmd    `cmd:"" help:"Manage dashboard users."`
	Apikey  APIKeyCmd  `cmd:"" name:"apikey" help:"Manage API keys."`
	Import  ImportCmd  `cmd:"" help:"Import data from CSV files."`
	Export  ExportCmd  `cmd:"" help:"Export data as CSV."`
	Version VersionCmd `cmd:"" help:"Print the version."`
}

// Run runs the command line and returns the exit code.
func Run(args []string, version string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Version: version, Stdin: stdin, Stdout: stdout, Stderr: stderr, Ctx: ctx,
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	var c CLI
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name("waybill"),
		kong.Description("Waybill: order fulfilment for online sellers — orders from every channel, stock that is never oversold, and each order fulfilled by your warehouse, a 3PL or a dropship supplier."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exitCode = code; panic(exitSignal{}) }),
		kong.Bind(env),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	code := func() (code int) {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(exitSignal); ok {
					code = exitCode
					return
				}
				panic(v)
			}
		}()
		kctx, err := parser.Parse(args)
		if err != nil {
			parser.Errorf("%s", err)
			return 2
		}
		if err := kctx.Run(); err != nil {
			fmt.Fprintln(stderr, "waybill: "+message(err))
			return 1
		}
		return 0
	}()
	return code
}

type exitSignal struct{}

// message is an error as a person at a terminal should read it.
func message(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal && e.Kind != errs.Other {
		msg := e.Msg
		for msg == "" && e.Err != nil && errors.As(e.Err, &e) {
			msg = e.Msg
		}
		if msg == "" {
			msg = err.Error()
		}
		for _, f := range errs.Fields(err) {
			if f.Field+": "+f.Message != msg {
				msg += "\n  " + f.Field + ": " + f.Message
			}
		}
		return msg
	}
	return err.Error()
}

// VersionCmd prints the version.
type VersionCmd struct{}

func (VersionCmd) Run(env *Env) error {
	fmt.Fprintln(env.Stdout, "waybill "+env.Version)
	return nil
}

// MigrateCmd applies migrations.
type MigrateCmd struct {
	DBFlag
}

func (c *MigrateCmd) Run(env *Env) error {
	a, err := env.open(c.DB)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(env.Stdout, "database is up to date")
	return nil
}

// ServeCmd runs the server.
type ServeCmd struct {
	DBFlag
	Addr          string        `name:"addr" env:"WAYBILL_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	RateLimit     float64       `name:"rate-limit" env:"WAYBILL_RATE_LIMIT" default:"100" help:"API requests per second per API key (0 = unlimited)."`
	RateBurst     int           `name:"rate-burst" env:"WAYBILL_RATE_BURST" default:"200" help:"API request burst per API key."`
	SecureCookies bool          `name:"secure-cookies" env:"WAYBILL_SECURE_COOKIES" help:"Mark dashboard cookies Secure (when served over HTTPS)."`
	PublicURL     string        `name:"public-url" env:"WAYBILL_PUBLIC_URL" help:"The dashboard's address as people reach it, for links in e-mails (default http://ADDR)."`
	SMTPURL       string        `name:"smtp-url" env:"WAYBILL_SMTP_URL" help:"SMTP server for e-mail notifications, e.g. smtp://user:pass@mail.example.com:587 (empty: no e-mail)."`
	MailFrom      string        `name:"mail-from" env:"WAYBILL_MAIL_FROM" default:"Waybill <waybill@localhost>" help:"Sender of e-mail notifications."`
	NewOrderMail  time.Duration `name:"new-order-mail-every" env:"WAYBILL_NEW_ORDER_MAIL_EVERY" default:"15m" help:"New-order e-mails go out at most this often; orders in between are listed in one e-mail."`
	Workers       int           `name:"workers" env:"WAYBILL_WORKERS" default:"4" help:"Background jobs this process runs at once (0: serve HTTP only)."`
	IdemTimeout   time.Duration `name:"idempotency-timeout" env:"WAYBILL_IDEMPOTENCY_TIMEOUT" default:"30s" help:"How long a retry gets 409 for an Idempotency-Key whose first request never finished (its process died) before it may run again."`
	AllowPrivate  bool          `name:"allow-private-webhook-urls" env:"WAYBILL_ALLOW_PRIVATE_WEBHOOK_URLS" help:"Allow webhooks to loopback/private addresses and plain http (development only)."`
}

func (c *ServeCmd) config(cfg *config.Config) {
	cfg.Addr = c.Addr
	cfg.RateLimit = c.RateLimit
	cfg.RateBurst = c.RateBurst
	cfg.SecureCookies = c.SecureCookies
	cfg.PublicURL = c.PublicURL
	cfg.SMTPURL = c.SMTPURL
	cfg.MailFrom = c.MailFrom
	cfg.NewOrderMailEvery = c.NewOrderMail
	cfg.Workers = c.Workers
	cfg.AllowPrivateWebhookURLs = c.AllowPrivate
	cfg.IdempotencyTimeout = c.IdemTimeout
}

func (c *ServeCmd) Run(env *Env) error {
	a, err := env.open(c.DB, c.config)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(env.Ctx, nil)
}
