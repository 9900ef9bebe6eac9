package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
)

// defineToken is `stockroom token create|list|revoke`: API tokens from the command
// line. create prints the secret alone on stdout (TOKEN=$(stockroom token create ...)),
// and what it made on stderr; the secret is never shown again.
func defineToken(fs *flag.FlagSet) runFunc {
	email := fs.String("email", "", "the token's user (create); list: only this user's tokens")
	name := fs.String("name", "", "the token's name, e.g. what uses it (create)")
	scope := fs.String("scope", auth.ScopeRead, "read or write (create)")
	expires := fs.String("expires", "", "lifetime such as 90d or 12h; empty: no expiry (create)")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) == 0 {
			return usagef("token wants one of: create, list, revoke ID")
		}
		switch args[0] {
		case "create":
			if len(args) != 1 || *email == "" || *name == "" {
				return usagef("usage: token create --email E --name N [--scope read|write] [--expires 90d]")
			}
			lifetime, err := parseLifetime(*expires)
			if err != nil {
				return usagef("--expires: %v", err)
			}
			return withTokens(ctx, e, func(tokens *auth.Tokens) error {
				return createToken(ctx, e, tokens, *email, *name, *scope, lifetime)
			})
		case "list":
			if len(args) != 1 {
				return usagef("usage: token list [--email E]")
			}
			return withTokens(ctx, e, func(tokens *auth.Tokens) error {
				return listTokens(ctx, e, tokens, *email)
			})
		case "revoke":
			if len(args) != 2 {
				return usagef("usage: token revoke ID")
			}
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id <= 0 {
				return usagef("token revoke: %q is not a token id", args[1])
			}
			return withTokens(ctx, e, func(tokens *auth.Tokens) error {
				if err := tokens.Revoke(ctx, nil, id); /* nil: the command line */ err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("no token with id %d", id)
					}
					return err
				}
				fmt.Fprintf(e.stdout, "token %d revoked\n", id)
				return nil
			})
		}
		return usagef("unknown token command %q: want create, list or revoke", args[0])
	}
}

func withTokens(ctx context.Context, e *env, fn func(tokens *auth.Tokens) error) error {
	st, err := openStore(ctx, e, e.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(auth.NewTokens(st))
}

func createToken(ctx context.Context, e *env, tokens *auth.Tokens, email, name, scope string, lifetime time.Duration) error {
	userID, err := userIDByEmail(ctx, tokens, email)
	if err != nil {
		return err
	}
	var expiresAt *time.Time
	if lifetime > 0 {
		at := time.Now().Add(lifetime).UTC().Truncate(time.Second)
		expiresAt = &at
	}
	secret, tok, err := tokens.Create(ctx, nil, userID, name, scope, expiresAt)
	if err != nil {
		var errs validator.Errors
		if errors.As(err, &errs) {
			return usageError{errs}
		}
		return err
	}
	fmt.Fprintln(e.stdout, secret)
	until := "no expiry"
	if tok.ExpiresAt != nil {
		until = "expires " + tok.ExpiresAt.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(e.stderr, "token %d %q for %s (%s scope, %s): store the secret now, it is not shown again\n",
		tok.ID, tok.Name, email, tok.Scope, until)
	return nil
}

func listTokens(ctx context.Context, e *env, tokens *auth.Tokens, email string) error {
	var userID *int64
	if email != "" {
		id, err := userIDByEmail(ctx, tokens, email)
		if err != nil {
			return err
		}
		userID = &id
	}
	list, err := tokens.List(ctx, userID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tNAME\tPREFIX\tSCOPE\tCREATED\tEXPIRES\tLAST USED\tSTATE")
	now := time.Now()
	for _, t := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Email, t.Name, t.Prefix, t.Scope,
			day(&t.CreatedAt), day(t.ExpiresAt), day(t.LastUsedAt), t.State(now))
	}
	return tw.Flush()
}

func day(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func userIDByEmail(ctx context.Context, tokens *auth.Tokens, email string) (int64, error) {
	id, err := tokens.UserID(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("no user with email %s", email)
	}
	return id, err
}

// parseLifetime reads --expires: whole days as "90d", or a Go duration ("12h"); ""
// is no expiry (0).
func parseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if maxDays := auth.MaxTokenYears * 365; err != nil || n <= 0 || n > maxDays {
			return 0, fmt.Errorf("want a number of days from 1 to %d, e.g. 90d", maxDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("want a lifetime such as 90d or 12h")
	}
	return d, nil
}
