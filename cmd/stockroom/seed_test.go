package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stockroom-dev/stockroom/internal/config"
	"github.com/stockroom-dev/stockroom/internal/dbtest"
	"github.com/stockroom-dev/stockroom/internal/store"
)

func TestSeedCommand(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{"STOCKROOM_DATABASE_URL": dbtest.NewURL(t)}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // in stdout
		stderr string // in stderr
	}{
		{"a stray argument", []string{"seed", "500"}, 2, "", "--products 500"},
		{"no categories", []string{"seed", "--categories", "0"}, 2, "", "--categories"},
		{"first load", []string{"seed", "--products", "200", "--categories", "10"}, 0, "seeded 10 categories, 200 products", ""},
		{"a second load is refused", []string{"seed", "--products", "200"}, 1, "", "already has products (200)"},
		{"appending", []string{"seed", "--products", "30", "--append"}, 0, "seeded 0 categories, 30 products", ""},
		{"negative orders", []string{"seed", "--orders", "-1"}, 2, "", "--orders"},
		{"orders alone use the catalog there", []string{"seed", "--orders", "500"}, 0, "seeded 50 customers, 500 orders", ""},
		{"more orders are refused", []string{"seed", "--orders", "10"}, 1, "", "already has orders (500)"},
		{"appending orders", []string{"seed", "--orders", "20", "--append"}, 0, "seeded 2 customers, 20 orders", ""},
		{"products given are still refused", []string{"seed", "--products", "5", "--orders", "5"}, 1, "", "already has products"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := stockroom(ctx, env, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d with %q / %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// dev loads the demo shop, orders included, on its first start only.
func TestSeedDevOnce(t *testing.T) {
	ctx := context.Background()
	st := store.New(dbtest.New(t))
	var out bytes.Buffer
	e := &env{stdout: &out, cfg: config.Config{Currency: "EUR", TaxRateBPS: 1900}}
	for range 2 {
		if err := seedDev(ctx, e, st); err != nil {
			t.Fatal(err)
		}
	}
	want := "loaded demo data: 100 categories, 10000 products\nloaded demo orders: 300 customers, 3000 orders\n"
	if got := out.String(); got != want {
		t.Errorf("output %q, want one load", got)
	}
}
