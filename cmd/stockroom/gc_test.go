package main

import (
	"runtime/debug"
	"testing"
)

// A serving process collects at gcPercent unless GOGC says otherwise, in which case
// the runtime's reading of it stands.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	current := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }

	if got := tuneGC(func(string) string { return "" }); got != gcPercent || current() != gcPercent {
		t.Errorf("without GOGC: tuneGC said %d, in force %d; want %d", got, current(), gcPercent)
	}
	debug.SetGCPercent(150) // what the runtime would have read from GOGC=150
	gogc := func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	}
	if got := tuneGC(gogc); got != 150 || current() != 150 {
		t.Errorf("with GOGC=150: tuneGC said %d, in force %d; want 150", got, current())
	}
}
