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

// defineSeed is `stockroom seed [--products N] [--categories C] [--orders M] [--append]`:
// deterministic demo data, loaded with COPY. --orders alone adds orders to the
// catalog that is there (seeding products first only into an empty one).
func defineSeed(fs *flag.FlagSet) runFunc {
	products := fs.Int("products", 100_000, "products to add")
	categories := fs.Int("categories", seed.DefaultCategories, "categories to create when there are none")
	orders := fs.Int("orders", 0, "orders to add, with a customer for every ten, spread over the last 90 days")
	add := fs.Bool("append", false, "add to a catalog (or order book) that already has some")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("seed takes no arguments (did you mean --products %s?)", args[0])
		}
		if *products < 0 || *categories < 1 || *orders < 0 {
			return usagef("seed: --products and --orders must be 0 or more and --categories 1 or more")
		}
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
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
		switch {
		case errors.Is(err, seed.ErrNotEmpty) && *orders > 0 && !given["products"]:
			// Only orders were asked for: they are made of the catalog there.
		case err != nil:
			return err
		default:
			fmt.Fprintf(e.stdout, "seeded %d categories, %d products, %d variants in %s\n",
				res.Categories, res.Products, res.Variants, time.Since(start).Round(time.Millisecond))
		}
		if *orders == 0 {
			return nil
		}
		start = time.Now()
		or, err := seed.Orders(ctx, st, seed.OrderOptions{
			Orders: *orders, Currency: e.cfg.Currency, TaxRate: e.cfg.TaxRateBPS, Append: *add,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "seeded %d customers, %d orders, %d order lines, %d timeline entries in %s\n",
			or.Customers, or.Orders, or.Lines, or.Events, time.Since(start).Round(time.Millisecond))
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

// devOrders is how many orders a new dev database gets: enough for a dashboard that
// looks alive, quick to load on first start.
const devOrders = 3000

// seedDev loads the demo shop into a new dev database: 100 categories and 10,000
// products, then 3,000 orders over the last 90 days. A database that has products
// keeps them, and one that has orders keeps those.
func seedDev(ctx context.Context, e *env, st *store.Store) error {
	res, err := seed.Run(ctx, st, seed.Options{Products: 10_000})
	switch {
	case errors.Is(err, seed.ErrNotEmpty):
	case err != nil:
		return fmt.Errorf("demo data: %w", err)
	default:
		fmt.Fprintf(e.stdout, "loaded demo data: %d categories, %d products\n", res.Categories, res.Products)
	}
	or, err := seed.Orders(ctx, st, seed.OrderOptions{Orders: devOrders, Currency: e.cfg.Currency, TaxRate: e.cfg.TaxRateBPS})
	if errors.Is(err, seed.ErrHasOrders) || errors.Is(err, seed.ErrNothingForSale) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo orders: %w", err)
	}
	fmt.Fprintf(e.stdout, "loaded demo orders: %d customers, %d orders\n", or.Customers, or.Orders)
	return nil
}
