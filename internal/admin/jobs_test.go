package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Acceptance 5: a failing job shows its error and attempts; retry and cancel work;
// only superusers see the page.
func TestJobsPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := context.Background()
	failed, waiting := a.job(), a.job()
	if _, err := a.st.Pool().Exec(ctx, `UPDATE river_job SET state = 'discarded', attempt = 3, max_attempts = 3,
		attempted_at = now(), finalized_at = now(),
		errors = ARRAY['{"at":"2026-12-04T15:00:00Z","attempt":3,"error":"POST https://erp.example/hooks: 503 Service Unavailable"}'::jsonb]
		WHERE id = $1`, failed); err != nil {
		t.Fatal(err)
	}
	c := a.signedIn(superEmail)
	must(t, c.get("/admin/jobs/"), http.StatusOK, "Background jobs", "No retryable jobs.", "discarded <span class=\"count\">(1)</span>")
	r := c.get("/admin/jobs/?state=discarded")
	must(t, r, http.StatusOK, "503 Service Unavailable", "3 of 3", fmt.Sprintf(`action="/admin/jobs/%d/retry"`, failed))
	must(t, c.get("/admin/jobs/?state=discarded&kind=cleanup"), http.StatusOK, "No discarded jobs of kind cleanup.")
	must(t, c.get("/admin/jobs/?state=nonsense"), http.StatusBadRequest)

	back := "/admin/jobs/?state=discarded"
	r = c.post(fmt.Sprintf("/admin/jobs/%d/retry", failed), url.Values{"back": {back}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != back {
		t.Errorf("retry: %d to %q", r.status, r.header.Get("Location"))
	}
	r = c.post(fmt.Sprintf("/admin/jobs/%d/cancel", waiting), url.Values{"back": {"https://evil.example/"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/jobs/" {
		t.Errorf("cancel with an off-site back: %d to %q", r.status, r.header.Get("Location"))
	}
	states := map[int64]string{}
	rows, err := a.st.Pool().Query(ctx, "SELECT id, state::text FROM river_job WHERE id = ANY($1)", []int64{failed, waiting})
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var s string
		rows.Scan(&id, &s)
		states[id] = s
	}
	rows.Close()
	if states[failed] != "available" || states[waiting] != "cancelled" {
		t.Errorf("after retry and cancel: %v", states)
	}
	must(t, c.post("/admin/jobs/999999/retry", url.Values{}), http.StatusNotFound)

	for _, email := range []string{viewEmail, staffEmail} {
		u := a.signedIn(email)
		must(t, u.get("/admin/jobs/"), http.StatusForbidden)
		must(t, u.post(fmt.Sprintf("/admin/jobs/%d/retry", failed), url.Values{}), http.StatusForbidden)
		if r := u.get("/admin/"); r.status == http.StatusOK && strings.Contains(r.body, `href="/admin/jobs/"`) {
			t.Errorf("%s sees the jobs page in the navigation", email)
		}
	}
}
