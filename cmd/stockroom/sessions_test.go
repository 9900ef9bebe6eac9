package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// Instance B keeps the session rows it read (session.rowCache), yet a sign-out on
// instance A is refused on B as soon as its notification arrives: well within the
// cache's TTL, which would otherwise let the session live on there.
func TestSignOutReachesAnotherInstance(t *testing.T) {
	ctx, _, srvA, srvB := twoInstances(t)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Both servers are on 127.0.0.1: the jar sends the session cookie to both.
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, u string, form url.Values) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// signedIn asks B for a page with the cookie as it was at sign-in: sign-out
	// clears it from the jar, but a copy of it (a stolen one) must stop working too.
	var cookie *http.Cookie
	signedIn := func() bool {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "GET", srvB.URL+"/admin/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(cookie)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}

	if resp := send("POST", srvA.URL+"/admin/login", url.Values{"email": {"boss@example.com"}, "password": {"correct-horse-battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in on A: %d", resp.StatusCode)
	}
	a, err := url.Parse(srvA.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range jar.Cookies(a) {
		if ck.Name == session.CookieName {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after signing in")
	}
	for i := range 3 { // read on B, then served from what B kept
		if !signedIn() {
			t.Fatalf("page %d on B: not signed in", i)
		}
	}
	if resp := send("POST", srvA.URL+"/admin/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out on A: %d", resp.StatusCode)
	}
	start := time.Now()
	for signedIn() {
		if time.Since(start) > auth.DefaultCacheTTL/2 {
			t.Fatalf("B still served the signed-out session after %v", time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("B refused the session %v after the sign-out on A", time.Since(start))
}
