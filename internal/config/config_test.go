package config

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func testFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		env     map[string]string
		args    []string
		check   func(c Config) bool
		wantErr string // substring of the error; "" means success
	}{
		{"dev defaults", Dev, nil, nil,
			func(c Config) bool { return c.Addr == "127.0.0.1:8080" && c.LogFormat == "text" && c.Currency == "EUR" }, ""},
		{"serve defaults", Serve, nil, nil,
			func(c Config) bool { return c.Addr == ":8080" && c.LogFormat == "json" && c.SessionIdle == 2*time.Hour }, ""},
		{"env wins over default", Serve, map[string]string{"STOCKROOM_ADDR": "127.0.0.1:9000"}, nil,
			func(c Config) bool { return c.Addr == "127.0.0.1:9000" }, ""},
		{"flag wins over env", Serve, map[string]string{"STOCKROOM_ADDR": "127.0.0.1:9000"}, []string{"--addr", ":7000"},
			func(c Config) bool { return c.Addr == ":7000" }, ""},
		{"secure cookies", Serve, map[string]string{"STOCKROOM_SECURE_COOKIES": "true"}, nil,
			func(c Config) bool { return c.SecureCookies }, ""},
		{"log level", Serve, map[string]string{"STOCKROOM_LOG_LEVEL": "debug"}, nil,
			func(c Config) bool { return c.LogLevel == slog.LevelDebug }, ""},
		{"base URL trailing slash", Serve, map[string]string{"STOCKROOM_BASE_URL": "https://shop.example/"}, nil,
			func(c Config) bool { return c.BaseURL == "https://shop.example" }, ""},
		{"debug addr off by default", Serve, nil, nil, func(c Config) bool { return c.DebugAddr == "" }, ""},
		{"debug addr on loopback", Serve, map[string]string{"STOCKROOM_DEBUG_ADDR": "127.0.0.1:6060"}, nil,
			func(c Config) bool { return c.DebugAddr == "127.0.0.1:6060" }, ""},
		{"debug addr on localhost", Serve, map[string]string{"STOCKROOM_DEBUG_ADDR": "localhost:6060"}, nil,
			func(c Config) bool { return c.DebugAddr == "localhost:6060" }, ""},
		{"debug addr on every interface", Serve, map[string]string{"STOCKROOM_DEBUG_ADDR": ":6060"}, nil, nil, "STOCKROOM_DEBUG_ADDR"},
		{"debug addr on a public address", Serve, map[string]string{"STOCKROOM_DEBUG_ADDR": "10.0.0.5:6060"}, nil, nil, "STOCKROOM_DEBUG_ADDR"},
		{"bad addr", Serve, map[string]string{"STOCKROOM_ADDR": "nonsense"}, nil, nil, "STOCKROOM_ADDR"},
		{"bad port", Serve, map[string]string{"STOCKROOM_ADDR": ":99999"}, nil, nil, "STOCKROOM_ADDR"},
		{"bad flag value names the flag", Serve, nil, []string{"--addr", "x"}, nil, "--addr"},
		{"bad bool", Serve, map[string]string{"STOCKROOM_SECURE_COOKIES": "yes please"}, nil, nil, "STOCKROOM_SECURE_COOKIES"},
		{"bad currency", Serve, map[string]string{"STOCKROOM_CURRENCY": "euro"}, nil, nil, "STOCKROOM_CURRENCY"},
		{"lowercase currency", Serve, map[string]string{"STOCKROOM_CURRENCY": "eur"}, nil, nil, "STOCKROOM_CURRENCY"},
		{"bad log format", Serve, map[string]string{"STOCKROOM_LOG_FORMAT": "xml"}, nil, nil, "STOCKROOM_LOG_FORMAT"},
		{"bad log level", Serve, map[string]string{"STOCKROOM_LOG_LEVEL": "loud"}, nil, nil, "STOCKROOM_LOG_LEVEL"},
		{"bad duration", Serve, map[string]string{"STOCKROOM_SHUTDOWN_GRACE": "soon"}, nil, nil, "STOCKROOM_SHUTDOWN_GRACE"},
		{"negative duration", Serve, map[string]string{"STOCKROOM_SESSION_IDLE": "-1h"}, nil, nil, "STOCKROOM_SESSION_IDLE"},
		{"idle over lifetime", Serve, map[string]string{"STOCKROOM_SESSION_IDLE": "24h"}, nil, nil, "STOCKROOM_SESSION_IDLE"},
		{"bad int", Serve, map[string]string{"STOCKROOM_DATABASE_MAX_CONNS": "many"}, nil, nil, "STOCKROOM_DATABASE_MAX_CONNS"},
		{"bad database URL", Serve, map[string]string{"STOCKROOM_DATABASE_URL": "mysql://x"}, nil, nil, "STOCKROOM_DATABASE_URL"},
		{"bad pooler mode", Serve, map[string]string{"STOCKROOM_DATABASE_POOLER": "session"}, nil, nil, "STOCKROOM_DATABASE_POOLER"},
		{"bad direct URL", Serve, map[string]string{"STOCKROOM_DATABASE_DIRECT_URL": "mysql://x"}, nil, nil, "STOCKROOM_DATABASE_DIRECT_URL"},
		{"bad replica lag", Serve, map[string]string{"STOCKROOM_REPLICA_MAX_LAG": "a bit"}, nil, nil, "STOCKROOM_REPLICA_MAX_LAG"},
		{"bad base URL", Serve, map[string]string{"STOCKROOM_BASE_URL": "shop.example"}, nil, nil, "STOCKROOM_BASE_URL"},
		{"unknown flag", Serve, nil, []string{"--nope"}, nil, "nope"},
		{"tax rate", Serve, map[string]string{"STOCKROOM_TAX_RATE_BPS": "1900"}, nil,
			func(c Config) bool { return c.TaxRateBPS == 1900 }, ""},
		{"tax rate over 100%", Serve, map[string]string{"STOCKROOM_TAX_RATE_BPS": "10001"}, nil, nil, "STOCKROOM_TAX_RATE_BPS"},
		{"tax rate as a percentage", Serve, map[string]string{"STOCKROOM_TAX_RATE_BPS": "19.5"}, nil, nil, "STOCKROOM_TAX_RATE_BPS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			c, _, err := Load(tt.mode, testFlags(), tt.args, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if !tt.check(c) {
				t.Errorf("Load() = %+v, not what the case wants", c)
			}
		})
	}
}

func TestLoadKeepsArguments(t *testing.T) {
	_, rest, err := Load(Serve, testFlags(), []string{"--addr", ":1", "up", "--currency", "USD", "extra"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rest, " ") != "up extra" {
		t.Errorf("rest = %q, want [up extra]", rest)
	}
}

func TestDatabasePasswordNeverInError(t *testing.T) {
	env := map[string]string{"STOCKROOM_DATABASE_URL": "mysql://u:hunter2secret@h/db"}
	_, _, err := Load(Serve, testFlags(), nil, func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "hunter2secret") {
		t.Errorf("error quotes the password: %q", err)
	}
}

func TestDeployProblems(t *testing.T) {
	c := Config{DatabaseURL: "postgres://x", BaseURL: "https://shop.example", SecureCookies: true, LogLevel: slog.LevelInfo,
		SecretKey: strings.Repeat("k", 40)}
	if p := c.DeployProblems(); len(p) != 0 {
		t.Errorf("safe config: problems %q", p)
	}
	c.SecureCookies = false
	c.BaseURL = "http://shop.example"
	if p := c.DeployProblems(); len(p) != 2 {
		t.Errorf("insecure config: problems %q, want 2", p)
	}
	for _, key := range []string{"", DevSecretKey} {
		c := c
		c.SecretKey = key
		if p := c.DeployProblems(); len(p) != 3 || !strings.Contains(strings.Join(p, "\n"), "STOCKROOM_SECRET_KEY") {
			t.Errorf("secret key %q: problems %q, want one about STOCKROOM_SECRET_KEY", key, p)
		}
	}
}

// STOCKROOM_REQUIRE_2FA: superusers in production, off in dev (make run signs a new
// user straight in), a warning from check --deploy when off, and nothing but its
// three words.
func TestRequire2FA(t *testing.T) {
	for _, tt := range []struct {
		mode Mode
		env  string
		want string
		ok   bool
	}{
		{Serve, "", "superusers", true},
		{Dev, "", "off", true},
		{Serve, "staff", "staff", true},
		{Serve, "off", "off", true},
		{Serve, "admins", "", false},
	} {
		c, _, err := Load(tt.mode, testFlags(), nil, func(k string) string {
			if k == "STOCKROOM_REQUIRE_2FA" {
				return tt.env
			}
			return ""
		})
		if (err == nil) != tt.ok || tt.ok && c.Require2FA != tt.want {
			t.Errorf("mode %d, %q: %q, %v; want %q (ok %v)", tt.mode, tt.env, c.Require2FA, err, tt.want, tt.ok)
		}
		if tt.ok && (len(c.DeployWarnings()) == 1) != (tt.want == "off") {
			t.Errorf("%q: deploy warnings %q", tt.want, c.DeployWarnings())
		}
	}
}

// The secret key has a dev default only; a short one is refused without being
// quoted.
func TestSecretKey(t *testing.T) {
	c, _, err := Load(Dev, testFlags(), nil, func(string) string { return "" })
	if err != nil || c.SecretKey != DevSecretKey {
		t.Errorf("dev: key %q, %v; want the dev key", c.SecretKey, err)
	}
	c, _, err = Load(Serve, testFlags(), nil, func(string) string { return "" })
	if err != nil || c.SecretKey != "" {
		t.Errorf("serve: key %q, %v; want none", c.SecretKey, err)
	}
	env := map[string]string{"STOCKROOM_SECRET_KEY": "short-hunter2"}
	_, _, err = Load(Serve, testFlags(), nil, func(k string) string { return env[k] })
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "STOCKROOM_SECRET_KEY") {
		t.Errorf("short key: error %v, want one naming the variable and not quoting the value", err)
	}
}
