package webhooks

import (
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// errWouldConnect stands in for the connect: the tests below never let a dial
// that passes the guard go on, so no packet ever leaves for a non-loopback address.
var errWouldConnect = errors.New("the guard let this dial through")

// The dialer's Control hook refuses forbidden addresses after resolution and before
// the connect: the refusal is the guard's error, and the would-be connect is never
// reached. A public address gets through the guard (to the stand-in).
func TestControlRefusesBeforeConnect(t *testing.T) {
	g := guard{}
	var asked []string
	client := newClient(func(network, address string, c syscall.RawConn) error {
		asked = append(asked, address)
		if err := g.control(network, address, c); err != nil {
			return err
		}
		return errWouldConnect
	}, 2*time.Second)
	tests := []struct {
		url  string
		want error
	}{
		{"http://127.0.0.1/", ErrForbiddenAddress},
		{"http://[::1]/", ErrForbiddenAddress},
		{"http://[::ffff:127.0.0.1]/", ErrForbiddenAddress},
		{"http://169.254.169.254/latest/meta-data/", ErrForbiddenAddress},
		{"http://[fd00:ec2::254]/", ErrForbiddenAddress},
		{"http://10.0.0.1/", ErrForbiddenAddress},
		{"http://172.16.5.4:8080/", ErrForbiddenAddress},
		{"http://192.168.1.1/", ErrForbiddenAddress},
		{"http://100.64.0.1/", ErrForbiddenAddress},
		{"http://0.0.0.0/", ErrForbiddenAddress},
		{"https://[fe80::1]/", ErrForbiddenAddress},
		{"http://localhost/", ErrForbiddenAddress}, // a name that resolves (from /etc/hosts) to loopback
		{"http://198.51.100.7/", errWouldConnect},
		{"https://[2001:db8::1]/", errWouldConnect},
	}
	for _, tt := range tests {
		asked = asked[:0]
		req, _ := http.NewRequest(http.MethodPost, tt.url, strings.NewReader("{}"))
		_, err := client.Do(req)
		if !errors.Is(err, tt.want) {
			t.Errorf("POST %s: %v, want %v", tt.url, err, tt.want)
		}
		if len(asked) == 0 {
			t.Errorf("POST %s: the Control hook was never asked", tt.url)
		}
		if tt.want == ErrForbiddenAddress && !strings.HasPrefix(describe(err), "refused: ") {
			t.Errorf("POST %s: the log would say %q", tt.url, describe(err))
		}
	}
}

func TestAllowPrivate(t *testing.T) {
	if err := (guard{allowPrivate: true}).control("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("with private addresses allowed, 127.0.0.1: %v", err)
	}
	if err := (guard{}).control("tcp", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("127.0.0.1 = %v, want ErrForbiddenAddress", err)
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("a", excerptBytes-1) + "é" + "tail" // é straddles the cut
	if got := excerpt([]byte(long)); got != strings.Repeat("a", excerptBytes-1) {
		t.Errorf("excerpt cut a character: ends %q", got[len(got)-3:])
	}
	if got := excerpt([]byte("ok\xff")); got != "ok\uFFFD" {
		t.Errorf("excerpt of invalid UTF-8 = %q", got)
	}
}
