package admin

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stockroom-dev/stockroom/internal/audit"
	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/events"
	"github.com/stockroom-dev/stockroom/internal/store/listen"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// liveApp is the test app served with live pages: the process's LISTEN connection,
// the principal cache it keeps fresh and the event hub, as main wires them.
type liveApp struct {
	*testApp
	hub *events.Hub
}

func newLiveApp(t *testing.T) *liveApp {
	t.Helper()
	a := newTestApp(t)
	log := slog.New(slog.NewTextHandler(a.logs, nil))
	cache := auth.NewPrincipalCache(0, 0)
	lst := listen.New(a.st.Pool(), log)
	lst.Handle(auth.ChangesChannel, cache.Handler())
	hub := events.NewHub(a.st, log, events.Options{AuthGeneration: cache.Generation})
	lst.Handle(events.Channel, hub.Handler())
	lst.Handle(events.PresenceChannel, hub.PresenceHandler())
	sessions := session.New(a.st, a.auth, log, session.Options{Idle: time.Hour, Lifetime: 2 * time.Hour})
	t.Cleanup(sessions.Close)
	s, err := New(Options{Auth: a.auth, Sessions: sessions, Log: log, Catalog: a.cat, Orders: a.ord,
		Audit: audit.New(a.st), MediaDir: a.media, Currency: "EUR", Events: hub, Imports: a.imp})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if _, err := s.Routes(mux); err != nil {
		t.Fatal(err)
	}
	a.srv = httptest.NewServer(web.Middleware(log, nil, mux))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { lst.Run(ctx) })
	wg.Go(func() { hub.Run(ctx) })
	t.Cleanup(func() {
		a.srv.CloseClientConnections()
		a.srv.Close()
		cancel()
		wg.Wait()
	})
	return &liveApp{testApp: a, hub: hub}
}

// waitStreams waits until n event streams are open: the page's EventSource is
// connected and will hear what is written from now on.
func (a *liveApp) waitStreams(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for a.hub.Streams() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d event streams open, want %d", a.hub.Streams(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// poll waits in the tab until the JavaScript expression is true.
func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, text)
	}
}

// Changes made elsewhere (here through the domain, as the API or another admin
// would) show on the open pages without a reload: a product list row, the order
// list's notice and rows, the "changed by someone else" banner of an edit page and
// of an order page with its timeline, and the dashboard's figures.
func TestBrowserLivePages(t *testing.T) {
	t.Parallel()
	a := newLiveApp(t)
	variant := a.productWithStock("Oak chair", "OAK-1", 4900, 7)
	var productID int64
	if err := a.st.Pool().QueryRow(context.Background(), `SELECT product_id FROM product_variants WHERE id = $1`, variant).Scan(&productID); err != nil {
		t.Fatal(err)
	}
	first := a.order("ada@example.com", variant, 1)
	ctx := newTab(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/admin/login?next=%2Fadmin%2Fproducts%2F"),
		chromedp.SendKeys(chromedp.ID("email"), superEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("product-list")),
		chromedp.Click(chromedp.ID("select-product-"+itoa(productID))), // a checked box survives the update
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	a.waitStreams(t, 1)
	ctxBg := context.Background()
	if _, err := a.cat.AdjustStock(ctxBg, fixture, variant, 5, "delivery"); err != nil {
		t.Fatal(err)
	}
	row := `document.getElementById("product-` + itoa(productID) + `")`
	poll(t, ctx, "the stock cell to show 11", row+`.innerText.includes("11")`)
	if checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("select-product-`+itoa(productID)+`").checked`)); err != nil || !checked {
		t.Errorf("the row's checkbox after the update: checked %v (%v), want still checked", checked, err)
	}

	// The product's edit page: a change by someone else raises the banner.
	err = chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/products/"+itoa(productID)+"/"),
		chromedp.WaitVisible(chromedp.ID("product-form")))
	if err != nil {
		t.Fatal(err)
	}
	a.waitStreams(t, 1)
	if _, err := a.cat.AdjustStock(ctxBg, fixture, variant, -1, "breakage"); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the changed-by-someone-else banner", `document.querySelector("#live-banner .live-notice")?.innerText.includes("fixture changed the stock")`)
	// Someone else opens the page (a stream watching it): the page says who is there.
	other := a.signedIn(viewEmail).watch(t, "products-"+itoa(productID))
	poll(t, ctx, "the presence notice", `document.getElementById("presence").innerText.includes("`+viewEmail+`")`)
	other.close()
	poll(t, ctx, "the presence notice to go", `!document.getElementById("presence").innerText.includes("`+viewEmail+`")`)

	// The order list (newest first, first page): a new order's row appears at the top,
	// highlighted, a checked box on another row stays checked; a moved one's row changes.
	err = chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/orders/"), chromedp.WaitVisible(chromedp.ID("order-list")),
		chromedp.Click(chromedp.ID("select-order-"+itoa(first.ID))))
	if err != nil {
		t.Fatal(err)
	}
	a.waitStreams(t, 1)
	second := a.order("bob@example.com", variant, 1)
	third := a.order("cy@example.com", variant, 1)
	rows := `document.querySelectorAll("#order-rows > tr")`
	poll(t, ctx, "the new orders' rows at the top, highlighted", rows+`.length === 3 && `+rows+`[0].id === "order-`+itoa(third.ID)+
		`" && `+rows+`[1].id === "order-`+itoa(second.ID)+`" && `+rows+`[0].classList.contains("live-new") && `+rows+`[1].classList.contains("live-new")`)
	if checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("select-order-`+itoa(first.ID)+`").checked && !`+rows+`[2].classList.contains("live-new")`)); err != nil || !checked {
		t.Errorf("the first order's checkbox after the insertions: checked %v (%v), want still checked", checked, err)
	}
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("orders-placed") !== null`)); err != nil || shown {
		t.Errorf("the new-orders notice is on a list that inserts new rows (%v)", err)
	}
	a.move(first.ID, "paid")
	poll(t, ctx, "the moved order's row", `document.getElementById("order-`+itoa(first.ID)+`").innerText.toLowerCase().includes("paid")`)
	if checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("select-order-`+itoa(first.ID)+`").checked`)); err != nil || !checked {
		t.Errorf("the moved order's checkbox: checked %v (%v), want still checked", checked, err)
	}

	// Sorted otherwise, a row put at the top would be in the wrong place: the list
	// announces new orders instead.
	err = chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/orders/?sort=total"), chromedp.WaitVisible(chromedp.ID("order-list")))
	if err != nil {
		t.Fatal(err)
	}
	a.waitStreams(t, 1)
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("orders-placed").offsetParent !== null`)); err != nil || shown {
		t.Errorf("the new-orders notice shows before any order (%v)", err)
	}
	a.order("dee@example.com", variant, 1)
	poll(t, ctx, "the new-orders notice", `document.getElementById("orders-placed").offsetParent !== null && document.getElementById("orders-placed").innerText.startsWith("1 new order")`)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#order-rows > tr").length`)); err != nil || n != 3 {
		t.Errorf("rows on the list sorted by total: %d (%v), want the 3 it opened with", n, err)
	}

	// The order page: the timeline grows and the banner names who moved it.
	err = chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/orders/"+itoa(first.ID)+"/"), chromedp.WaitVisible(chromedp.ID("timeline")))
	if err != nil {
		t.Fatal(err)
	}
	a.waitStreams(t, 1)
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#timeline li").length`))
	if err != nil {
		t.Fatal(err)
	}
	a.move(first.ID, "fulfilled")
	poll(t, ctx, "the timeline to grow", `document.querySelectorAll("#timeline li").length > `+itoa(int64(before)))
	// a.move acts as the fixtures' principal, labelled "fixture" (orders_helpers_test.go).
	poll(t, ctx, "the order's banner", `document.querySelector("#live-banner")?.innerText.includes("fixture moved this order")`)

	// The dashboard: the orders waiting to be fulfilled.
	err = chromedp.Do(ctx, chromedp.Navigate(a.srv.URL+"/admin/"), chromedp.WaitVisible(chromedp.ID("awaiting")))
	if err != nil {
		t.Fatal(err)
	}
	a.waitStreams(t, 1)
	was, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("awaiting")))
	if err != nil {
		t.Fatal(err)
	}
	a.move(second.ID, "paid")
	poll(t, ctx, "the orders waiting to be fulfilled to move", `document.getElementById("awaiting").innerText.trim() !== "`+strings.TrimSpace(was)+`"`)
}

// The order list's answer to its own request on order.placed (?newer=ID): the new
// order's row, highlighted, only when the order passes the list's filters and the
// list shows newest first from its first page; else nothing at all.
func TestOrderListNewRows(t *testing.T) {
	t.Parallel()
	a := newLiveApp(t)
	variant := a.productWithStock("Oak chair", "OAK-1", 4900, 7)
	old := a.order("ada@example.com", variant, 1)
	placed := a.order("bob@example.com", variant, 1)
	c := a.signedIn(superEmail)
	newer := "newer=" + itoa(old.ID)
	r := c.get("/admin/orders/?" + newer)
	if r.status != 200 || !strings.Contains(r.body, `<tr id="order-`+itoa(placed.ID)+`" class="live-new" hx-get="/admin/orders/" hx-select="#order-`+itoa(placed.ID)+`"`) ||
		strings.Contains(r.body, `id="order-`+itoa(old.ID)+`"`) || strings.Contains(r.body, "<main") ||
		!strings.Contains(r.body, `id="orders-newer" name="newer" value="`+itoa(placed.ID)+`" hx-swap-oob="true"`) {
		t.Errorf("the new order on the unfiltered list: status %d, body:\n%s", r.status, r.body)
	}
	if page := c.get("/admin/orders/"); !strings.Contains(page.body, `id="orders-newer" name="newer" value="`+itoa(placed.ID)+`"`) ||
		strings.Contains(page.body, `id="orders-placed"`) {
		t.Errorf("the list, newest first, carries no marker of its newest order or still has the notice:\n%s", page.body)
	}
	for _, q := range []string{
		"status=paid&" + newer,                 // outside the filters (it is pending)
		"q=ada&" + newer,                       // outside the search
		"newer=" + itoa(placed.ID),             // nothing newer than the page has
		"sort=total&" + newer,                  // another ordering: the notice's business
		"sort=placed_at&" + newer,              // oldest first
		"status=pending&q=bob&" + newer + "&x", // inside: the control
	} {
		r := c.get("/admin/orders/?" + q)
		inside := strings.HasPrefix(q, "status=pending")
		if r.status != 200 || (strings.TrimSpace(r.body) == "") == inside {
			t.Errorf("?%s: status %d, body %q", q, r.status, r.body)
		}
	}
}

// Without an event hub the pages have no live parts and link no extension.
func TestPagesWithoutHubAreNotLive(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	r := c.get("/admin/orders/")
	if r.status != 200 || strings.Contains(r.body, "sse-connect") || strings.Contains(r.body, "htmx-ext-sse") {
		t.Errorf("order list without a hub: status %d, live parts present", r.status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// presenceStream is an admin event stream watching an object, read frame by frame.
type presenceStream struct {
	frames chan [2]string // event, data
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *client) watch(t *testing.T, object string) *presenceStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.a.srv.URL+"/admin/events?watch="+object, nil)
	resp, err := c.c.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("open a stream watching %s: %v %v", object, resp, err)
	}
	p := &presenceStream{frames: make(chan [2]string, 100), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var event string
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				event = v
			} else if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				p.frames <- [2]string{event, v}
			}
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *presenceStream) close() {
	p.cancel()
	<-p.done
}

// until reads presence frames until one satisfies ok.
func (p *presenceStream) until(t *testing.T, what string, ok func(data string) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case f := <-p.frames:
			if strings.HasPrefix(f[0], "presence-") && ok(f[1]) {
				return
			}
		case <-timeout:
			t.Fatalf("no presence frame with %s within 30 s", what)
		}
	}
}

// Presence: two people on one product page each see the other; when one leaves, the
// other's page says so at once. Someone who may not view products learns nothing.
func TestPresence(t *testing.T) {
	t.Parallel()
	a := newLiveApp(t)
	variant := a.productWithStock("Oak chair", "OAK-1", 4900, 7)
	var id int64
	if err := a.st.Pool().QueryRow(context.Background(), `SELECT product_id FROM product_variants WHERE id = $1`, variant).Scan(&id); err != nil {
		t.Fatal(err)
	}
	object := "products-" + itoa(id)
	super, viewer := a.signedIn(superEmail).watch(t, object), a.signedIn(viewEmail).watch(t, object)
	super.until(t, "the viewer", func(d string) bool { return strings.Contains(d, viewEmail) })
	viewer.until(t, "the superuser", func(d string) bool { return strings.Contains(d, superEmail) })
	viewer.close()
	super.until(t, "nobody else", func(d string) bool { return !strings.Contains(d, viewEmail) })

	staff := a.signedIn(staffEmail).watch(t, object) // no products.view: not watching
	var n int
	if err := a.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM presence`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d presence rows (%v), want 1: the staff user without products.view is not recorded", n, err)
	}
	staff.close()
}

// The admin stream re-reads its session when permissions change: a user deactivated
// while a tab is open gets a last reconnect event and the stream ends (the reconnect
// then finds no session).
func TestAdminStreamEndsWhenUserIsDeactivated(t *testing.T) {
	t.Parallel()
	a := newLiveApp(t)
	s := a.signedIn(viewEmail).watch(t, "products-1")
	a.waitStreams(t, 1)
	if _, err := a.st.Pool().Exec(context.Background(), `UPDATE users SET is_active = false WHERE id = $1`, a.ids[viewEmail]); err != nil {
		t.Fatal(err)
	}
	var last [2]string
	timeout := time.After(60 * time.Second)
	for {
		select {
		case f := <-s.frames:
			last = f
			continue
		case <-s.done:
		case <-timeout:
			t.Fatal("the deactivated user's stream is still open after 60 s")
		}
		break
	}
	for len(s.frames) > 0 { // read before the end, not yet taken
		last = <-s.frames
	}
	if last[0] != "reconnect" || !strings.Contains(last[1], "signed out") {
		t.Errorf("the stream's last frame %q %s, want a reconnect saying signed out", last[0], last[1])
	}
	a.waitStreams(t, 0)
}

// Someone whose instance died (its stream never left, its row is no longer
// refreshed) drops out of the others' presence notice within 30 s of the last
// refresh, without any event: each instance tells its viewers again every 10 s.
func TestPresenceOfADeadInstanceExpires(t *testing.T) {
	t.Parallel()
	a := newLiveApp(t)
	const object = "products-424242"
	// The row a dead instance left: refreshed 22 s ago, for the last time.
	if _, err := a.st.Pool().Exec(context.Background(), `INSERT INTO presence (stream_id, object, user_id, label, seen_at)
		VALUES ('dead-instance-stream', $1, $2, 'Ghost Viewer', now() - interval '22 seconds')`, object, a.ids[viewEmail]); err != nil {
		t.Fatal(err)
	}
	s := a.signedIn(superEmail).watch(t, object)
	s.until(t, "the ghost", func(d string) bool { return strings.Contains(d, "Ghost Viewer") })
	s.until(t, "the ghost gone", func(d string) bool { return !strings.Contains(d, "Ghost Viewer") })
}
