// Command streams is the event stream scenario of the bench (issue #14): it starts
// two `stockroom serve` processes, A and B, on one database, opens many event streams
// (GET /api/v1/events) on B and measures
//
//   - B's resident memory per open stream and its CPU while the streams are idle
//     (heartbeats only);
//   - commit-to-client latency, p50 and p99, on fewer streams while a writer PATCHes
//     stock through A (one event per write, which must cross instances through
//     PostgreSQL's NOTIFY): the time from the event's created_at (its transaction's
//     start, so the write's own duration counts too) to its arrival at the client;
//   - how long B takes to stop on SIGTERM with the streams open.
//
// Both servers run with their profiler on a loopback port (STOCKROOM_DEBUG_ADDR): the
// report splits B's memory per stream into goroutine stacks and heap.
//
// Settings (environment):
//
//	STREAMS_DATABASE_URL  an empty database (required); it is migrated and provisioned
//	STREAMS_N             idle streams for memory and CPU (10000)
//	STREAMS_LATENCY       streams kept open for the latency window (1000)
//	STREAMS_WRITES        writes a second through A in that window (50)
//	STREAMS_WINDOW        length of the idle CPU window and of the latency window (20s)
//	STREAMS_OUT           where the report goes (bench/results)
//	STREAMS_PROFILE       when set, a directory where B's heap profile and goroutine
//	                      stacks are saved while the streams are open (go tool pprof)
//
// The open-file limit is raised here, for this process and the servers it starts:
// never in stockroom itself. Run from the repository root: go run ./bench/streams.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "streams:", err)
		os.Exit(1)
	}
}

type config struct {
	dbURL               string
	n, latency, writes  int
	window              time.Duration
	outDir, bin, tmpDir string
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: %q is not a positive whole number", name, v)
	}
	return n, nil
}

func run(ctx context.Context) error {
	c := config{dbURL: os.Getenv("STREAMS_DATABASE_URL"), outDir: os.Getenv("STREAMS_OUT"), window: 20 * time.Second}
	if c.dbURL == "" {
		return errors.New("STREAMS_DATABASE_URL is not set: give an empty database")
	}
	var err error
	if c.n, err = envInt("STREAMS_N", 10000); err != nil {
		return err
	}
	if c.latency, err = envInt("STREAMS_LATENCY", 1000); err != nil {
		return err
	}
	if c.writes, err = envInt("STREAMS_WRITES", 50); err != nil {
		return err
	}
	if v := os.Getenv("STREAMS_WINDOW"); v != "" {
		if c.window, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("STREAMS_WINDOW: %w", err)
		}
	}
	if c.outDir == "" {
		c.outDir = filepath.Join("bench", "results")
	}
	c.latency = min(c.latency, c.n)
	files, err := raiseOpenFiles()
	if err != nil {
		return err
	}
	if c.tmpDir, err = os.MkdirTemp("", "stockroom-streams-"); err != nil {
		return err
	}
	defer os.RemoveAll(c.tmpDir)
	c.bin = filepath.Join(c.tmpDir, "stockroom")
	if out, err := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", c.bin, "./cmd/stockroom").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	if _, err := c.stockroom(ctx, "", "migrate", "up"); err != nil {
		return err
	}
	if _, err := c.stockroom(ctx, "correct horse battery staple\n", "createsuperuser", "--email", "streams@example.com", "--password-stdin"); err != nil {
		return err
	}
	token, err := c.stockroom(ctx, "", "token", "create", "--email", "streams@example.com", "--name", "streams", "--scope", "write")
	if err != nil {
		return err
	}
	token = strings.TrimSpace(token)

	a, err := c.serve(ctx)
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := c.serve(ctx)
	if err != nil {
		return err
	}
	defer b.stop()
	product, variant, err := createProduct(a.url, token)
	if err != nil {
		return err
	}

	r := report{cfg: c, files: files}
	time.Sleep(2 * time.Second) // let B settle before the baseline
	r.rssBefore, r.memBefore = rss(b.cmd.Process.Pid), b.memStats(false)
	r.memBeforeGC = b.memStats(true)
	pool := newStreams(b.url, token)
	opened := time.Now()
	if err := pool.open(c.n); err != nil {
		return err
	}
	r.openTime = time.Since(opened)
	time.Sleep(5 * time.Second)
	r.rssOpen, r.memOpen = rss(b.cmd.Process.Pid), b.memStats(false)
	// After a collection: what the streams hold, without what opening them left
	// for the collector (net/http's buffers of the taken-over connections, ...).
	r.memOpenGC = b.memStats(true)
	if dir := os.Getenv("STREAMS_PROFILE"); dir != "" {
		if err := b.saveProfiles(dir); err != nil {
			return err
		}
	}
	cpu0 := cpuSeconds(b.cmd.Process.Pid)
	time.Sleep(c.window)
	r.idleCPU = (cpuSeconds(b.cmd.Process.Pid) - cpu0) / c.window.Seconds()
	r.rssIdle = rss(b.cmd.Process.Pid) // stacks shrink and memory is returned as the idle process collects

	pool.closeAllBut(c.latency)
	// Wait until B has let the closed streams go, so none of them counts an event.
	if err := b.waitStreams(c.latency); err != nil {
		return err
	}
	pool.record(true)
	interval := time.Second / time.Duration(c.writes)
	deadline := time.Now().Add(c.window)
	for i := 0; time.Now().Before(deadline); i++ {
		start := time.Now()
		if err := patchStock(a.url, token, product, variant, i%1000); err != nil {
			return err
		}
		done := time.Now()
		r.writeDone = append(r.writeDone, done)
		r.writeTook = append(r.writeTook, done.Sub(start))
		r.writes++
		time.Sleep(interval - time.Since(start))
	}
	time.Sleep(2 * time.Second) // the last events arrive
	pool.record(false)
	slices.Sort(r.writeTook)

	stopped := time.Now()
	r.stopErr = b.stop()
	r.stopTime = time.Since(stopped)
	pool.closeAllBut(0) // every reader has ended: what they recorded can be read
	r.latencies, r.received = pool.latencies()
	r.afterResponse = pool.sinceWrites(r.writeDone)
	return r.write(os.Stdout)
}

// raiseOpenFiles lifts the soft open-file limit to the hard one, for this process
// and the servers it starts.
func raiseOpenFiles() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raise the open-file limit to %d: %w", l.Max, err)
	}
	return l.Cur, nil
}

func (c config) env() []string {
	return append(os.Environ(), "STOCKROOM_DATABASE_URL="+c.dbURL, "STOCKROOM_LOG_LEVEL=warn",
		"STOCKROOM_API_RATE_LIMIT=100000000", "STOCKROOM_REQUIRE_2FA=off",
		"STOCKROOM_STREAMS_PER_USER=1000000", // every stream is the bench's one user
		"STOCKROOM_MEDIA_DIR="+filepath.Join(c.tmpDir, "media"))
}

// stockroom runs a command of the binary and returns its stdout.
func (c config) stockroom(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("stockroom %s: %w: %s", args[0], err, errOut.String())
	}
	return out.String(), nil
}

type server struct {
	cmd   *exec.Cmd
	url   string
	debug string // the profiler's base URL (STOCKROOM_DEBUG_ADDR)
	done  chan error
}

// freePort returns a loopback address nobody listens on.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitStreams waits until the server's stockroom_event_streams gauge reads n.
func (s *server) waitStreams(n int) error {
	want := fmt.Sprintf("stockroom_event_streams %d\n", n)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(s.url + "/metrics")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(b, []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("the server did not get down to %d streams within 60 s", n)
}

// memStats reads the Go runtime's memory figures (KiB) from the server's profiler,
// after a garbage collection when gc.
func (s *server) memStats(gc bool) map[string]int64 {
	out := map[string]int64{}
	u := s.debug + "/debug/pprof/heap?debug=1"
	if gc {
		u += "&gc=1"
	}
	resp, err := http.Get(u)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		// "# Stack = inuse / sys" is StackInuse.
		for k, prefix := range map[string]string{"HeapInuse": "# HeapInuse = ", "StackInuse": "# Stack = "} {
			if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				out[k] = n / 1024
			}
		}
	}
	return out
}

// saveProfiles saves the server's heap profile and goroutine stacks into dir.
func (s *server) saveProfiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, path := range map[string]string{"heap.pb.gz": "/debug/pprof/heap?gc=1", "goroutines.txt": "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(s.debug + path)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// serve starts `stockroom serve` on a free loopback port and waits until it is ready.
func (c config) serve(ctx context.Context) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	debug, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, c.bin, "serve")
	cmd.Env = append(c.env(), "STOCKROOM_ADDR="+addr, "STOCKROOM_DEBUG_ADDR="+debug)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr, debug: "http://" + debug, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("stockroom serve on %s is not ready after 30 s", addr)
		}
	}
}

// stop sends SIGTERM and waits for the server to exit.
func (s *server) stop() error {
	if s.cmd.ProcessState != nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("did not stop within 60 s")
	}
}

func createProduct(base, token string) (product, variant int64, err error) {
	body := `{"name": "Stream chair", "status": "active", "variants": [{"sku": "STREAM-1", "price_cents": 1000, "stock": 5}]}`
	var p struct {
		ID       int64 `json:"id"`
		Variants []struct {
			ID int64 `json:"id"`
		} `json:"variants"`
	}
	if err := call("POST", base+"/api/v1/products", token, body, http.StatusCreated, &p); err != nil {
		return 0, 0, err
	}
	if len(p.Variants) == 0 {
		return 0, 0, errors.New("the new product has no variant")
	}
	return p.ID, p.Variants[0].ID, nil
}

func patchStock(base, token string, product, variant int64, stock int) error {
	return call("PATCH", fmt.Sprintf("%s/api/v1/products/%d/variants/%d", base, product, variant), token,
		fmt.Sprintf(`{"stock": %d}`, stock), http.StatusOK, nil)
}

func call(method, url, token, body string, want int, into any) error {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if into != nil {
		return json.Unmarshal(b, into)
	}
	return nil
}

// reader is what one stream's goroutine records while recording, in memory of its
// own: the readers share no lock, and what they keep holds no pointer for the
// collector to scan, so the client adds as little as it can to what it measures
// (it runs on the same machine as the servers).
type reader struct {
	lat []time.Duration // commit-to-client latency of each event, in order
	at  []time.Duration // when it arrived, since streams.started: the k-th is the k-th write's event
}

// streams are the open event streams of one client process.
type streams struct {
	base, token string
	client      *http.Client
	started     time.Time // the clock of reader.at
	recording   atomic.Bool
	mu          sync.Mutex
	cancels     []context.CancelFunc
	readers     []*reader
	wg          sync.WaitGroup
}

func newStreams(base, token string) *streams {
	return &streams{base: base, token: token, started: time.Now(),
		client: &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: -1}}}
}

// open opens n streams, each read by a goroutine of its own, 100 at a time.
func (p *streams) open(n int) error {
	sem := make(chan struct{}, 100)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := p.openOne(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when none failed
}

func (p *streams) openOne() error {
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		cancel()
		return err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return fmt.Errorf("open a stream: status %d", resp.StatusCode)
	}
	rd := &reader{lat: make([]time.Duration, 0, 1024), at: make([]time.Duration, 0, 1024)}
	p.mu.Lock()
	p.cancels = append(p.cancels, cancel)
	p.readers = append(p.readers, rd)
	p.mu.Unlock()
	p.wg.Go(func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Bytes()
			if !bytes.HasPrefix(line, dataPrefix) {
				continue
			}
			arrived := time.Now()
			created, ok := createdAt(line)
			if !ok || !p.recording.Load() {
				continue
			}
			rd.lat = append(rd.lat, arrived.Sub(created))
			rd.at = append(rd.at, arrived.Sub(p.started))
		}
	})
	return nil
}

var (
	dataPrefix = []byte("data: ")
	createdKey = []byte(`"created_at":"`)
)

// createdAt reads an event's created_at from its data line: the event's last
// member, so the last such key (a payload may hold one too). It parses just that,
// not the whole event, to keep the client's own cost down.
func createdAt(line []byte) (time.Time, bool) {
	i := bytes.LastIndex(line, createdKey)
	if i < 0 {
		return time.Time{}, false
	}
	v := line[i+len(createdKey):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(v[:j]))
	return t, err == nil
}

func (p *streams) record(on bool) { p.recording.Store(on) }

// closeAllBut closes streams until keep are open.
func (p *streams) closeAllBut(keep int) {
	p.mu.Lock()
	for len(p.cancels) > keep {
		p.cancels[len(p.cancels)-1]()
		p.cancels = p.cancels[:len(p.cancels)-1]
	}
	p.mu.Unlock()
	if keep == 0 {
		p.wg.Wait()
	}
}

// latencies returns every recorded latency, sorted, and how many events arrived.
// Call it once every reader has ended (closeAllBut(0)).
func (p *streams) latencies() ([]time.Duration, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var l []time.Duration
	for _, rd := range p.readers {
		l = append(l, rd.lat...)
	}
	slices.Sort(l)
	return l, len(l)
}

// sinceWrites returns, sorted, how long after its write's HTTP response each event
// arrived (negative: before the response; the commit lies before the response).
func (p *streams) sinceWrites(done []time.Time) []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Duration
	for _, rd := range p.readers {
		for k, at := range rd.at {
			if k < len(done) {
				out = append(out, at-done[k].Sub(p.started))
			}
		}
	}
	slices.Sort(out)
	return out
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

// cpuSeconds is the user and system CPU time pid has used (fields 14 and 15 of
// /proc/pid/stat, in clock ticks of 1/100 s).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

type report struct {
	cfg                config
	files              uint64
	rssBefore, rssOpen int64 // KiB
	rssIdle            int64 // KiB, after the idle window
	memBefore, memOpen map[string]int64
	memBeforeGC        map[string]int64 // after a collection
	memOpenGC          map[string]int64
	openTime           time.Duration
	idleCPU            float64 // cores
	writes, received   int
	latencies          []time.Duration
	writeDone          []time.Time     // when each write's response came
	writeTook          []time.Duration // each write's duration, sorted
	afterResponse      []time.Duration // event arrival after its write's response, sorted
	stopTime           time.Duration
	stopErr            error
}

func (r report) pct(p float64) time.Duration { return pct(r.latencies, p) }

// pct is the p quantile of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func (r report) write(stdout io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Event streams (bench/streams), %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Two `stockroom serve` processes, A and B, on one database; streams on B; writes through A. Open-file limit %d.\n\n", r.files)
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| streams opened on B | %d in %s |\n", r.cfg.n, r.openTime.Round(time.Millisecond))
	fmt.Fprintf(&b, "| B's RSS before / with the streams open | %d KiB / %d KiB |\n", r.rssBefore, r.rssOpen)
	fmt.Fprintf(&b, "| RSS per open stream | %.1f KiB |\n", float64(r.rssOpen-r.rssBefore)/float64(r.cfg.n))
	fmt.Fprintf(&b, "| RSS per open stream after the idle window | %.1f KiB |\n", float64(r.rssIdle-r.rssBefore)/float64(r.cfg.n))
	for _, k := range []string{"StackInuse", "HeapInuse"} {
		fmt.Fprintf(&b, "| Go %s per open stream | %.1f KiB |\n", k, float64(r.memOpen[k]-r.memBefore[k])/float64(r.cfg.n))
	}
	for _, k := range []string{"StackInuse", "HeapInuse"} {
		fmt.Fprintf(&b, "| Go %s per open stream after a GC | %.1f KiB |\n", k, float64(r.memOpenGC[k]-r.memBeforeGC[k])/float64(r.cfg.n))
	}
	fmt.Fprintf(&b, "| B's CPU with the streams idle (heartbeats only), %s | %.1f%% of a core |\n", r.cfg.window, 100*r.idleCPU)
	fmt.Fprintf(&b, "| latency window | %d streams, %d writes through A (%d/s for %s) |\n", r.cfg.latency, r.writes, r.cfg.writes, r.cfg.window)
	fmt.Fprintf(&b, "| events received / expected | %d / %d |\n", r.received, r.writes*r.cfg.latency)
	fmt.Fprintf(&b, "| commit-to-client latency p50 / p99 / max | %s / %s / %s |\n",
		r.pct(0.50).Round(10*time.Microsecond), r.pct(0.99).Round(10*time.Microsecond), r.pct(1).Round(10*time.Microsecond))
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	fmt.Fprintf(&b, "| the writes' own duration through A p50 / p99 / max | %s / %s / %s |\n",
		round(pct(r.writeTook, 0.5)), round(pct(r.writeTook, 0.99)), round(pct(r.writeTook, 1)))
	fmt.Fprintf(&b, "| event arrival after its write's response p50 / p99 / max (the commit precedes the response) | %s / %s / %s |\n",
		round(pct(r.afterResponse, 0.5)), round(pct(r.afterResponse, 0.99)), round(pct(r.afterResponse, 1)))
	stop := r.stopTime.Round(time.Millisecond).String()
	if r.stopErr != nil {
		stop += " (" + r.stopErr.Error() + ")"
	}
	drain := os.Getenv("STOCKROOM_DRAIN_DELAY")
	if drain == "" {
		drain = "5s, serve's default"
	}
	stop += " (the drain delay STOCKROOM_DRAIN_DELAY, " + drain + ", comes first by design: /readyz fails while the streams go on)"
	fmt.Fprintf(&b, "| B's stop on SIGTERM with %d streams open | %s |\n", r.cfg.latency, stop)
	stdout.Write(b.Bytes())
	if err := os.MkdirAll(r.cfg.outDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.cfg.outDir, "streams-"+time.Now().UTC().Format("20060102-150405")+".md"), b.Bytes(), 0o644)
}
