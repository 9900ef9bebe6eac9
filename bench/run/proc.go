package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// procStat is what the bench reads of /proc/<pid>/stat.
type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64 // clock ticks
}

// parseStat reads a /proc/<pid>/stat line. The command name is in parentheses and may
// hold spaces and parentheses itself, so the fields are counted from the last ')'.
func parseStat(line []byte) (procStat, error) {
	end := bytes.LastIndexByte(line, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("stat: no command name in %q", line)
	}
	f := strings.Fields(string(line[end+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("stat: %d fields after the name, want 15 or more", len(f))
	}
	var s procStat
	var err error
	num := func(i int) int64 {
		n, e := strconv.ParseInt(f[i], 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("stat: field %d: %w", i+3, e)
		}
		return n
	}
	s.ppid = int(num(1))
	s.utime, s.stime, s.cutime, s.cstime = num(11), num(12), num(13), num(14)
	if err != nil {
		return procStat{}, err
	}
	return s, nil
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// cpuSeconds is the CPU time pid has used, user and system.
func cpuSeconds(pid int) float64 {
	s, err := readStat(pid)
	if err != nil {
		return 0
	}
	return float64(s.utime+s.stime) / clockTicks
}

// treeCPUSeconds is the CPU time of a PostgreSQL server: the postmaster's, its live
// children's, and that of the children it has reaped (cutime, cstime). A backend
// that exits between two readings moves from the second term to the third, so the
// difference of two readings counts it once.
func treeCPUSeconds(postmaster int) float64 {
	root, err := readStat(postmaster)
	if err != nil {
		return 0
	}
	ticks := root.utime + root.stime + root.cutime + root.cstime
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := readStat(pid); err == nil && s.ppid == postmaster {
			ticks += s.utime + s.stime
		}
	}
	return float64(ticks) / clockTicks
}

// parseRSS returns VmRSS from a /proc/<pid>/status file, in KiB.
func parseRSS(status []byte) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("status: no VmRSS line")
}

// rssSampler records the largest resident set size of a process, read every
// interval until stop.
type rssSampler struct {
	mu   sync.Mutex
	max  int64 // KiB
	done chan struct{}
	wg   sync.WaitGroup
}

func sampleRSS(pid int, interval time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				if kib, err := parseRSS(b); err == nil {
					s.mu.Lock()
					s.max = max(s.max, kib)
					s.mu.Unlock()
				}
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the largest RSS seen, in KiB.
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.max
}
