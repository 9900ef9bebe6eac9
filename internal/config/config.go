// Package config reads stockroom's settings from STOCKROOM_* environment variables,
// with command-line flags of the same name overriding them. It is read once, in main,
// and passed down; nothing else reads the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Mode selects the defaults: Dev is `stockroom dev` (local, friendly), Serve is
// production.
type Mode int

// The modes.
const (
	Serve Mode = iota
	Dev
)

// Config is everything stockroom takes from its environment. Load fills it from
// getenv (os.Getenv in main, a map lookup in tests); each error names its variable.
type Config struct {
	DatabaseURL       string        // STOCKROOM_DATABASE_URL; empty in dev: a private cluster
	DatabaseReadURL   string        // STOCKROOM_DATABASE_READ_URL: optional replica
	DatabaseMaxConns  int32         // STOCKROOM_DATABASE_MAX_CONNS: 0 is store.DefaultMaxConns
	ReplicaMaxLag     time.Duration // STOCKROOM_REPLICA_MAX_LAG: a replica further behind is bypassed
	DatabasePooler    string        // STOCKROOM_DATABASE_POOLER: "transaction" behind pgbouncer, "" direct
	DatabaseDirectURL string        // STOCKROOM_DATABASE_DIRECT_URL: bypasses the pooler, for LISTEN
	Addr              string        // STOCKROOM_ADDR: host:port to listen on
	BaseURL           string        // STOCKROOM_BASE_URL: the public URL, for links
	SecureCookies     bool          // STOCKROOM_SECURE_COOKIES: cookies only over HTTPS
	MediaDir          string        // STOCKROOM_MEDIA_DIR: uploaded images
	DataDir           string        // STOCKROOM_DATA_DIR: dev cluster and admin password
	Currency          string        // STOCKROOM_CURRENCY: ISO 4217 code of the shop
	LogFormat         string        // STOCKROOM_LOG_FORMAT: text or json
	LogLevel          slog.Level    // STOCKROOM_LOG_LEVEL: debug, info, warn, error
	ShutdownGrace     time.Duration // STOCKROOM_SHUTDOWN_GRACE: time in-flight requests get
	DrainDelay        time.Duration // STOCKROOM_DRAIN_DELAY: /readyz fails this long before the listener closes
	SessionIdle       time.Duration // STOCKROOM_SESSION_IDLE: sign out after this idle time
	SessionLifetime   time.Duration // STOCKROOM_SESSION_LIFETIME: sign out after this at most
	LowStock          int           // STOCKROOM_LOW_STOCK: stock at or below this is "low"
	EventRetention    time.Duration // STOCKROOM_EVENT_RETENTION: events older than this are deleted
	StreamsPerUser    int           // STOCKROOM_STREAMS_PER_USER: open event streams a user may hold
	APIRatePerMinute  int           // STOCKROOM_API_RATE_LIMIT: requests a minute per token
	LoginFailureLimit int           // STOCKROOM_LOGIN_FAILURES: failures in 15 min before refusal
	TaxRateBPS        int           // STOCKROOM_TAX_RATE_BPS: tax on new orders, basis points (1900 = 19%)
	DebugAddr         string        // STOCKROOM_DEBUG_ADDR: loopback host:port for /debug/pprof/; "" is off
	SecretKey         string        // STOCKROOM_SECRET_KEY: seals second-factor secrets at rest; never logged
	Require2FA        string        // STOCKROOM_REQUIRE_2FA: superusers, staff or off
	// STOCKROOM_WEBHOOKS_ALLOW_PRIVATE: webhooks may reach loopback, private and
	// link-local addresses (tests, closed networks); off, they are refused at connect.
	WebhooksAllowPrivate bool
}

// DevSecretKey is STOCKROOM_SECRET_KEY's default for `stockroom dev` only: anyone can
// read it here, so `check --deploy` refuses it and serve has no default at all.
const DevSecretKey = "stockroom-dev-secret-key-not-for-production"

// setting is one variable: its name, its flag, its default per mode and its parser.
type setting struct {
	env, flag, usage string
	dev, serve       string
	set              func(c *Config, v string) error
}

var settings = []setting{
	{"STOCKROOM_DATABASE_URL", "database-url", "PostgreSQL URL (dev: a private cluster when empty)", "", "",
		func(c *Config, v string) error { c.DatabaseURL = v; return checkDatabaseURL(v) }},
	{"STOCKROOM_DATABASE_READ_URL", "database-read-url", "optional read replica URL", "", "",
		func(c *Config, v string) error { c.DatabaseReadURL = v; return checkDatabaseURL(v) }},
	{"STOCKROOM_DATABASE_MAX_CONNS", "database-max-conns", "pool size (0: 4 per CPU, at least 16)", "0", "0",
		func(c *Config, v string) error {
			n, err := intIn(v, 0, 10000)
			c.DatabaseMaxConns = int32(n)
			return err
		}},
	{"STOCKROOM_REPLICA_MAX_LAG", "replica-max-lag", "a read replica further behind the primary than this is bypassed", "5s", "5s",
		func(c *Config, v string) (err error) { c.ReplicaMaxLag, err = duration(v); return err }},
	{"STOCKROOM_DATABASE_POOLER", "database-pooler", "transaction when STOCKROOM_DATABASE_URL is a pooler in transaction mode (pgbouncer); empty when direct", "", "",
		func(c *Config, v string) error {
			c.DatabasePooler = v
			if v == "" {
				return nil
			}
			return oneOf(v, "transaction")
		}},
	{"STOCKROOM_DATABASE_DIRECT_URL", "database-direct-url", "PostgreSQL itself, bypassing the pooler, for LISTEN and the job queue (default: STOCKROOM_DATABASE_URL)", "", "",
		func(c *Config, v string) error { c.DatabaseDirectURL = v; return checkDatabaseURL(v) }},
	{"STOCKROOM_ADDR", "addr", "host:port to listen on", "127.0.0.1:8080", ":8080",
		func(c *Config, v string) error { c.Addr = v; return checkAddr(v) }},
	{"STOCKROOM_BASE_URL", "base-url", "public URL of the site", "", "",
		func(c *Config, v string) error { c.BaseURL = strings.TrimRight(v, "/"); return checkBaseURL(v) }},
	{"STOCKROOM_SECURE_COOKIES", "secure-cookies", "send cookies over HTTPS only", "false", "false",
		func(c *Config, v string) (err error) { c.SecureCookies, err = parseBool(v); return err }},
	{"STOCKROOM_MEDIA_DIR", "media-dir", "where uploaded images are stored", ".data/media", "media",
		func(c *Config, v string) error { c.MediaDir = v; return nonEmpty(v) }},
	{"STOCKROOM_DATA_DIR", "data-dir", "dev cluster and admin password", ".data", ".data",
		func(c *Config, v string) error { c.DataDir = v; return nonEmpty(v) }},
	{"STOCKROOM_CURRENCY", "currency", "ISO 4217 code of the shop currency", "EUR", "EUR",
		func(c *Config, v string) error { c.Currency = v; return checkCurrency(v) }},
	{"STOCKROOM_LOG_FORMAT", "log-format", "text or json", "text", "json",
		func(c *Config, v string) error { c.LogFormat = v; return oneOf(v, "text", "json") }},
	{"STOCKROOM_LOG_LEVEL", "log-level", "debug, info, warn or error", "info", "info",
		func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
	{"STOCKROOM_SHUTDOWN_GRACE", "shutdown-grace", "time in-flight requests get on SIGTERM", "10s", "30s",
		func(c *Config, v string) (err error) { c.ShutdownGrace, err = duration(v); return err }},
	{"STOCKROOM_DRAIN_DELAY", "drain-delay", "on SIGTERM, time /readyz answers 503 (requests still served) before the listener closes", "0s", "5s",
		func(c *Config, v string) (err error) { c.DrainDelay, err = durationOrZero(v); return err }},
	{"STOCKROOM_SESSION_IDLE", "session-idle", "idle time before a session ends", "2h", "2h",
		func(c *Config, v string) (err error) { c.SessionIdle, err = duration(v); return err }},
	{"STOCKROOM_SESSION_LIFETIME", "session-lifetime", "longest a session lasts", "12h", "12h",
		func(c *Config, v string) (err error) { c.SessionLifetime, err = duration(v); return err }},
	{"STOCKROOM_LOW_STOCK", "low-stock", "stock at or below this is low", "5", "5",
		func(c *Config, v string) (err error) { c.LowStock, err = intIn(v, 0, 1_000_000); return err }},
	{"STOCKROOM_EVENT_RETENTION", "event-retention", "how long the change events (live pages, event stream) are kept", "168h", "168h",
		func(c *Config, v string) (err error) { c.EventRetention, err = duration(v); return err }},
	{"STOCKROOM_STREAMS_PER_USER", "streams-per-user", "event streams (admin tabs, API clients) one user may hold open on one instance", "20", "20",
		func(c *Config, v string) (err error) { c.StreamsPerUser, err = intIn(v, 1, 1_000_000); return err }},
	{"STOCKROOM_TAX_RATE_BPS", "tax-rate-bps", "tax on new orders in basis points (1900 is 19%)", "0", "0",
		func(c *Config, v string) (err error) { c.TaxRateBPS, err = intIn(v, 0, 10_000); return err }},
	{"STOCKROOM_API_RATE_LIMIT", "api-rate-limit", "API requests a minute per token", "60000", "60000",
		func(c *Config, v string) (err error) { c.APIRatePerMinute, err = intIn(v, 1, 100_000_000); return err }},
	{"STOCKROOM_LOGIN_FAILURES", "login-failures", "failed sign-ins in 15 minutes before refusal", "5", "5",
		func(c *Config, v string) (err error) { c.LoginFailureLimit, err = intIn(v, 1, 1000); return err }},
	{"STOCKROOM_SECRET_KEY", "secret-key", "at least 32 characters of random text sealing second-factor secrets (dev: a fixed key)", DevSecretKey, "",
		func(c *Config, v string) error { c.SecretKey = v; return checkSecretKey(v) }},
	{"STOCKROOM_REQUIRE_2FA", "require-2fa", "who must sign in with a second factor: superusers, staff or off", "off", "superusers",
		func(c *Config, v string) error { c.Require2FA = v; return oneOf(v, "superusers", "staff", "off") }},
	{"STOCKROOM_DEBUG_ADDR", "debug-addr", "loopback host:port serving Go's profiler at /debug/pprof/ (empty: off)", "", "",
		func(c *Config, v string) error { c.DebugAddr = v; return checkDebugAddr(v) }},
	{"STOCKROOM_WEBHOOKS_ALLOW_PRIVATE", "webhooks-allow-private", "let webhooks reach loopback, private and link-local addresses (tests, closed networks only)", "false", "false",
		func(c *Config, v string) (err error) { c.WebhooksAllowPrivate, err = parseBool(v); return err }},
}

// ErrHelp is returned when -h or --help was asked for; usage has been written.
var ErrHelp = flag.ErrHelp

// Load reads every setting for mode: a flag given in args wins over the variable in
// getenv, which wins over the mode's default. It returns the arguments that are not
// flags, in order. A malformed value is an error naming its variable.
// fs may already hold the command's own flags (stockroom check --deploy).
func Load(mode Mode, fs *flag.FlagSet, args []string, getenv func(string) string) (Config, []string, error) {
	given := make(map[string]*string, len(settings))
	for _, s := range settings {
		given[s.flag] = fs.String(s.flag, "", s.usage+" ("+s.env+")")
	}
	// Flags may come before or after the arguments: stockroom migrate up --addr x.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return Config{}, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	visited := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { visited[f.Name] = true })

	var c Config
	for _, s := range settings {
		v, from := s.serve, s.env
		if mode == Dev {
			v = s.dev
		}
		if e := getenv(s.env); e != "" {
			v = e
		}
		if visited[s.flag] {
			v, from = *given[s.flag], "--"+s.flag
		}
		if err := s.set(&c, strings.TrimSpace(v)); err != nil {
			if strings.HasSuffix(s.env, "_URL") && strings.Contains(s.env, "DATABASE") || strings.Contains(s.env, "SECRET") {
				return Config{}, nil, fmt.Errorf("%s: %w", from, err) // it may hold a password
			}
			return Config{}, nil, fmt.Errorf("%s: %q: %w", from, v, err)
		}
	}
	if c.SessionIdle > c.SessionLifetime {
		return Config{}, nil, errors.New("STOCKROOM_SESSION_IDLE: must not exceed STOCKROOM_SESSION_LIFETIME")
	}
	return c, rest, nil
}

// Logger builds the one logger for the process from the config.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// DeployProblems lists settings that are unsafe for production (stockroom check --deploy).
func (c Config) DeployProblems() []string {
	var p []string
	if !c.SecureCookies {
		p = append(p, "STOCKROOM_SECURE_COOKIES is off: session cookies would travel over plain HTTP")
	}
	if c.BaseURL == "" {
		p = append(p, "STOCKROOM_BASE_URL is not set")
	} else if !strings.HasPrefix(c.BaseURL, "https://") {
		p = append(p, "STOCKROOM_BASE_URL is not https")
	}
	if c.DatabaseURL == "" {
		p = append(p, "STOCKROOM_DATABASE_URL is not set")
	}
	switch c.SecretKey {
	case "":
		p = append(p, "STOCKROOM_SECRET_KEY is not set: two-factor sign-in with an authenticator app is unavailable")
	case DevSecretKey:
		p = append(p, "STOCKROOM_SECRET_KEY is the published dev key")
	}
	if c.LogLevel < slog.LevelInfo {
		p = append(p, "STOCKROOM_LOG_LEVEL is debug")
	}
	return p
}

func checkAddr(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("want host:port, e.g. 127.0.0.1:8080 or :8080")
	}
	if _, err := intIn(port, 0, 65535); err != nil {
		return errors.New("port must be a number from 0 to 65535")
	}
	if strings.ContainsAny(host, " /") {
		return errors.New("host is not a host name or address")
	}
	return nil
}

// checkDebugAddr accepts "" (off) or a loopback address: the profiler shows the
// process's internals and costs CPU on demand, so it is never served to a network.
func checkDebugAddr(v string) error {
	if v == "" {
		return nil
	}
	if err := checkAddr(v); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(v)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("must be a loopback address, e.g. 127.0.0.1:6060")
	}
	return nil
}

// DeployWarnings lists production settings worth a second look that are not unsafe
// as such (stockroom check --deploy prints them and still passes).
func (c Config) DeployWarnings() []string {
	var w []string
	if c.Require2FA == "off" {
		w = append(w, "STOCKROOM_REQUIRE_2FA is off: staff may sign in with a password alone")
	}
	return w
}

// checkSecretKey accepts "" (no key: TOTP is unavailable) or at least 32 characters.
// The message never quotes the value.
func checkSecretKey(v string) error {
	if v != "" && len(v) < 32 {
		return errors.New("must be at least 32 characters (e.g. `openssl rand -base64 48`)")
	}
	return nil
}

func checkDatabaseURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	// Never echo the parse error: it may quote the password.
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("want postgres://user@host:port/dbname")
	}
	return nil
}

func checkBaseURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http(s) URL")
	}
	return nil
}

func checkCurrency(v string) error {
	if len(v) != 3 || strings.ToUpper(v) != v || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return errors.New("want a three-letter ISO 4217 code such as EUR")
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New("want true or false")
	}
	return b, nil
}

func intIn(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errors.New("want a positive duration such as 30s or 2h")
	}
	return d, nil
}

func durationOrZero(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errors.New("want a duration such as 0s, 5s or 1m")
	}
	return d, nil
}
