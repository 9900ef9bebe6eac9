package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// `make run` as root in a checkout inside a 0700 directory (a clone under /root, a
// mktemp -d): dev serves /readyz, a stop (Ctrl-C) leaves no postgres behind, and
// the second start reuses the data. Run as the user `make run` is run as; as any
// other user the cluster stays where it was asked for, which the devdb tests cover.
func TestDevFromAPrivateDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the private-directory case is root's: postgres runs as another OS user only then")
	}
	home := t.TempDir()
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	checkout := filepath.Join(home, "stockroom")
	if err := os.Mkdir(checkout, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(checkout) // the default data dir, .data, is relative: as `make run` has it
	link := filepath.Join(checkout, ".data", "postgres")
	t.Cleanup(func() {
		if target, err := os.Readlink(link); err == nil {
			os.RemoveAll(target)
		}
	})
	addr := freeAddr(t)
	env := map[string]string{"STOCKROOM_ADDR": addr, "STOCKROOM_LOG_LEVEL": "warn"}

	first := runDevUntilReady(t, env, addr)
	if !strings.Contains(first, "loaded demo data") {
		t.Errorf("first start printed %q, want the demo data loaded", first)
	}
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatalf("%s is not a link to the cluster: %v", link, err)
	}
	for _, d := range []string{home, checkout} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want it left 0700", d, err, st.Mode())
		}
	}
	if _, err := os.Stat(filepath.Join(target, "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid after the stop: %v, want it gone", err)
	}
	// The stop waits for the postmaster, but its last children may still be on their
	// way out when it returns: give them a moment, and fail only on those that stay.
	const exitBound = 15 * time.Second
	if left := processesLeftIn(t, target, exitBound); len(left) > 0 {
		t.Errorf("processes still working in %s %s after the stop: %s", target, exitBound, strings.Join(left, ", "))
	}

	second := runDevUntilReady(t, env, addr)
	if strings.Contains(second, "loaded demo data") || strings.Contains(second, "created superuser") {
		t.Errorf("second start printed %q, want the first start's data reused", second)
	}
	if again, _ := os.Readlink(link); again != target {
		t.Errorf("second start's cluster in %s, want %s", again, target)
	}
}

// runDevUntilReady runs `stockroom dev` until /readyz answers 200, then stops it as
// Ctrl-C does and returns what it printed.
func runDevUntilReady(t *testing.T, env map[string]string, addr string) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := stockroom(ctx, env, "dev")
		done <- result{code, out, errOut}
	}()
	deadline := time.Now().Add(3 * time.Minute) // the first start loads 10,000 products
	for {
		select {
		case r := <-done:
			t.Fatalf("dev exited %d before it was ready:\n%s\n%s", r.code, r.stdout, r.stderr)
		default:
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never answered 200")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	r := <-done
	if r.code != 0 {
		t.Fatalf("dev exited %d after a stop:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// processesLeftIn waits up to bound for the processes working in dir to exit, and
// names those still there after it ("4242 postgres: checkpointer"); nil when none.
func processesLeftIn(t *testing.T, dir string, bound time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(bound)
	pids := processesIn(t, dir)
	for len(pids) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		pids = processesIn(t, dir)
	}
	var names []string
	for _, pid := range pids {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		name := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		if name == "" {
			name = "(exited while being named)"
		}
		names = append(names, strconv.Itoa(pid)+" "+name)
	}
	return names
}

// processesIn lists the processes whose working directory is dir (a postmaster
// works in its data directory, and so do its children).
func processesIn(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}
