package haproxy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/haproxy"
)

// The text both `stockroom dev --instances N` and the bench wrote before it was
// shared, to the byte.
func TestConfig(t *testing.T) {
	got := haproxy.Config("127.0.0.1:8080", 2000, []string{"127.0.0.1:9001", "127.0.0.1:9002"})
	want := `global
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    retry-on conn-failure
    option redispatch

frontend stockroom
    bind 127.0.0.1:8080
    default_backend copies

backend copies
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    server copy1 127.0.0.1:9001 check
    server copy2 127.0.0.1:9002 check
`
	if got != want {
		t.Errorf("Config = %q, want %q", got, want)
	}
}

// haproxy itself accepts the configuration (-c only checks it: it binds nothing).
// Without haproxy it fails, never skips: `make test` installs it (deps-cluster).
func TestConfigValid(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Fatalf("this test needs Debian's haproxy (make deps-cluster installs it): %v", err)
	}
	file := filepath.Join(t.TempDir(), "haproxy.cfg")
	conf := haproxy.Config("127.0.0.1:8080", 4000, []string{"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"})
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", file).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s", err, out)
	}
}
