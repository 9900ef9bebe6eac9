package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The webhook pages end to end: refused URLs come back with the message and the
// input kept, nothing written; a created endpoint shows its secret once; edits are
// version-checked; test event, resend, rotation and delete (after confirmation) work;
// view-only staff see the log but no buttons.
func TestWebhookPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.signedIn(superEmail)
	ctx := context.Background()
	count := func() int {
		var n int
		if err := a.st.Pool().QueryRow(ctx, "SELECT count(*) FROM webhook_endpoints").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	must(t, c.get("/admin/webhooks/"), http.StatusOK, "No webhook endpoints yet.", `href="/admin/webhooks/new"`)
	key := regexp.MustCompile(`name="form_key" value="([^"]+)"`).FindStringSubmatch(c.get("/admin/webhooks/new").body)
	if key == nil {
		t.Fatal("no form key on the new endpoint form")
	}
	for _, tt := range []struct{ url, msg string }{
		{"http://127.0.0.1:8080/hook", "loopback"},
		{"http://169.254.169.254/latest", "link-local"},
		{"http://10.0.0.1/", "private"},
		{"http://localhost/", "loopback"},
		{"ftp://198.51.100.7/", "must start with http:// or https://"},
	} {
		r := c.post("/admin/webhooks/new", url.Values{"form_key": {key[1]}, "url": {tt.url}, "description": {"ERP"},
			"event_types": {"order.placed"}, "active": {"on"}})
		must(t, r, http.StatusUnprocessableEntity, tt.msg, `value="`+tt.url+`"`, `value="ERP"`,
			`value="order.placed" checked`)
	}
	must(t, c.post("/admin/webhooks/new", url.Values{"form_key": {key[1]}, "url": {"https://198.51.100.7/h"}}),
		http.StatusUnprocessableEntity, "choose at least one event type")
	if n := count(); n != 0 {
		t.Fatalf("refused forms wrote %d endpoints", n)
	}

	form := url.Values{"form_key": {key[1]}, "url": {"https://198.51.100.7/hooks"}, "description": {"ERP"},
		"event_types": {"order.placed", "variant.stock_changed"}, "active": {"on"}}
	r := c.post("/admin/webhooks/new", form)
	must(t, r, http.StatusCreated, "Copy the signing secret now", `id="webhook-secret">whsec_`)
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the secret's page Cache-Control %q, want no-store", cc)
	}
	r = c.post("/admin/webhooks/new", form) // the browser sends it again
	if r.status != http.StatusSeeOther || count() != 1 {
		t.Errorf("form sent twice: %d, %d endpoints", r.status, count())
	}
	var id int64
	if err := a.st.Pool().QueryRow(ctx, "SELECT id FROM webhook_endpoints").Scan(&id); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/admin/webhooks/%d/", id)
	r = c.get(page)
	must(t, r, http.StatusOK, "Nothing sent yet.", `value="variant.stock_changed" checked`, "Send test event")
	if strings.Contains(r.body, "whsec_") {
		t.Error("the endpoint's page shows its secret")
	}
	must(t, c.get("/admin/webhooks/"), http.StatusOK, "https://198.51.100.7/hooks", "Active", "—")

	// Edit: version-checked.
	must(t, c.post(page, url.Values{"version": {"1"}, "url": {"https://198.51.100.7/v2"}, "all_events": {"on"}}),
		http.StatusSeeOther)
	r = c.post(page, url.Values{"version": {"1"}, "url": {"https://198.51.100.7/v3"}, "all_events": {"on"}, "active": {"on"}})
	must(t, r, http.StatusConflict, "Someone changed this endpoint", `value="https://198.51.100.7/v3"`)
	must(t, c.post(page, url.Values{"version": {"2"}, "url": {"http://[::1]/"}, "all_events": {"on"}}),
		http.StatusUnprocessableEntity, "loopback", `value="http://[::1]/"`)
	r = c.get(page)
	must(t, r, http.StatusOK, `value="https://198.51.100.7/v2"`, "This endpoint is turned off")

	// Test event to an endpoint that is off, then on.
	r = c.post(page+"test", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("test event: %d", r.status)
	}
	must(t, c.get(page), http.StatusOK, "turn it on and save")
	must(t, c.post(page, url.Values{"version": {"2"}, "url": {"https://198.51.100.7/v2"}, "all_events": {"on"}, "active": {"on"}}), http.StatusSeeOther)
	must(t, c.post(page+"test", nil), http.StatusSeeOther)
	var delivery int64
	if err := a.st.Pool().QueryRow(ctx, "SELECT id FROM webhook_deliveries WHERE event_type = 'webhook.test'").Scan(&delivery); err != nil {
		t.Fatalf("no test delivery queued: %v", err)
	}
	must(t, c.post(page+"resend", url.Values{"delivery": {fmt.Sprint(delivery)}}), http.StatusSeeOther)
	must(t, c.post(page+"resend", url.Values{"delivery": {"999999"}}), http.StatusNotFound)

	// Rotation: confirmation, then the new secret once.
	must(t, c.get(page+"rotate"), http.StatusOK, "Yes, rotate")
	must(t, c.post(page+"rotate", nil), http.StatusOK, `id="webhook-secret">whsec_`, "keeps signing too")
	must(t, c.get(page), http.StatusOK, "The previous secret also signs until")

	// View-only staff: the page and the log, no buttons; their posts are refused.
	v := a.signedIn(viewEmail)
	r = v.get(page)
	must(t, r, http.StatusOK, "You can view this endpoint but not change it.")
	if strings.Contains(r.body, "Send test event") || strings.Contains(r.body, "Rotate secret") {
		t.Error("view-only staff see action buttons")
	}
	must(t, v.post(page+"rotate", nil), http.StatusForbidden)
	must(t, a.signedIn(staffEmail).get("/admin/webhooks/"), http.StatusForbidden)

	// Delete after confirmation.
	must(t, c.get(page+"delete"), http.StatusOK, "Delete webhook endpoint", "its delivery log")
	must(t, c.post(page+"delete", url.Values{"version": {"1"}}), http.StatusConflict, "changed since this page was opened")
	var version int
	a.st.Pool().QueryRow(ctx, "SELECT version FROM webhook_endpoints WHERE id = $1", id).Scan(&version)
	must(t, c.post(page+"delete", url.Values{"version": {fmt.Sprint(version)}}), http.StatusSeeOther)
	if n := count(); n != 0 {
		t.Errorf("%d endpoints after delete", n)
	}
}
