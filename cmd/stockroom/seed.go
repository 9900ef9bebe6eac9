package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/stockroom-dev/stockroom/internal/seed"
	"github.com/stockroom-dev/stockroom/internal/store"
)

// defineSeed is `stockroom seed [--products N] [--categories C] [--append]`:
// deterministic demo data, loaded with COPY.
func defineSeed(fs *flag.FlagSet) runFunc {
	products := fs.Int("products", 100_000, "products to add")
	categories := fs.Int("categories", seed.DefaultCategories, "categories to create when there are none")
	add := fs.Bool("append", false, "add to a catalog that already has products")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("seed takes no arguments (did you mean --products %s?)", args[0])
		}
		if *products < 0 || *categories < 1 {
			return usagef("seed: --products must be 0 or more and --categories 1 or more")
		}
		st, err := openStore(ctx, e, e.cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := checkMigrated(ctx, st); err != nil {
			return err
		}
		start := time.Now()
		res, err := seed.Run(ctx, st, seed.Options{Products: *products, Categories: *categories, Append: *add})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "seeded %d categories, %d products, %d variants in %s\n",
			res.Categories, res.Products, res.Variants, time.Since(start).Round(time.Millisecond))
		return nil
	}
}

// checkMigrated refuses a database that is not at this binary's schema.
func checkMigrated(ctx context.Context, st *store.Store) error {
	m, err := store.NewMigrator(st.Pool())
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Check(ctx)
}

// seedDev loads the demo shop into a new dev database: 100 categories and 10,000
// products. A database that has products already keeps them.
func seedDev(ctx context.Context, e *env, st *store.Store) error {
	res, err := seed.Run(ctx, st, seed.Options{Products: 10_000})
	if errors.Is(err, seed.ErrNotEmpty) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	fmt.Fprintf(e.stdout, "loaded demo data: %d categories, %d products\n", res.Categories, res.Products)
	return nil
}
