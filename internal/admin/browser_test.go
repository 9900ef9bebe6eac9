package admin

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is the package's one headless Chromium, started by the first test that
// asks for it and stopped by TestMain; each test opens a tab of its own. One tab at
// a time: Chromium throttles timers and animation frames in background tabs, which
// would stall htmx's delays and chromedp's polling in a test running beside another.
var browser struct {
	once   sync.Once
	tab    sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// chromiumPath finds Debian's chromium.
func chromiumPath() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("/usr/bin/chromium")
}

// newTab returns a tab of the shared browser. It fails the test, never skips, when
// Chromium is missing: the browser tests are part of the gate, here and in CI.
func newTab(t *testing.T) context.Context {
	t.Helper()
	return newTabFor(t, 90*time.Second)
}

// newTabFor is newTab with a deadline of its own, for a test that walks many pages
// (the whole flow shares it).
func newTabFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	browser.once.Do(func() {
		path, err := chromiumPath()
		if err != nil {
			browser.err = err
			return
		}
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true))
		ctx, cancelB := chromedp.NewContext(actx)
		browser.ctx, browser.cancel = ctx, func() { cancelB(); cancelA() }
		browser.err = chromedp.Do(ctx) // start it; no timeout on this first context
	})
	if browser.err != nil {
		ci := ""
		if os.Getenv("CI") == "true" {
			ci = " (CI=true)"
		}
		t.Fatalf("browser tests need Debian's chromium%s: install it with `apt-get install chromium` "+
			"or `make deps-chromium`: %v", ci, browser.err)
	}
	browser.tab.Lock()
	t.Cleanup(browser.tab.Unlock) // cleanups run last-in first-out: after cancel
	tab, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	ctx, stop := context.WithTimeout(tab, timeout)
	t.Cleanup(stop)
	return ctx
}

// stopBrowser closes the shared browser, if a test started it.
func stopBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
}

// Acceptance 7: sign in through the form, see the dashboard, sign out; Back and
// Reload land on the sign-in page, not on a cached dashboard.
func TestBrowserSignInAndOut(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := newTab(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("dashboard")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/admin/") {
		t.Errorf("after sign-in at %q (%v), want /admin/", loc, err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#dashboard h1")))
	if err != nil || !strings.Contains(heading, "Welcome") {
		t.Errorf("dashboard heading %q (%v)", heading, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.NavigateBack(),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("login")),
	)
	if err != nil {
		t.Fatalf("sign out, back, reload: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if u.Path != "/admin/login" {
		t.Errorf("after back and reload at %q, want the sign-in page", loc)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#dashboard").length`)); err != nil || n != 0 {
		t.Errorf("dashboard still on the page after sign-out (%d, %v)", n, err)
	}
}

// With JavaScript, the list's search narrows the list as you type; the URL follows,
// so Reload and Back show the same list.
func TestBrowserLiveSearch(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := newTab(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/login?next=%2Fadmin%2Fusers%2F"),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("user-list")),
		chromedp.SendKeys(chromedp.ID("q"), "view"),
	)
	if err == nil { // Poll returns the predicate's value: a bool, not Void
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("list-count").textContent === "1 user"`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
	}
	if err != nil {
		t.Fatalf("live search: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "q=view") {
		t.Errorf("location after live search %q (%v), want q=view in it", loc, err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#user-list tbody tr").length`)); err != nil || n != 1 {
		t.Errorf("rows after live search: %d (%v), want 1", n, err)
	}
}
