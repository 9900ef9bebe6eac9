package imports_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stockroom-dev/stockroom/internal/imports"
)

// BenchmarkImport100k measures the sixth acceptance check: the dry run and
// the apply of 100,000 rows that create products, then of 100,000 rows that update
// them (a new price and stock each). Each loop imports new SKUs, so every round
// creates and updates as many. Run it alone:
//
//	go test -run '^$' -bench Import100k -benchtime 1x ./internal/imports
//
// It reports the seconds of each phase and the process's peak RSS (the test binary:
// the import's own memory; PostgreSQL's is its own).
func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	e := newEnv(b)
	ctx := context.Background()
	round := 0
	var planCreate, applyCreate, planUpdate, applyUpdate time.Duration
	phase := func(file string, want int32) (plan, apply time.Duration) {
		start := time.Now()
		imp, err := e.imp.Create(ctx, imports.Upload{FileName: "bench.csv", Data: []byte(file), Actor: editor, CanCreate: true})
		if err != nil {
			b.Fatal(err)
		}
		if imp, err = e.imp.Plan(ctx, imp.ID); err != nil {
			b.Fatal(err)
		}
		plan = time.Since(start)
		if imp.ToCreate+imp.ToUpdate != want || imp.ErrorRows != 0 {
			b.Fatalf("planned %d creates, %d updates, %d errors; want %d changes", imp.ToCreate, imp.ToUpdate, imp.ErrorRows, want)
		}
		start = time.Now()
		if _, err := e.imp.Confirm(ctx, imp.ID); err != nil {
			b.Fatal(err)
		}
		if imp, err = e.imp.Run(ctx, imp.ID); err != nil {
			b.Fatal(err)
		}
		apply = time.Since(start)
		if imp.Status != imports.StatusApplied || imp.Applied != want {
			b.Fatalf("apply: %s, %d applied, want %d", imp.Status, imp.Applied, want)
		}
		return plan, apply
	}
	for b.Loop() {
		round++
		var create, update strings.Builder
		create.WriteString("name,slug,status,sku,price_min (EUR),stock\n")
		update.WriteString("sku,price_min (EUR),stock\n")
		for i := range n {
			fmt.Fprintf(&create, "Bench product %d-%d,bench-%d-%d,active,B%d-%d,%d.%02d,%d\n", round, i, round, i, round, i, 10+i%90, i%100, i%50)
			fmt.Fprintf(&update, "b%d-%d,%d.%02d,%d\n", round, i, 11+i%90, i%100, i%50+1)
		}
		p, a := phase(create.String(), n)
		planCreate, applyCreate = planCreate+p, applyCreate+a
		p, a = phase(update.String(), n)
		planUpdate, applyUpdate = planUpdate+p, applyUpdate+a
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(round) }
	b.ReportMetric(per(planCreate), "s/dry-run-create")
	b.ReportMetric(per(applyCreate), "s/apply-create")
	b.ReportMetric(per(planUpdate), "s/dry-run-update")
	b.ReportMetric(per(applyUpdate), "s/apply-update")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "MiB-peak-RSS")
	}
}
