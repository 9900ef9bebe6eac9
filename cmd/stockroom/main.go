// Command stockroom is the back office of an online shop in one binary: the admin
// panel, the JSON API and the management commands (like Django's manage.py).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/stockroom-dev/stockroom/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a mistake in how stockroom was called: exit status 2.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitCode prints err as one line and maps it to the exit status: 0 ok, 2 usage, 1
// anything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, config.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "stockroom: "+strings.ReplaceAll(err.Error(), "\n", "; "))
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// env is what every command gets: its config, its streams and its logger.
type env struct {
	cfg    config.Config
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// noWorkers: serve or dev with --no-workers (insert jobs, run none).
	noWorkers bool
}

// runFunc runs a command once its flags are parsed.
type runFunc func(ctx context.Context, e *env, args []string) error

// command is one subcommand. Adding one is a line in commands and a function.
type command struct {
	args    string // synopsis of the arguments after the flags
	summary string
	mode    config.Mode // which defaults the config takes
	// define registers the command's own flags on fs and returns the command, which
	// reads them once they are parsed.
	define func(fs *flag.FlagSet) runFunc
}

// noFlags is define for a command that takes only the common settings.
func noFlags(run runFunc) func(fs *flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc { return run }
}

func commands() map[string]command {
	return map[string]command{
		"dev":     {"[--no-workers] [--instances N]", "run on a private PostgreSQL cluster with demo data (no config needed); --instances N: a local scale-out cluster behind haproxy", config.Dev, defineDev},
		"serve":   {"[--no-workers]", "run the production server (config from STOCKROOM_* variables)", config.Serve, defineServing(runServe)},
		"worker":  {"", "run background jobs only (for deployments that serve with --no-workers)", config.Serve, noFlags(runWorker)},
		"migrate": {"up|down|status", "apply, roll back or list schema migrations", config.Serve, noFlags(runMigrate)},
		"check":   {"[--deploy]", "check config, database and migrations; --deploy: production settings too", config.Serve, defineCheck},
		"seed":    {"[--products N] [--categories C] [--orders M] [--append]", "load deterministic demo data (products, orders) into an empty shop", config.Serve, defineSeed},
		"version": {"", "print the version", config.Serve, noFlags(runVersion)},

		// Staff users.
		"createsuperuser": {"--email E [--name N] [--password-stdin]", "add a staff user with every permission", config.Serve, defineCreateSuperuser},
		"changepassword":  {"--email E [--password-stdin]", "set a staff user's password (ends their sessions)", config.Serve, defineChangePassword},

		// API tokens.
		"token": {"create|list|revoke ID", "API tokens: create (secret printed once), list, revoke", config.Serve, defineToken},
	}
}

// run is main without the process: tests call it with their own arguments,
// environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) > 1 && args[0] == "help" {
		args = []string{args[1], "--help"} // stockroom help serve
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout, cmds)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	name := args[0]
	c, ok := cmds[name]
	if !ok {
		return usagef("unknown command %q (see stockroom help)", name)
	}
	fs := flag.NewFlagSet("stockroom "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	runCmd := c.define(fs)
	cfg, rest, err := config.Load(c.mode, fs, args[1:], getenv)
	if err != nil {
		if errors.Is(err, config.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	e := &env{cfg: cfg, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	return runCmd(ctx, e, rest)
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: stockroom <command> [flags] [arguments]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", strings.TrimSpace(n+" "+cmds[n].args), cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery setting is a STOCKROOM_* variable or a flag of the same name:\nstockroom <command> --help lists them.")
}
