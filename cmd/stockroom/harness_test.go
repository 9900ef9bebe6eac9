package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// serveChildEnv makes the test binary, started again by startServe, be a
// `stockroom serve` process instead of running tests: a crash test needs a real
// process it can SIGKILL, which run in a goroutine is not.
const serveChildEnv = "STOCKROOM_TEST_SERVE_CHILD"

// TestMain turns the binary into `stockroom serve` when startServe started it. It
// does so before any test runs, so a child never runs the test that started it
// (which would start a child of its own).
func TestMain(m *testing.M) {
	if os.Getenv(serveChildEnv) == "1" {
		err := run(context.Background(), []string{"serve"}, os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr)
		os.Exit(exitCode(err, os.Stderr))
	}
	os.Exit(m.Run())
}

// serveProcess is a `stockroom serve` running in a child process.
type serveProcess struct {
	cmd    *exec.Cmd
	killed bool
}

// startServe starts `stockroom serve` in a child process whose environment is env
// and PATH only, and returns once it answers /healthz on env's STOCKROOM_ADDR. A
// process the test has not killed is killed when the test ends.
func startServe(t *testing.T, env map[string]string) *serveProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{serveChildEnv + "=1", "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd}
	t.Cleanup(func() {
		if !p.killed {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	waitFor(t, "http://"+env["STOCKROOM_ADDR"]+"/healthz")
	return p
}

// kill SIGKILLs the process and waits for it to exit: no shutdown and no drain,
// as in a crash.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	p.killed = true
}
