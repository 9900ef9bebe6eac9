package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/stockroom-dev/stockroom/internal/auth"
	"github.com/stockroom-dev/stockroom/internal/store"
	"github.com/stockroom-dev/stockroom/internal/validator"
	"github.com/stockroom-dev/stockroom/internal/web"
	"github.com/stockroom-dev/stockroom/internal/web/session"
)

// newAuth builds the auth service from the config: the process's one password hasher
// (bounded to GOMAXPROCS hashes at once) and the sign-in throttle.
func newAuth(e *env, st *store.Store, log *slog.Logger, cache *auth.PrincipalCache) *auth.Service {
	return auth.New(st, auth.NewHasher(auth.DefaultParams, 0), log, auth.Options{FailureLimit: e.cfg.LoginFailureLimit, Cache: cache,
		SecretKey: e.cfg.SecretKey, PasskeyOrigin: passkeyOrigin(e)})
}

// passkeyOrigin is the origin passkeys are bound to: STOCKROOM_BASE_URL, else, on a
// loopback address (dev), http://localhost:<port>, since WebAuthn refuses IP
// addresses as site names. Elsewhere without a base URL there is none.
func passkeyOrigin(e *env) string {
	if e.cfg.BaseURL != "" {
		return e.cfg.BaseURL
	}
	host, port, err := net.SplitHostPort(e.cfg.Addr)
	if ip := net.ParseIP(host); err == nil && (host == "localhost" || ip != nil && ip.IsLoopback()) {
		return "http://localhost:" + port
	}
	return ""
}

// sessionPrincipal is who an API call made with the admin's session cookie acts as:
// nobody when the 2FA policy holds the session's user at enrolment, since such a
// user may do nothing else, through either transport.
func sessionPrincipal(sessions *session.Manager, policy auth.Policy) func(*http.Request) (*auth.Principal, error) {
	return func(r *http.Request) (*auth.Principal, error) {
		p, err := sessions.RequestPrincipal(r)
		if err != nil || policy.Blocks(p) {
			return nil, err
		}
		return p, nil
	}
}

// newSessions builds the session manager; a session store failure is a logged 500,
// unless the client went away meanwhile (then nothing is written, and the access log
// says 499).
func newSessions(e *env, st *store.Store, svc *auth.Service, log *slog.Logger) *session.Manager {
	return session.New(st, svc, log, session.Options{
		Idle: e.cfg.SessionIdle, Lifetime: e.cfg.SessionLifetime, Secure: e.cfg.SecureCookies,
		Cleanup: -1, // the job queue's periodic cleanup deletes expired sessions (internal/store/jobs)
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			if web.ClientGone(err) {
				return
			}
			log.ErrorContext(r.Context(), "session store", "err", err, "request_id", web.RequestID(r.Context()))
			web.InternalError(w, r)
		},
	})
}

// defineCreateSuperuser is `stockroom createsuperuser --email E [--name N] [--password-stdin]`.
func defineCreateSuperuser(fs *flag.FlagSet) runFunc {
	email := fs.String("email", "", "the new superuser's email (required)")
	name := fs.String("name", "", "the new superuser's name")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 || *email == "" {
			return usagef("createsuperuser wants --email E [--name N] [--password-stdin]")
		}
		return withPassword(ctx, e, *fromStdin, func(svc *auth.Service, pw string) error {
			u, err := svc.CreateUser(ctx, nil, auth.UserInput{Email: *email, Name: *name, Password: pw, Active: true, Superuser: true})
			if err != nil {
				return userError(err)
			}
			fmt.Fprintf(e.stdout, "superuser %s created (id %d)\n", u.Email, u.ID)
			return nil
		})
	}
}

// defineChangePassword is `stockroom changepassword --email E [--password-stdin]`.
func defineChangePassword(fs *flag.FlagSet) runFunc {
	email := fs.String("email", "", "the user's email (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 || *email == "" {
			return usagef("changepassword wants --email E [--password-stdin]")
		}
		return withPassword(ctx, e, *fromStdin, func(svc *auth.Service, pw string) error {
			if err := svc.SetPasswordByEmail(ctx, *email, pw); err != nil {
				return userError(err)
			}
			fmt.Fprintf(e.stdout, "password of %s changed; their sessions have ended\n", *email)
			return nil
		})
	}
}

// withPassword reads a new password (before touching the database, so a typo costs
// no connection), then runs fn with the auth service on the configured database.
func withPassword(ctx context.Context, e *env, fromStdin bool, fn func(svc *auth.Service, pw string) error) error {
	pw, err := readPassword(e, fromStdin)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, e, e.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(newAuth(e, st, e.cfg.Logger(io.Discard), nil), pw)
}

// userError words a failed user command for the terminal.
func userError(err error) error {
	var fe validator.Errors
	switch {
	case errors.As(err, &fe):
		var parts []string
		for _, f := range fe.Fields() {
			parts = append(parts, f+" "+fe[f])
		}
		return errors.New(strings.Join(parts, "; "))
	case errors.Is(err, store.ErrNotFound):
		return errors.New("no user has that email")
	}
	return err
}

// readPassword reads a new password: the first line of stdin with --password-stdin,
// else typed twice at the terminal without echo.
func readPassword(e *env, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", usagef("--password-stdin: standard input is empty")
		}
		return line, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("standard input is not a terminal: pass the password with --password-stdin")
	}
	fmt.Fprint(e.stderr, "Password: ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(e.stderr, "Password (again): ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the passwords do not match")
	}
	return string(first), nil
}

// devAdmin is the superuser `stockroom dev` makes on first start.
const devAdmin = "admin@example.com"

// ensureDevAdmin creates admin@example.com as a superuser with a random password on
// first start, prints the password once and keeps it in <data dir>/admin-password
// (mode 0600). On later starts it only says where the password is.
func ensureDevAdmin(ctx context.Context, e *env, st *store.Store) error {
	file := filepath.Join(e.cfg.DataDir, "admin-password")
	pw := rand.Text() // 26 letters and digits: no leading "-" to trip a shell or a flag parser
	svc := newAuth(e, st, e.cfg.Logger(io.Discard), nil)
	_, err := svc.CreateUser(ctx, nil, auth.UserInput{Email: devAdmin, Name: "Admin", Password: pw, Active: true, Superuser: true})
	var fe validator.Errors
	if errors.As(err, &fe) && fe["email"] == "is already used" {
		if _, err := os.Stat(file); err == nil {
			fmt.Fprintf(e.stdout, "sign in as %s; the password is in %s\n", devAdmin, file)
		} else {
			fmt.Fprintf(e.stdout, "sign in as %s (its password was printed on first start; set a new one with: stockroom changepassword --email %s)\n", devAdmin, devAdmin)
		}
		return nil
	} else if err != nil {
		return fmt.Errorf("create %s: %w", devAdmin, err)
	}
	if err := os.MkdirAll(e.cfg.DataDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		return fmt.Errorf("keep the admin password: %w", err)
	}
	fmt.Fprintf(e.stdout, "created superuser %s with password %s (kept in %s)\n", devAdmin, pw, file)
	return nil
}
