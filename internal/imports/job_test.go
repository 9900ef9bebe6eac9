package imports_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/stockroom-dev/stockroom/internal/catalog"
	"github.com/stockroom-dev/stockroom/internal/db"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/imports"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/store/jobs"
)

// TestJob: on a working River queue, an upload is planned by its job without anyone
// calling Run, and a confirmation applies it.
func TestJob(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.NewWithConfig(t, func(c *pgxpool.Config) { c.MaxConns = 6 }))
	q := jobs.New(st, slog.New(slog.DiscardHandler), jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
	svc := imports.New(st, imports.Config{Currency: "EUR"}, q)
	jobs.AddWorker(q, &imports.Worker{Imports: svc})
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	e := &env{st: st, cat: catalog.New(st, catalog.Config{MediaDir: t.TempDir()}), imp: svc}
	f := e.fixture(t)

	imp, err := svc.Create(ctx, imports.Upload{FileName: "stock.csv", Data: []byte(lines("sku,stock", "ch-1,40")), Actor: editor})
	if err != nil {
		t.Fatal(err)
	}
	imp = waitFor(t, svc, imp.ID, imports.StatusPlanned)
	if imp.ToUpdate != 1 {
		t.Fatalf("planned %d updates, want 1", imp.ToUpdate)
	}
	if _, err := svc.Confirm(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	imp = waitFor(t, svc, imp.ID, imports.StatusApplied)
	p, err := e.cat.Product(ctx, f.chair.ID)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Applied != 1 || p.Variants[0].Stock != 40 {
		t.Errorf("applied %d, stock %d; want 1 and 40", imp.Applied, p.Variants[0].Stock)
	}
}

// waitFor polls import id until it reaches status, and fails on any other end.
func waitFor(t *testing.T, svc *imports.Service, id int64, status string) db.Import {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		imp, err := svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status == status {
			return imp
		}
		if imp.Status == imports.StatusFailed || imp.Status == imports.StatusCancelled || time.Now().After(deadline) {
			t.Fatalf("import %d is %s (%s), want %s", id, imp.Status, imp.Failure, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestResume: imports whose jobs are gone or stuck (a process killed mid-apply,
// whose job River only rescues minutes later) are taken up by the periodic resume
// job, which runs as soon as a working process starts.
func TestResume(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.NewWithConfig(t, func(c *pgxpool.Config) { c.MaxConns = 6 }))
	noJobs := imports.New(st, imports.Config{Currency: "EUR"}, nil)
	e := &env{st: st, cat: catalog.New(st, catalog.Config{MediaDir: t.TempDir()}), imp: noJobs}
	e.fixture(t)
	e.products(t, imports.ApplyBatch+10)
	var b strings.Builder
	b.WriteString("sku,stock\n")
	for i := 1; i <= imports.ApplyBatch+10; i++ {
		fmt.Fprintf(&b, "SKU-%d,3\n", i)
	}
	killed := e.plan(t, b.String())
	if _, err := noJobs.Confirm(ctx, killed.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := noJobs.ApplyOneBatch(ctx, killed.ID); err != nil { // then the process died
		t.Fatal(err)
	}
	queued, err := noJobs.Create(ctx, imports.Upload{FileName: "later.csv", Data: []byte(lines("sku,stock", "CH-1,8")), Actor: editor})
	if err != nil {
		t.Fatal(err)
	}

	q := jobs.New(st, slog.New(slog.DiscardHandler), jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
	svc := imports.New(st, imports.Config{Currency: "EUR"}, q)
	jobs.AddWorker(q, &imports.Worker{Imports: svc})
	jobs.AddWorker(q, &imports.ResumeWorker{Imports: svc})
	q.AddPeriodic(imports.ResumeEvery, func() (river.JobArgs, *river.InsertOpts) { return imports.ResumeArgs{}, nil }, true)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	imp := waitFor(t, svc, killed.ID, imports.StatusApplied)
	if imp.Applied != imports.ApplyBatch+10 {
		t.Errorf("resumed import applied %d, want %d", imp.Applied, imports.ApplyBatch+10)
	}
	waitFor(t, svc, queued.ID, imports.StatusPlanned)
}
