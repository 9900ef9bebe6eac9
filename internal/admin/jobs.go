package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/riverqueue/river/rivertype"

	"github.com/stockroom-dev/stockroom/internal/keyset"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
)

// The background jobs page, for superusers only: how many jobs are in each state,
// the jobs of one state (newest first, filtered by kind) with their attempts and
// errors, and buttons to retry or cancel one. Its permission, jobs.manage, is in no
// permissions table, so no group can grant it: only superusers hold every
// permission. (River's own UI, riverui, was not mounted: see the README.)

const jobsPath = "/admin/jobs/"

// jobState is one tab of the page: a state and how many jobs are in it.
type jobState struct {
	State   string
	Count   int64
	Current bool
	Href    string
}

// jobItem is one job as the page shows it.
type jobItem struct {
	*rivertype.JobRow
	LastError string
}

// CanRetry and CanCancel say which buttons a job gets.
func (j jobItem) CanRetry() bool {
	return j.State != rivertype.JobStateRunning && j.State != rivertype.JobStateAvailable
}

func (j jobItem) CanCancel() bool {
	switch j.State {
	case rivertype.JobStateAvailable, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		rivertype.JobStateRunning, rivertype.JobStatePending:
		return true
	}
	return false
}

// jobsPage is the page.
type jobsPage struct {
	Layout
	States []jobState
	State  string
	Kind   string
	Jobs   []jobItem
	Next   string // the next page's link, "" on the last
	Back   string // this page, where the buttons come back to
}

// listJobs is GET /admin/jobs/?state=...&kind=...&after=...
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = string(rivertype.JobStateRetryable)
	}
	kind := strings.TrimSpace(q.Get("kind"))
	if !jobs.ValidState(state) {
		return fmt.Errorf("%w: state %q is not a job state", web.ErrBadRequest, state)
	}
	if !validator.MaxLen(kind, 200) {
		return fmt.Errorf("%w: the kind filter is over 200 characters", web.ErrBadRequest)
	}
	pg := &jobsPage{Layout: Layout{Title: "Background jobs"}, State: state, Kind: kind}
	counts, err := s.jobs.Counts(r.Context())
	if err != nil {
		return err
	}
	for _, st := range jobs.States {
		v := url.Values{"state": {string(st)}}
		if kind != "" {
			v.Set("kind", kind)
		}
		pg.States = append(pg.States, jobState{State: string(st), Count: counts[st], Current: string(st) == state,
			Href: jobsPath + "?" + v.Encode()})
	}
	page, err := s.jobs.List(r.Context(), jobs.Filter{State: rivertype.JobState(state), Kind: kind, After: q.Get("after"), Limit: keyset.DefaultLimit})
	if errors.Is(err, store.ErrNotFound) { // a cursor that is not one of ours: start over
		page, err = s.jobs.List(r.Context(), jobs.Filter{State: rivertype.JobState(state), Kind: kind, Limit: keyset.DefaultLimit})
	}
	if err != nil {
		return err
	}
	for _, j := range page.Jobs {
		item := jobItem{JobRow: j}
		if n := len(j.Errors); n > 0 {
			item.LastError = j.Errors[n-1].Error
		}
		pg.Jobs = append(pg.Jobs, item)
	}
	v := url.Values{"state": {state}}
	if kind != "" {
		v.Set("kind", kind)
	}
	pg.Back = jobsPath + "?" + v.Encode()
	if page.Next != "" {
		v.Set("after", page.Next)
		pg.Next = jobsPath + "?" + v.Encode()
	}
	return s.render(w, r, http.StatusOK, "jobs/list", pg)
}

// retryJob is POST /admin/jobs/{id}/retry: run the job again now.
func (s *Server) retryJob(w http.ResponseWriter, r *http.Request) error {
	return s.jobAction(w, r, s.jobs.Retry, "Job %d will run again now.")
}

// cancelJob is POST /admin/jobs/{id}/cancel: it will not run (again); a running one
// is told to stop.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) error {
	return s.jobAction(w, r, s.jobs.Cancel, "Job %d was cancelled.")
}

func (s *Server) jobAction(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, id int64) error, done string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := readConfirm(w, r); err != nil {
		return err
	}
	if err := act(r.Context(), id); err != nil {
		return err
	}
	return s.redirect(w, r, safeLocal(r.PostFormValue("back"), jobsPath, jobsPath), fmt.Sprintf(done, id))
}
