package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

var webhookPerms = []string{"webhooks.view", "webhooks.add", "webhooks.change", "webhooks.delete"}

// The webhook endpoints through the API: the secret once at creation and rotation,
// never on GET or in lists; refused URLs are 422 and write nothing; the delivery log,
// the test event, edit and delete; no permission, no access.
func TestWebhooksAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.clerk(t, webhookPerms...)

	before := h.writes(t)
	for _, url := range []string{"http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/", "http://10.0.0.1/",
		"http://localhost:9000/", "ftp://198.51.100.7/"} {
		r := h.call(t, "POST", "/api/v1/webhooks", tok, fmt.Sprintf(`{"url":%q,"event_types":["*"]}`, url))
		if r.status != http.StatusUnprocessableEntity || r.problem(t).fields()["url"] == "" {
			t.Errorf("POST url %s = %d %s, want 422 on url", url, r.status, r.body)
		}
	}
	if r := h.call(t, "POST", "/api/v1/webhooks", tok, `{"url":"https://198.51.100.7/h","event_types":[]}`); r.status != 422 ||
		!strings.Contains(r.problem(t).fields()["event_types"], "at least one") {
		t.Errorf("POST without event types = %d %s", r.status, r.body)
	}
	if after := h.writes(t); after != before {
		t.Errorf("refused creations wrote: before %s, after %s", before, after)
	}

	r := h.call(t, "POST", "/api/v1/webhooks", tok, `{"url":"https://198.51.100.7/hooks","description":"ERP","event_types":["order.placed","variant.stock_changed"]}`)
	if r.status != http.StatusCreated || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST = %d (Cache-Control %q) %s", r.status, r.header.Get("Cache-Control"), r.body)
	}
	var created webhookBody
	r.decode(t, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || !created.Active || len(created.EventTypes) != 2 {
		t.Errorf("created = %+v", created)
	}
	path := fmt.Sprintf("/api/v1/webhooks/%d", created.ID)
	for _, p := range []string{path, "/api/v1/webhooks"} {
		if r := h.call(t, "GET", p, tok, ""); r.status != 200 || strings.Contains(string(r.body), "whsec_") {
			t.Errorf("GET %s = %d and shows a secret: %s", p, r.status, r.body)
		}
	}

	r = h.call(t, "PATCH", path, tok, `{"active":false,"event_types":["*"]}`)
	var patched webhookBody
	r.decode(t, &patched)
	if r.status != 200 || patched.Active || patched.EventTypes[0] != "*" || patched.Version != created.Version+1 {
		t.Errorf("PATCH = %d %s", r.status, r.body)
	}
	if r := h.call(t, "PATCH", path, tok, `{"url":"http://10.1.2.3/"}`); r.status != 422 {
		t.Errorf("PATCH to a private URL = %d %s", r.status, r.body)
	}
	if r := h.call(t, "POST", path+"/test", tok, ""); r.status != http.StatusConflict {
		t.Errorf("test event to a turned-off endpoint = %d %s, want 409", r.status, r.body)
	}
	h.call(t, "PATCH", path, tok, `{"active":true}`)
	if r := h.call(t, "POST", path+"/test", tok, ""); r.status != http.StatusAccepted {
		t.Errorf("test event = %d %s, want 202", r.status, r.body)
	}
	r = h.call(t, "GET", path+"/deliveries", tok, "")
	var deliveries struct{ Data []webhookDelivery }
	r.decode(t, &deliveries)
	if r.status != 200 || len(deliveries.Data) != 1 || deliveries.Data[0].EventType != "webhook.test" || deliveries.Data[0].State != "pending" {
		t.Fatalf("deliveries = %d %s", r.status, r.body)
	}
	if r := h.call(t, "POST", fmt.Sprintf("%s/deliveries/%d/resend", path, deliveries.Data[0].ID), tok, ""); r.status != http.StatusAccepted {
		t.Errorf("resend = %d %s", r.status, r.body)
	}

	r = h.call(t, "POST", path+"/rotate-secret", tok, "")
	var rotated webhookBody
	r.decode(t, &rotated)
	if r.status != 200 || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret || rotated.PreviousSecretExpiresAt == nil {
		t.Errorf("rotate = %d %s", r.status, r.body)
	}

	reader := h.clerk(t, "webhooks.view")
	if r := h.call(t, "DELETE", path, reader, ""); r.status != http.StatusForbidden {
		t.Errorf("DELETE without webhooks.delete = %d", r.status)
	}
	if r := h.call(t, "GET", "/api/v1/webhooks", h.clerk(t, "products.view"), ""); r.status != http.StatusForbidden {
		t.Errorf("GET without webhooks.view = %d", r.status)
	}
	if r := h.call(t, "DELETE", path, tok, ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE = %d %s", r.status, r.body)
	}
	if r := h.call(t, "GET", path, tok, ""); r.status != http.StatusNotFound {
		t.Errorf("GET after DELETE = %d", r.status)
	}
}
