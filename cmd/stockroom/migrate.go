package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime/debug"

	"github.com/stockroom-dev/stockroom/internal/store"
)

// runMigrate is `stockroom migrate up|down|status`.
func runMigrate(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return usagef("migrate wants one of: up, down, status")
	}
	st, err := openStore(ctx, e, e.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := store.NewMigrator(st.Pool())
	if err != nil {
		return err
	}
	defer m.Close()
	switch args[0] {
	case "up":
		err = m.Up(ctx)
	case "down":
		err = m.Down(ctx)
	default:
		return m.Status(ctx, e.stdout)
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w", args[0], err)
	}
	fmt.Fprintf(e.stdout, "migrate %s: done\n", args[0])
	return m.Status(ctx, e.stdout)
}

// defineCheck is `stockroom check [--deploy]`: config, database and migrations, and
// with --deploy the settings that are unsafe in production (Django's check --deploy).
func defineCheck(fs *flag.FlagSet) runFunc {
	deploy := fs.Bool("deploy", false, "also fail on settings unsafe in production")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("check takes no arguments")
		}
		return runCheck(ctx, e, *deploy)
	}
}

func runCheck(ctx context.Context, e *env, deploy bool) error {
	var problems []string
	if deploy {
		problems = append(problems, e.cfg.DeployProblems()...)
	}
	if e.cfg.DatabaseURL == "" {
		problems = append(problems, "STOCKROOM_DATABASE_URL is not set")
	} else if st, err := openStore(ctx, e, e.cfg.DatabaseURL); err != nil {
		problems = append(problems, err.Error())
	} else {
		defer st.Close()
		if m, err := store.NewMigrator(st.Pool()); err != nil {
			problems = append(problems, err.Error())
		} else {
			defer m.Close()
			if err := m.Check(ctx); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	if deploy {
		for _, w := range e.cfg.DeployWarnings() {
			fmt.Fprintln(e.stdout, "warning: "+w)
		}
	}
	for _, p := range problems {
		fmt.Fprintln(e.stdout, "problem: "+p)
	}
	if len(problems) > 0 {
		return errors.New(plural(len(problems), "problem") + " found")
	}
	fmt.Fprintln(e.stdout, "no problems found")
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// runVersion prints the version and the Go toolchain it was built with.
func runVersion(ctx context.Context, e *env, args []string) error {
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	fmt.Fprintf(e.stdout, "stockroom %s (%s)\n", version, goVersion)
	return nil
}
