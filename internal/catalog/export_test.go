package catalog

import "testing"

// SetWalkCap makes every search read cap rows of the ordering's index (0: match
// first) instead of what WalkCap says, until t ends.
func SetWalkCap(t testing.TB, cap int64) {
	saved := walkCap
	walkCap = func(int64, int64, int) int64 { return cap }
	t.Cleanup(func() { walkCap = saved })
}
