package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// States are River's job states in the order the jobs page shows them.
var States = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable,
	rivertype.JobStateScheduled, rivertype.JobStatePending, rivertype.JobStateDiscarded,
	rivertype.JobStateCancelled, rivertype.JobStateCompleted,
}

// ValidState reports whether s names a job state.
func ValidState(s string) bool {
	for _, st := range States {
		if string(st) == s {
			return true
		}
	}
	return false
}

// Counts returns how many jobs of the whole cluster are in each state. River's own
// API lists jobs but does not count them, hence the one grouped query here.
func (q *Queue) Counts(ctx context.Context) (map[rivertype.JobState]int64, error) {
	rows, err := q.st.Pool().Query(ctx, "SELECT state::text, count(*) FROM river_job GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	counts := map[rivertype.JobState]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		counts[rivertype.JobState(s)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return counts, nil
}

// Filter selects jobs for List.
type Filter struct {
	State rivertype.JobState // required
	Kind  string             // "" for every kind
	After string             // a cursor from the previous page, "" for the first
	Limit int
}

// Page is one page of jobs, newest first, and the cursor of the next ("" when
// there is none).
type Page struct {
	Jobs []*rivertype.JobRow
	Next string
}

// List returns the jobs f selects, newest first.
func (q *Queue) List(ctx context.Context, f Filter) (Page, error) {
	if q.client == nil {
		return Page{}, ErrNotStarted
	}
	p := river.NewJobListParams().States(f.State).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(f.Limit + 1)
	if f.Kind != "" {
		p = p.Kinds(f.Kind)
	}
	if f.After != "" {
		var c river.JobListCursor
		if err := c.UnmarshalText([]byte(f.After)); err != nil {
			return Page{}, fmt.Errorf("jobs: bad cursor: %w", store.ErrNotFound)
		}
		p = p.After(&c)
	}
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return Page{}, fmt.Errorf("list jobs: %w", err)
	}
	page := Page{Jobs: res.Jobs}
	if len(page.Jobs) > f.Limit {
		page.Jobs = page.Jobs[:f.Limit]
		text, err := river.JobListCursorFromJob(page.Jobs[f.Limit-1]).MarshalText()
		if err != nil {
			return Page{}, fmt.Errorf("list jobs: %w", err)
		}
		page.Next = string(text)
	}
	return page, nil
}

// Retry makes job id available to run again now, whatever state it is in (a
// running one is left alone by River). An unknown id is store.ErrNotFound.
func (q *Queue) Retry(ctx context.Context, id int64) error {
	if q.client == nil {
		return ErrNotStarted
	}
	if _, err := q.client.JobRetry(ctx, id); err != nil {
		return fmt.Errorf("retry job %d: %w", id, notFound(err))
	}
	return nil
}

// Cancel cancels job id: it will not run (again); a running one is told to stop.
func (q *Queue) Cancel(ctx context.Context, id int64) error {
	if q.client == nil {
		return ErrNotStarted
	}
	if _, err := q.client.JobCancel(ctx, id); err != nil {
		return fmt.Errorf("cancel job %d: %w", id, notFound(err))
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, river.ErrNotFound) || errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}
